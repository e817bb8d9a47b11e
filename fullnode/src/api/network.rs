//! Peers: the connected ones (from the peer-to-peer layer) and the known
//! ones (from the database); dialling records the address and dials it.

use std::net::{Ipv4Addr, Ipv6Addr};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use crate::clock::now_ms;
use crate::storage::StoredPeer;

/// A known peer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Peer)]
pub(super) struct PeerJson {
    /// Its libp2p peer id (base58btc).
    peer_id: String,
    /// Addresses it was seen at or dialled on.
    multiaddrs: Vec<String>,
    /// When it was last seen or dialled (ms since the Unix epoch).
    last_seen: u64,
    /// Whether it is connected now.
    connected: bool,
    /// Last measured round trip; null when not connected.
    #[schema(required = true)]
    latency_ms: Option<u64>,
}

/// The known peers.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Peers {
    /// At most 1000.
    peers: Vec<PeerJson>,
    /// Peers in `peers`.
    count: usize,
    /// Connected peers.
    connected: usize,
}

/// Connected and known peers
///
/// Connected peers first (with their latency), then the peers remembered in
/// the database.
#[utoipa::path(
    get,
    path = "/network/peers",
    tag = "network",
    operation_id = "get_peers",
    responses(
        (status = 200, description = "The known peers", body = Peers),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
pub(super) async fn peers(State(state): State<AppState>) -> Result<Json<Peers>, ApiError> {
    let mut peers: Vec<PeerJson> = state
        .network
        .as_ref()
        .map(|network| network.view().peers)
        .unwrap_or_default()
        .into_iter()
        .map(|peer| PeerJson {
            peer_id: peer.peer_id.to_string(),
            multiaddrs: peer.addrs.iter().map(ToString::to_string).collect(),
            last_seen: now_ms(),
            connected: true,
            latency_ms: peer.latency.map(|latency| latency.as_millis() as u64),
        })
        .collect();
    let connected = peers.len();
    for peer in state.chain.storage().peers(1000).await? {
        if peers.len() >= 1000 {
            break;
        }
        if peers.iter().any(|known| known.peer_id == peer.peer_id) {
            continue;
        }
        peers.push(PeerJson {
            peer_id: peer.peer_id,
            multiaddrs: peer.addrs,
            last_seen: peer.last_seen_ms,
            connected: false,
            latency_ms: None,
        });
    }
    Ok(Json(Peers {
        count: peers.len(),
        peers,
        connected,
    }))
}

/// A peer to dial.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DialPeer)]
pub(super) struct Dial {
    /// A multiaddr ending in `/p2p/<peer id>`.
    #[schema(
        example = "/ip4/10.1.2.3/tcp/4001/p2p/12D3KooWGzRBn6Dbd4mmyCfYuwxPjP3Vk3nqwm4PxtGDrfBZnvrz"
    )]
    multiaddr: String,
}

/// A peer remembered for dialling.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DialledPeer)]
pub(super) struct Dialled {
    /// The peer id the multiaddr ends in.
    peer_id: String,
    /// The multiaddr, trimmed.
    multiaddr: String,
    /// `dialling` when the peer-to-peer layer runs, else `saved` (dialled on
    /// the next start with peer-to-peer networking).
    #[schema(value_type = String, example = "dialling")]
    status: &'static str,
}

/// Dial a peer
///
/// The address is remembered (and redialled on restart) and dialled now.
#[utoipa::path(
    post,
    path = "/network/peers",
    tag = "network",
    operation_id = "dial_peer",
    request_body = Dial,
    security(("api_token" = [])),
    responses(
        (status = 202, description = "Remembered and being dialled", body = Dialled),
        (status = 400, description = "`MALFORMED_JSON`, `INVALID_REQUEST_BODY` (wrong types, missing or unknown fields), `INVALID_MULTIADDR` (unknown protocol, bad value, no `/p2p/<peer id>` at the end)", body = ErrorBody),
        (status = 401, description = "`UNAUTHORIZED`: no bearer token (a loopback address is not a credential)", body = ErrorBody),
        (status = 403, description = "`FORBIDDEN`: a wrong bearer token", body = ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: body over 64 KiB", body = ErrorBody),
        (status = 415, description = "`UNSUPPORTED_MEDIA_TYPE`: not `Content-Type: application/json`", body = ErrorBody),
        (status = 422, description = "`DIAL_FAILED`: no transport for this address, or the peer is banned", body = ErrorBody),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
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
    let parsed = multiaddr.parse::<libp2p::Multiaddr>().map_err(|error| {
        ApiError::bad_request(
            "INVALID_MULTIADDR",
            format!("{multiaddr:?} is not a multiaddr: {error}"),
        )
        .with_field("multiaddr", error.to_string())
    })?;
    let peer = StoredPeer {
        peer_id: peer_id.clone(),
        addrs: vec![multiaddr.clone()],
        last_seen_ms: now_ms(),
    };
    state.chain.storage().save_peer(&peer).await?;
    let status = match &state.network {
        Some(network) => {
            network.dial(parsed).await.map_err(|error| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "DIAL_FAILED",
                    error.to_string(),
                )
            })?;
            "dialling"
        }
        None => "saved",
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(Dialled {
            peer_id,
            multiaddr,
            status,
        }),
    ))
}

/// The peer id of a multiaddr a dialer could use: known protocols with
/// well-formed values, ending in `/p2p/<peer id>` (checked before libp2p's
/// own parser, which accepts more than anyone can dial).
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
