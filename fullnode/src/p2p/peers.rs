//! Peer reputation: misbehaviour ([`Misbehaviour`], the verdicts of the
//! core's sync and of the node's own checks) lowers a peer's score; at the ban
//! threshold it is disconnected and refused for [`BAN_DURATION`]. Scores
//! recover slowly, so an honest peer that once sent a stale block is not
//! punished forever.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use blockchain_core::sync::Misbehaviour;
use libp2p::PeerId;

/// How long a banned peer is refused.
pub const BAN_DURATION: Duration = Duration::from_secs(600);
/// Score at or below which a peer is banned.
pub const BAN_THRESHOLD: i32 = -100;

/// The score `what` costs.
pub fn penalty(what: Misbehaviour) -> i32 {
    match what {
        Misbehaviour::Garbage | Misbehaviour::InvalidHeader | Misbehaviour::InvalidBlock => 100,
        Misbehaviour::InvalidTransaction => 20,
        Misbehaviour::Unhelpful => 10,
        Misbehaviour::Unresponsive => 5,
    }
}

/// Gossiped blocks whose parent is unknown a peer may send (less one a
/// tick) before each further one costs [`Misbehaviour::Unhelpful`]: an
/// honest peer sends a few while our headers catch up, then none.
pub const MAX_UNCONNECTING_BLOCKS: u32 = 8;

/// Scores and bans.
#[derive(Debug, Default)]
pub struct PeerBook {
    scores: HashMap<PeerId, i32>,
    banned: HashMap<PeerId, Instant>,
    /// Recent gossiped blocks that connected to nothing, by sender.
    unconnecting: HashMap<PeerId, u32>,
}

impl PeerBook {
    /// Records misbehaviour; true when the peer is now banned (it was not before).
    pub fn penalize(&mut self, peer: PeerId, what: Misbehaviour, now: Instant) -> bool {
        if self.banned.contains_key(&peer) {
            return false;
        }
        let score = self.scores.entry(peer).or_insert(0);
        *score = score.saturating_sub(penalty(what));
        if *score <= BAN_THRESHOLD {
            self.scores.remove(&peer);
            self.unconnecting.remove(&peer);
            self.banned.insert(peer, now + BAN_DURATION);
            true
        } else {
            false
        }
    }

    /// `peer` gossiped a block whose parent we do not know; true when that
    /// is once too often and should cost it.
    pub fn unconnecting_block(&mut self, peer: PeerId) -> bool {
        let count = self.unconnecting.entry(peer).or_insert(0);
        *count = count.saturating_add(1);
        *count > MAX_UNCONNECTING_BLOCKS
    }

    /// Whether `peer` is banned now.
    pub fn is_banned(&self, peer: &PeerId) -> bool {
        self.banned.contains_key(peer)
    }

    /// Moves every score one step towards zero and ends expired bans; returns
    /// the peers whose ban ended.
    pub fn tick(&mut self, now: Instant) -> Vec<PeerId> {
        self.scores.retain(|_, score| {
            *score = (*score + 1).min(0);
            *score < 0
        });
        self.unconnecting.retain(|_, count| {
            *count -= 1;
            *count > 0
        });
        let expired: Vec<PeerId> = self
            .banned
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in &expired {
            self.banned.remove(peer);
        }
        expired
    }

    /// The score of `peer` (0 for a peer with a clean record).
    pub fn score(&self, peer: &PeerId) -> i32 {
        self.scores.get(peer).copied().unwrap_or(0)
    }

    /// The peers banned now.
    pub fn banned(&self) -> impl Iterator<Item = PeerId> + '_ {
        self.banned.keys().copied()
    }

    /// Number of banned peers.
    pub fn banned_count(&self) -> usize {
        self.banned.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_invalid_block_bans_and_the_ban_expires() {
        let mut book = PeerBook::default();
        let peer = PeerId::random();
        let now = Instant::now();
        assert!(book.penalize(peer, Misbehaviour::InvalidBlock, now));
        assert!(book.is_banned(&peer));
        assert!(
            !book.penalize(peer, Misbehaviour::InvalidBlock, now),
            "already banned"
        );
        assert!(book.tick(now + Duration::from_secs(1)).is_empty());
        assert_eq!(book.tick(now + BAN_DURATION), vec![peer]);
        assert!(!book.is_banned(&peer));
    }

    #[test]
    fn blocks_that_connect_to_nothing_cost_once_they_keep_coming() {
        let mut book = PeerBook::default();
        let peer = PeerId::random();
        let now = Instant::now();
        for _ in 0..MAX_UNCONNECTING_BLOCKS {
            assert!(!book.unconnecting_block(peer), "a few are honest");
        }
        assert!(book.unconnecting_block(peer));
        // One a tick is forgiven.
        book.tick(now);
        book.tick(now);
        assert!(!book.unconnecting_block(peer));
        assert!(book.unconnecting_block(peer));
        // Ten more costly ones ban.
        let mut banned = false;
        for _ in 0..10 {
            if book.unconnecting_block(peer) {
                banned |= book.penalize(peer, Misbehaviour::Unhelpful, now);
            }
        }
        assert!(banned);
    }

    #[test]
    fn small_faults_add_up_and_scores_recover() {
        let mut book = PeerBook::default();
        let peer = PeerId::random();
        let now = Instant::now();
        for _ in 0..9 {
            assert!(!book.penalize(peer, Misbehaviour::Unhelpful, now));
        }
        assert_eq!(book.score(&peer), -90);
        book.tick(now);
        assert_eq!(book.score(&peer), -89);
        assert!(!book.penalize(peer, Misbehaviour::Unhelpful, now));
        assert!(book.penalize(peer, Misbehaviour::Unresponsive, now));
    }
}
