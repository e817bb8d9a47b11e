//! Submitting and reading transactions.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use blockchain_core::Txid;
use blockchain_core::merkle::MerkleProof;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, MAX_SAFE_INTEGER, query_value};
use super::json::{SubmitTransaction, TransactionJson, TxState};
use crate::clock::now_ms;

/// A transaction the mempool took.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SubmittedTransaction)]
pub(super) struct Submitted {
    /// Its id, hex.
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    txid: Txid,
    /// Always `pending`.
    status: TxState,
}

/// Submit a signed transaction
///
/// Answers once the transaction is in the mempool and persisted.
#[utoipa::path(
    post,
    path = "/transactions",
    tag = "transactions",
    operation_id = "submit_transaction",
    request_body = SubmitTransaction,
    responses(
        (status = 202, description = "Accepted into the mempool", body = Submitted),
        (status = 400, description = "`MALFORMED_JSON`, `INVALID_REQUEST_BODY` (wrong types, missing or unknown fields), `INVALID_HEX`, `INVALID_SIGNATURE` (not 384 bytes), `INVALID_SENDER` (empty), `UNSUPPORTED_VERSION`, `INVALID_ADDRESS` (recipient)", body = ErrorBody),
        (status = 409, description = "`TRANSACTION_ALREADY_KNOWN`; `REPLACEMENT_UNDERPRICED`: same sender and nonce as a pending transaction without a higher fee", body = ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: body over 64 KiB", body = ErrorBody),
        (status = 415, description = "`UNSUPPORTED_MEDIA_TYPE`: not `Content-Type: application/json`", body = ErrorBody),
        (status = 422, description = "`TRANSACTION_VALIDATION_FAILED` (signature, nonce, amount, …) or `INSUFFICIENT_FUNDS`; `details.field` names the field", body = ErrorBody),
        (status = 503, description = "`MEMPOOL_FULL` (the fee is too low to evict anything) or `NOT_READY` (the database is busy)", body = ErrorBody),
    )
)]
pub(super) async fn submit(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SubmitTransaction>,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    let transaction = body.into_transaction(state.chain.params())?;
    let txid = state
        .chain
        .submit_transaction(transaction, now_ms())
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Submitted {
            txid,
            status: TxState::Pending,
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PageQuery {
    /// Page size: 1–1000, 100 by default.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<u32>,
    /// Transactions to skip: 0 by default.
    #[param(minimum = 0, maximum = 9007199254740991_i64)]
    offset: Option<u64>,
}

/// A page of the mempool.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = PendingTransactions)]
pub(super) struct Pending {
    /// Highest fee first.
    transactions: Vec<TransactionJson>,
    /// Transactions in `transactions`.
    count: usize,
    /// Transactions in the mempool.
    total: usize,
}

/// The mempool, highest fee first
#[utoipa::path(
    get,
    path = "/transactions/pending",
    tag = "transactions",
    operation_id = "get_pending_transactions",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of pending transactions", body = Pending),
        (status = 400, description = "`INVALID_QUERY`: `limit` is not an integer from 1 to 1000, or `offset` not one from 0 to 2^53 − 1", body = ErrorBody),
    )
)]
pub(super) async fn pending(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<Pending>, ApiError> {
    let limit = query_value("limit", query.limit, 100, 1..=1000)?;
    let offset = query_value("offset", query.offset, 0, 0..=MAX_SAFE_INTEGER)?;
    // An offset past every transaction the mempool can hold is an empty page.
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let (page, total) = state.chain.pending(limit as usize, offset).await;
    let params = state.chain.params();
    let transactions: Vec<TransactionJson> = page
        .iter()
        .map(|entry| TransactionJson::new(params, &entry.transaction))
        .collect();
    Ok(Json(Pending {
        count: transactions.len(),
        transactions,
        total,
    }))
}

fn parse_txid(text: &str) -> Result<Txid, ApiError> {
    text.parse().map_err(|error| {
        ApiError::bad_request("INVALID_TXID", format!("{text:?} is not a txid: {error}"))
            .with_field("txid", "not 64 hex digits")
    })
}

/// A transaction and where it is.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TransactionStatus {
    #[serde(flatten)]
    transaction: TransactionJson,
    /// In the mempool or in a best-chain block.
    status: TxState,
    /// Height of its block; null while pending.
    #[schema(required = true)]
    block_height: Option<u64>,
    /// Hash of its block, hex; null while pending.
    #[schema(required = true, pattern = "^[0-9a-f]{64}$")]
    block_hash: Option<String>,
    /// Best-chain blocks from its block up, that block included; 0 while pending.
    confirmations: u64,
}

/// A pending or confirmed transaction
#[utoipa::path(
    get,
    path = "/transactions/{txid}",
    tag = "transactions",
    operation_id = "get_transaction",
    params(("txid" = String, Path, description = "Transaction id: 64 hex digits", pattern = "^[0-9a-fA-F]{64}$")),
    responses(
        (status = 200, description = "The transaction", body = TransactionStatus),
        (status = 400, description = "`INVALID_TXID`: not 64 hex digits; `INVALID_PATH`: not UTF-8", body = ErrorBody),
        (status = 404, description = "`TRANSACTION_NOT_FOUND`: neither confirmed nor pending", body = ErrorBody),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
pub(super) async fn by_txid(
    State(state): State<AppState>,
    ApiPath(txid): ApiPath<String>,
) -> Result<Json<TransactionStatus>, ApiError> {
    let txid = parse_txid(&txid)?;
    let params = state.chain.params();
    if let Some(stored) = state.chain.storage().transaction(&txid).await? {
        let tip = state.chain.status().header.height;
        return Ok(Json(TransactionStatus {
            transaction: TransactionJson::new(params, &stored.transaction),
            status: TxState::Confirmed,
            block_height: Some(stored.height),
            block_hash: Some(stored.block_hash.to_string()),
            confirmations: tip.saturating_sub(stored.height) + 1,
        }));
    }
    let pending = state
        .chain
        .pending_transaction(&txid)
        .await
        .ok_or_else(|| {
            ApiError::not_found("TRANSACTION_NOT_FOUND", format!("no transaction {txid}"))
        })?;
    Ok(Json(TransactionStatus {
        transaction: TransactionJson::new(params, &pending.transaction),
        status: TxState::Pending,
        block_height: None,
        block_hash: None,
        confirmations: 0,
    }))
}

/// An RFC 6962 audit path from a transaction to its block's Merkle root.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct InclusionProof {
    /// The transaction's id, hex.
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    txid: Txid,
    /// Its block's hash, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    block_hash: String,
    /// Its block's height.
    block_height: u64,
    /// Its block's Merkle root, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    merkle_root: String,
    /// Its position in the block (0 is the coinbase).
    index: u32,
    /// Transactions in the block.
    tree_size: u32,
    /// Sibling hashes from the leaf up, hex.
    path: Vec<String>,
    /// Consensus encoding of the proof, hex (docs/PROTOCOL.md).
    #[schema(pattern = "^([0-9a-f]{2})*$")]
    proof: String,
}

/// Merkle inclusion proof of a confirmed transaction
#[utoipa::path(
    get,
    path = "/transactions/{txid}/proof",
    tag = "transactions",
    operation_id = "get_transaction_proof",
    params(("txid" = String, Path, description = "Transaction id: 64 hex digits", pattern = "^[0-9a-fA-F]{64}$")),
    responses(
        (status = 200, description = "The proof", body = InclusionProof),
        (status = 400, description = "`INVALID_TXID`: not 64 hex digits; `INVALID_PATH`: not UTF-8", body = ErrorBody),
        (status = 404, description = "`TRANSACTION_NOT_FOUND`: not in a stored block (a pending transaction has no proof)", body = ErrorBody),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
pub(super) async fn proof(
    State(state): State<AppState>,
    ApiPath(txid): ApiPath<String>,
) -> Result<Json<InclusionProof>, ApiError> {
    let txid = parse_txid(&txid)?;
    let storage = state.chain.storage();
    let stored = storage.transaction(&txid).await?.ok_or_else(|| {
        ApiError::not_found(
            "TRANSACTION_NOT_FOUND",
            format!("no confirmed transaction {txid}"),
        )
    })?;
    let block = storage
        .block_by_hash(&stored.block_hash)
        .await?
        .ok_or_else(|| {
            ApiError::internal(format!(
                "block {} of a stored transaction is missing",
                stored.block_hash
            ))
        })?
        .block;
    let proof = MerkleProof::new(&block.txids(), stored.position as usize).ok_or_else(|| {
        ApiError::internal(format!("transaction {txid} is not at its stored position"))
    })?;
    Ok(Json(InclusionProof {
        txid,
        block_hash: stored.block_hash.to_string(),
        block_height: stored.height,
        merkle_root: block.header.merkle_root.to_string(),
        index: proof.index,
        tree_size: proof.tree_size,
        path: proof.path.iter().map(ToString::to_string).collect(),
        proof: hex::encode(blockchain_core::Encode::encode(&proof)),
    }))
}
