//! Blocks and headers.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery};
use super::json::{BlockJson, HeaderJson};
use crate::storage::StoredBlock;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LatestQuery {
    /// How many blocks: 10 by default, clamped to 1–100.
    limit: Option<u32>,
}

/// The newest best-chain blocks.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct LatestBlocks {
    /// Newest first.
    blocks: Vec<BlockJson>,
    /// Blocks in `blocks`.
    count: usize,
    /// Blocks in the best chain, genesis included.
    total_blocks: u64,
}

pub(super) fn block_json(state: &AppState, stored: &StoredBlock) -> BlockJson {
    let tip_height = state.chain.status().header.height;
    let confirmations = if stored.on_main {
        tip_height.saturating_sub(stored.block.header.height) + 1
    } else {
        0
    };
    BlockJson::new(
        state.chain.params(),
        &stored.block,
        stored.chain_work,
        confirmations,
    )
}

/// The newest blocks
///
/// Best-chain blocks, newest first.
#[utoipa::path(
    get,
    path = "/blocks/latest",
    tag = "blocks",
    operation_id = "get_latest_blocks",
    params(LatestQuery),
    responses(
        (status = 200, description = "The newest blocks", body = LatestBlocks),
        (status = 400, description = "`INVALID_QUERY`: `limit` is not a 32-bit unsigned integer", body = ErrorBody),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
pub(super) async fn latest(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LatestQuery>,
) -> Result<Json<LatestBlocks>, ApiError> {
    let limit = query.limit.unwrap_or(10).clamp(1, 100);
    let blocks: Vec<BlockJson> = state
        .chain
        .storage()
        .latest_blocks(limit)
        .await?
        .iter()
        .map(|stored| block_json(&state, stored))
        .collect();
    Ok(Json(LatestBlocks {
        count: blocks.len(),
        blocks,
        total_blocks: state.chain.status().header.height + 1,
    }))
}

/// A best-chain block by height
#[utoipa::path(
    get,
    path = "/blocks/{height}",
    tag = "blocks",
    operation_id = "get_block_by_height",
    params(("height" = u64, Path, description = "Height in the best chain (0 is the genesis block)")),
    responses(
        (status = 200, description = "The block", body = BlockJson),
        (status = 400, description = "`INVALID_HEIGHT`: not an unsigned 64-bit integer; `INVALID_PATH`: not UTF-8", body = ErrorBody),
        (status = 404, description = "`BLOCK_NOT_FOUND`: no best-chain block at that height", body = ErrorBody),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
pub(super) async fn by_height(
    State(state): State<AppState>,
    ApiPath(height): ApiPath<String>,
) -> Result<Json<BlockJson>, ApiError> {
    let height: u64 = height.parse().map_err(|_| {
        ApiError::bad_request(
            "INVALID_HEIGHT",
            format!("{height:?} is not a block height"),
        )
        .with_field("height", "not a number")
    })?;
    let stored = state
        .chain
        .storage()
        .block_by_height(height)
        .await?
        .ok_or_else(|| {
            ApiError::not_found("BLOCK_NOT_FOUND", format!("no block at height {height}"))
        })?;
    Ok(Json(block_json(&state, &stored)))
}

/// Any stored block by hash
///
/// Blocks off the best chain too: their `confirmations` is 0.
#[utoipa::path(
    get,
    path = "/blocks/hash/{hash}",
    tag = "blocks",
    operation_id = "get_block_by_hash",
    params(("hash" = String, Path, description = "Block hash: 64 hex digits", pattern = "^[0-9a-fA-F]{64}$")),
    responses(
        (status = 200, description = "The block", body = BlockJson),
        (status = 400, description = "`INVALID_HASH`: not 64 hex digits; `INVALID_PATH`: not UTF-8", body = ErrorBody),
        (status = 404, description = "`BLOCK_NOT_FOUND`: no such block", body = ErrorBody),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
pub(super) async fn by_hash(
    State(state): State<AppState>,
    ApiPath(hash): ApiPath<String>,
) -> Result<Json<BlockJson>, ApiError> {
    let parsed = hash.parse().map_err(|error| {
        ApiError::bad_request(
            "INVALID_HASH",
            format!("{hash:?} is not a block hash: {error}"),
        )
        .with_field("hash", "not 64 hex digits")
    })?;
    let stored = state
        .chain
        .storage()
        .block_by_hash(&parsed)
        .await?
        .ok_or_else(|| ApiError::not_found("BLOCK_NOT_FOUND", format!("no block {hash}")))?;
    Ok(Json(block_json(&state, &stored)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct HeadersQuery {
    /// First height: 0 by default.
    from: Option<u64>,
    /// How many headers: at most 2000, the default.
    #[param(maximum = 2000)]
    count: Option<u32>,
}

/// Best-chain headers in height order.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Headers {
    /// From `from` up, at most `count`.
    headers: Vec<HeaderJson>,
    /// Headers in `headers`.
    count: usize,
}

/// Most headers per request.
const MAX_HEADERS: u32 = 2000;

/// Best-chain headers
///
/// Fields and the raw 128 bytes of each, in height order, for light clients.
#[utoipa::path(
    get,
    path = "/headers",
    tag = "blocks",
    operation_id = "get_headers",
    params(HeadersQuery),
    responses(
        (status = 200, description = "The headers", body = Headers),
        (status = 400, description = "`INVALID_QUERY`: a value is not an unsigned integer, or `count` is over 2000", body = ErrorBody),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
pub(super) async fn headers(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<HeadersQuery>,
) -> Result<Json<Headers>, ApiError> {
    let count = query.count.unwrap_or(MAX_HEADERS);
    if count > MAX_HEADERS {
        return Err(ApiError::bad_request(
            "INVALID_QUERY",
            format!("count is at most {MAX_HEADERS}"),
        )
        .with_field("count", "too large"));
    }
    let headers: Vec<HeaderJson> = state
        .chain
        .storage()
        .headers(query.from.unwrap_or(0), count)
        .await?
        .iter()
        .map(HeaderJson::new)
        .collect();
    Ok(Json(Headers {
        count: headers.len(),
        headers,
    }))
}
