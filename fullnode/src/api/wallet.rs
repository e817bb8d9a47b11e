//! Balances, history and state proofs for any address; node-side wallets
//! (keystores kept by the node) for REST clients without RSA code.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use blockchain_core::crypto::SigningKey;
use blockchain_core::keystore::{DEFAULT_ITERATIONS, Keystore, KeystoreError};
use blockchain_core::{Address, Amount, Encode, Transaction, Txid};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::json::{TransactionJson, parse_address};
use crate::clock::now_ms;

fn path_address(state: &AppState, text: &str) -> Result<Address, ApiError> {
    parse_address(state.chain.params(), text, "address")
}

#[derive(Debug, Serialize)]
pub(super) struct Balance {
    address: String,
    balance: u64,
    pending_balance: i128,
    nonce: u64,
    next_nonce: u64,
    transactions_count: u64,
    exists: bool,
}

pub(super) async fn balance(
    State(state): State<AppState>,
    ApiPath(address): ApiPath<String>,
) -> Result<Json<Balance>, ApiError> {
    let parsed = path_address(&state, &address)?;
    let view = state.chain.account(&parsed).await;
    let account = view.account.unwrap_or_default();
    let count = state
        .chain
        .storage()
        .address_transaction_count(&parsed)
        .await?;
    Ok(Json(Balance {
        address,
        balance: account.balance.0,
        pending_balance: i128::from(account.balance.0) - view.pending_out as i128
            + view.pending_in as i128,
        nonce: account.nonce,
        next_nonce: view.next_nonce,
        transactions_count: count,
        exists: view.account.is_some(),
    }))
}

#[derive(Debug, Deserialize)]
pub(super) struct HistoryQuery {
    limit: Option<u32>,
    offset: Option<u64>,
}

#[derive(Debug, Serialize)]
pub(super) struct HistoryEntry {
    #[serde(flatten)]
    transaction: TransactionJson,
    block_height: u64,
    block_hash: String,
}

#[derive(Debug, Serialize)]
pub(super) struct History {
    address: String,
    transactions: Vec<HistoryEntry>,
    count: usize,
    total: u64,
}

pub(super) async fn history(
    State(state): State<AppState>,
    ApiPath(address): ApiPath<String>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<History>, ApiError> {
    let parsed = path_address(&state, &address)?;
    let storage = state.chain.storage();
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let stored = storage
        .address_transactions(&parsed, limit, query.offset.unwrap_or(0))
        .await?;
    let params = state.chain.params();
    let transactions: Vec<HistoryEntry> = stored
        .iter()
        .map(|stored| HistoryEntry {
            transaction: TransactionJson::new(params, &stored.transaction),
            block_height: stored.height,
            block_hash: stored.block_hash.to_string(),
        })
        .collect();
    Ok(Json(History {
        address,
        count: transactions.len(),
        transactions,
        total: storage.address_transaction_count(&parsed).await?,
    }))
}

#[derive(Debug, Serialize)]
pub(super) struct AccountJson {
    balance: u64,
    nonce: u64,
}

#[derive(Debug, Serialize)]
pub(super) struct AccountProof {
    address: String,
    block_hash: String,
    block_height: u64,
    state_root: String,
    /// The account, or null when the proof shows it does not exist.
    account: Option<AccountJson>,
    /// Consensus encoding of the state proof, hex.
    proof: String,
}

pub(super) async fn proof(
    State(state): State<AppState>,
    ApiPath(address): ApiPath<String>,
) -> Result<Json<AccountProof>, ApiError> {
    let parsed = path_address(&state, &address)?;
    let (proof, header, hash) = state.chain.prove_account(&parsed).await;
    let account = proof
        .verify(&parsed, &header.state_root)
        .map_err(|error| ApiError::internal(format!("own state proof does not verify: {error}")))?;
    Ok(Json(AccountProof {
        address,
        block_hash: hash.to_string(),
        block_height: header.height,
        state_root: header.state_root.to_string(),
        account: account.map(|account| AccountJson {
            balance: account.balance.0,
            nonce: account.nonce,
        }),
        proof: hex::encode(proof.encode()),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateWallet {
    password: String,
}

#[derive(Debug, Serialize)]
pub(super) struct CreatedWallet {
    address: String,
    keystore: Keystore,
}

/// Shortest password a node-side wallet accepts.
const MIN_PASSWORD_LEN: usize = 8;

pub(super) async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateWallet>,
) -> Result<(StatusCode, Json<CreatedWallet>), ApiError> {
    if body.password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ApiError::bad_request(
            "WEAK_PASSWORD",
            format!("password must have at least {MIN_PASSWORD_LEN} characters"),
        )
        .with_field("password", "too short"));
    }
    let params = state.chain.params();
    let keystore = tokio::task::spawn_blocking(move || {
        let mut rng = rand::rngs::SysRng;
        let key = SigningKey::generate(&mut rng).map_err(ApiError::internal)?;
        Keystore::encrypt(params, &key, &body.password, DEFAULT_ITERATIONS, &mut rng)
            .map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)??;
    let address = keystore.address().map_err(ApiError::internal)?;
    state
        .chain
        .storage()
        .save_wallet(&address, &keystore.to_json(), now_ms())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWallet {
            address: keystore.address.clone(),
            keystore,
        }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Send {
    password: String,
    recipient: String,
    amount: u64,
    #[serde(default)]
    fee: u64,
}

#[derive(Debug, Serialize)]
pub(super) struct Sent {
    txid: Txid,
    status: &'static str,
    nonce: u64,
}

pub(super) async fn send(
    State(state): State<AppState>,
    ApiPath(address): ApiPath<String>,
    ApiJson(body): ApiJson<Send>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    let params = state.chain.params();
    let from = path_address(&state, &address)?;
    let to = parse_address(params, &body.recipient, "recipient")?;
    let json = state.chain.storage().wallet(&from).await?.ok_or_else(|| {
        ApiError::not_found(
            "WALLET_NOT_FOUND",
            format!("this node keeps no wallet for {address}"),
        )
    })?;
    let keystore = Keystore::from_json(&json).map_err(ApiError::internal)?;
    let password = body.password;
    let key = tokio::task::spawn_blocking(move || keystore.decrypt(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(|error| match error {
            KeystoreError::WrongPassword => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "WRONG_PASSWORD",
                "wrong wallet password",
            )
            .with_field("password", "wrong"),
            other => ApiError::internal(other),
        })?;
    let _sending = state.wallet_sends.lock().await;
    let nonce = state.chain.account(&from).await.next_nonce;
    let time = now_ms();
    let transaction = tokio::task::spawn_blocking(move || {
        Transaction::new_signed(
            params,
            &key,
            to,
            Amount(body.amount),
            Amount(body.fee),
            nonce,
            time,
            &mut rand::rngs::SysRng,
        )
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let txid = state.chain.submit_transaction(transaction, time).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Sent {
            txid,
            status: "pending",
            nonce,
        }),
    ))
}
