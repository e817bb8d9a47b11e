//! Mining control and status.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::blocks::block_json;
use super::error::ApiError;
use super::extract::{ApiJson, body_rejection};
use super::json::{BlockJson, difficulty, parse_address};
use crate::mining::MiningError;

#[derive(Debug, Serialize)]
pub(super) struct MiningStatus {
    is_mining: bool,
    hash_rate: f64,
    threads: usize,
    miner_address: Option<String>,
    pending_transactions: usize,
    current_difficulty: f64,
    height: u64,
}

pub(super) async fn status(State(state): State<AppState>) -> Json<MiningStatus> {
    let params = state.chain.params();
    let tip = state.chain.status();
    let next_bits =
        blockchain_core::difficulty::next_bits(params, tip.header.height, tip.header.time);
    Json(MiningStatus {
        is_mining: state.mining.is_mining(),
        hash_rate: state.mining.hash_rate(),
        threads: state.config.threads,
        miner_address: state
            .mining
            .address()
            .map(|address| address.to_bech32m(params.address_prefix)),
        pending_transactions: tip.mempool_size,
        current_difficulty: difficulty(params, next_bits),
        height: tip.header.height,
    })
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct StartMining {
    miner_address: Option<String>,
}

fn mining_error(error: MiningError) -> ApiError {
    match error {
        MiningError::NoAddress => {
            ApiError::bad_request("MINER_ADDRESS_REQUIRED", error.to_string())
                .with_field("miner_address", "missing")
        }
        MiningError::Rejected(error) => error.into(),
    }
}

pub(super) async fn start(
    State(state): State<AppState>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<MiningStatus>, ApiError> {
    let body = body.map_err(body_rejection)?;
    // The body is optional: empty means "the configured address".
    let body: StartMining = if body.iter().all(u8::is_ascii_whitespace) {
        StartMining::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|error| ApiError::bad_request("INVALID_REQUEST_BODY", error.to_string()))?
    };
    let address = body
        .miner_address
        .map(|text| parse_address(state.chain.params(), &text, "miner_address"))
        .transpose()?;
    state.mining.start(address).await.map_err(mining_error)?;
    Ok(status(State(state)).await)
}

pub(super) async fn stop(State(state): State<AppState>) -> Json<MiningStatus> {
    state.mining.stop();
    status(State(state)).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MineBlocks {
    miner_address: Option<String>,
    count: Option<u32>,
}

#[derive(Debug, Serialize)]
pub(super) struct MinedBlocks {
    blocks: Vec<BlockJson>,
    count: usize,
}

/// Most blocks one request may mine.
const MAX_BLOCKS_PER_REQUEST: u32 = 1000;

pub(super) async fn mine_blocks(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<MineBlocks>,
) -> Result<(StatusCode, Json<MinedBlocks>), ApiError> {
    let params = state.chain.params();
    let count = body.count.unwrap_or(1);
    if count == 0 || count > MAX_BLOCKS_PER_REQUEST {
        return Err(ApiError::bad_request(
            "INVALID_COUNT",
            format!("count must be 1 to {MAX_BLOCKS_PER_REQUEST}"),
        )
        .with_field("count", "out of range"));
    }
    let address = match body.miner_address {
        Some(text) => parse_address(params, &text, "miner_address")?,
        None => state
            .mining
            .address()
            .ok_or_else(|| mining_error(MiningError::NoAddress))?,
    };
    let blocks = state
        .mining
        .mine_blocks(address, count)
        .await
        .map_err(mining_error)?;
    // Shown as GET /blocks/{height} shows them, chain work included.
    let mut shown = Vec::with_capacity(blocks.len());
    for block in &blocks {
        let hash = block.hash();
        let stored = state
            .chain
            .storage()
            .block_by_hash(&hash)
            .await?
            .ok_or_else(|| ApiError::internal(format!("mined block {hash} is not stored")))?;
        shown.push(block_json(&state, &stored));
    }
    Ok((
        StatusCode::CREATED,
        Json(MinedBlocks {
            count: shown.len(),
            blocks: shown,
        }),
    ))
}
