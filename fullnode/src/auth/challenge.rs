//! Login challenges: random, one-time, short-lived, kept in memory.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// How long a challenge can be answered.
pub const CHALLENGE_TTL: Duration = Duration::from_secs(300);
/// Most challenges held; beyond it the oldest is forgotten.
pub const MAX_PENDING_CHALLENGES: usize = 10_000;

/// Why a challenge cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChallengeError {
    /// Never issued, already used, or forgotten.
    #[error("challenge unknown or already used")]
    UnknownOrUsed,
    /// Issued, but answered after its expiry.
    #[error("challenge expired at {expires_ms}")]
    Expired { expires_ms: u64 },
}

/// Challenges issued and not yet answered, with their expiry (ms).
#[derive(Debug, Default)]
pub(super) struct ChallengeStore {
    pending: HashMap<String, u64>,
    /// Issue order, to forget the oldest first. Entries already answered
    /// stay here until they reach the front; its length is the bound.
    issued: VecDeque<String>,
}

impl ChallengeStore {
    /// Remembers `challenge` until `expires_ms`, first dropping what expired
    /// long ago (a late answer still learns that its challenge expired) and,
    /// when full, the oldest.
    pub(super) fn insert(&mut self, challenge: String, expires_ms: u64, now_ms: u64) {
        let grace = CHALLENGE_TTL.as_millis() as u64;
        while let Some(oldest) = self.issued.front() {
            let stale = self
                .pending
                .get(oldest)
                .is_none_or(|&expiry| expiry.saturating_add(grace) <= now_ms);
            if !stale && self.issued.len() < MAX_PENDING_CHALLENGES {
                break;
            }
            if let Some(oldest) = self.issued.pop_front() {
                self.pending.remove(&oldest);
            }
        }
        self.pending.insert(challenge.clone(), expires_ms);
        self.issued.push_back(challenge);
    }

    /// Uses up `challenge`: whatever the answer, it cannot be used again.
    pub(super) fn take(&mut self, challenge: &str, now_ms: u64) -> Result<(), ChallengeError> {
        let expires_ms = self
            .pending
            .remove(challenge)
            .ok_or(ChallengeError::UnknownOrUsed)?;
        if now_ms >= expires_ms {
            return Err(ChallengeError::Expired { expires_ms });
        }
        Ok(())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_764_000_000_000;
    const TTL: u64 = CHALLENGE_TTL.as_millis() as u64;

    #[test]
    fn a_challenge_works_once_before_its_expiry() {
        let mut store = ChallengeStore::default();
        store.insert("a".into(), NOW + TTL, NOW);
        store.insert("b".into(), NOW + TTL, NOW);
        assert_eq!(store.take("a", NOW + TTL - 1), Ok(()));
        assert_eq!(store.take("a", NOW + 1), Err(ChallengeError::UnknownOrUsed));
        assert_eq!(
            store.take("b", NOW + TTL),
            Err(ChallengeError::Expired {
                expires_ms: NOW + TTL
            })
        );
        assert_eq!(store.take("b", NOW), Err(ChallengeError::UnknownOrUsed));
        assert_eq!(store.take("c", NOW), Err(ChallengeError::UnknownOrUsed));
    }

    #[test]
    fn expired_challenges_are_swept_after_a_grace_period() {
        let mut store = ChallengeStore::default();
        store.insert("old".into(), NOW + TTL, NOW);
        // Expired, within the grace period: still known as expired.
        store.insert("new".into(), NOW + 2 * TTL + TTL - 1, NOW + 2 * TTL - 1);
        assert_eq!(store.len(), 2);
        store.insert("newer".into(), NOW + 3 * TTL, NOW + 2 * TTL);
        assert_eq!(store.len(), 2);
        assert_eq!(
            store.take("old", NOW + 2 * TTL),
            Err(ChallengeError::UnknownOrUsed)
        );
    }

    #[test]
    fn the_store_is_bounded_and_forgets_the_oldest() {
        let mut store = ChallengeStore::default();
        for index in 0..MAX_PENDING_CHALLENGES + 5 {
            store.insert(index.to_string(), NOW + TTL, NOW);
        }
        assert_eq!(store.len(), MAX_PENDING_CHALLENGES);
        assert_eq!(store.take("0", NOW), Err(ChallengeError::UnknownOrUsed));
        assert_eq!(store.take("4", NOW), Err(ChallengeError::UnknownOrUsed));
        assert_eq!(store.take("5", NOW), Ok(()));
        let last = (MAX_PENDING_CHALLENGES + 4).to_string();
        assert_eq!(store.take(&last, NOW), Ok(()));
    }
}
