//! Gossiped transactions waiting for a verification worker, queued per
//! sending peer and served in turn (docs/SECURITY.md, "Transaction
//! gossip"): a peer that floods the node fills its own queue and uses its
//! own share of the workers, never another peer's, and an honest
//! transaction is queued, not dropped, while the workers are busy.

use std::collections::{HashMap, VecDeque};

use libp2p::PeerId;

/// Transactions one peer may have waiting.
pub(super) const QUEUED_PER_PEER: usize = 256;
/// Transactions waiting in all.
pub(super) const QUEUED: usize = 8192;
/// Verifications one peer may have running at once (of the 64 workers).
pub(super) const RUNNING_PER_PEER: usize = 16;

/// Per-peer queues, served round robin.
#[derive(Debug)]
pub(super) struct VerifyQueue<T> {
    queues: HashMap<PeerId, VecDeque<T>>,
    /// Peers with something waiting, in turn order.
    turns: VecDeque<PeerId>,
    running: HashMap<PeerId, usize>,
    queued: usize,
}

impl<T> Default for VerifyQueue<T> {
    fn default() -> Self {
        Self {
            queues: HashMap::new(),
            turns: VecDeque::new(),
            running: HashMap::new(),
            queued: 0,
        }
    }
}

impl<T> VerifyQueue<T> {
    /// Queues `item` from `peer`; gives it back when the peer's queue or
    /// the whole queue is full.
    pub(super) fn push(&mut self, peer: PeerId, item: T) -> Result<(), T> {
        let queue = self.queues.entry(peer).or_default();
        if queue.len() >= QUEUED_PER_PEER || self.queued >= QUEUED {
            return Err(item);
        }
        if queue.is_empty() {
            self.turns.push_back(peer);
        }
        queue.push_back(item);
        self.queued += 1;
        Ok(())
    }

    /// The next item to verify: the oldest of the next peer in turn that
    /// has fewer than [`RUNNING_PER_PEER`] running. It counts as running
    /// until [`VerifyQueue::done`].
    pub(super) fn next(&mut self) -> Option<(PeerId, T)> {
        for _ in 0..self.turns.len() {
            let peer = self.turns.pop_front()?;
            let running = self.running.get(&peer).copied().unwrap_or(0);
            if running >= RUNNING_PER_PEER {
                self.turns.push_back(peer);
                continue;
            }
            let Some(queue) = self.queues.get_mut(&peer) else {
                continue;
            };
            let Some(item) = queue.pop_front() else {
                self.queues.remove(&peer);
                continue;
            };
            if queue.is_empty() {
                self.queues.remove(&peer);
            } else {
                self.turns.push_back(peer);
            }
            self.queued -= 1;
            *self.running.entry(peer).or_insert(0) += 1;
            return Some((peer, item));
        }
        None
    }

    /// A verification for `peer` finished.
    pub(super) fn done(&mut self, peer: &PeerId) {
        if let Some(running) = self.running.get_mut(peer) {
            *running -= 1;
            if *running == 0 {
                self.running.remove(peer);
            }
        }
    }

    /// `peer` was banned or left: what it had waiting.
    pub(super) fn remove_peer(&mut self, peer: &PeerId) -> Vec<T> {
        self.turns.retain(|turn| turn != peer);
        let items: Vec<T> = self.queues.remove(peer).map(Vec::from).unwrap_or_default();
        self.queued -= items.len();
        items
    }

    /// Items waiting now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.queued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flooding peer is served in turn with an honest one: the honest
    /// transaction waits behind one of the flood's, not behind all of it.
    #[test]
    fn peers_take_turns_and_a_flood_fills_only_its_own_queue() {
        let mut queue = VerifyQueue::default();
        let (flooder, honest) = (PeerId::random(), PeerId::random());
        let mut refused = 0;
        for n in 0..1000 {
            if queue.push(flooder, n).is_err() {
                refused += 1;
            }
        }
        assert_eq!(refused, 1000 - QUEUED_PER_PEER, "its own queue is full");
        queue.push(honest, 7).expect("room for another peer");
        assert_eq!(queue.next(), Some((flooder, 0)));
        assert_eq!(queue.next(), Some((honest, 7)), "the honest one's turn");
        assert_eq!(queue.next(), Some((flooder, 1)));
        assert_eq!(queue.len(), QUEUED_PER_PEER - 2);
    }

    #[test]
    fn a_peer_runs_a_bounded_share_of_the_workers() {
        let mut queue = VerifyQueue::default();
        let peer = PeerId::random();
        for n in 0..100 {
            queue.push(peer, n).expect("room");
        }
        for _ in 0..RUNNING_PER_PEER {
            assert!(queue.next().is_some());
        }
        assert_eq!(queue.next(), None, "its share is running");
        queue.done(&peer);
        assert!(queue.next().is_some());
        assert_eq!(queue.remove_peer(&peer).len(), 100 - RUNNING_PER_PEER - 1);
        assert_eq!(queue.len(), 0);
        assert_eq!(queue.next(), None);
    }

    #[test]
    fn the_whole_queue_is_bounded() {
        let mut queue = VerifyQueue::default();
        let mut accepted = 0;
        for _ in 0..(QUEUED / QUEUED_PER_PEER + 1) {
            let peer = PeerId::random();
            for n in 0..QUEUED_PER_PEER {
                if queue.push(peer, n).is_ok() {
                    accepted += 1;
                }
            }
        }
        assert_eq!(accepted, QUEUED);
    }
}
