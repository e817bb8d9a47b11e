//! The loop's side of the headers-first sync (the state machine is the
//! core's [`SyncManager`](blockchain_core::sync::SyncManager)): requests
//! out and their answers, requests in and the workers' answers, blocks to
//! the connector and the connector's verdicts.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use blockchain_core::header_chain::HeaderChain;
use blockchain_core::sync::{Asked, Connected, MAX_FORK_HEADERS, Misbehaviour};
use blockchain_core::sync_message::{SyncRequest, SyncResponse};
use blockchain_core::{BlockHash, Header};
use libp2p::PeerId;
use libp2p::request_response;

use super::{EventLoop, TICK};
use crate::chain::BlockOutcome;
use crate::clock::now_ms;
use crate::p2p::workers::{self, BlockVerdict, Source};

impl EventLoop {
    pub(super) fn ask_headers(&mut self, peer: PeerId) {
        if self.rebuilding_headers {
            return;
        }
        if let Some(request) = self.sync.headers_request(&peer) {
            let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
            self.asked.insert(id, (peer, Asked::Headers));
        }
    }

    pub(super) fn on_sync_event(
        &mut self,
        event: request_response::Event<SyncRequest, SyncResponse>,
    ) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request_id,
                        request,
                        channel,
                    },
                ..
            } => self.on_request(peer, request_id, request, channel),
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let Some((_, asked)) = self.asked.remove(&request_id) else {
                    return;
                };
                self.on_response(peer, asked, response);
            }
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                let Some((_, asked)) = self.asked.remove(&request_id) else {
                    return;
                };
                tracing::debug!(%peer, %error, "sync request failed");
                match asked {
                    Asked::Headers => self.sync.headers_failed(&peer),
                    Asked::Blocks(hashes) => self.sync.blocks_failed(&peer, &hashes),
                }
                let fault = match error {
                    request_response::OutboundFailure::Io(ref io)
                        if io.kind() == std::io::ErrorKind::InvalidData =>
                    {
                        Some(Misbehaviour::Garbage)
                    }
                    request_response::OutboundFailure::Timeout => Some(Misbehaviour::Unresponsive),
                    _ => None,
                };
                if let Some(fault) = fault {
                    self.penalize(peer, fault);
                }
                self.step_sync();
            }
            request_response::Event::InboundFailure {
                peer,
                error,
                request_id,
                ..
            } => {
                self.answers.finished(&request_id);
                if let request_response::InboundFailure::Io(io) = &error
                    && io.kind() == std::io::ErrorKind::InvalidData
                {
                    tracing::debug!(%peer, %error, "garbage sync request");
                    self.penalize(peer, Misbehaviour::Garbage);
                }
            }
            request_response::Event::ResponseSent { request_id, .. } => {
                self.answers.finished(&request_id);
            }
        }
    }

    /// A sync request from `peer`: answered by a worker, within the peer's
    /// share (answers at once, block bytes per answer and per second).
    fn on_request(
        &mut self,
        peer: PeerId,
        id: request_response::InboundRequestId,
        request: SyncRequest,
        channel: request_response::ResponseChannel<SyncResponse>,
    ) {
        let busy = |this: &mut Self, channel| {
            let response = SyncResponse::Error("busy".into());
            let _ = this
                .swarm
                .behaviour_mut()
                .sync
                .send_response(channel, response);
        };
        if !self.answers.start(peer) {
            busy(self, channel);
            return;
        }
        let max_bytes = match request {
            SyncRequest::GetBlocks { .. } => self.upload.take(peer, Instant::now()),
            _ => 0,
        };
        if let Err(channel) = self.requests.answer(peer, id, request, channel, max_bytes) {
            self.upload.give_back(peer, max_bytes);
            self.answers.abandoned(&peer);
            busy(self, channel);
        }
    }

    fn on_response(&mut self, peer: PeerId, asked: Asked, response: SyncResponse) {
        match (asked, response) {
            (Asked::Headers, SyncResponse::Headers(headers)) => {
                match self.sync.on_headers(&peer, &headers, now_ms()) {
                    Ok(more) => {
                        if more {
                            self.ask_headers(peer);
                        }
                    }
                    Err(error) => {
                        tracing::debug!(%peer, %error, "headers refused");
                        self.penalize(peer, error.misbehaviour());
                    }
                }
            }
            (Asked::Blocks(hashes), SyncResponse::Blocks(blocks)) => {
                if let Err(fault) = self.sync.on_blocks(&peer, &hashes, blocks) {
                    self.penalize(peer, fault);
                }
            }
            (asked, SyncResponse::Error(text)) => {
                tracing::debug!(%peer, %text, "peer could not answer");
                match asked {
                    Asked::Headers => self.sync.headers_failed(&peer),
                    Asked::Blocks(hashes) => self.sync.blocks_failed(&peer, &hashes),
                }
            }
            (asked, _) => {
                match asked {
                    Asked::Headers => self.sync.headers_failed(&peer),
                    Asked::Blocks(hashes) => self.sync.blocks_failed(&peer, &hashes),
                }
                self.penalize(peer, Misbehaviour::Garbage);
            }
        }
        self.step_sync();
    }

    /// Sends block requests and hands downloaded blocks to the connector.
    pub(super) fn step_sync(&mut self) {
        if !self.rebuilding_headers && self.sync.fork_headers() > MAX_FORK_HEADERS {
            // Cheap fork headers must not grow memory without bound: keep
            // the best chain only (peers are asked for headers again).
            tracing::warn!(
                forks = self.sync.fork_headers(),
                "too many fork headers: rebuilding the header chain"
            );
            self.rebuilding_headers = true;
            workers::rebuild_headers(Arc::clone(&self.chain), self.report_sender.clone());
        }
        if self.rebuilding_headers {
            return;
        }
        for (block, peer) in self.sync.ready_to_connect(self.connector.room()) {
            let hash = block.hash();
            if self
                .connector
                .try_send(block, Source::Sync(peer), 0)
                .is_err()
            {
                self.sync.on_connected(&hash, Connected::NotStored);
            }
        }
        for (peer, request, hashes) in self.sync.block_requests() {
            let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
            self.asked.insert(id, (peer, Asked::Blocks(hashes)));
        }
        let catching_up = self.sync.is_catching_up();
        let was_catching_up = self.catching_up.swap(catching_up, Ordering::Relaxed);
        if was_catching_up && !catching_up {
            tracing::info!(height = self.sync.chain_height(), "synced with the network");
        }
        if catching_up
            && (!was_catching_up || self.last_progress_log.elapsed() >= Duration::from_secs(5))
        {
            self.last_progress_log = Instant::now();
            let (height, target) = (self.sync.chain_height(), self.sync.header_height());
            tracing::info!(
                height,
                target,
                "syncing: block {height} of {target} ({:.1}%), {} blocks downloading, {} peers",
                height as f64 * 100.0 / target.max(1) as f64,
                self.sync.pending_blocks(),
                self.connections.len(),
            );
        }
    }

    pub(super) fn on_block_verdict(
        &mut self,
        hash: BlockHash,
        header: Header,
        source: Source,
        verdict: BlockVerdict,
    ) {
        let from_sync = matches!(source, Source::Sync(_));
        let connected = verdict.connected();
        self.validated(&source, verdict.gossip_acceptance());
        if let Some(fault) = verdict.fault() {
            self.penalize(source.peer(), fault);
        }
        match verdict {
            BlockVerdict::Accepted(outcome) => {
                self.sync.add_known_header(&header, now_ms());
                if outcome == BlockOutcome::NewTip {
                    self.sync.set_chain_tip(hash, header.height);
                }
            }
            BlockVerdict::Duplicate | BlockVerdict::NotBetter => {}
            BlockVerdict::UnknownParent => {
                // The sender has blocks we lack: catch up from it.
                let peer = source.peer();
                self.sync.add_peer(peer);
                self.ask_headers(peer);
            }
            BlockVerdict::TooFarInFuture(time) => {
                tracing::debug!(peer = %source.peer(), block = %hash, time, "block ahead of our clock: asked again when due");
                self.sync.headers_ahead_of_clock(&source.peer(), time);
            }
            BlockVerdict::Invalid(reason) => {
                tracing::info!(peer = %source.peer(), block = %hash, %reason, "invalid block from peer");
                if from_sync && !self.rebuilding_headers {
                    // Drop the branch it was on: rebuild the header chain
                    // from ours (once for a whole batch of forged blocks).
                    self.rebuilding_headers = true;
                    workers::rebuild_headers(Arc::clone(&self.chain), self.report_sender.clone());
                }
            }
            BlockVerdict::Failed(reason) => {
                tracing::warn!(block = %hash, %reason, "could not store a block");
            }
        }
        if from_sync {
            self.sync.on_connected(&hash, connected);
        }
        self.step_sync();
    }

    /// A worker's answer to a sync request: sent, its unused block bytes
    /// given back to the peer's budget.
    pub(super) fn on_answer(&mut self, answer: workers::Answer) {
        let workers::Answer {
            peer,
            id,
            channel,
            response,
            unused_bytes,
            permit,
        } = answer;
        self.upload.give_back(peer, unused_bytes);
        match self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, response)
        {
            // Its worker's permit is held until it is written.
            Ok(()) => self.answers.writing(id, peer, permit),
            Err(_) => self.answers.abandoned(&peer),
        }
    }

    pub(super) fn on_headers_rebuilt(&mut self, headers: HeaderChain, tip: (BlockHash, u64)) {
        self.rebuilding_headers = false;
        self.sync.reset_headers(headers, tip);
        for peer in self.sync.peers() {
            self.ask_headers(peer);
        }
    }

    /// Asks for headers that were ahead of our clock and are due now, and
    /// one peer each tick for anything gossip missed.
    pub(super) fn tick_sync(&mut self, now_ms: u64) {
        for peer in self.sync.headers_due(now_ms) {
            self.ask_headers(peer);
        }
        let peers = self.sync.peers();
        if !peers.is_empty() {
            let pick = peers[(now_ms / TICK.as_millis() as u64) as usize % peers.len()];
            self.ask_headers(pick);
        }
    }
}
