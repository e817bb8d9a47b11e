//! Peer-to-peer networking with rust-libp2p (DESIGN §4, docs/PROTOCOL.md):
//! TCP + noise + yamux and QUIC between nodes, WebSocket and WebRTC-direct
//! for browsers; Kademlia discovery, gossipsub for blocks and transactions,
//! the request-response sync protocol, identify and ping.
//!
//! One task owns the libp2p swarm ([`event_loop`]); the rest of the node
//! talks to it through [`Network`]: a channel of commands in, a watched
//! [`NetworkView`] out. Blocks and transactions from peers go through the
//! same [`Chain`] as everything else.
//!
//! - [`error`]: typed errors of the start and of dials;
//! - [`identity`]: the persisted peer id key and WebRTC certificate;
//! - [`swarm`]: the transports, and waiting for the listeners;
//! - [`addresses`]: address scopes and network groups, which advertised
//!   addresses are kept, `/p2p/<peer id>` suffixes;
//! - [`connections`]: the peers connected now and the block-relay-only slots;
//! - [`inbound`]: inbound connections capped per address and group;
//! - [`outbound`]: outbound slots, and the peers dialled again when they drop;
//! - [`behaviour`]: the composed behaviour and the protocol names;
//! - [`codec`]: the sync protocol's wire codec;
//! - [`peers`]: scores and bans;
//! - [`admission`]: the sans-io state machine of gossip intake (cheap block
//!   checks; transactions queued, verified, held as orphans, validated);
//! - [`orphans`]: gossiped transactions waiting for their sender's previous nonce;
//! - [`recent`]: gossip lately received, not to be published again;
//! - [`upload`]: what the node may send each peer in answers;
//! - [`rejects`]: gossiped transactions lately refused, not checked again;
//! - [`verify_queue`]: gossiped transactions waiting for a worker, per peer;
//! - [`workers`]: tasks that call into the chain (connect blocks, submit
//!   transactions, answer requests, publish what the chain accepted);
//! - [`metrics`]: libp2p's metrics and the sync protocol's, from the swarm's events.
//!
//! Headers-first sync is the core's state machine,
//! [`blockchain_core::sync::SyncManager`], keyed by [`PeerId`].

mod addresses;
mod admission;
pub mod behaviour;
mod connections;
mod error;
mod event_loop;
pub mod identity;
mod inbound;
mod metrics;
mod orphans;
mod outbound;
pub mod peers;
mod recent;
mod rejects;
mod swarm;
mod upload;
mod verify_queue;
mod workers;

use std::sync::Arc;
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use prometheus_client::registry::Registry;
use tokio::sync::{mpsc, oneshot, watch};

pub use self::error::{BehaviourError, DialRefusal, IdentityError, StartError};
use crate::chain::Chain;
use crate::config::Config;

/// A peer connected now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectedPeer {
    /// Its peer id.
    pub peer_id: PeerId,
    /// The addresses of our connections to it, and the ones it listens on.
    pub addrs: Vec<Multiaddr>,
    /// Last ping round trip.
    pub latency: Option<Duration>,
}

/// What the network looks like now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NetworkView {
    /// Full multiaddrs we listen on, with `/p2p/<peer id>` (and `/certhash/…`).
    pub listen_addrs: Vec<Multiaddr>,
    /// Connected peers.
    pub peers: Vec<ConnectedPeer>,
    /// Height of the best verified header.
    pub header_height: u64,
    /// Banned peers.
    pub banned: usize,
}

/// Why a dial failed.
#[derive(Debug, thiserror::Error)]
pub enum DialError {
    /// The address cannot be dialled.
    #[error("cannot dial {addr}: {reason}")]
    Failed {
        /// The address.
        addr: String,
        /// Why.
        reason: DialRefusal,
    },
    /// The network task is gone.
    #[error("the peer-to-peer layer is stopped")]
    Stopped,
}

/// Requests to the network task.
#[derive(Debug)]
enum Command {
    /// Dial an address; answered once the dial started (or failed to).
    Dial(Multiaddr, oneshot::Sender<Result<(), DialRefusal>>),
    /// Stop the task.
    Stop,
}

/// Handle of the running peer-to-peer layer.
#[derive(Debug)]
pub struct Network {
    peer_id: PeerId,
    peer_id_text: String,
    commands: mpsc::Sender<Command>,
    view: watch::Receiver<NetworkView>,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// libp2p's metrics, rendered by `GET /metrics`.
    metrics: Registry,
}

impl Network {
    /// Starts listening on `config.listen`, dials `config.bootstrap` and the
    /// peers remembered in storage; returns once the listeners are up.
    pub async fn start(config: &Config, chain: Arc<Chain>) -> Result<Arc<Network>, StartError> {
        // QUIC and WebRTC handshakes need one process-wide TLS provider;
        // several crates enable both ring and aws-lc-rs.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let keypair = identity::load_or_create_keypair(&config.data_dir)?;
        let certificate = identity::load_or_create_certificate(&config.data_dir)?;
        let peer_id = keypair.public().to_peer_id();
        let names = behaviour::ProtocolNames::for_network(chain.params().name)?;
        let caps = behaviour::InboundCaps::per_ip(config.max_inbound_per_ip);
        let mut registry = Registry::default();
        let mut swarm = swarm::build(keypair, certificate, &names, caps, &mut registry).await?;
        let metrics = metrics::NetworkMetrics::new(&mut registry);
        let mut listeners = Vec::new();
        for addr in &config.listen {
            let addr: Multiaddr = addr.parse().map_err(|error| StartError::ListenAddr {
                addr: addr.clone(),
                reason: format!("{error}"),
            })?;
            let id = swarm
                .listen_on(addr.clone())
                .map_err(|error| StartError::Listen {
                    addr: addr.to_string(),
                    reason: error.to_string(),
                })?;
            listeners.push((id, addr));
        }
        let mut bootstrap = Vec::new();
        for addr in &config.bootstrap {
            bootstrap.push(addr.parse::<Multiaddr>().map_err(|error| {
                StartError::BootstrapAddr {
                    addr: addr.clone(),
                    reason: error.to_string(),
                }
            })?);
        }
        let listen_addrs = swarm::wait_for_listeners(&mut swarm, &listeners).await?;
        for addr in &listen_addrs {
            tracing::info!("peer-to-peer listening on {addr}");
        }
        let (commands, receiver) = mpsc::channel(64);
        let (view_sender, view) = watch::channel(NetworkView {
            listen_addrs,
            ..NetworkView::default()
        });
        let task = event_loop::EventLoop::spawn(
            swarm,
            names,
            chain,
            receiver,
            view_sender,
            bootstrap,
            metrics,
        )
        .await?;
        tracing::info!(%peer_id, "peer-to-peer layer started");
        Ok(Arc::new(Network {
            peer_id,
            peer_id_text: peer_id.to_string(),
            commands,
            view,
            task: std::sync::Mutex::new(Some(task)),
            metrics: registry,
        }))
    }

    /// libp2p's metrics: connections, bandwidth, gossipsub, Kademlia,
    /// identify, ping and the sync protocol.
    pub fn metrics_registry(&self) -> &Registry {
        &self.metrics
    }

    /// This node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// This node's peer id, as text.
    pub fn peer_id_text(&self) -> &str {
        &self.peer_id_text
    }

    /// Number of connected peers.
    pub fn peers_count(&self) -> usize {
        self.view.borrow().peers.len()
    }

    /// The listen addresses, as text.
    pub fn listen_addrs_text(&self) -> Vec<String> {
        self.view
            .borrow()
            .listen_addrs
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// Height of the best verified header (without copying the view).
    pub fn header_height(&self) -> u64 {
        self.view.borrow().header_height
    }

    /// The whole view (a copy: peers and addresses included).
    pub fn view(&self) -> NetworkView {
        self.view.borrow().clone()
    }

    /// A receiver that sees every change of the view.
    pub fn watch(&self) -> watch::Receiver<NetworkView> {
        self.view.clone()
    }

    /// Dials `addr` (a multiaddr, with or without `/p2p/<peer id>`).
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), DialError> {
        let (answer, answered) = oneshot::channel();
        let text = addr.to_string();
        self.commands
            .send(Command::Dial(addr, answer))
            .await
            .map_err(|_| DialError::Stopped)?;
        answered
            .await
            .map_err(|_| DialError::Stopped)?
            .map_err(|reason| DialError::Failed { addr: text, reason })
    }

    /// Stops the network task and waits for it.
    pub async fn stop(&self) {
        let _ = self.commands.send(Command::Stop).await;
        let task = self.task.lock().ok().and_then(|mut task| task.take());
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}
