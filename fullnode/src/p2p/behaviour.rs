//! The node's composed `NetworkBehaviour` and the protocol names of
//! DESIGN §4 (a contract: outside peers use them).

use std::time::Duration;

use blockchain_core::block::MAX_BLOCK_SIZE;
use libp2p::identity::Keypair;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{
    StreamProtocol, allow_block_list, connection_limits, gossipsub, identify, kad, ping,
    request_response,
};
use sha2::{Digest, Sha256};

use super::codec::SyncCodec;

/// Most connections in total, and to one peer.
pub const MAX_CONNECTIONS: u32 = 128;
/// Connections to one peer (a browser may hold WebSocket and WebRTC at once).
pub const MAX_CONNECTIONS_PER_PEER: u32 = 2;
/// How long a sync request may take before it fails.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The protocol and topic names of one network.
#[derive(Clone, Debug)]
pub struct ProtocolNames {
    /// Kademlia: `/blockchain/<network>/kad/1.0.0`.
    pub kad: StreamProtocol,
    /// Request-response: `/blockchain/<network>/sync/1`.
    pub sync: StreamProtocol,
    /// Gossip topic of blocks: `/blockchain/<network>/blocks/1`.
    pub blocks: gossipsub::IdentTopic,
    /// Gossip topic of transactions: `/blockchain/<network>/transactions/1`.
    pub transactions: gossipsub::IdentTopic,
    /// Identify's protocol version: `/blockchain/<network>/1.0.0`.
    pub identify: String,
}

impl ProtocolNames {
    /// The names of `network` ("devnet", "regtest").
    pub fn for_network(network: &str) -> anyhow::Result<Self> {
        let stream = |name: String| {
            StreamProtocol::try_from_owned(name)
                .map_err(|error| anyhow::anyhow!("protocol name: {error}"))
        };
        Ok(Self {
            kad: stream(format!("/blockchain/{network}/kad/1.0.0"))?,
            sync: stream(format!("/blockchain/{network}/sync/1"))?,
            blocks: gossipsub::IdentTopic::new(format!("/blockchain/{network}/blocks/1")),
            transactions: gossipsub::IdentTopic::new(format!(
                "/blockchain/{network}/transactions/1"
            )),
            identify: format!("/blockchain/{network}/1.0.0"),
        })
    }
}

/// Every protocol the node speaks.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Banned peers: refused and disconnected.
    pub blocked: allow_block_list::Behaviour<allow_block_list::BlockedPeers>,
    /// Connection limits.
    pub limits: connection_limits::Behaviour,
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

/// Gossip message ids are the SHA-256 of the content: the same block or
/// transaction published by two nodes is one message, seen once.
fn content_id(message: &gossipsub::Message) -> gossipsub::MessageId {
    message_id_of(&message.data)
}

/// The gossip message id of a message carrying `data`.
pub(super) fn message_id_of(data: &[u8]) -> gossipsub::MessageId {
    gossipsub::MessageId::from(Sha256::digest(data).to_vec())
}

impl Behaviour {
    /// The behaviour of a node with `keypair` on the network of `names`.
    pub fn new(keypair: &Keypair, names: &ProtocolNames) -> anyhow::Result<Self> {
        let peer_id = keypair.public().to_peer_id();
        let gossip_config = gossipsub::ConfigBuilder::default()
            .validation_mode(gossipsub::ValidationMode::Strict)
            .validate_messages()
            .message_id_fn(content_id)
            // A block is up to 1 MB; leave room for the envelope.
            .max_transmit_size(MAX_BLOCK_SIZE + 64 * 1024)
            .heartbeat_interval(Duration::from_millis(700))
            // Small networks (tests, a few nodes): publish to every subscriber.
            .flood_publish(true)
            .mesh_n_low(1)
            .mesh_outbound_min(0)
            .build()
            .map_err(|error| anyhow::anyhow!("gossipsub config: {error}"))?;
        let mut gossipsub = gossipsub::Behaviour::new(
            gossipsub::MessageAuthenticity::Signed(keypair.clone()),
            gossip_config,
        )
        .map_err(|error| anyhow::anyhow!("gossipsub: {error}"))?;
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
                .with_push_listen_addr_updates(true),
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
                .with_max_pending_incoming(Some(32))
                .with_max_established_per_peer(Some(MAX_CONNECTIONS_PER_PEER)),
        );
        Ok(Self {
            blocked: allow_block_list::Behaviour::default(),
            limits,
            identify,
            ping: ping::Behaviour::new(ping::Config::new().with_interval(Duration::from_secs(10))),
            kad,
            gossipsub,
            sync,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_design() {
        let names = ProtocolNames::for_network("devnet").expect("valid names");
        assert_eq!(names.kad.as_ref(), "/blockchain/devnet/kad/1.0.0");
        assert_eq!(names.sync.as_ref(), "/blockchain/devnet/sync/1");
        assert_eq!(names.blocks.to_string(), "/blockchain/devnet/blocks/1");
        assert_eq!(
            names.transactions.to_string(),
            "/blockchain/devnet/transactions/1"
        );
    }
}
