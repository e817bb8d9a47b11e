//! The loop's gossip handling: messages in (blocks through
//! [`block_intake`], transactions through the [`Admission`] state machine),
//! verdicts out to gossipsub, and what the chain accepted published.
//!
//! [`Admission`]: crate::p2p::admission::Admission

use blockchain_core::sync::Misbehaviour;
use blockchain_core::{Address, Header};
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::{PeerId, gossipsub::MessageId};

use super::EventLoop;
use crate::clock::now_ms;
use crate::p2p::admission::{Action, BlockIntake, block_intake};
use crate::p2p::behaviour::message_id_of;
use crate::p2p::workers::{self, Source};

impl EventLoop {
    pub(super) fn on_gossip(
        &mut self,
        peer: PeerId,
        message_id: MessageId,
        message: gossipsub::Message,
    ) {
        self.received.insert(message_id.clone());
        if message.topic == self.names.blocks.hash() {
            self.on_gossiped_block(peer, message_id, &message.data);
        } else if message.topic == self.names.transactions.hash() {
            self.admission
                .transaction_gossip(peer, message_id, &message.data, now_ms());
        } else {
            self.validated(
                &Source::Gossip { peer, message_id },
                MessageAcceptance::Ignore,
            );
        }
    }

    /// A block by gossip: cheap checks first, then the connector (which
    /// reports the verdict on the message later).
    fn on_gossiped_block(&mut self, peer: PeerId, message_id: MessageId, data: &[u8]) {
        let source = Source::Gossip { peer, message_id };
        let max_size = self.chain.params().max_block_size;
        let acceptance = match block_intake(&mut self.sync, max_size, &peer, data, now_ms()) {
            BlockIntake::Refuse(fault) => {
                self.penalize(peer, fault);
                MessageAcceptance::Reject
            }
            BlockIntake::Ignore => MessageAcceptance::Ignore,
            BlockIntake::UnknownParent => {
                // Its headers first, not its block; a peer that keeps
                // sending blocks that connect to nothing pays for it.
                if self.book.unconnecting_block(peer) {
                    self.penalize(peer, Misbehaviour::Unhelpful);
                }
                self.sync.add_peer(peer);
                self.ask_headers(peer);
                MessageAcceptance::Ignore
            }
            // Gossip may fill half the connector: the rest is the sync's.
            BlockIntake::Check(block) => {
                match self
                    .connector
                    .try_send(*block, source.clone(), workers::CONNECTOR_BYTES / 2)
                {
                    Ok(()) => return,
                    Err(_) => MessageAcceptance::Ignore,
                }
            }
        };
        self.validated(&source, acceptance);
    }

    /// Carries out what admission asks for (first: a ban empties the
    /// banned peer's queue before anything of it reaches a worker), hands
    /// queued transactions to free workers, then carries out what that
    /// asked for.
    pub(super) fn drive_admission(&mut self) {
        self.admission_actions();
        while self.transactions.idle() {
            let Some(next) = self.admission.next_to_verify() else {
                break;
            };
            let source = next.source.clone();
            if self
                .transactions
                .submit(next.transaction, next.source, next.since_ms)
                .is_err()
            {
                self.admission.not_verified(&source);
            }
        }
        self.admission_actions();
    }

    fn admission_actions(&mut self) {
        while let Some(action) = self.admission.poll_action() {
            match action {
                Action::Validate {
                    peer,
                    message_id,
                    acceptance,
                } => {
                    self.swarm
                        .behaviour_mut()
                        .gossipsub
                        .report_message_validation_result(&message_id, &peer, acceptance);
                }
                Action::Penalize(peer, what) => self.penalize(peer, what),
            }
        }
    }

    /// Reports the validation of a gossip message (nothing for other sources).
    pub(super) fn validated(&mut self, source: &Source, acceptance: MessageAcceptance) {
        if let Source::Gossip { peer, message_id } = source {
            self.swarm
                .behaviour_mut()
                .gossipsub
                .report_message_validation_result(message_id, peer, acceptance);
        }
    }

    /// The chain accepted a block (as its tip) or a transaction: published
    /// unless it came by gossip (gossipsub forwards what was validated).
    pub(super) fn on_publish(
        &mut self,
        block: bool,
        bytes: Vec<u8>,
        header: Option<Header>,
        admitted: Option<(Address, u64)>,
    ) {
        if let Some(header) = header {
            self.sync.add_known_header(&header, now_ms());
        }
        if let Some((sender, nonce)) = admitted {
            self.admission.admitted(sender, nonce);
        }
        if block {
            self.admission.block_connected();
        }
        if self.received.contains(&message_id_of(&bytes)) {
            return;
        }
        let topic = if block {
            self.names.blocks.clone()
        } else {
            self.names.transactions.clone()
        };
        match self.swarm.behaviour_mut().gossipsub.publish(topic, bytes) {
            Ok(_)
            | Err(gossipsub::PublishError::Duplicate)
            | Err(gossipsub::PublishError::NoPeersSubscribedToTopic) => {}
            Err(error) => tracing::debug!(%error, "cannot publish"),
        }
    }
}
