//! Gossiped transactions lately refused (Bitcoin Core's `recentRejects`),
//! so the same one coming back costs a hash, not a signature check
//! (docs/SECURITY.md, "Transaction gossip"). Keyed by the gossip message
//! id, the hash of the whole encoding with its signature: a forged copy of
//! a valid transaction (same txid, bad signature) is a different message,
//! so it can never get the valid one refused.

use std::collections::{HashMap, VecDeque};

use libp2p::gossipsub::MessageId;

/// Refusals remembered at most (about 100 bytes each).
pub(super) const CAPACITY: usize = 20_000;

/// Why a transaction was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// A bad signature or key: refused for good, and its sender at fault.
    Invalid,
    /// Refused by the state or the mempool (nonce used, funds, fee, full):
    /// may become acceptable once the chain moves, so forgotten at each
    /// new tip.
    State,
}

/// The last [`CAPACITY`] refusals.
#[derive(Debug, Default)]
pub(super) struct RecentRejects {
    refused: HashMap<MessageId, Refusal>,
    order: VecDeque<MessageId>,
}

impl RecentRejects {
    /// Remembers that the message `id` was refused, forgetting the oldest
    /// refusal when full.
    pub(super) fn insert(&mut self, id: MessageId, refusal: Refusal) {
        if self.refused.insert(id.clone(), refusal).is_some() {
            return;
        }
        self.order.push_back(id);
        while self.order.len() > CAPACITY {
            if let Some(oldest) = self.order.pop_front() {
                self.refused.remove(&oldest);
            }
        }
    }

    /// Why the message `id` was refused lately, if it was.
    pub(super) fn get(&self, id: &MessageId) -> Option<Refusal> {
        self.refused.get(id).copied()
    }

    /// The chain moved: what the state refused may be acceptable now.
    pub(super) fn new_tip(&mut self) {
        self.refused
            .retain(|_, refusal| *refusal == Refusal::Invalid);
        let refused = &self.refused;
        self.order.retain(|id| refused.contains_key(id));
    }

    /// Refusals remembered now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.refused.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: usize) -> MessageId {
        MessageId::from(n.to_le_bytes().to_vec())
    }

    #[test]
    fn refusals_are_remembered_up_to_a_bound() {
        let mut rejects = RecentRejects::default();
        for n in 0..=CAPACITY {
            rejects.insert(id(n), Refusal::State);
        }
        assert_eq!(rejects.len(), CAPACITY);
        assert_eq!(rejects.get(&id(0)), None, "the oldest is forgotten");
        assert_eq!(rejects.get(&id(CAPACITY)), Some(Refusal::State));
        rejects.insert(id(CAPACITY), Refusal::State);
        assert_eq!(rejects.order.len(), CAPACITY, "once each");
    }

    #[test]
    fn a_new_tip_forgets_what_the_state_refused_but_not_bad_signatures() {
        let mut rejects = RecentRejects::default();
        rejects.insert(id(1), Refusal::State);
        rejects.insert(id(2), Refusal::Invalid);
        rejects.new_tip();
        assert_eq!(rejects.get(&id(1)), None);
        assert_eq!(rejects.get(&id(2)), Some(Refusal::Invalid));
        assert_eq!(rejects.order.len(), 1);
    }
}
