//! Places counted in all and per client (an IPv4 address or an IPv6 /64),
//! each given back when dropped: open HTTP connections (server.rs) and
//! event streams (events.rs).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::rate_limit::ClientGroup;

/// Why no place was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SlotRefusal {
    /// The client holds its share already.
    ClientFull,
    /// Every place is taken.
    Full,
}

/// The places, and how many are taken.
#[derive(Debug)]
pub(crate) struct ClientSlots {
    max_total: usize,
    max_per_client: usize,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    per_client: HashMap<ClientGroup, usize>,
}

/// A place taken; given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Arc<ClientSlots>,
    client: Option<ClientGroup>,
}

impl ClientSlots {
    /// `max_total` places, at most `max_per_client` for one client.
    pub(crate) fn new(max_total: usize, max_per_client: usize) -> Arc<ClientSlots> {
        Arc::new(ClientSlots {
            max_total,
            max_per_client,
            open: Mutex::default(),
        })
    }

    /// Takes a place for `client` (None: a client of unknown address, which
    /// counts in all only). The client's share is checked first.
    pub(crate) fn take(self: &Arc<Self>, client: Option<ClientGroup>) -> Result<Slot, SlotRefusal> {
        let mut open = self.open.lock().expect("never poisoned");
        let Open { total, per_client } = &mut *open;
        if let Some(client) = client
            && per_client.get(&client).copied().unwrap_or(0) >= self.max_per_client
        {
            return Err(SlotRefusal::ClientFull);
        }
        if *total >= self.max_total {
            return Err(SlotRefusal::Full);
        }
        *total += 1;
        if let Some(client) = client {
            *per_client.entry(client).or_insert(0) += 1;
        }
        Ok(Slot {
            slots: Arc::clone(self),
            client,
        })
    }

    /// Places taken now.
    pub(crate) fn taken(&self) -> usize {
        self.open.lock().expect("never poisoned").total
    }

    /// Places in all.
    pub(crate) fn max_total(&self) -> usize {
        self.max_total
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().expect("never poisoned");
        open.total -= 1;
        if let Some(client) = self.client
            && let Some(count) = open.per_client.get_mut(&client)
        {
            *count -= 1;
            if *count == 0 {
                open.per_client.remove(&client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_capped_in_all_and_per_client_and_freed_on_drop() {
        let slots = ClientSlots::new(3, 2);
        let a = Some(ClientGroup::of([10, 0, 0, 1].into()));
        let b = Some(ClientGroup::of([10, 0, 0, 2].into()));
        let first = slots.take(a).expect("room");
        let _second = slots.take(a).expect("room");
        assert_eq!(slots.take(a).err(), Some(SlotRefusal::ClientFull));
        let _third = slots.take(b).expect("room for another client");
        assert_eq!(slots.take(b).err(), Some(SlotRefusal::Full));
        assert_eq!(slots.take(None).err(), Some(SlotRefusal::Full));
        drop(first);
        let _again = slots.take(a).expect("a dropped place is free again");
        assert_eq!(slots.taken(), 3);
    }

    #[test]
    fn a_client_without_an_address_counts_in_all_only() {
        let slots = ClientSlots::new(2, 1);
        let _first = slots.take(None).expect("room");
        let second = slots.take(None).expect("no share for unknown clients");
        assert_eq!(slots.take(None).err(), Some(SlotRefusal::Full));
        drop(second);
        assert_eq!(slots.taken(), 1);
    }
}
