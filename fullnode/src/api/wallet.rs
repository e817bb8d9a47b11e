//! Balances, history and state proofs for any address; node-side wallets
//! (keystores kept by the node) for REST clients without RSA code.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use blockchain_core::crypto::SigningKey;
use blockchain_core::keystore::{DEFAULT_ITERATIONS, Keystore, KeystoreError};
use blockchain_core::{Address, Amount, Encode, Transaction, Txid};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath, ApiQuery, ClientIp, MAX_SAFE_INTEGER, query_value};
use super::json::{TransactionJson, TxState, parse_address};
use crate::clock::now_ms;
use std::time::Instant;

fn path_address(state: &AppState, text: &str) -> Result<Address, ApiError> {
    parse_address(state.chain.params(), text, "address")
}

/// An address's account, confirmed and with the mempool.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Balance {
    /// The address as asked.
    address: String,
    /// Confirmed balance, base units.
    balance: u64,
    /// `balance` − pending spends + pending receipts, base units.
    pending_balance: i128,
    /// Confirmed account nonce.
    nonce: u64,
    /// Nonce of the address's next transaction, pending ones counted.
    next_nonce: u64,
    /// Confirmed transactions from or to the address.
    transactions_count: u64,
    /// Whether the account is in the state (it has received coins).
    exists: bool,
}

/// An address's balance and nonces
#[utoipa::path(
    get,
    path = "/wallet/{address}/balance",
    tag = "wallet",
    operation_id = "get_balance",
    params(("address" = String, Path, description = "bech32m address of this node's network")),
    responses(
        (status = 200, description = "The balance", body = Balance),
        (status = 400, description = "`INVALID_ADDRESS`: bad checksum, other network or wrong length; `INVALID_PATH`: not UTF-8", body = ErrorBody),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct HistoryQuery {
    /// Page size: 1–500, 50 by default.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// Transactions to skip: 0 by default.
    #[param(minimum = 0, maximum = 9007199254740991_i64)]
    offset: Option<u64>,
}

/// A confirmed transaction and its block.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct HistoryEntry {
    #[serde(flatten)]
    transaction: TransactionJson,
    /// Height of its block.
    block_height: u64,
    /// Hash of its block, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    block_hash: String,
}

/// A page of an address's confirmed transactions.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AddressHistory)]
pub(super) struct History {
    /// The address as asked.
    address: String,
    /// Newest first.
    transactions: Vec<HistoryEntry>,
    /// Transactions in `transactions`.
    count: usize,
    /// Confirmed transactions from or to the address.
    total: u64,
}

/// An address's confirmed transactions, newest first
#[utoipa::path(
    get,
    path = "/wallet/{address}/transactions",
    tag = "wallet",
    operation_id = "get_address_history",
    params(
        ("address" = String, Path, description = "bech32m address of this node's network"),
        HistoryQuery,
    ),
    responses(
        (status = 200, description = "A page of the history", body = History),
        (status = 400, description = "`INVALID_ADDRESS`: bad checksum, other network or wrong length; `INVALID_QUERY`: `limit` is not an integer from 1 to 500, or `offset` not one from 0 to 2^53 − 1; `INVALID_PATH`: not UTF-8", body = ErrorBody),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
pub(super) async fn history(
    State(state): State<AppState>,
    ApiPath(address): ApiPath<String>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<History>, ApiError> {
    let parsed = path_address(&state, &address)?;
    let storage = state.chain.storage();
    let limit = query_value("limit", query.limit, 50, 1..=500)?;
    let offset = query_value("offset", query.offset, 0, 0..=MAX_SAFE_INTEGER)?;
    let stored = storage.address_transactions(&parsed, limit, offset).await?;
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

/// An account in the state.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Account)]
pub(super) struct AccountJson {
    /// Base units.
    balance: u64,
    /// Account nonce.
    nonce: u64,
}

/// A sparse Merkle proof of an account (or of its absence) against the tip's state root.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct AccountProof {
    /// The address as asked.
    address: String,
    /// The tip's hash, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    block_hash: String,
    /// The tip's height.
    block_height: u64,
    /// The tip's state root, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    state_root: String,
    /// The account, or null when the proof shows it does not exist.
    #[schema(required = true)]
    account: Option<AccountJson>,
    /// Consensus encoding of the state proof, hex (docs/PROTOCOL.md).
    #[schema(pattern = "^([0-9a-f]{2})*$")]
    proof: String,
}

/// State proof of an address's account
///
/// A sparse Merkle proof against the tip's state root; `account` null with a
/// proof is a proof of absence.
#[utoipa::path(
    get,
    path = "/wallet/{address}/proof",
    tag = "wallet",
    operation_id = "get_account_proof",
    params(("address" = String, Path, description = "bech32m address of this node's network")),
    responses(
        (status = 200, description = "The proof", body = AccountProof),
        (status = 400, description = "`INVALID_ADDRESS`: bad checksum, other network or wrong length; `INVALID_PATH`: not UTF-8", body = ErrorBody),
    )
)]
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

/// A new node-side wallet's password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateWallet {
    /// Encrypts the keystore: at least 8 characters.
    #[schema(min_length = 8)]
    password: String,
}

/// A new node-side wallet.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CreatedWallet {
    /// Its bech32m address.
    address: String,
    /// Its keystore, as the node keeps it.
    #[schema(value_type = KeystoreSchema)]
    keystore: Keystore,
}

/// An encrypted keystore: the wallet's key, encrypted with its password.
// The JSON of core's `Keystore`, which has no `ToSchema`, for the OpenAPI
// document; the tests check a real keystore against it.
#[derive(ToSchema)]
#[schema(as = Keystore)]
#[allow(dead_code)] // Never built: it only describes `Keystore`'s JSON.
struct KeystoreSchema {
    /// Always 1.
    version: u32,
    /// Network name, e.g. `devnet`.
    network: String,
    /// bech32m address of the key.
    address: String,
    /// PEM SubjectPublicKeyInfo.
    public_key: String,
    /// The encrypted PKCS#8 DER private key.
    encrypted_private_key: EncryptedPrivateKeySchema,
}

/// Encryption parameters and ciphertext of a keystore's private key.
// The JSON of core's `EncryptedPrivateKey`, as `KeystoreSchema` is `Keystore`'s.
#[derive(ToSchema)]
#[schema(as = EncryptedPrivateKey)]
#[allow(dead_code)] // Never built: it only describes `EncryptedPrivateKey`'s JSON.
struct EncryptedPrivateKeySchema {
    /// Always `pbkdf2-hmac-sha256`.
    kdf: String,
    /// PBKDF2 iterations.
    iterations: u32,
    /// Base64 of 16 salt bytes.
    salt: String,
    /// Always `aes-256-gcm`.
    cipher: String,
    /// Base64 of the 12-byte IV.
    iv: String,
    /// Base64 of the ciphertext with its 16-byte tag appended.
    encrypted: String,
}

/// Shortest password a node-side wallet accepts.
const MIN_PASSWORD_LEN: usize = 8;

/// Create a node-side wallet
///
/// Generates an RSA-3072 key and keeps it, encrypted with the password, in
/// the node's database.
#[utoipa::path(
    post,
    path = "/wallet",
    tag = "wallet",
    operation_id = "create_wallet",
    request_body = CreateWallet,
    security(("api_token" = [])),
    responses(
        (status = 201, description = "The wallet", body = CreatedWallet),
        (status = 400, description = "`MALFORMED_JSON`, `INVALID_REQUEST_BODY` (wrong types, missing or unknown fields), `WEAK_PASSWORD` (under 8 characters)", body = ErrorBody),
        (status = 401, description = "`UNAUTHORIZED`: no bearer token (a loopback address is not a credential)", body = ErrorBody),
        (status = 403, description = "`FORBIDDEN`: a wrong bearer token", body = ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: body over 64 KiB", body = ErrorBody),
        (status = 415, description = "`UNSUPPORTED_MEDIA_TYPE`: not `Content-Type: application/json`", body = ErrorBody),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
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

/// A payment from a node-side wallet.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SendFromWallet)]
pub(super) struct Send {
    /// The wallet's password.
    password: String,
    /// bech32m address of this node's network.
    recipient: String,
    /// Base units.
    amount: u64,
    /// Base units; 0 by default.
    #[serde(default)]
    fee: u64,
}

/// A payment the mempool took.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = SentFromWallet)]
pub(super) struct Sent {
    /// The transaction's id, hex.
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    txid: Txid,
    /// Always `pending`.
    status: TxState,
    /// The nonce the transaction took.
    nonce: u64,
}

/// Pay from a node-side wallet
///
/// The node decrypts the wallet's key, signs with the next nonce and submits
/// the transaction as `POST /transactions` does.
#[utoipa::path(
    post,
    path = "/wallet/{address}/send",
    tag = "wallet",
    operation_id = "send_from_wallet",
    params(("address" = String, Path, description = "bech32m address of a wallet this node keeps")),
    request_body = Send,
    security(("api_token" = [])),
    responses(
        (status = 202, description = "Accepted into the mempool", body = Sent),
        (status = 400, description = "`MALFORMED_JSON`, `INVALID_REQUEST_BODY` (wrong types, missing or unknown fields), `INVALID_ADDRESS` (path or recipient), `INVALID_PATH` (not UTF-8)", body = ErrorBody),
        (status = 401, description = "`UNAUTHORIZED`: no bearer token (a loopback address is not a credential); `WRONG_PASSWORD`: the wallet's password is wrong", body = ErrorBody),
        (status = 403, description = "`FORBIDDEN`: a wrong bearer token", body = ErrorBody),
        (status = 404, description = "`WALLET_NOT_FOUND`: this node keeps no wallet for the address", body = ErrorBody),
        (status = 409, description = "`TRANSACTION_ALREADY_KNOWN`, `REPLACEMENT_UNDERPRICED`", body = ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: body over 64 KiB", body = ErrorBody),
        (status = 415, description = "`UNSUPPORTED_MEDIA_TYPE`: not `Content-Type: application/json`", body = ErrorBody),
        (status = 422, description = "`TRANSACTION_VALIDATION_FAILED` (e.g. a zero amount) or `INSUFFICIENT_FUNDS`", body = ErrorBody),
        (status = 429, description = "`TOO_MANY_WRONG_PASSWORDS`: 5 wrong passwords for this wallet, or from this client, in the last minute (`Retry-After` says when to try again); `RATE_LIMITED`", body = ErrorBody),
        (status = 503, description = "`MEMPOOL_FULL` or `NOT_READY` (the database is busy)", body = ErrorBody),
    )
)]
pub(super) async fn send(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    ApiPath(address): ApiPath<String>,
    ApiJson(body): ApiJson<Send>,
) -> Result<(StatusCode, Json<Sent>), ApiError> {
    let params = state.chain.params();
    let from = path_address(&state, &address)?;
    let to = parse_address(params, &body.recipient, "recipient")?;
    if let Some(wait) = state
        .password_attempts
        .locked_for(&from, client, Instant::now())
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_WRONG_PASSWORDS",
            format!(
                "{} wrong passwords for this wallet or from this client in a minute; \
                 try again in {wait} s",
                super::password_limit::MAX_WRONG
            ),
        )
        .with_retry_after(wait));
    }
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
            KeystoreError::WrongPassword => {
                state.password_attempts.wrong(&from, client, Instant::now());
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "WRONG_PASSWORD",
                    "wrong wallet password",
                )
                .with_field("password", "wrong")
            }
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
            status: TxState::Pending,
            nonce,
        }),
    ))
}
