//! The task that owns the swarm. It only dispatches: swarm events, commands
//! from the node, worker reports and the chain's tip go to the handlers of
//! [`peers`] (connections, identify, dialling, bans), [`sync`] (the
//! headers-first sync protocol, both ways) and [`gossip`] (blocks and
//! transactions by gossipsub, through the sans-io [`Admission`]).

mod gossip;
mod peers;
mod sync;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use blockchain_core::BlockHash;
use blockchain_core::sync::{Asked, SyncManager};
use futures::StreamExt;
use libp2p::request_response::{self, OutboundRequestId};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, gossipsub};
use tokio::sync::{OwnedSemaphorePermit, mpsc, watch};

use super::addresses::{split_peer_id, with_peer_id};
use super::admission::Admission;
use super::behaviour::{Behaviour, BehaviourEvent, ProtocolNames};
use super::connections::Connections;
use super::error::StartError;
use super::metrics::NetworkMetrics;
use super::outbound::{Origin, Redialer};
use super::peers::PeerBook;
use super::recent::RecentIds;
use super::upload::{Answers, UploadBudget};
use super::workers::{self, Report, RequestWorkers, TransactionWorkers};
use super::{Command, NetworkView};
use crate::chain::Chain;

/// Housekeeping: score recovery, ban expiry, re-sync, DHT walk, view.
const TICK: Duration = Duration::from_secs(5);
/// Known-good peers read from storage on start, as dial candidates.
const KNOWN_ON_START: u32 = 32;
/// Worker reports waiting for the loop at most; a worker with a report
/// waits for room (the loop drains them between every other event).
const REPORTS: usize = 1024;

pub(super) struct EventLoop {
    swarm: Swarm<Behaviour>,
    names: ProtocolNames,
    chain: Arc<Chain>,
    commands: mpsc::Receiver<Command>,
    view: watch::Sender<NetworkView>,
    reports: mpsc::Receiver<Report>,
    report_sender: mpsc::Sender<Report>,
    connector: workers::Connector,
    transactions: TransactionWorkers,
    requests: RequestWorkers,
    sync: SyncManager<PeerId>,
    rebuilding_headers: bool,
    catching_up: Arc<AtomicBool>,
    asked: HashMap<OutboundRequestId, (PeerId, Asked)>,
    book: PeerBook,
    /// Gossiped transactions on their way to the mempool.
    admission: Admission,
    /// Gossip lately received (not published again by us).
    received: RecentIds,
    /// The chain owner's tip, as last seen.
    tip: BlockHash,
    /// Block bytes each peer may still be sent.
    upload: UploadBudget,
    /// Answers to sync requests in progress, with their workers' permits.
    answers: Answers<request_response::InboundRequestId, OwnedSemaphorePermit>,
    /// Connected peers and the block-relay-only slots.
    connections: Connections,
    /// Bootstrap and known-good peers, dialled again when outbound
    /// connections are missing.
    redialer: Redialer,
    last_progress_log: Instant,
    ticks: u64,
    /// libp2p's metrics and the sync protocol's.
    metrics: NetworkMetrics,
}

impl std::fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLoop")
            .field("peers", &self.connections.len())
            .field("tip", &self.tip)
            .finish_non_exhaustive()
    }
}

impl EventLoop {
    pub(super) async fn spawn(
        swarm: Swarm<Behaviour>,
        names: ProtocolNames,
        chain: Arc<Chain>,
        commands: mpsc::Receiver<Command>,
        view: watch::Sender<NetworkView>,
        bootstrap: Vec<Multiaddr>,
        metrics: NetworkMetrics,
    ) -> Result<tokio::task::JoinHandle<()>, StartError> {
        let (headers, tip) = workers::load_header_chain(&chain).await?;
        let (report_sender, reports) = mpsc::channel(REPORTS);
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
            admission: Admission::default(),
            received: RecentIds::default(),
            tip: tip.0,
            upload: UploadBudget::default(),
            answers: Answers::default(),
            connections: Connections::default(),
            redialer: Redialer::default(),
            last_progress_log: Instant::now(),
            ticks: 0,
            metrics,
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
                        self.admission.new_tip();
                    }
                    self.sync.set_chain_tip(tip.hash, tip.header.height);
                    self.step_sync();
                }
                _ = tick.tick() => self.on_tick(),
            }
            // Whatever the event, gossiped transactions move on.
            self.drive_admission();
        }
        tracing::info!("peer-to-peer layer stopped");
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        self.metrics.record(&event);
        match event {
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            SwarmEvent::ConnectionEstablished {
                peer_id, endpoint, ..
            } => self.on_connected(peer_id, endpoint),
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                ..
            } => self.on_disconnected(peer_id, num_established),
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
                if let Some(peer) = peer_id {
                    self.connections.dial_failed(&peer);
                }
            }
            _ => {}
        }
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Identify(libp2p::identify::Event::Received {
                peer_id, info, ..
            }) => self.on_identified(peer_id, info),
            BehaviourEvent::Ping(libp2p::ping::Event {
                peer,
                result: Ok(rtt),
                ..
            }) => self.connections.set_latency(&peer, rtt),
            BehaviourEvent::Kad(libp2p::kad::Event::RoutingUpdated {
                peer, addresses, ..
            }) => self.on_routing_updated(peer, addresses.into_vec()),
            BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => self.on_gossip(propagation_source, message_id, message),
            BehaviourEvent::Sync(event) => self.on_sync_event(event),
            _ => {}
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
            Report::Transaction { source, verdict } => self.admission.verdict(source, verdict),
            Report::Publish {
                block,
                bytes,
                header,
                admitted,
            } => self.on_publish(block, bytes, header, admitted),
            Report::Respond(answer) => self.on_answer(*answer),
            Report::HeadersRebuilt(headers, tip) => self.on_headers_rebuilt(*headers, tip),
        }
    }

    fn on_tick(&mut self) {
        let now_ms = crate::clock::now_ms();
        self.admission.tick(now_ms);
        self.tick_peers();
        self.tick_sync(now_ms);
        self.ticks += 1;
        self.step_sync();
        self.publish_view();
    }
}
