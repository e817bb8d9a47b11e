//! Peers. Until the peer-to-peer layer is running, the list holds the known
//! peers from the database and dialling records the address for later.

use std::net::{Ipv4Addr, Ipv6Addr};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;
use super::extract::ApiJson;
use crate::clock::now_ms;
use crate::storage::StoredPeer;

#[derive(Debug, Serialize)]
pub(super) struct PeerJson {
    peer_id: String,
    multiaddrs: Vec<String>,
    last_seen: u64,
    connected: bool,
    latency_ms: Option<u64>,
}

#[derive(Debug, Serialize)]
pub(super) struct Peers {
    peers: Vec<PeerJson>,
    count: usize,
    connected: usize,
}

pub(super) async fn peers(State(state): State<AppState>) -> Result<Json<Peers>, ApiError> {
    let peers: Vec<PeerJson> = state
        .chain
        .storage()
        .peers(1000)
        .await?
        .into_iter()
        .map(|peer| PeerJson {
            peer_id: peer.peer_id,
            multiaddrs: peer.addrs,
            last_seen: peer.last_seen_ms,
            connected: false,
            latency_ms: None,
        })
        .collect();
    Ok(Json(Peers {
        count: peers.len(),
        peers,
        connected: 0,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Dial {
    multiaddr: String,
}

#[derive(Debug, Serialize)]
pub(super) struct Dialled {
    peer_id: String,
    multiaddr: String,
    status: &'static str,
}

pub(super) async fn dial(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Dial>,
) -> Result<(StatusCode, Json<Dialled>), ApiError> {
    let multiaddr = body.multiaddr.trim().to_string();
    let peer_id = dialable_peer_id(&multiaddr)
        .map_err(|reason| {
            ApiError::bad_request(
                "INVALID_MULTIADDR",
                format!("{multiaddr:?} is not a multiaddr ending in /p2p/<peer id>: {reason}"),
            )
            .with_field("multiaddr", reason)
        })?
        .to_string();
    let peer = StoredPeer {
        peer_id: peer_id.clone(),
        addrs: vec![multiaddr.clone()],
        last_seen_ms: now_ms(),
    };
    state.chain.storage().save_peer(&peer).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Dialled {
            peer_id,
            multiaddr,
            status: "saved",
        }),
    ))
}

/// The peer id of a multiaddr a dialer could use: known protocols with
/// well-formed values, ending in `/p2p/<peer id>`. A light check until the
/// peer-to-peer layer parses multiaddrs itself; it keeps text no dialer can
/// use out of the stored peers.
fn dialable_peer_id(multiaddr: &str) -> Result<&str, String> {
    let mut parts = multiaddr
        .strip_prefix('/')
        .ok_or("does not start with /")?
        .split('/');
    let mut peer_id = None;
    while let Some(protocol) = parts.next() {
        let valid: fn(&str) -> bool = match protocol {
            "ip4" => |value| value.parse::<Ipv4Addr>().is_ok(),
            "ip6" => |value| value.parse::<Ipv6Addr>().is_ok(),
            "tcp" | "udp" => |value| value.parse::<u16>().is_ok(),
            "dns" | "dns4" | "dns6" | "dnsaddr" | "sni" | "certhash" => |value| !value.is_empty(),
            "p2p" => is_peer_id,
            "quic" | "quic-v1" | "ws" | "wss" | "tls" | "noise" | "http" | "https" | "webrtc"
            | "webrtc-direct" | "webtransport" | "p2p-circuit" => {
                peer_id = None;
                continue;
            }
            "" => return Err("has an empty component".into()),
            other => return Err(format!("unknown protocol {other:?}")),
        };
        let value = parts
            .next()
            .filter(|value| valid(value))
            .ok_or_else(|| format!("bad or missing {protocol} value"))?;
        peer_id = (protocol == "p2p").then_some(value);
    }
    peer_id.ok_or_else(|| "does not end in /p2p/<peer id>".into())
}

/// A peer id in text: base58btc of a multihash (46 characters for SHA-256,
/// 52 for an inlined Ed25519 key).
fn is_peer_id(text: &str) -> bool {
    const BASE58: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    (32..=64).contains(&text.len()) && text.chars().all(|c| BASE58.contains(c))
}
