//! JSON shapes of the API (field names follow the seed design: `index`,
//! `timestamp`, `previous_hash`, `sender`, `recipient`, …). Byte fields are
//! lowercase hex, amounts are integers of base units, addresses bech32m.

use blockchain_core::crypto::SIGNATURE_LEN;
use blockchain_core::transaction::MAX_PUBLIC_KEY_LEN;
use blockchain_core::{
    Address, Amount, Block, CompactBits, Header, Params, Transaction, Txid, Work,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;

/// A signed transaction as POST /transactions takes it (unknown fields are
/// refused). The signature is RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32)
/// over `network magic || txid` (docs/PROTOCOL.md).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitTransaction {
    /// Must be 1.
    #[schema(example = 1)]
    pub version: u32,
    /// Hex of the sender's SPKI DER public key.
    #[schema(pattern = "^([0-9a-fA-F]{2})+$")]
    pub sender: String,
    /// bech32m address of this node's network (`tblk1…` devnet, `rblk1…` regtest).
    pub recipient: String,
    /// Base units (1 coin = 10^8).
    pub amount: u64,
    /// Base units.
    pub fee: u64,
    /// Sender's account nonce.
    pub nonce: u64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// Hex of the 384-byte RSASSA-PSS signature.
    #[schema(pattern = "^[0-9a-fA-F]{768}$")]
    pub signature: String,
}

impl SubmitTransaction {
    /// The body that submits `transaction` on the network of `params` (what
    /// clients send: the CLI, the load benchmark, the tests).
    pub fn of(params: &Params, transaction: &Transaction) -> Self {
        Self {
            version: transaction.version,
            sender: hex::encode(&transaction.from),
            recipient: transaction.to.to_bech32m(params.address_prefix),
            amount: transaction.amount.0,
            fee: transaction.fee.0,
            nonce: transaction.nonce,
            timestamp: transaction.time,
            signature: hex::encode(&transaction.signature),
        }
    }
}

/// Parses an address of this network, as a 400 naming `field` on failure.
pub fn parse_address(
    params: &Params,
    text: &str,
    field: &'static str,
) -> Result<Address, ApiError> {
    Address::from_bech32m(text, params.address_prefix).map_err(|error| {
        ApiError::bad_request(
            "INVALID_ADDRESS",
            format!("{field} is not a valid {} address: {error}", params.name),
        )
        .with_field(field, error.to_string())
    })
}

fn parse_hex(text: &str, field: &'static str, max_len: usize) -> Result<Vec<u8>, ApiError> {
    if text.len() > max_len * 2 {
        return Err(
            ApiError::bad_request("INVALID_HEX", format!("{field} is too long"))
                .with_field(field, "too long"),
        );
    }
    hex::decode(text).map_err(|error| {
        ApiError::bad_request("INVALID_HEX", format!("{field} is not valid hex: {error}"))
            .with_field(field, error.to_string())
    })
}

impl SubmitTransaction {
    /// The consensus transaction, or a 400 for malformed fields.
    pub fn into_transaction(self, params: &Params) -> Result<Transaction, ApiError> {
        if self.version != Transaction::VERSION {
            return Err(ApiError::bad_request(
                "UNSUPPORTED_VERSION",
                format!("version {} is not supported", self.version),
            )
            .with_field("version", "must be 1"));
        }
        let from = parse_hex(&self.sender, "sender", MAX_PUBLIC_KEY_LEN)?;
        if from.is_empty() {
            return Err(ApiError::bad_request(
                "INVALID_SENDER",
                "sender is empty: a coinbase cannot be submitted",
            )
            .with_field("sender", "empty"));
        }
        // Decoded whatever its length (the body limit bounds it), so that a
        // signature of the wrong length is named as such.
        let signature = parse_hex(&self.signature, "signature", super::BODY_LIMIT)?;
        if signature.len() != SIGNATURE_LEN {
            return Err(ApiError::bad_request(
                "INVALID_SIGNATURE",
                format!("signature must be {SIGNATURE_LEN} bytes"),
            )
            .with_field("signature", format!("{} bytes", signature.len())));
        }
        Ok(Transaction {
            version: self.version,
            from,
            to: parse_address(params, &self.recipient, "recipient")?,
            amount: Amount(self.amount),
            fee: Amount(self.fee),
            nonce: self.nonce,
            time: self.timestamp,
            signature,
        })
    }
}

/// A transaction in answers.
#[derive(Debug, Serialize, Deserialize, Clone, PartialEq, ToSchema)]
#[schema(as = Transaction)]
pub struct TransactionJson {
    /// Its id: SHA-256 of the unsigned encoding, hex.
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    pub txid: Txid,
    /// Always 1.
    pub version: u32,
    /// Hex SPKI DER; "" for a coinbase.
    #[schema(pattern = "^([0-9a-f]{2})*$")]
    pub sender: String,
    /// bech32m; null for a coinbase.
    #[schema(required = true)]
    pub sender_address: Option<String>,
    /// bech32m.
    pub recipient: String,
    /// Base units.
    pub amount: u64,
    /// Base units.
    pub fee: u64,
    /// Nonce (block height in a coinbase).
    pub nonce: u64,
    /// Milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// Hex; "" for a coinbase.
    #[schema(pattern = "^([0-9a-f]{2})*$")]
    pub signature: String,
}

impl TransactionJson {
    /// From a consensus transaction.
    pub fn new(params: &Params, transaction: &Transaction) -> Self {
        Self {
            txid: transaction.txid(),
            version: transaction.version,
            sender: hex::encode(&transaction.from),
            sender_address: transaction
                .sender_address()
                .map(|address| address.to_bech32m(params.address_prefix)),
            recipient: transaction.to.to_bech32m(params.address_prefix),
            amount: transaction.amount.0,
            fee: transaction.fee.0,
            nonce: transaction.nonce,
            timestamp: transaction.time,
            signature: hex::encode(&transaction.signature),
        }
    }
}

/// Where a transaction is: in the mempool or in a best-chain block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TxState {
    /// In the mempool.
    Pending,
    /// In a best-chain block.
    Confirmed,
}

/// A 256-bit big-endian number as f64.
fn u256_to_f64(bytes: [u8; 32]) -> f64 {
    bytes
        .iter()
        .fold(0.0, |value, &byte| value * 256.0 + f64::from(byte))
}

/// Difficulty = pow_limit / target: 1 at the network's easiest target.
pub fn difficulty(params: &Params, bits: CompactBits) -> f64 {
    match bits.to_target_lenient() {
        Ok(target) => {
            u256_to_f64(params.pow_limit.to_be_bytes()) / u256_to_f64(target.to_be_bytes())
        }
        Err(_) => 0.0,
    }
}

/// A block in answers.
#[derive(Debug, Serialize, Deserialize, Clone, PartialEq, ToSchema)]
#[schema(as = Block)]
pub struct BlockJson {
    /// Height.
    pub index: u64,
    /// Header time (ms since the Unix epoch).
    pub timestamp: u64,
    /// Parent hash, hex (zeros for the genesis block).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub previous_hash: String,
    /// Block hash, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub hash: String,
    /// Nonce.
    pub nonce: u64,
    /// RFC 6962 root of the txids, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub merkle_root: String,
    /// State root after the block, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub state_root: String,
    /// Compact target.
    pub bits: u32,
    /// pow_limit / target: 1 at the network's easiest target.
    pub difficulty: f64,
    /// Cumulative work of the chain up to this block, 256-bit big-endian hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub chain_work: String,
    /// Encoded size in bytes.
    pub size: usize,
    /// Best-chain blocks on top of it, itself included (0 when off the best chain).
    pub confirmations: u64,
    /// Transactions in `transactions`, the coinbase included (the seed API's field).
    pub transactions_count: usize,
    /// Transactions, coinbase first.
    pub transactions: Vec<TransactionJson>,
}

impl BlockJson {
    /// From a block with its work and confirmations.
    pub fn new(params: &Params, block: &Block, chain_work: Work, confirmations: u64) -> Self {
        let header = &block.header;
        Self {
            index: header.height,
            timestamp: header.time,
            previous_hash: header.prev_hash.to_string(),
            hash: block.hash().to_string(),
            nonce: header.nonce,
            merkle_root: header.merkle_root.to_string(),
            state_root: header.state_root.to_string(),
            bits: header.bits.0,
            difficulty: difficulty(params, header.bits),
            chain_work: hex::encode(chain_work.to_be_bytes()),
            size: block.encoded_len(),
            confirmations,
            transactions_count: block.transactions.len(),
            transactions: block
                .transactions
                .iter()
                .map(|tx| TransactionJson::new(params, tx))
                .collect(),
        }
    }
}

/// A header in answers: fields and raw bytes.
#[derive(Debug, Serialize, Deserialize, Clone, PartialEq, ToSchema)]
#[schema(as = Header)]
pub struct HeaderJson {
    /// Height.
    pub index: u64,
    /// Hash, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub hash: String,
    /// Parent hash, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub previous_hash: String,
    /// Merkle root, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub merkle_root: String,
    /// State root, hex.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub state_root: String,
    /// Time (ms since the Unix epoch).
    pub timestamp: u64,
    /// Compact target.
    pub bits: u32,
    /// Nonce.
    pub nonce: u64,
    /// The 128 header bytes, hex.
    #[schema(pattern = "^[0-9a-f]{256}$")]
    pub raw: String,
}

impl HeaderJson {
    /// From a header.
    pub fn new(header: &Header) -> Self {
        Self {
            index: header.height,
            hash: header.hash().to_string(),
            previous_hash: header.prev_hash.to_string(),
            merkle_root: header.merkle_root.to_string(),
            state_root: header.state_root.to_string(),
            timestamp: header.time,
            bits: header.bits.0,
            nonce: header.nonce,
            raw: hex::encode(header.to_bytes()),
        }
    }
}
