//! What can go wrong starting the peer-to-peer layer, and dialling.

use std::path::PathBuf;

use libp2p::PeerId;
use libp2p::gossipsub::SubscriptionError;

use crate::storage::StorageError;

/// Why the peer-to-peer layer did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The node's key or WebRTC certificate.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The network's protocol names.
    #[error("protocol names: {0}")]
    Names(#[from] blockchain_p2p::ProtocolNameError),
    /// The composed behaviour.
    #[error(transparent)]
    Behaviour(#[from] BehaviourError),
    /// A transport could not be set up.
    #[error("setting up the {transport} transport: {reason}")]
    Transport {
        /// Which one.
        transport: &'static str,
        /// Why.
        reason: String,
    },
    /// A `--listen` value is not a multiaddr.
    #[error("--listen {addr}: {reason}")]
    ListenAddr {
        /// The value.
        addr: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A `--bootstrap` value is not a multiaddr.
    #[error("--bootstrap {addr}: {reason}")]
    BootstrapAddr {
        /// The value.
        addr: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A listener refused or failed.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// Listeners reported no address in time.
    #[error("peer-to-peer listeners did not start in {0} s")]
    ListenTimeout(u64),
    /// The stored chain could not be read (for the header chain).
    #[error("reading the stored chain: {0}")]
    Storage(#[from] StorageError),
}

/// The node's persisted identity could not be loaded or created.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// Reading or writing a file failed.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        /// "read", "create" or "write".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The key file holds no libp2p identity key.
    #[error("{} is not a libp2p identity key: {reason}", .path.display())]
    BadKey {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The certificate file holds no certificate.
    #[error("{} is not a certificate: {reason}", .path.display())]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A new key or certificate could not be made or encoded.
    #[error("creating the {what}: {reason}")]
    Create {
        /// "identity key" or "WebRTC certificate".
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// The composed behaviour could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BehaviourError {
    /// The gossipsub configuration is refused.
    #[error("gossipsub config: {0}")]
    GossipsubConfig(String),
    /// Gossipsub refused to start.
    #[error("gossipsub: {0}")]
    Gossipsub(String),
    /// A topic subscription failed.
    #[error("gossipsub subscription: {0}")]
    Subscribe(#[from] SubscriptionError),
}

/// Why the network task did not dial an address.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DialRefusal {
    /// The peer is banned.
    #[error("peer {0} is banned")]
    Banned(PeerId),
    /// The swarm refused the dial.
    #[error("{0}")]
    Swarm(String),
}
