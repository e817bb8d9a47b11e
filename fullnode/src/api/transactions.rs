//! Submitting and reading transactions.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use blockchain_core::Txid;
use blockchain_core::merkle::MerkleProof;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::json::{SubmitTransaction, TransactionJson};
use crate::clock::now_ms;

#[derive(Debug, Serialize)]
pub(super) struct Submitted {
    txid: Txid,
    status: &'static str,
}

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
            status: "pending",
        }),
    ))
}

#[derive(Debug, Deserialize)]
pub(super) struct PageQuery {
    limit: Option<usize>,
    offset: Option<usize>,
}

#[derive(Debug, Serialize)]
pub(super) struct Pending {
    transactions: Vec<TransactionJson>,
    count: usize,
    total: usize,
}

pub(super) async fn pending(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Json<Pending> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    let (page, total) = state.chain.pending(limit, query.offset.unwrap_or(0)).await;
    let params = state.chain.params();
    let transactions: Vec<TransactionJson> = page
        .iter()
        .map(|entry| TransactionJson::new(params, &entry.transaction))
        .collect();
    Json(Pending {
        count: transactions.len(),
        transactions,
        total,
    })
}

fn parse_txid(text: &str) -> Result<Txid, ApiError> {
    text.parse().map_err(|error| {
        ApiError::bad_request("INVALID_TXID", format!("{text:?} is not a txid: {error}"))
            .with_field("txid", "not 64 hex digits")
    })
}

#[derive(Debug, Serialize)]
pub(super) struct TransactionStatus {
    #[serde(flatten)]
    transaction: TransactionJson,
    status: &'static str,
    block_height: Option<u64>,
    block_hash: Option<String>,
    confirmations: u64,
}

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
            status: "confirmed",
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
        status: "pending",
        block_height: None,
        block_hash: None,
        confirmations: 0,
    }))
}

#[derive(Debug, Serialize)]
pub(super) struct InclusionProof {
    txid: Txid,
    block_hash: String,
    block_height: u64,
    merkle_root: String,
    index: u32,
    tree_size: u32,
    path: Vec<String>,
    /// Consensus encoding of the proof, hex.
    proof: String,
}

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
