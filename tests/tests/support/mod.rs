//! Running real `blockchain-node` processes and peers to test them with;
//! the support every suite shares (throwaway PostgreSQL databases, the HTTP
//! client, the vector keys, polling) is the `blockchain-testkit` crate.

pub(crate) mod blocks;
pub(crate) mod evil_peer;
pub(crate) mod node;
pub(crate) mod sybils;

/// The runtime a peer of the tests runs its swarm on: one worker, so many
/// peers fit on two cores; dropping it stops the peer.
pub(crate) fn peer_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A swarm builder with a new identity on TCP (no delay), noise and yamux:
/// what every peer of the tests speaks.
macro_rules! tcp_swarm_builder {
    () => {
        libp2p::SwarmBuilder::with_new_identity()
            .with_tokio()
            .with_tcp(
                libp2p::tcp::Config::default().nodelay(true),
                libp2p::noise::Config::new,
                libp2p::yamux::Config::default,
            )
            .expect("TCP transport")
    };
}
pub(crate) use tcp_swarm_builder;
