//! A bound on the client's requests in flight: a node answers only a few
//! requests of one peer at once (docs/PROTOCOL.md) and refuses the rest as
//! `busy`, so a page that asks for many blocks or proofs together queues
//! them here instead of having them refused.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use futures::channel::oneshot;

/// Requests of one client in flight at once, below the node's 8 per peer
/// (the header sync has one more of its own).
pub(crate) const REQUESTS_IN_FLIGHT: usize = 4;

/// Free slots and the callers waiting for one, first come first served.
#[derive(Debug)]
pub(crate) struct Slots {
    free: Cell<usize>,
    waiting: RefCell<VecDeque<oneshot::Sender<Slot>>>,
}

/// A slot held until dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Rc<Slots>,
}

impl Slots {
    pub(crate) fn new(count: usize) -> Rc<Slots> {
        Rc::new(Slots {
            free: Cell::new(count),
            waiting: RefCell::new(VecDeque::new()),
        })
    }

    /// Waits for a free slot.
    pub(crate) async fn take(self: &Rc<Self>) -> Slot {
        if self.free.get() > 0 {
            self.free.set(self.free.get() - 1);
            return Slot {
                slots: self.clone(),
            };
        }
        let (sender, receiver) = oneshot::channel();
        self.waiting.borrow_mut().push_back(sender);
        match receiver.await {
            Ok(slot) => slot,
            // Never: a sender is only dropped by handing its slot on.
            Err(_) => Slot {
                slots: self.clone(),
            },
        }
    }

    /// A slot given back: to the first caller still waiting, else freed.
    /// A caller that gave up refuses it, and it comes back here on drop.
    fn give_back(self: &Rc<Self>) {
        let next = self.waiting.borrow_mut().pop_front();
        match next {
            None => self.free.set(self.free.get() + 1),
            Some(sender) => {
                let _ = sender.send(Slot {
                    slots: self.clone(),
                });
            }
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.slots.give_back();
    }
}
