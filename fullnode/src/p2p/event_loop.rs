//! The task that owns the swarm: turns swarm events, commands from the node
//! and worker reports into sync steps, gossip and answers.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use blockchain_core::sync::{
    Asked, Connected, MAX_FORK_HEADERS, Misbehaviour, SyncManager, Unrequested,
};
use blockchain_core::sync_message::{SyncRequest, SyncResponse};
use blockchain_core::{Address, Block, BlockHash, Decode, Transaction};
use futures::StreamExt;
use libp2p::core::transport::ListenerId;
use libp2p::multiaddr::Protocol;
use libp2p::request_response::{self, OutboundRequestId};
use libp2p::swarm::SwarmEvent;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::{Multiaddr, PeerId, Swarm, gossipsub, identify, kad, ping};
use tokio::sync::{OwnedSemaphorePermit, mpsc, watch};

use super::addresses::{NetGroup, addresses_to_keep, public_group};
use super::behaviour::{Behaviour, BehaviourEvent, ProtocolNames, message_id_of};
use super::orphans::{Orphan, Orphans};
use super::outbound::{BLOCK_RELAY_OUTBOUND, FULL_RELAY_OUTBOUND, Origin, Redialer};
use super::peers::PeerBook;
use super::recent::RecentIds;
use super::rejects::{RecentRejects, Refusal};
use super::upload::{Answers, UploadBudget};
use super::verify_queue::VerifyQueue;
use super::workers::{
    self, BlockVerdict, Report, RequestWorkers, Source, TransactionWorkers, TxVerdict,
};
use super::{Command, ConnectedPeer, NetworkView};
use crate::chain::{BlockOutcome, Chain};
use crate::clock::now_ms;
use crate::storage::StoredPeer;

/// Housekeeping: score recovery, ban expiry, re-sync, DHT walk, view.
const TICK: Duration = Duration::from_secs(5);
/// Senders remembered in `EventLoop::admitted` at most.
const MAX_ADMITTED: usize = 4096;
/// Known-good peers read from storage on start, as dial candidates.
const KNOWN_ON_START: u32 = 32;

/// Waits until every listener reported its addresses (or failed).
pub(super) async fn wait_for_listeners(
    swarm: &mut Swarm<Behaviour>,
    listeners: &[(ListenerId, Multiaddr)],
) -> anyhow::Result<Vec<Multiaddr>> {
    let peer_id = *swarm.local_peer_id();
    let mut waiting: HashSet<ListenerId> = listeners.iter().map(|(id, _)| *id).collect();
    let mut addrs = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !waiting.is_empty() {
        let event = tokio::time::timeout_at(deadline, swarm.select_next_some())
            .await
            .map_err(|_| anyhow::anyhow!("peer-to-peer listeners did not start in 10 s"))?;
        match event {
            SwarmEvent::NewListenAddr {
                listener_id,
                address,
            } => {
                waiting.remove(&listener_id);
                addrs.push(with_peer_id(address, peer_id));
            }
            SwarmEvent::ListenerClosed {
                listener_id,
                reason: Err(error),
                ..
            } => {
                let addr = listeners
                    .iter()
                    .find(|(id, _)| *id == listener_id)
                    .map(|(_, addr)| addr.to_string())
                    .unwrap_or_default();
                anyhow::bail!("cannot listen on {addr}: {error}");
            }
            _ => {}
        }
    }
    Ok(addrs)
}

/// `addr` ending in `/p2p/<peer_id>`.
fn with_peer_id(mut addr: Multiaddr, peer_id: PeerId) -> Multiaddr {
    if !matches!(addr.iter().last(), Some(Protocol::P2p(_))) {
        addr.push(Protocol::P2p(peer_id));
    }
    addr
}

/// The peer id at the end of `addr`, and the address without it.
fn split_peer_id(addr: &Multiaddr) -> (Option<PeerId>, Multiaddr) {
    let mut addr = addr.clone();
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => {
            addr.pop();
            (Some(peer), addr)
        }
        _ => (None, addr),
    }
}

pub(super) struct EventLoop {
    swarm: Swarm<Behaviour>,
    names: ProtocolNames,
    chain: Arc<Chain>,
    commands: mpsc::Receiver<Command>,
    view: watch::Sender<NetworkView>,
    reports: mpsc::UnboundedReceiver<Report>,
    report_sender: mpsc::UnboundedSender<Report>,
    connector: workers::Connector,
    transactions: TransactionWorkers,
    requests: RequestWorkers,
    sync: SyncManager<PeerId>,
    rebuilding_headers: bool,
    catching_up: Arc<AtomicBool>,
    asked: HashMap<OutboundRequestId, (PeerId, Asked)>,
    book: PeerBook,
    /// Gossiped transactions waiting for their sender's previous nonce.
    orphans: Orphans<Source>,
    /// The last nonce that entered the mempool, by sender, since the last
    /// tick: a transaction found to leave a gap just before its predecessor
    /// got in is submitted again at once.
    admitted: HashMap<Address, u64>,
    /// Gossip lately received (not published again by us).
    received: RecentIds,
    /// Gossiped transactions lately refused (not checked again).
    rejects: RecentRejects,
    /// Gossiped transactions waiting for a worker, per peer.
    verify_queue: VerifyQueue<Box<QueuedTransaction>>,
    /// The chain owner's tip, as last seen.
    tip: BlockHash,
    /// Block bytes each peer may still be sent.
    upload: UploadBudget,
    /// Answers to sync requests in progress, with their workers' permits.
    answers: Answers<request_response::InboundRequestId, OwnedSemaphorePermit>,
    /// Connected peers: connection endpoints, listen addresses, latency.
    connected: HashMap<PeerId, PeerInfo>,
    /// Bootstrap and known-good peers, dialled again when outbound
    /// connections are missing.
    redialer: Redialer,
    /// Peers dialled into the block-relay-only slots.
    anchors: HashSet<PeerId>,
    last_progress_log: Instant,
    ticks: u64,
}

/// A gossiped transaction waiting for a worker: where it came from, and
/// when it first arrived (ms).
type QueuedTransaction = (Transaction, Source, u64);

#[derive(Debug, Default)]
struct PeerInfo {
    endpoints: Vec<Multiaddr>,
    listen_addrs: Vec<Multiaddr>,
    latency: Option<Duration>,
    connections: usize,
    /// We dialled it (one of our outbound peers).
    outbound: bool,
}

impl EventLoop {
    pub(super) async fn spawn(
        swarm: Swarm<Behaviour>,
        names: ProtocolNames,
        chain: Arc<Chain>,
        commands: mpsc::Receiver<Command>,
        view: watch::Sender<NetworkView>,
        bootstrap: Vec<Multiaddr>,
    ) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let (headers, tip) = workers::load_header_chain(&chain).await?;
        let (report_sender, reports) = mpsc::unbounded_channel();
        let catching_up = Arc::new(AtomicBool::new(false));
        workers::spawn_publisher(
            Arc::clone(&chain),
            Arc::clone(&catching_up),
            report_sender.clone(),
        );
        let known = chain
            .storage()
            .peers(KNOWN_ON_START)
            .await
            .unwrap_or_default();
        let mut event_loop = EventLoop {
            swarm,
            names,
            connector: workers::spawn_connector(Arc::clone(&chain), report_sender.clone()),
            transactions: TransactionWorkers::new(Arc::clone(&chain), report_sender.clone()),
            requests: RequestWorkers::new(Arc::clone(&chain), report_sender.clone()),
            chain,
            commands,
            view,
            reports,
            report_sender,
            sync: SyncManager::new(headers, tip),
            rebuilding_headers: false,
            catching_up,
            asked: HashMap::new(),
            book: PeerBook::default(),
            orphans: Orphans::default(),
            admitted: HashMap::new(),
            received: RecentIds::default(),
            rejects: RecentRejects::default(),
            verify_queue: VerifyQueue::default(),
            tip: tip.0,
            upload: UploadBudget::default(),
            answers: Answers::default(),
            connected: HashMap::new(),
            redialer: Redialer::default(),
            anchors: HashSet::new(),
            last_progress_log: Instant::now(),
            ticks: 0,
        };
        let now = Instant::now();
        for addr in bootstrap {
            if let (Some(peer), bare) = split_peer_id(&addr) {
                event_loop
                    .swarm
                    .behaviour_mut()
                    .kad
                    .add_address(&peer, bare);
            }
            event_loop.redialer.add(addr, Origin::Bootstrap, now);
        }
        for peer in known {
            let Ok(peer_id) = peer.peer_id.parse::<PeerId>() else {
                continue;
            };
            for addr in peer
                .addrs
                .iter()
                .filter_map(|a| a.parse::<Multiaddr>().ok())
            {
                event_loop
                    .redialer
                    .add(with_peer_id(addr, peer_id), Origin::KnownGood, now);
            }
        }
        event_loop.dial_more();
        Ok(tokio::spawn(event_loop.run()))
    }

    async fn run(mut self) {
        let mut tick = tokio::time::interval(TICK);
        let mut status = self.chain.watch_status();
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(Command::Dial(addr, answer)) => {
                        let _ = answer.send(self.dial_addr(addr, true));
                    }
                    Some(Command::Stop) | None => break,
                },
                Some(report) = self.reports.recv() => self.on_report(report),
                changed = status.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let tip = status.borrow_and_update().clone();
                    if tip.hash != self.tip {
                        self.tip = tip.hash;
                        // What the state refused may be acceptable now.
                        self.rejects.new_tip();
                    }
                    self.sync.set_chain_tip(tip.hash, tip.header.height);
                    self.step_sync();
                }
                _ = tick.tick() => self.on_tick(),
            }
        }
        tracing::info!("peer-to-peer layer stopped");
    }

    /// Dials `addr`; `remember` adds it to the DHT routing table too.
    fn dial_addr(&mut self, addr: Multiaddr, remember: bool) -> Result<(), String> {
        let (peer, bare) = split_peer_id(&addr);
        if let Some(peer) = peer {
            if self.book.is_banned(&peer) {
                return Err(format!("peer {peer} is banned"));
            }
            if remember {
                self.swarm.behaviour_mut().kad.add_address(&peer, bare);
            }
        }
        self.swarm.dial(addr).map_err(|error| error.to_string())
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            SwarmEvent::ConnectionEstablished {
                peer_id, endpoint, ..
            } => {
                let info = self.connected.entry(peer_id).or_default();
                info.connections += 1;
                let addr = endpoint.get_remote_address().clone();
                if endpoint.is_dialer() {
                    info.outbound = true;
                    self.redialer.connected(peer_id, &addr);
                }
                if !info.endpoints.contains(&addr) {
                    info.endpoints.push(addr);
                }
                tracing::debug!(%peer_id, "connected");
                self.publish_view();
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                ..
            } => {
                if num_established == 0 {
                    self.connected.remove(&peer_id);
                    self.anchors.remove(&peer_id);
                    self.upload.forget(&peer_id);
                    self.sync.remove_peer(&peer_id);
                    self.step_sync();
                    tracing::debug!(%peer_id, "disconnected");
                } else if let Some(info) = self.connected.get_mut(&peer_id) {
                    info.connections = info.connections.saturating_sub(1);
                }
                self.publish_view();
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                let addr = with_peer_id(address, *self.swarm.local_peer_id());
                tracing::info!("peer-to-peer listening on {addr}");
                self.view.send_modify(|view| {
                    if !view.listen_addrs.contains(&addr) {
                        view.listen_addrs.push(addr);
                    }
                });
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                let addr = with_peer_id(address, *self.swarm.local_peer_id());
                self.view
                    .send_modify(|view| view.listen_addrs.retain(|known| *known != addr));
            }
            SwarmEvent::OutgoingConnectionError { peer_id, error, .. } => {
                tracing::debug!(?peer_id, %error, "dial failed");
                if let Some(peer) = peer_id
                    && !self.connected.contains_key(&peer)
                {
                    self.anchors.remove(&peer);
                }
            }
            _ => {}
        }
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                self.on_identified(peer_id, info);
            }
            BehaviourEvent::Ping(ping::Event {
                peer,
                result: Ok(rtt),
                ..
            }) => {
                if let Some(info) = self.connected.get_mut(&peer) {
                    info.latency = Some(rtt);
                }
            }
            BehaviourEvent::Kad(kad::Event::RoutingUpdated {
                peer, addresses, ..
            }) if !self.connected.contains_key(&peer)
                && self.full_relay_outbound() < FULL_RELAY_OUTBOUND
                && !self.book.is_banned(&peer)
                && peer != *self.swarm.local_peer_id() =>
            {
                // Diverse network groups: one outbound peer per public /16.
                let groups = self.outbound_groups();
                let addresses = addresses.into_vec();
                if addresses
                    .iter()
                    .filter_map(public_group)
                    .any(|group| groups.contains(&group))
                {
                    return;
                }
                tracing::debug!(%peer, "dialling a peer found in the DHT");
                let options = DialOpts::peer_id(peer).addresses(addresses).build();
                let _ = self.swarm.dial(options);
            }
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => self.on_gossip(propagation_source, message_id, message),
            BehaviourEvent::Sync(event) => self.on_sync_event(event),
            _ => {}
        }
    }

    fn on_identified(&mut self, peer: PeerId, info: identify::Info) {
        let kad = info.protocols.contains(&self.names.kad);
        let sync = info.protocols.contains(&self.names.sync);
        let Some(connection) = self.connected.get(&peer) else {
            return;
        };
        let outbound = connection.outbound;
        // Only a few addresses, none more local than the connection: a
        // public peer cannot point our address book into our own network.
        let listen = match connection.endpoints.first() {
            Some(seen_at) => addresses_to_keep(seen_at, &info.listen_addrs),
            None => Vec::new(),
        };
        // Addresses are not learned from block-relay-only peers.
        let learn = !self.anchors.contains(&peer);
        if kad && learn {
            let first = connection.listen_addrs.is_empty();
            let wanted = self.full_relay_outbound() < FULL_RELAY_OUTBOUND;
            let behaviour = self.swarm.behaviour_mut();
            for addr in &listen {
                behaviour.kad.add_address(&peer, addr.clone());
            }
            if first && wanted {
                // A new DHT peer: look for our neighbours through it now.
                let _ = behaviour.kad.bootstrap();
            }
        }
        if let Some(entry) = self.connected.get_mut(&peer) {
            entry.listen_addrs.clone_from(&listen);
        }
        if sync {
            self.sync.add_peer(peer);
            self.ask_headers(peer);
            // Known-good peers are the ones we chose to dial.
            if outbound && learn && !listen.is_empty() {
                let stored = StoredPeer {
                    peer_id: peer.to_string(),
                    addrs: listen
                        .iter()
                        .map(|addr| with_peer_id(addr.clone(), peer).to_string())
                        .collect(),
                    last_seen_ms: now_ms(),
                };
                let chain = Arc::clone(&self.chain);
                tokio::spawn(async move {
                    if let Err(error) = chain.storage().save_peer(&stored).await {
                        tracing::debug!(%error, "cannot remember a peer");
                    }
                });
            }
        }
        self.publish_view();
    }

    fn ask_headers(&mut self, peer: PeerId) {
        if self.rebuilding_headers {
            return;
        }
        if let Some(request) = self.sync.headers_request(&peer) {
            let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
            self.asked.insert(id, (peer, Asked::Headers));
        }
    }

    fn on_gossip(
        &mut self,
        source: PeerId,
        message_id: gossipsub::MessageId,
        message: gossipsub::Message,
    ) {
        let report = |this: &mut Self, acceptance| {
            this.swarm
                .behaviour_mut()
                .gossipsub
                .report_message_validation_result(&message_id, &source, acceptance);
        };
        self.received.insert(message_id.clone());
        let origin = Source::Gossip {
            peer: source,
            message_id: message_id.clone(),
        };
        if message.topic == self.names.blocks.hash() {
            let acceptance = self.on_gossiped_block(source, origin, &message.data);
            if let Some(acceptance) = acceptance {
                report(self, acceptance);
            }
        } else if message.topic == self.names.transactions.hash() {
            match self.rejects.get(&message_id) {
                // Refused lately: not checked again.
                Some(Refusal::State) => {
                    report(self, gossipsub::MessageAcceptance::Ignore);
                    return;
                }
                Some(Refusal::Invalid) => {
                    report(self, gossipsub::MessageAcceptance::Reject);
                    self.penalize(source, Misbehaviour::InvalidTransaction);
                    return;
                }
                None => {}
            }
            match Transaction::decode(&message.data) {
                Ok(transaction) => {
                    let queued = Box::new((transaction, origin, now_ms()));
                    if self.verify_queue.push(source, queued).is_err() {
                        report(self, gossipsub::MessageAcceptance::Ignore);
                    }
                    self.verify_transactions();
                }
                Err(error) => {
                    tracing::debug!(peer = %source, %error, "undecodable gossip transaction");
                    report(self, gossipsub::MessageAcceptance::Reject);
                    self.penalize(source, Misbehaviour::Garbage);
                }
            }
        } else {
            report(self, gossipsub::MessageAcceptance::Ignore);
        }
    }

    /// A block by gossip, checked cheapest first: size, decoding, then its
    /// header against the known parent (the proof of work against the bits
    /// the parent calls for), and only then queued for the full checks
    /// (signatures) and connection. Returns the verdict on the message,
    /// unless the connector reports it later.
    fn on_gossiped_block(
        &mut self,
        source: PeerId,
        origin: Source,
        data: &[u8],
    ) -> Option<gossipsub::MessageAcceptance> {
        if data.len() > self.chain.params().max_block_size {
            tracing::debug!(peer = %source, size = data.len(), "oversized gossip block");
            self.penalize(source, Misbehaviour::InvalidBlock);
            return Some(gossipsub::MessageAcceptance::Reject);
        }
        let block = match Block::decode(data) {
            Ok(block) => block,
            Err(error) => {
                tracing::debug!(peer = %source, %error, "undecodable gossip block");
                self.penalize(source, Misbehaviour::Garbage);
                return Some(gossipsub::MessageAcceptance::Reject);
            }
        };
        match self
            .sync
            .check_unrequested(&source, &block.header, now_ms())
        {
            Unrequested::UnknownParent => {
                // The sender has blocks we lack: its headers first, not its
                // block; a peer that keeps sending blocks that connect to
                // nothing pays for it.
                if self.book.unconnecting_block(source) {
                    self.penalize(source, Misbehaviour::Unhelpful);
                }
                self.sync.add_peer(source);
                self.ask_headers(source);
                Some(gossipsub::MessageAcceptance::Ignore)
            }
            Unrequested::Invalid(error) => {
                tracing::info!(peer = %source, block = %block.hash(), %error, "invalid gossip block");
                self.penalize(source, Misbehaviour::InvalidBlock);
                Some(gossipsub::MessageAcceptance::Reject)
            }
            // Cheap side branches never reach the disk (nor other peers).
            Unrequested::TooFarInFuture | Unrequested::NotBetter => {
                Some(gossipsub::MessageAcceptance::Ignore)
            }
            Unrequested::Check => {
                // Gossip may fill half the connector: the rest is the sync's.
                match self
                    .connector
                    .try_send(block, origin, workers::CONNECTOR_BYTES / 2)
                {
                    Ok(()) => None,
                    Err(_) => Some(gossipsub::MessageAcceptance::Ignore),
                }
            }
        }
    }

    fn on_sync_event(&mut self, event: request_response::Event<SyncRequest, SyncResponse>) {
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
    fn step_sync(&mut self) {
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
                self.connected.len(),
            );
        }
    }

    fn on_report(&mut self, report: Report) {
        match report {
            Report::Block {
                hash,
                header,
                source,
                verdict,
            } => self.on_block_verdict(hash, header, source, verdict),
            Report::Transaction { source, verdict } => {
                self.verify_queue.done(&source.peer());
                self.verify_transactions();
                let refusal = match &verdict {
                    TxVerdict::Invalid(_) => Some(Refusal::Invalid),
                    TxVerdict::Refused => Some(Refusal::State),
                    _ => None,
                };
                if let (Some(refusal), Source::Gossip { message_id, .. }) = (refusal, &source) {
                    self.rejects.insert(message_id.clone(), refusal);
                }
                let acceptance = match verdict {
                    TxVerdict::Accepted => gossipsub::MessageAcceptance::Accept,
                    TxVerdict::Invalid(reason) => {
                        tracing::debug!(peer = %source.peer(), %reason, "invalid gossip transaction");
                        self.penalize(source.peer(), Misbehaviour::InvalidTransaction);
                        gossipsub::MessageAcceptance::Reject
                    }
                    TxVerdict::Refused | TxVerdict::Ignored => gossipsub::MessageAcceptance::Ignore,
                    TxVerdict::Gap {
                        transaction,
                        since_ms,
                    } => {
                        // Validated later, when its predecessor arrives (or never).
                        self.hold_orphan(Orphan {
                            transaction: *transaction,
                            tag: source,
                            since_ms,
                        });
                        return;
                    }
                };
                self.validated(&source, acceptance);
            }
            Report::Publish {
                block,
                bytes,
                header,
                admitted,
            } => {
                if let Some(header) = header {
                    self.sync.add_known_header(&header, now_ms());
                }
                if let Some((sender, nonce)) = admitted {
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
                if block {
                    // A block moves nonces: try every held transaction again.
                    for orphan in self.orphans.take_all() {
                        self.resubmit(orphan);
                    }
                }
                if self.received.contains(&message_id_of(&bytes)) {
                    // Came by gossip: already forwarded once validated.
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
            Report::Respond(answer) => {
                let workers::Answer {
                    peer,
                    id,
                    channel,
                    response,
                    unused_bytes,
                    permit,
                } = *answer;
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
            Report::HeadersRebuilt(headers, tip) => {
                self.rebuilding_headers = false;
                self.sync.reset_headers(*headers, tip);
                for peer in self.sync.peers() {
                    self.ask_headers(peer);
                }
            }
        }
    }

    fn on_block_verdict(
        &mut self,
        hash: BlockHash,
        header: blockchain_core::Header,
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

    /// Reports the validation of a gossip message (nothing for other sources).
    fn validated(&mut self, source: &Source, acceptance: gossipsub::MessageAcceptance) {
        if let Source::Gossip { peer, message_id } = source {
            self.swarm
                .behaviour_mut()
                .gossipsub
                .report_message_validation_result(message_id, peer, acceptance);
        }
    }

    fn hold_orphan(&mut self, orphan: Orphan<Source>) {
        let Some(sender) = orphan.transaction.sender_address() else {
            self.validated(&orphan.tag, gossipsub::MessageAcceptance::Ignore);
            return;
        };
        if self
            .admitted
            .get(&sender)
            .and_then(|nonce| nonce.checked_add(1))
            == Some(orphan.transaction.nonce)
        {
            // Its predecessor got in while it was being checked.
            self.resubmit(orphan);
            return;
        }
        self.keep_orphan(sender, orphan);
    }

    fn keep_orphan(&mut self, sender: Address, orphan: Orphan<Source>) {
        for dropped in self.orphans.insert(sender, orphan) {
            self.validated(&dropped, gossipsub::MessageAcceptance::Ignore);
        }
        tracing::debug!(
            held = self.orphans.len(),
            "holding a gossiped transaction until its sender's previous nonce arrives"
        );
    }

    /// Submits a held transaction again; held on when every worker is busy
    /// (tried again on the next tick, until it expires).
    fn resubmit(&mut self, orphan: Orphan<Source>) {
        let Orphan {
            transaction,
            tag,
            since_ms,
        } = orphan;
        let peer = tag.peer();
        if let Err(queued) = self
            .verify_queue
            .push(peer, Box::new((transaction, tag, since_ms)))
        {
            let (transaction, tag, since_ms) = *queued;
            let orphan = Orphan {
                transaction,
                tag,
                since_ms,
            };
            match orphan.transaction.sender_address() {
                Some(sender) => self.keep_orphan(sender, orphan),
                None => self.validated(&orphan.tag, gossipsub::MessageAcceptance::Ignore),
            }
        }
        self.verify_transactions();
    }

    /// Hands queued transactions to free workers, each peer in turn.
    fn verify_transactions(&mut self) {
        while self.transactions.idle() {
            let Some((peer, queued)) = self.verify_queue.next() else {
                break;
            };
            let (transaction, source, since_ms) = *queued;
            if self
                .transactions
                .submit(transaction, source.clone(), since_ms)
                .is_err()
            {
                self.verify_queue.done(&peer);
                self.validated(&source, gossipsub::MessageAcceptance::Ignore);
            }
        }
    }

    fn penalize(&mut self, peer: PeerId, what: Misbehaviour) {
        if self.book.penalize(peer, what, Instant::now()) {
            tracing::warn!(%peer, reason = ?what, "banning peer for {} s", super::peers::BAN_DURATION.as_secs());
            let behaviour = self.swarm.behaviour_mut();
            behaviour.blocked.block_peer(peer);
            behaviour.gossipsub.blacklist_peer(&peer);
            behaviour.kad.remove_peer(&peer);
            self.sync.remove_peer(&peer);
            for queued in self.verify_queue.remove_peer(&peer) {
                self.validated(&queued.1, gossipsub::MessageAcceptance::Ignore);
            }
            self.publish_view();
        }
    }

    fn on_tick(&mut self) {
        for source in self.orphans.expire(now_ms()) {
            self.validated(&source, gossipsub::MessageAcceptance::Ignore);
        }
        // A block connected while a transaction was being checked: try again.
        self.admitted.clear();
        for orphan in self.orphans.take_all() {
            self.resubmit(orphan);
        }
        for peer in self.book.tick(Instant::now()) {
            tracing::info!(%peer, "ban ended");
            let behaviour = self.swarm.behaviour_mut();
            behaviour.blocked.unblock_peer(peer);
            behaviour.gossipsub.remove_blacklisted_peer(&peer);
        }
        // Headers that were ahead of our clock and are due now.
        for peer in self.sync.headers_due(now_ms()) {
            self.ask_headers(peer);
        }
        // Catch anything gossip missed: ask one peer for headers each tick.
        let peers = self.sync.peers();
        if !peers.is_empty() {
            let pick = peers[(now_ms() / TICK.as_millis() as u64) as usize % peers.len()];
            self.ask_headers(pick);
        }
        self.dial_more();
        if self.full_relay_outbound() < FULL_RELAY_OUTBOUND && !self.connected.is_empty() {
            // A random walk (and, every minute, a bootstrap) finds more peers.
            let kad = &mut self.swarm.behaviour_mut().kad;
            kad.get_closest_peers(PeerId::random());
            if self.ticks.is_multiple_of(12) {
                let _ = kad.bootstrap();
            }
        }
        self.ticks += 1;
        self.step_sync();
        self.publish_view();
    }

    /// Outbound peers outside the block-relay-only slots.
    fn full_relay_outbound(&self) -> usize {
        self.connected
            .iter()
            .filter(|(peer, info)| info.outbound && !self.anchors.contains(peer))
            .count()
    }

    /// The public network groups of our outbound peers.
    fn outbound_groups(&self) -> HashSet<NetGroup> {
        self.connected
            .values()
            .filter(|info| info.outbound)
            .flat_map(|info| info.endpoints.iter().filter_map(public_group))
            .collect()
    }

    /// Dials bootstrap and known-good peers again while outbound
    /// connections are missing (the DHT finds more meanwhile), and
    /// known-good peers into the block-relay-only slots.
    fn dial_more(&mut self) {
        let now = Instant::now();
        let mut excluded: HashSet<PeerId> = self.connected.keys().copied().collect();
        excluded.extend(self.book.banned());
        let groups = self.outbound_groups();
        let missing = FULL_RELAY_OUTBOUND.saturating_sub(self.full_relay_outbound());
        let all = [Origin::Bootstrap, Origin::KnownGood];
        for addr in self.redialer.due(now, missing, &all, &excluded, &groups) {
            tracing::debug!(%addr, "dialling for an outbound slot");
            let _ = self.swarm.dial(addr);
        }
        let anchors = self
            .anchors
            .iter()
            .filter(|peer| self.connected.contains_key(peer))
            .count();
        let missing = BLOCK_RELAY_OUTBOUND.saturating_sub(anchors);
        if missing > 0 {
            let due = self
                .redialer
                .due(now, missing, &[Origin::KnownGood], &excluded, &groups);
            for addr in due {
                let (Some(peer), _) = split_peer_id(&addr) else {
                    continue;
                };
                tracing::debug!(%addr, "dialling a block-relay-only peer");
                self.anchors.insert(peer);
                let _ = self.swarm.dial(addr);
            }
        }
    }

    fn publish_view(&mut self) {
        let peers = self
            .connected
            .iter()
            .map(|(peer, info)| {
                let mut addrs = info.endpoints.clone();
                for addr in &info.listen_addrs {
                    if !addrs.contains(addr) {
                        addrs.push(addr.clone());
                    }
                }
                ConnectedPeer {
                    peer_id: *peer,
                    addrs,
                    latency: info.latency,
                }
            })
            .collect();
        let header_height = self.sync.header_height();
        let banned = self.book.banned_count();
        self.view.send_if_modified(|view| {
            let changed =
                view.peers != peers || view.header_height != header_height || view.banned != banned;
            view.peers = peers;
            view.header_height = header_height;
            view.banned = banned;
            changed
        });
    }
}
