//! The node's composed `NetworkBehaviour`. The protocol names of DESIGN §4,
//! the sync codec and the gossip settings are shared with the browser
//! client: they live in the `blockchain-p2p` crate.

use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{
    allow_block_list, connection_limits, gossipsub, identify, kad, ping, request_response,
};
use prometheus_client::registry::Registry;

pub use blockchain_p2p::{ProtocolNames, SyncCodec, gossipsub_config, message_id_of};

use super::error::BehaviourError;
pub use super::inbound::{DEFAULT_MAX_INBOUND_PER_IP, InboundCaps, InboundLimits};
use super::outbound::OUTBOUND_SLOTS;

/// Most connections in total; inbound ones may take all but
/// [`OUTBOUND_SLOTS`] of them.
pub const MAX_CONNECTIONS: u32 = 128;
/// Connections to one peer (a browser may hold WebSocket and WebRTC at once).
pub const MAX_CONNECTIONS_PER_PEER: u32 = 2;
/// How long a sync request may take before it fails.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Every protocol the node speaks.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Banned peers: refused and disconnected.
    pub blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    /// Connection limits.
    pub limits: connection_limits::Behaviour,
    /// Inbound connections per IP address and network group.
    pub inbound: InboundLimits,
    /// Identify: addresses and protocols of peers.
    pub identify: identify::Behaviour,
    /// Ping: liveness and latency.
    pub ping: ping::Behaviour,
    /// Kademlia DHT: peer discovery.
    pub kad: kad::Behaviour<kad::store::MemoryStore>,
    /// Gossipsub: blocks and transactions.
    pub gossipsub: gossipsub::Behaviour,
    /// The sync protocol.
    pub sync: request_response::Behaviour<SyncCodec>,
}

impl std::fmt::Debug for Behaviour {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Behaviour").finish_non_exhaustive()
    }
}

impl Behaviour {
    /// The behaviour of a node with `keypair` on the network of `names`,
    /// with the default inbound caps.
    pub fn new(keypair: &Keypair, names: &ProtocolNames) -> Result<Self, BehaviourError> {
        Self::with_inbound_caps(
            keypair,
            names,
            InboundCaps::per_ip(DEFAULT_MAX_INBOUND_PER_IP),
            None,
        )
    }

    /// [`Behaviour::new`] with these inbound caps, and gossipsub's own
    /// metrics (mesh, topics, scores) in `metrics` when given.
    pub fn with_inbound_caps(
        keypair: &Keypair,
        names: &ProtocolNames,
        caps: InboundCaps,
        metrics: Option<&mut Registry>,
    ) -> Result<Self, BehaviourError> {
        let peer_id = keypair.public().to_peer_id();
        let gossip_config = gossipsub_config()
            .map_err(|error| BehaviourError::GossipsubConfig(error.to_string()))?;
        let mut gossipsub = gossipsub::Behaviour::new(
            gossipsub::MessageAuthenticity::Signed(keypair.clone()),
            gossip_config,
        )
        .map_err(|error| BehaviourError::Gossipsub(error.to_string()))?;
        if let Some(registry) = metrics {
            // Before subscribing, so the metrics see the node join its topics.
            gossipsub = gossipsub.with_metrics(
                registry.sub_registry_with_prefix("libp2p_gossipsub"),
                gossipsub::MetricsConfig::default(),
            );
        }
        gossipsub.subscribe(&names.blocks)?;
        gossipsub.subscribe(&names.transactions)?;

        let mut kad_config = kad::Config::new(names.kad.clone());
        kad_config.set_query_timeout(Duration::from_secs(30));
        // Bootstraps are started by the network task once it knows a peer.
        kad_config.set_periodic_bootstrap_interval(None);
        let mut kad =
            kad::Behaviour::with_config(peer_id, kad::store::MemoryStore::new(peer_id), kad_config);
        // Serve the DHT even without a confirmed public address (local networks, tests).
        kad.set_mode(Some(kad::Mode::Server));

        let identify = identify::Behaviour::new(
            identify::Config::new(names.identify.clone(), keypair.public())
                .with_agent_version(format!("blockchain-node/{}", env!("CARGO_PKG_VERSION")))
                .with_push_listen_addr_updates(true)
                // No cache of peers' addresses as they advertise them: the
                // node keeps only the ones it filters (p2p/addresses.rs).
                .with_cache_size(0),
        );
        let sync = request_response::Behaviour::with_codec(
            SyncCodec,
            [(names.sync.clone(), request_response::ProtocolSupport::Full)],
            request_response::Config::default()
                .with_request_timeout(REQUEST_TIMEOUT)
                .with_max_concurrent_streams(64),
        );
        let limits = connection_limits::Behaviour::new(
            connection_limits::ConnectionLimits::default()
                .with_max_established(Some(MAX_CONNECTIONS))
                .with_max_established_incoming(Some(MAX_CONNECTIONS - OUTBOUND_SLOTS))
                .with_max_pending_incoming(Some(32))
                .with_max_established_per_peer(Some(MAX_CONNECTIONS_PER_PEER)),
        );
        Ok(Self {
            blocked: allow_block_list::Behaviour::default(),
            limits,
            inbound: InboundLimits::new(caps),
            identify,
            ping: ping::Behaviour::new(ping::Config::new().with_interval(Duration::from_secs(10))),
            kad,
            gossipsub,
            sync,
        })
    }
}
