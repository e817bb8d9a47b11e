//! The swarm's transports: TCP (noise + yamux), QUIC, WebRTC-direct,
//! WebSocket over TCP (noise + yamux), with DNS resolution for dialling.

use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::{Swarm, noise, tcp, yamux};
use libp2p_webrtc::tokio::Certificate;

use super::behaviour::{Behaviour, InboundCaps, ProtocolNames};

/// Connections with nothing to do are closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// A swarm with every transport of DESIGN §4.
pub(super) async fn build(
    keypair: Keypair,
    certificate: Certificate,
    names: &ProtocolNames,
    caps: InboundCaps,
) -> anyhow::Result<Swarm<Behaviour>> {
    let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )?
        .with_quic()
        .with_other_transport(|keypair| {
            libp2p_webrtc::tokio::Transport::new(keypair.clone(), certificate)
        })?
        .with_dns()?
        .with_websocket(noise::Config::new, yamux::Config::default)
        .await?
        .with_behaviour(|keypair| {
            Behaviour::with_inbound_caps(keypair, names, caps)
                .map_err(Box::<dyn std::error::Error + Send + Sync>::from)
        })?
        .with_swarm_config(|config| config.with_idle_connection_timeout(IDLE_TIMEOUT))
        .build();
    Ok(swarm)
}
