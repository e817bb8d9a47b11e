//! Gossip messages received lately, so the node does not publish again what
//! it is relaying anyway (gossipsub would refuse it as a duplicate).

use std::collections::{HashSet, VecDeque};

use libp2p::gossipsub::MessageId;

/// Message ids remembered at most.
const CAPACITY: usize = 4096;

/// The last [`CAPACITY`] gossip message ids received.
#[derive(Debug, Default)]
pub(super) struct RecentIds {
    ids: HashSet<MessageId>,
    order: VecDeque<MessageId>,
}

impl RecentIds {
    /// Remembers `id`, forgetting the oldest when full.
    pub(super) fn insert(&mut self, id: MessageId) {
        if !self.ids.insert(id.clone()) {
            return;
        }
        self.order.push_back(id);
        if self.order.len() > CAPACITY
            && let Some(oldest) = self.order.pop_front()
        {
            self.ids.remove(&oldest);
        }
    }

    /// Whether `id` was received lately.
    pub(super) fn contains(&self, id: &MessageId) -> bool {
        self.ids.contains(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_last_ids_only() {
        let mut recent = RecentIds::default();
        let id = |n: usize| MessageId::from(n.to_le_bytes().to_vec());
        for n in 0..=CAPACITY {
            recent.insert(id(n));
        }
        recent.insert(id(CAPACITY));
        assert!(!recent.contains(&id(0)));
        assert!(recent.contains(&id(1)));
        assert!(recent.contains(&id(CAPACITY)));
        assert_eq!(recent.order.len(), CAPACITY);
    }
}
