//! Mining control and status.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::blocks::block_json;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, body_rejection};
use super::json::{BlockJson, difficulty, parse_address};
use crate::mining::MiningError;

/// The miner at a glance.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct MiningStatus {
    /// Whether continuous mining is on.
    is_mining: bool,
    /// Hashes per second of the miner threads.
    hash_rate: f64,
    /// Miner threads.
    threads: usize,
    /// bech32m address mined blocks pay; null when none is set.
    #[schema(required = true)]
    miner_address: Option<String>,
    /// Transactions in the mempool.
    pending_transactions: usize,
    /// pow_limit / target of the next block.
    current_difficulty: f64,
    /// Best-chain height.
    height: u64,
}

/// The miner's status
#[utoipa::path(
    get,
    path = "/mining/status",
    tag = "mining",
    operation_id = "get_mining_status",
    responses((status = 200, description = "The miner's status", body = MiningStatus))
)]
pub(super) async fn status(State(state): State<AppState>) -> Json<MiningStatus> {
    let params = state.chain.params();
    let tip = state.chain.status();
    Json(MiningStatus {
        is_mining: state.mining.is_mining(),
        hash_rate: state.mining.hash_rate(),
        threads: state.config.threads,
        miner_address: state
            .mining
            .address()
            .map(|address| address.to_bech32m(params.address_prefix)),
        pending_transactions: tip.mempool_size,
        current_difficulty: difficulty(params, tip.next_bits),
        height: tip.header.height,
    })
}

/// Where continuous mining pays.
#[derive(Debug, Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StartMining {
    /// bech32m address of this node's network; the configured
    /// `--miner-address` when absent.
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

/// Start continuous mining
///
/// The body is optional: without one (or with `null` or `{}`) blocks pay
/// the configured `--miner-address`.
#[utoipa::path(
    post,
    path = "/mining/start",
    tag = "mining",
    operation_id = "start_mining",
    request_body(content = Option<StartMining>, description = "Optional; any content type is read as JSON"),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "Mining; the miner's status", body = MiningStatus),
        (status = 400, description = "`INVALID_REQUEST_BODY`: not JSON, wrong types or unknown fields; `INVALID_ADDRESS` (`miner_address`); `MINER_ADDRESS_REQUIRED`: no address given or configured", body = ErrorBody),
        (status = 401, description = "`UNAUTHORIZED`: no bearer token (a loopback address is not a credential)", body = ErrorBody),
        (status = 403, description = "`FORBIDDEN`: a wrong bearer token", body = ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: body over 64 KiB", body = ErrorBody),
    )
)]
pub(super) async fn start(
    State(state): State<AppState>,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<MiningStatus>, ApiError> {
    let body = body.map_err(body_rejection)?;
    // The body is optional: empty or `null` means "the configured address".
    let body: StartMining = if body.iter().all(u8::is_ascii_whitespace) {
        StartMining::default()
    } else {
        serde_json::from_slice::<Option<StartMining>>(&body)
            .map_err(|error| ApiError::bad_request("INVALID_REQUEST_BODY", error.to_string()))?
            .unwrap_or_default()
    };
    let address = body
        .miner_address
        .map(|text| parse_address(state.chain.params(), &text, "miner_address"))
        .transpose()?;
    state.mining.start(address).await.map_err(mining_error)?;
    Ok(status(State(state)).await)
}

/// Stop continuous mining
///
/// Takes no body (one is ignored).
#[utoipa::path(
    post,
    path = "/mining/stop",
    tag = "mining",
    operation_id = "stop_mining",
    security(("api_token" = [])),
    responses(
        (status = 200, description = "Stopped; the miner's status", body = MiningStatus),
        (status = 401, description = "`UNAUTHORIZED`: no bearer token (a loopback address is not a credential)", body = ErrorBody),
        (status = 403, description = "`FORBIDDEN`: a wrong bearer token", body = ErrorBody),
    )
)]
pub(super) async fn stop(State(state): State<AppState>) -> Json<MiningStatus> {
    state.mining.stop();
    status(State(state)).await
}

/// How many blocks to mine now, and where they pay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct MineBlocks {
    /// bech32m address of this node's network; the configured
    /// `--miner-address` when absent.
    miner_address: Option<String>,
    /// Blocks to mine: 1 to 1000, 1 when absent.
    #[schema(minimum = 1, maximum = 1000)]
    count: Option<u32>,
}

/// Blocks mined on request.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct MinedBlocks {
    /// In height order, as `GET /blocks/{height}` shows them.
    blocks: Vec<BlockJson>,
    /// Blocks in `blocks`.
    count: usize,
}

/// Most blocks one request may mine.
const MAX_BLOCKS_PER_REQUEST: u32 = 1000;

/// Mine blocks now
///
/// Mines `count` blocks on all miner threads and answers with them; may take
/// up to 10 minutes (the other routes time out after 30 s).
#[utoipa::path(
    post,
    path = "/mining/blocks",
    tag = "mining",
    operation_id = "mine_blocks",
    request_body = MineBlocks,
    security(("api_token" = [])),
    responses(
        (status = 201, description = "The mined blocks", body = MinedBlocks),
        (status = 400, description = "`MALFORMED_JSON`, `INVALID_REQUEST_BODY` (wrong types or unknown fields), `INVALID_COUNT` (not 1–1000), `INVALID_ADDRESS` (`miner_address`), `MINER_ADDRESS_REQUIRED` (no address given or configured)", body = ErrorBody),
        (status = 401, description = "`UNAUTHORIZED`: no bearer token (a loopback address is not a credential)", body = ErrorBody),
        (status = 403, description = "`FORBIDDEN`: a wrong bearer token", body = ErrorBody),
        (status = 409, description = "`BLOCK_ALREADY_KNOWN`: the chain refused a mined block as a duplicate", body = ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: body over 64 KiB", body = ErrorBody),
        (status = 415, description = "`UNSUPPORTED_MEDIA_TYPE`: not `Content-Type: application/json`", body = ErrorBody),
        (status = 422, description = "`BLOCK_VALIDATION_FAILED`: the chain refused a mined block", body = ErrorBody),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
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
