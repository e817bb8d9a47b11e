//! Peers. Until the peer-to-peer layer is running, the list holds the known
//! peers from the database and dialling records the address for later.

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

/// Known peers
///
/// Until the peer-to-peer layer runs, the peers remembered in the database.
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
    /// Always `saved`.
    #[schema(value_type = String, example = "saved")]
    status: &'static str,
}

/// Dial a peer
///
/// The address is remembered and dialled once the peer-to-peer layer runs.
#[utoipa::path(
    post,
    path = "/network/peers",
    tag = "network",
    operation_id = "dial_peer",
    request_body = Dial,
    security(("api_token" = [])),
    responses(
        (status = 202, description = "Remembered", body = Dialled),
        (status = 400, description = "`MALFORMED_JSON`, `INVALID_REQUEST_BODY` (wrong types, missing or unknown fields), `INVALID_MULTIADDR` (unknown protocol, bad value, no `/p2p/<peer id>` at the end)", body = ErrorBody),
        (status = 401, description = "`UNAUTHORIZED`: a remote caller without a bearer token", body = ErrorBody),
        (status = 403, description = "`FORBIDDEN`: a wrong bearer token", body = ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: body over 64 KiB", body = ErrorBody),
        (status = 415, description = "`UNSUPPORTED_MEDIA_TYPE`: not `Content-Type: application/json`", body = ErrorBody),
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
