//! GET /status.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::json::difficulty;

/// The node at a glance.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NodeStatus)]
pub(super) struct Status {
    /// Network name: `devnet` or `regtest`.
    #[schema(value_type = String)]
    network: &'static str,
    /// Best-chain height.
    height: u64,
    /// Best block's hash, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    tip_hash: String,
    /// Best block's compact target.
    bits: u32,
    /// Best block's pow_limit / target.
    difficulty: f64,
    /// Best chain's cumulative work, 256-bit big-endian hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    chain_work: String,
    /// Best block's time (ms since the Unix epoch).
    last_block_time: u64,
    /// Mean seconds between the last 100 blocks (0 at genesis).
    average_block_time: f64,
    /// Transactions in the mempool.
    mempool_size: usize,
    /// Their encoded size in bytes.
    mempool_bytes: usize,
    /// Connected peers (0 until the peer-to-peer layer runs).
    peers_count: usize,
    /// This node's peer id (null until the peer-to-peer layer runs).
    #[schema(required = true)]
    peer_id: Option<String>,
    /// Peer-to-peer listen multiaddrs.
    listen_addrs: Vec<String>,
    /// The HTTP server's address, once bound.
    #[schema(required = true)]
    http_addr: Option<String>,
    /// Whether continuous mining is on.
    is_mining: bool,
    /// Hashes per second of the miner threads.
    hash_rate: f64,
    /// Seconds since the node started.
    uptime_seconds: u64,
    /// The node's version.
    #[schema(value_type = String)]
    version: &'static str,
}

/// The node at a glance
///
/// Chain tip, mempool, peers and miner.
#[utoipa::path(
    get,
    path = "/status",
    tag = "node",
    operation_id = "get_status",
    responses(
        (status = 200, description = "The node's status", body = Status),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
pub(super) async fn status(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    let params = state.chain.params();
    let tip = state.chain.status();
    Ok(Json(Status {
        network: params.name,
        height: tip.header.height,
        tip_hash: tip.hash.to_string(),
        bits: tip.header.bits.0,
        difficulty: difficulty(params, tip.header.bits),
        chain_work: hex::encode(tip.chain_work.to_be_bytes()),
        last_block_time: tip.header.time,
        average_block_time: tip.average_block_time,
        mempool_size: tip.mempool_size,
        mempool_bytes: tip.mempool_bytes,
        peers_count: 0,
        peer_id: None,
        listen_addrs: Vec::new(),
        http_addr: state.http_addr.get().map(ToString::to_string),
        is_mining: state.mining.is_mining(),
        hash_rate: state.mining.hash_rate(),
        uptime_seconds: state.started.elapsed().as_secs(),
        version: env!("CARGO_PKG_VERSION"),
    }))
}
