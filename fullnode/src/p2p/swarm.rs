//! The swarm's transports: TCP (noise + yamux), QUIC, WebRTC-direct,
//! WebSocket over TCP (noise + yamux), with DNS resolution for dialling.

use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;
use libp2p::core::transport::ListenerId;
use libp2p::identity::Keypair;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, Swarm, noise, tcp, yamux};
use libp2p_webrtc::tokio::Certificate;
use prometheus_client::registry::Registry;

use super::addresses::with_peer_id;
use super::behaviour::{Behaviour, InboundCaps, ProtocolNames};
use super::error::StartError;

/// Connections with nothing to do are closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Listeners report their addresses within this long, or the start fails.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);

/// A swarm with every transport of DESIGN §4, counting the bytes of each
/// transport and gossipsub's own metrics into `metrics`.
pub(super) async fn build(
    keypair: Keypair,
    certificate: Certificate,
    names: &ProtocolNames,
    caps: InboundCaps,
    metrics: &mut Registry,
) -> Result<Swarm<Behaviour>, StartError> {
    let transport = |transport: &'static str| {
        move |error: &dyn std::fmt::Display| StartError::Transport {
            transport,
            reason: error.to_string(),
        }
    };
    let swarm = libp2p::SwarmBuilder::with_existing_identity(keypair)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|error| transport("TCP")(&error))?
        .with_quic()
        .with_other_transport(|keypair| {
            libp2p_webrtc::tokio::Transport::new(keypair.clone(), certificate)
        })
        .map_err(|error| transport("WebRTC")(&error))?
        .with_dns()
        .map_err(|error| transport("DNS")(&error))?
        .with_websocket(noise::Config::new, yamux::Config::default)
        .await
        .map_err(|error| transport("WebSocket")(&error))?
        .with_bandwidth_metrics(metrics)
        .with_behaviour(|keypair| {
            Behaviour::with_inbound_caps(keypair, names, caps, Some(metrics))
                .map_err(Box::<dyn std::error::Error + Send + Sync>::from)
        })
        .map_err(|error| transport("behaviour")(&error))?
        .with_swarm_config(|config| config.with_idle_connection_timeout(IDLE_TIMEOUT))
        .build();
    Ok(swarm)
}

/// Waits until every listener reported its addresses (or failed); returns
/// them, each with `/p2p/<our peer id>`.
pub(super) async fn wait_for_listeners(
    swarm: &mut Swarm<Behaviour>,
    listeners: &[(ListenerId, Multiaddr)],
) -> Result<Vec<Multiaddr>, StartError> {
    let peer_id = *swarm.local_peer_id();
    let mut waiting: HashSet<ListenerId> = listeners.iter().map(|(id, _)| *id).collect();
    let mut addrs = Vec::new();
    let deadline = tokio::time::Instant::now() + LISTEN_TIMEOUT;
    while !waiting.is_empty() {
        let event = tokio::time::timeout_at(deadline, swarm.select_next_some())
            .await
            .map_err(|_| StartError::ListenTimeout(LISTEN_TIMEOUT.as_secs()))?;
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
                return Err(StartError::Listen {
                    addr,
                    reason: error.to_string(),
                });
            }
            _ => {}
        }
    }
    Ok(addrs)
}
