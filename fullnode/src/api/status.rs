//! GET /status.

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::AppState;
use super::error::ApiError;
use super::json::difficulty;

/// The node at a glance.
#[derive(Debug, Serialize)]
pub(super) struct Status {
    network: &'static str,
    height: u64,
    tip_hash: String,
    bits: u32,
    difficulty: f64,
    chain_work: String,
    last_block_time: u64,
    average_block_time: f64,
    mempool_size: usize,
    mempool_bytes: usize,
    peers_count: usize,
    peer_id: Option<String>,
    listen_addrs: Vec<String>,
    http_addr: Option<String>,
    is_mining: bool,
    hash_rate: f64,
    uptime_seconds: u64,
    version: &'static str,
}

/// Blocks over which the average block time is taken.
const AVERAGE_SPAN: u64 = 100;

pub(super) async fn status(State(state): State<AppState>) -> Result<Json<Status>, ApiError> {
    let params = state.chain.params();
    let tip = state.chain.status();
    let span = tip.header.height.min(AVERAGE_SPAN);
    let average_block_time = if span == 0 {
        0.0
    } else {
        let first = state
            .chain
            .storage()
            .headers(tip.header.height - span, 1)
            .await?;
        first.first().map_or(0.0, |first| {
            (tip.header.time.saturating_sub(first.time)) as f64 / 1000.0 / span as f64
        })
    };
    Ok(Json(Status {
        network: params.name,
        height: tip.header.height,
        tip_hash: tip.hash.to_string(),
        bits: tip.header.bits.0,
        difficulty: difficulty(params, tip.header.bits),
        chain_work: hex::encode(tip.chain_work.to_be_bytes()),
        last_block_time: tip.header.time,
        average_block_time,
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
