//! What the node sends in answer to sync requests is bounded, so a small
//! request cannot make it send much (docs/SECURITY.md, "Sync
//! amplification"): block bytes per answer and per peer per second (a
//! token bucket), and answers per peer at once. An answer holds its
//! worker's permit until it is written, not just computed.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Instant;

use libp2p::PeerId;

/// Most block bytes in one answer (at least one block fits: 1 MB at most).
pub(super) const MAX_ANSWER_BYTES: usize = 4 << 20;
/// Block bytes one peer may be sent per second, on average.
pub(super) const BYTES_PER_SECOND: usize = 32 << 20;
/// Block bytes one peer may be sent at once after a quiet spell.
pub(super) const BURST_BYTES: usize = 2 * BYTES_PER_SECOND;
/// Requests of one peer being answered at once (computed or being written).
pub(super) const ANSWERS_PER_PEER: usize = 8;

/// Each peer's allowance of block bytes.
#[derive(Debug, Default)]
pub(super) struct UploadBudget {
    buckets: HashMap<PeerId, Bucket>,
}

#[derive(Debug)]
struct Bucket {
    bytes: f64,
    at: Instant,
}

impl UploadBudget {
    /// Takes up to [`MAX_ANSWER_BYTES`] of `peer`'s allowance for one
    /// answer (0 when it has used it up); what the answer does not use
    /// comes back with [`UploadBudget::give_back`].
    pub(super) fn take(&mut self, peer: PeerId, now: Instant) -> usize {
        let bucket = self.buckets.entry(peer).or_insert(Bucket {
            bytes: BURST_BYTES as f64,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.bytes = (bucket.bytes + elapsed * BYTES_PER_SECOND as f64).min(BURST_BYTES as f64);
        bucket.at = now;
        let taken = bucket.bytes.min(MAX_ANSWER_BYTES as f64).max(0.0);
        bucket.bytes -= taken;
        taken as usize
    }

    /// Returns what an answer did not use of what it took.
    pub(super) fn give_back(&mut self, peer: PeerId, bytes: usize) {
        if let Some(bucket) = self.buckets.get_mut(&peer) {
            bucket.bytes = (bucket.bytes + bytes as f64).min(BURST_BYTES as f64);
        }
    }

    /// `peer` left.
    pub(super) fn forget(&mut self, peer: &PeerId) {
        self.buckets.remove(peer);
    }
}

/// Answers in progress: how many per peer, and the worker permit of each
/// answer handed to the swarm, held until it is written (or fails).
#[derive(Debug)]
pub(super) struct Answers<Id, Permit> {
    per_peer: HashMap<PeerId, usize>,
    writing: HashMap<Id, (PeerId, Permit)>,
}

impl<Id, Permit> Default for Answers<Id, Permit> {
    fn default() -> Self {
        Self {
            per_peer: HashMap::new(),
            writing: HashMap::new(),
        }
    }
}

impl<Id: Eq + Hash, Permit> Answers<Id, Permit> {
    /// Starts answering `peer`, unless it has [`ANSWERS_PER_PEER`] in progress.
    pub(super) fn start(&mut self, peer: PeerId) -> bool {
        let count = self.per_peer.entry(peer).or_insert(0);
        if *count >= ANSWERS_PER_PEER {
            return false;
        }
        *count += 1;
        true
    }

    /// The answer `id` to `peer` is with the swarm, to be written: its
    /// worker's `permit` is held until [`Answers::finished`].
    pub(super) fn writing(&mut self, id: Id, peer: PeerId, permit: Permit) {
        self.writing.insert(id, (peer, permit));
    }

    /// The answer `id` was written, or failed: its permit is let go.
    pub(super) fn finished(&mut self, id: &Id) {
        if let Some((peer, permit)) = self.writing.remove(id) {
            drop(permit);
            self.end(&peer);
        }
    }

    /// An answer to `peer` that never reached the swarm (its stream was gone).
    pub(super) fn abandoned(&mut self, peer: &PeerId) {
        self.end(peer);
    }

    fn end(&mut self, peer: &PeerId) {
        if let Some(count) = self.per_peer.get_mut(peer) {
            *count -= 1;
            if *count == 0 {
                self.per_peer.remove(peer);
            }
        }
    }

    /// Answers being written now.
    #[cfg(test)]
    fn writing_count(&self) -> usize {
        self.writing.len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::sync::Semaphore;

    use super::*;

    #[test]
    fn block_bytes_per_answer_and_per_peer_per_second_are_bounded() {
        let mut budget = UploadBudget::default();
        let (peer, other) = (PeerId::random(), PeerId::random());
        let now = Instant::now();
        let mut sent = 0;
        let mut answers = 0;
        loop {
            let taken = budget.take(peer, now);
            assert!(taken <= MAX_ANSWER_BYTES);
            if taken == 0 {
                break;
            }
            sent += taken;
            answers += 1;
        }
        assert_eq!(sent, BURST_BYTES, "a burst, then nothing");
        assert_eq!(answers, BURST_BYTES / MAX_ANSWER_BYTES);
        assert_eq!(
            budget.take(other, now),
            MAX_ANSWER_BYTES,
            "others are not held up"
        );
        let later = now + Duration::from_millis(100);
        assert_eq!(budget.take(peer, later), BYTES_PER_SECOND / 10);
        // What an answer did not use comes back.
        budget.give_back(peer, 1_000);
        assert_eq!(budget.take(peer, later), 1_000);
        budget.forget(&peer);
        assert_eq!(budget.take(peer, later), MAX_ANSWER_BYTES);
    }

    /// The permit of an answer is held until the answer is written, so the
    /// bound on answers at once covers the ones waiting to be written (a
    /// peer that does not read cannot pile them up).
    #[test]
    fn an_answer_holds_its_permit_until_it_is_written() {
        let permits = Arc::new(Semaphore::new(2));
        let mut answers: Answers<u32, _> = Answers::default();
        let peer = PeerId::random();
        for id in 0..2 {
            assert!(answers.start(peer));
            let permit = Arc::clone(&permits).try_acquire_owned().expect("free");
            answers.writing(id, peer, permit);
        }
        assert_eq!(permits.available_permits(), 0, "computed, not yet written");
        assert_eq!(answers.writing_count(), 2);
        answers.finished(&0);
        assert_eq!(permits.available_permits(), 1);
        answers.finished(&0);
        assert_eq!(permits.available_permits(), 1, "once");
        answers.finished(&1);
        assert_eq!(permits.available_permits(), 2);
    }

    #[test]
    fn a_peer_has_a_few_answers_in_progress_at_most() {
        let mut answers: Answers<u32, ()> = Answers::default();
        let (peer, other) = (PeerId::random(), PeerId::random());
        for _ in 0..ANSWERS_PER_PEER {
            assert!(answers.start(peer));
        }
        assert!(!answers.start(peer));
        assert!(answers.start(other));
        answers.writing(7, peer, ());
        answers.finished(&7);
        assert!(answers.start(peer));
        answers.abandoned(&peer);
        assert!(answers.start(peer));
    }
}
