//! Admission of gossip, sans-io (like the core's sync state machine): what
//! becomes of a gossiped block after the cheap checks ([`block_intake`]),
//! and the path of a gossiped transaction ([`Admission`]): refused lately →
//! decoded → queued per peer for a verification worker → verdict → held as
//! an orphan while its sender's previous nonce is missing → submitted again
//! when that nonce is admitted, a block connects, or the next tick comes.
//!
//! Nothing here touches the swarm, a clock or a task: the event loop feeds
//! events in, hands [`Admission::next_to_verify`] to the workers while they
//! are idle, and carries out the [`Action`]s it polls.

use std::collections::{HashMap, VecDeque};

use blockchain_core::sync::{Misbehaviour, SyncManager, Unrequested};
use blockchain_core::{Address, Block, Decode, Transaction};
use libp2p::PeerId;
use libp2p::gossipsub::{MessageAcceptance, MessageId};

use super::orphans::{Orphan, Orphans};
use super::rejects::{RecentRejects, Refusal};
use super::verify_queue::VerifyQueue;
use super::workers::{Source, TxVerdict};

/// Senders remembered in `Admission::admitted` at most.
const MAX_ADMITTED: usize = 4096;

/// What the event loop must do for admission.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Action {
    /// Tell gossipsub what became of a message: forward it, drop it, or
    /// count it against its propagation source.
    Validate {
        peer: PeerId,
        message_id: MessageId,
        acceptance: MessageAcceptance,
    },
    /// `peer` forwarded something that breaks a rule.
    Penalize(PeerId, Misbehaviour),
}

/// A gossiped transaction for a verification worker.
#[derive(Debug)]
pub(super) struct ToVerify {
    pub(super) transaction: Transaction,
    pub(super) source: Source,
    /// When the node first received it (ms).
    pub(super) since_ms: u64,
}

/// What becomes of a gossiped block after the cheap checks: size,
/// decoding, then its header against the known parent (the proof of work
/// against the bits the parent calls for), the clock and the tip's work.
#[derive(Debug)]
pub(super) enum BlockIntake {
    /// It breaks a rule: reject the message, penalize its sender.
    Refuse(Misbehaviour),
    /// Not wanted (no more work than our tip, or ahead of our clock): not
    /// stored, not forwarded; not a fault.
    Ignore,
    /// Its parent is unknown: the sender has blocks we lack, so its
    /// headers are asked for, not its block (the message is ignored).
    UnknownParent,
    /// Passed: to the connector for the full checks.
    Check(Box<Block>),
}

/// Classifies a gossiped block from `peer` (see [`BlockIntake`]).
pub(super) fn block_intake(
    sync: &mut SyncManager<PeerId>,
    max_block_size: usize,
    peer: &PeerId,
    data: &[u8],
    now_ms: u64,
) -> BlockIntake {
    if data.len() > max_block_size {
        tracing::debug!(%peer, size = data.len(), "oversized gossip block");
        return BlockIntake::Refuse(Misbehaviour::InvalidBlock);
    }
    let block = match Block::decode(data) {
        Ok(block) => block,
        Err(error) => {
            tracing::debug!(%peer, %error, "undecodable gossip block");
            return BlockIntake::Refuse(Misbehaviour::Garbage);
        }
    };
    match sync.check_unrequested(peer, &block.header, now_ms) {
        Unrequested::UnknownParent => BlockIntake::UnknownParent,
        Unrequested::Invalid(error) => {
            tracing::info!(%peer, block = %block.hash(), %error, "invalid gossip block");
            BlockIntake::Refuse(Misbehaviour::InvalidBlock)
        }
        // Cheap side branches never reach the disk (nor other peers).
        Unrequested::TooFarInFuture | Unrequested::NotBetter => BlockIntake::Ignore,
        Unrequested::Check => BlockIntake::Check(Box::new(block)),
    }
}

/// Gossiped transactions between gossipsub and the verification workers.
#[derive(Debug, Default)]
pub(super) struct Admission {
    /// Waiting for a worker, per peer.
    queue: VerifyQueue<Box<ToVerify>>,
    /// Waiting for their sender's previous nonce.
    orphans: Orphans<Source>,
    /// The last nonce that entered the mempool, by sender, since the last
    /// tick: a transaction found to leave a gap just before its
    /// predecessor got in is submitted again at once.
    admitted: HashMap<Address, u64>,
    /// Refused lately: not checked again.
    rejects: RecentRejects,
    actions: VecDeque<Action>,
}

impl Admission {
    /// The next thing to do, if any.
    pub(super) fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// A transaction message `message_id` forwarded by `peer`.
    pub(super) fn transaction_gossip(
        &mut self,
        peer: PeerId,
        message_id: MessageId,
        data: &[u8],
        now_ms: u64,
    ) {
        let refusal = self.rejects.get(&message_id);
        let source = Source::Gossip { peer, message_id };
        match refusal {
            Some(Refusal::State) => return self.validate(&source, MessageAcceptance::Ignore),
            Some(Refusal::Invalid) => {
                self.validate(&source, MessageAcceptance::Reject);
                self.actions
                    .push_back(Action::Penalize(peer, Misbehaviour::InvalidTransaction));
                return;
            }
            None => {}
        }
        match Transaction::decode(data) {
            Ok(transaction) => {
                let queued = Box::new(ToVerify {
                    transaction,
                    source,
                    since_ms: now_ms,
                });
                if let Err(queued) = self.queue.push(peer, queued) {
                    self.validate(&queued.source, MessageAcceptance::Ignore);
                }
            }
            Err(error) => {
                tracing::debug!(%peer, %error, "undecodable gossip transaction");
                self.validate(&source, MessageAcceptance::Reject);
                self.actions
                    .push_back(Action::Penalize(peer, Misbehaviour::Garbage));
            }
        }
    }

    /// The next transaction for a free worker (each peer in turn); it
    /// counts as running until its verdict or [`Admission::not_verified`].
    pub(super) fn next_to_verify(&mut self) -> Option<ToVerify> {
        self.queue.next().map(|(_, queued)| *queued)
    }

    /// No worker took what [`Admission::next_to_verify`] gave: dropped.
    pub(super) fn not_verified(&mut self, source: &Source) {
        self.queue.done(&source.peer());
        self.validate(source, MessageAcceptance::Ignore);
    }

    /// A worker's verdict on a transaction from `source`.
    pub(super) fn verdict(&mut self, source: Source, verdict: TxVerdict) {
        self.queue.done(&source.peer());
        let refusal = match &verdict {
            TxVerdict::Invalid(_) => Some(Refusal::Invalid),
            TxVerdict::Refused => Some(Refusal::State),
            _ => None,
        };
        if let (Some(refusal), Source::Gossip { message_id, .. }) = (refusal, &source) {
            self.rejects.insert(message_id.clone(), refusal);
        }
        let acceptance = match verdict {
            TxVerdict::Accepted => MessageAcceptance::Accept,
            TxVerdict::Invalid(reason) => {
                tracing::debug!(peer = %source.peer(), %reason, "invalid gossip transaction");
                self.validate(&source, MessageAcceptance::Reject);
                self.actions.push_back(Action::Penalize(
                    source.peer(),
                    Misbehaviour::InvalidTransaction,
                ));
                return;
            }
            TxVerdict::Refused | TxVerdict::Ignored => MessageAcceptance::Ignore,
            TxVerdict::Gap {
                transaction,
                since_ms,
            } => {
                // Validated later, when its predecessor arrives (or never).
                self.hold(Orphan {
                    transaction: *transaction,
                    tag: source,
                    since_ms,
                });
                return;
            }
        };
        self.validate(&source, acceptance);
    }

    /// `sender`'s transaction with `nonce` entered the mempool: its
    /// successor, if held, goes back to the workers.
    pub(super) fn admitted(&mut self, sender: Address, nonce: u64) {
        if self.admitted.len() >= MAX_ADMITTED {
            self.admitted.clear();
        }
        self.admitted.insert(sender, nonce);
        if let Some(orphan) = nonce
            .checked_add(1)
            .and_then(|next| self.orphans.take(&sender, next))
        {
            self.resubmit(orphan);
        }
    }

    /// A block connected: it moves nonces, so every held transaction is
    /// tried again.
    pub(super) fn block_connected(&mut self) {
        for orphan in self.orphans.take_all() {
            self.resubmit(orphan);
        }
    }

    /// The chain's tip changed: what the state refused may be acceptable now.
    pub(super) fn new_tip(&mut self) {
        self.rejects.new_tip();
    }

    /// Housekeeping: expired orphans are let go, the others tried again (a
    /// block may have connected while one was being checked).
    pub(super) fn tick(&mut self, now_ms: u64) {
        for source in self.orphans.expire(now_ms) {
            self.validate(&source, MessageAcceptance::Ignore);
        }
        self.admitted.clear();
        self.block_connected();
    }

    /// `peer` was banned: what it has waiting is dropped.
    pub(super) fn peer_banned(&mut self, peer: &PeerId) {
        for queued in self.queue.remove_peer(peer) {
            self.validate(&queued.source, MessageAcceptance::Ignore);
        }
    }

    /// Transactions held as orphans now.
    #[cfg(test)]
    fn orphans(&self) -> usize {
        self.orphans.len()
    }

    fn validate(&mut self, source: &Source, acceptance: MessageAcceptance) {
        if let Source::Gossip { peer, message_id } = source {
            self.actions.push_back(Action::Validate {
                peer: *peer,
                message_id: message_id.clone(),
                acceptance,
            });
        }
    }

    fn hold(&mut self, orphan: Orphan<Source>) {
        let Some(sender) = orphan.transaction.sender_address() else {
            return self.validate(&orphan.tag, MessageAcceptance::Ignore);
        };
        if self
            .admitted
            .get(&sender)
            .and_then(|nonce| nonce.checked_add(1))
            == Some(orphan.transaction.nonce)
        {
            // Its predecessor got in while it was being checked.
            return self.resubmit(orphan);
        }
        self.keep(sender, orphan);
    }

    fn keep(&mut self, sender: Address, orphan: Orphan<Source>) {
        for dropped in self.orphans.insert(sender, orphan) {
            self.validate(&dropped, MessageAcceptance::Ignore);
        }
        tracing::debug!(
            held = self.orphans.len(),
            "holding a gossiped transaction until its sender's previous nonce arrives"
        );
    }

    /// Queues a held transaction again; held on when its peer's queue is
    /// full (tried again on the next tick, until it expires).
    fn resubmit(&mut self, orphan: Orphan<Source>) {
        let Orphan {
            transaction,
            tag,
            since_ms,
        } = orphan;
        let queued = Box::new(ToVerify {
            transaction,
            source: tag,
            since_ms,
        });
        if let Err(queued) = self.queue.push(queued.source.peer(), queued) {
            let ToVerify {
                transaction,
                source,
                since_ms,
            } = *queued;
            let orphan = Orphan {
                transaction,
                tag: source,
                since_ms,
            };
            match orphan.transaction.sender_address() {
                Some(sender) => self.keep(sender, orphan),
                None => self.validate(&orphan.tag, MessageAcceptance::Ignore),
            }
        }
    }
}

#[cfg(test)]
mod tests;
