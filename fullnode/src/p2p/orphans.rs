//! Gossiped transactions that arrived before their sender's previous nonce.
//!
//! Gossip does not keep order: a sender's nonces 0, 1, 2 may reach a node
//! as 1, 0, 2, or be checked by concurrent workers in any order. A
//! transaction whose nonce leaves a gap is held here (bounded, for a short
//! time) instead of being dropped, and submitted again when its predecessor
//! enters the mempool or a new block moves the sender's nonce. Its gossip
//! message stays unvalidated meanwhile, so it is forwarded once accepted.

use std::collections::HashMap;

use blockchain_core::{Address, Transaction};

/// Transactions held at most.
pub(super) const MAX_ORPHANS: usize = 256;
/// Transactions held for one sender at most.
pub(super) const MAX_PER_SENDER: usize = 16;
/// How long a transaction is held after it first arrived (ms).
pub(super) const ORPHAN_TTL_MS: u64 = 120_000;

/// A held transaction: what it is, its tag (where it came from), and when
/// it first arrived (ms); it keeps that time when it is held again.
#[derive(Debug)]
pub(super) struct Orphan<T> {
    pub(super) transaction: Transaction,
    pub(super) tag: T,
    pub(super) since_ms: u64,
}

/// Held transactions by sender and nonce. Small (at most [`MAX_ORPHANS`]),
/// so expiry and eviction simply scan.
#[derive(Debug)]
pub(super) struct Orphans<T> {
    held: HashMap<(Address, u64), Orphan<T>>,
    per_sender: HashMap<Address, usize>,
}

impl<T> Default for Orphans<T> {
    fn default() -> Self {
        Self {
            held: HashMap::new(),
            per_sender: HashMap::new(),
        }
    }
}

impl<T> Orphans<T> {
    /// Transactions held now.
    pub(super) fn len(&self) -> usize {
        self.held.len()
    }

    /// Holds `orphan` from `sender`. Returns the tags of what is let go
    /// instead: the orphan itself when its sender has too many held or the
    /// same nonce is held already, else the oldest one when full.
    pub(super) fn insert(&mut self, sender: Address, orphan: Orphan<T>) -> Vec<T> {
        let key = (sender, orphan.transaction.nonce);
        if self.held.contains_key(&key)
            || self.per_sender.get(&sender).copied().unwrap_or(0) >= MAX_PER_SENDER
        {
            return vec![orphan.tag];
        }
        let mut dropped = Vec::new();
        while self.held.len() >= MAX_ORPHANS {
            let Some(oldest) = self
                .held
                .iter()
                .min_by_key(|(_, held)| held.since_ms)
                .map(|(key, _)| *key)
            else {
                break;
            };
            if let Some(orphan) = self.remove(&oldest) {
                dropped.push(orphan.tag);
            }
        }
        *self.per_sender.entry(sender).or_default() += 1;
        self.held.insert(key, orphan);
        dropped
    }

    /// Takes the transaction of `sender` with `nonce`, if held.
    pub(super) fn take(&mut self, sender: &Address, nonce: u64) -> Option<Orphan<T>> {
        self.remove(&(*sender, nonce))
    }

    /// Takes everything held (to be submitted again), oldest first.
    pub(super) fn take_all(&mut self) -> Vec<Orphan<T>> {
        self.per_sender.clear();
        let mut all: Vec<Orphan<T>> = self.held.drain().map(|(_, held)| held).collect();
        all.sort_by_key(|held| (held.since_ms, held.transaction.nonce));
        all
    }

    /// Lets go of what first arrived [`ORPHAN_TTL_MS`] ago or earlier;
    /// returns their tags.
    pub(super) fn expire(&mut self, now_ms: u64) -> Vec<T> {
        let expired: Vec<(Address, u64)> = self
            .held
            .iter()
            .filter(|(_, held)| now_ms.saturating_sub(held.since_ms) >= ORPHAN_TTL_MS)
            .map(|(key, _)| *key)
            .collect();
        expired
            .iter()
            .filter_map(|key| self.remove(key))
            .map(|orphan| orphan.tag)
            .collect()
    }

    fn remove(&mut self, key: &(Address, u64)) -> Option<Orphan<T>> {
        let orphan = self.held.remove(key)?;
        if let Some(count) = self.per_sender.get_mut(&key.0) {
            *count -= 1;
            if *count == 0 {
                self.per_sender.remove(&key.0);
            }
        }
        Some(orphan)
    }
}

#[cfg(test)]
mod tests {
    use blockchain_core::Amount;

    use super::*;

    fn orphan<T>(nonce: u64, tag: T, since_ms: u64) -> Orphan<T> {
        Orphan {
            transaction: Transaction {
                version: Transaction::VERSION,
                from: vec![1, 2, 3],
                to: Address::default(),
                amount: Amount(1),
                fee: Amount(0),
                nonce,
                time: 0,
                signature: Vec::new(),
            },
            tag,
            since_ms,
        }
    }

    fn sender(byte: u8) -> Address {
        Address([byte; 20])
    }

    #[test]
    fn a_held_transaction_is_taken_by_sender_and_nonce() {
        let mut orphans = Orphans::default();
        assert!(orphans.insert(sender(1), orphan(1, "a", 7)).is_empty());
        assert!(orphans.take(&sender(1), 2).is_none());
        assert!(orphans.take(&sender(2), 1).is_none());
        let taken = orphans.take(&sender(1), 1).expect("held");
        assert_eq!(
            (taken.transaction.nonce, taken.tag, taken.since_ms),
            (1, "a", 7)
        );
        assert_eq!(orphans.len(), 0);
    }

    #[test]
    fn the_same_nonce_twice_and_too_many_per_sender_are_refused() {
        let mut orphans = Orphans::default();
        assert!(orphans.insert(sender(1), orphan(5, 0, 0)).is_empty());
        assert_eq!(orphans.insert(sender(1), orphan(5, 1, 0)), vec![1]);
        for nonce in 6..(5 + MAX_PER_SENDER as u64) {
            assert!(orphans.insert(sender(1), orphan(nonce, 2, 0)).is_empty());
        }
        assert_eq!(orphans.len(), MAX_PER_SENDER);
        assert_eq!(orphans.insert(sender(1), orphan(100, 3, 0)), vec![3]);
        // Another sender still has room; taking one frees a place.
        assert!(orphans.insert(sender(2), orphan(1, 4, 0)).is_empty());
        assert!(orphans.take(&sender(1), 5).is_some());
        assert!(orphans.insert(sender(1), orphan(100, 5, 0)).is_empty());
    }

    #[test]
    fn when_full_the_oldest_is_let_go() {
        let mut orphans = Orphans::default();
        let mut next = 0u64;
        'fill: for byte in 0..=u8::MAX {
            for nonce in 0..MAX_PER_SENDER as u64 {
                if orphans.len() == MAX_ORPHANS {
                    break 'fill;
                }
                // Arrival times out of order: the oldest is not the first in.
                let since = (next * 7919) % 10_007 + 1;
                assert!(
                    orphans
                        .insert(sender(byte), orphan(nonce, since, since))
                        .is_empty()
                );
                next += 1;
            }
        }
        assert_eq!(orphans.len(), MAX_ORPHANS);
        let oldest = orphans.held.values().map(|held| held.since_ms).min();
        let dropped = orphans.insert(sender(200), orphan(0, 0, 20_000));
        assert_eq!(dropped.first().copied(), oldest);
        assert_eq!(dropped.len(), 1);
        assert_eq!(orphans.len(), MAX_ORPHANS);
    }

    #[test]
    fn held_transactions_expire_by_their_first_arrival() {
        let mut orphans = Orphans::default();
        orphans.insert(sender(1), orphan(1, "old", 0));
        orphans.insert(sender(1), orphan(2, "new", 1_000));
        assert!(orphans.expire(ORPHAN_TTL_MS - 1).is_empty());
        assert_eq!(orphans.expire(ORPHAN_TTL_MS), vec!["old"]);
        // Taken and held again, it keeps its first arrival time.
        let again = orphans.take_all().pop().expect("held");
        assert!(orphans.insert(sender(1), again).is_empty());
        assert_eq!(orphans.expire(ORPHAN_TTL_MS + 1_000), vec!["new"]);
        assert_eq!(orphans.len(), 0);
    }

    #[test]
    fn take_all_returns_everything_oldest_first() {
        let mut orphans = Orphans::default();
        orphans.insert(sender(1), orphan(2, "b", 2));
        orphans.insert(sender(2), orphan(7, "a", 1));
        let all: Vec<&str> = orphans
            .take_all()
            .into_iter()
            .map(|held| held.tag)
            .collect();
        assert_eq!(all, vec!["a", "b"]);
        assert_eq!(orphans.len(), 0);
        assert!(orphans.insert(sender(1), orphan(2, "c", 3)).is_empty());
    }
}
