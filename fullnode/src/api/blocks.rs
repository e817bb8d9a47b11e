//! Blocks and headers.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiPath, ApiQuery, MAX_SAFE_INTEGER, query_value};
use super::json::{BlockJson, HeaderJson};
use crate::storage::StoredBlock;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct LatestQuery {
    /// How many blocks: 1–100, 10 by default.
    #[param(minimum = 1, maximum = 100)]
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

/// Encoded bytes of the blocks one `GET /blocks/latest` answer reads at
/// most (two full blocks): past them the answer ends early, with fewer
/// blocks than `limit` (always at least one).
pub(super) const LATEST_MAX_BYTES: usize = 2 * blockchain_core::block::MAX_BLOCK_SIZE;

/// The newest blocks
///
/// Best-chain blocks, newest first: `limit` of them, or fewer once their
/// encodings add up to 2 MB (two full blocks; the newest block always
/// comes). `count` says how many came; read older ones by height.
#[utoipa::path(
    get,
    path = "/blocks/latest",
    tag = "blocks",
    operation_id = "get_latest_blocks",
    params(LatestQuery),
    responses(
        (status = 200, description = "The newest blocks", body = LatestBlocks),
        (status = 400, description = "`INVALID_QUERY`: `limit` is not an integer from 1 to 100", body = ErrorBody),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
pub(super) async fn latest(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<LatestQuery>,
) -> Result<Json<LatestBlocks>, ApiError> {
    let limit = query_value("limit", query.limit, 10, 1..=100)?;
    let blocks: Vec<BlockJson> = state
        .chain
        .storage()
        .latest_blocks(limit, LATEST_MAX_BYTES)
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
    params(("height" = u64, Path, minimum = 0, maximum = 9007199254740991_i64, description = "Height in the best chain (0 is the genesis block)")),
    responses(
        (status = 200, description = "The block", body = BlockJson),
        (status = 400, description = "`INVALID_HEIGHT`: not an integer from 0 to 2^53 − 1; `INVALID_PATH`: not UTF-8", body = ErrorBody),
        (status = 404, description = "`BLOCK_NOT_FOUND`: no best-chain block at that height", body = ErrorBody),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
pub(super) async fn by_height(
    State(state): State<AppState>,
    ApiPath(height): ApiPath<String>,
) -> Result<Json<BlockJson>, ApiError> {
    let height = height
        .parse::<u64>()
        .ok()
        .filter(|height| *height <= MAX_SAFE_INTEGER)
        .ok_or_else(|| {
            ApiError::bad_request(
                "INVALID_HEIGHT",
                format!("{height:?} is not a block height (0 to 2^53 − 1)"),
            )
            .with_field("height", "not an integer from 0 to 2^53 − 1")
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
    #[param(minimum = 0, maximum = 9007199254740991_i64)]
    from: Option<u64>,
    /// How many headers: 0–2000, 2000 by default.
    #[param(minimum = 0, maximum = 2000)]
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
        (status = 400, description = "`INVALID_QUERY`: `from` is not an integer from 0 to 2^53 − 1, or `count` not one from 0 to 2000", body = ErrorBody),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
pub(super) async fn headers(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<HeadersQuery>,
) -> Result<Json<Headers>, ApiError> {
    let count = query_value("count", query.count, MAX_HEADERS, 0..=MAX_HEADERS)?;
    let from = query_value("from", query.from, 0, 0..=MAX_SAFE_INTEGER)?;
    let headers: Vec<HeaderJson> = state
        .chain
        .storage()
        .headers(from, count)
        .await?
        .iter()
        .map(HeaderJson::new)
        .collect();
    Ok(Json(Headers {
        count: headers.len(),
        headers,
    }))
}
