//! Blocks and headers.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiPath, ApiQuery};
use super::json::{BlockJson, HeaderJson};
use crate::storage::StoredBlock;

#[derive(Debug, Deserialize)]
pub(super) struct LatestQuery {
    limit: Option<u32>,
}

#[derive(Debug, Serialize)]
pub(super) struct LatestBlocks {
    blocks: Vec<BlockJson>,
    count: usize,
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

#[derive(Debug, Deserialize)]
pub(super) struct HeadersQuery {
    from: Option<u64>,
    count: Option<u32>,
}

#[derive(Debug, Serialize)]
pub(super) struct Headers {
    headers: Vec<HeaderJson>,
    count: usize,
}

/// Most headers per request.
const MAX_HEADERS: u32 = 2000;

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
