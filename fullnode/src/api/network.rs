//! Peers. Until the peer-to-peer layer is running, the list holds the known
//! peers from the database and dialling records the address for later.

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
    let peer_id = multiaddr
        .starts_with('/')
        .then(|| multiaddr.rsplit_once("/p2p/").map(|(_, id)| id.to_string()))
        .flatten()
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .ok_or_else(|| {
            ApiError::bad_request("INVALID_MULTIADDR", "multiaddr must end in /p2p/<peer id>")
                .with_field("multiaddr", "no /p2p/ component")
        })?;
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
