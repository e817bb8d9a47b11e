//! The REST API's JSON shapes (DESIGN §3 and §4 field names), as the light
//! client returns them to JS, with the `verified` marks of DESIGN §5.

use blockchain_core::{Block, Header, Params, Transaction, Work};
use serde::Serialize;

/// A transaction: what POST /transactions takes, plus `txid` and `sender_address`.
#[derive(Debug, Serialize)]
pub(crate) struct TransactionJson {
    pub(crate) txid: String,
    pub(crate) version: u32,
    /// Hex SPKI DER; "" for a coinbase.
    pub(crate) sender: String,
    /// bech32m; null for a coinbase.
    pub(crate) sender_address: Option<String>,
    pub(crate) recipient: String,
    pub(crate) amount: u64,
    pub(crate) fee: u64,
    pub(crate) nonce: u64,
    pub(crate) timestamp: u64,
    /// Hex; "" for a coinbase.
    pub(crate) signature: String,
}

impl TransactionJson {
    pub(crate) fn new(params: &Params, tx: &Transaction) -> Self {
        Self {
            txid: tx.txid().to_string(),
            version: tx.version,
            sender: hex::encode(&tx.from),
            sender_address: tx
                .sender_address()
                .map(|address| address.to_bech32m(params.address_prefix)),
            recipient: tx.to.to_bech32m(params.address_prefix),
            amount: tx.amount.to_units(),
            fee: tx.fee.to_units(),
            nonce: tx.nonce,
            timestamp: tx.time,
            signature: hex::encode(&tx.signature),
        }
    }
}

/// A header: fields and raw bytes, as GET /headers.
#[derive(Debug, Serialize)]
pub(crate) struct HeaderJson {
    pub(crate) index: u64,
    pub(crate) hash: String,
    pub(crate) previous_hash: String,
    pub(crate) merkle_root: String,
    pub(crate) state_root: String,
    pub(crate) timestamp: u64,
    pub(crate) bits: u32,
    pub(crate) difficulty: f64,
    pub(crate) nonce: u64,
    pub(crate) raw: String,
    /// In the page's proof-of-work-verified header chain.
    pub(crate) verified: bool,
}

impl HeaderJson {
    pub(crate) fn new(params: &Params, header: &Header) -> Self {
        use blockchain_core::Encode as _;
        Self {
            index: header.height,
            hash: header.hash().to_string(),
            previous_hash: header.prev_hash.to_string(),
            merkle_root: header.merkle_root.to_string(),
            state_root: header.state_root.to_string(),
            timestamp: header.time,
            bits: header.bits.0,
            difficulty: header.bits.difficulty(params.pow_limit),
            nonce: header.nonce,
            raw: hex::encode(header.encode()),
            verified: true,
        }
    }
}

/// A block, as GET /blocks/{height}, with what the page checked.
#[derive(Debug, Serialize)]
pub(crate) struct BlockJson {
    pub(crate) index: u64,
    pub(crate) timestamp: u64,
    pub(crate) previous_hash: String,
    pub(crate) hash: String,
    pub(crate) nonce: u64,
    pub(crate) merkle_root: String,
    pub(crate) state_root: String,
    pub(crate) bits: u32,
    pub(crate) difficulty: f64,
    pub(crate) chain_work: String,
    pub(crate) size: usize,
    pub(crate) confirmations: u64,
    pub(crate) transactions: Vec<TransactionJson>,
    /// Header in the verified chain, body matching its merkle root, every
    /// signature checked.
    pub(crate) verified: bool,
}

impl BlockJson {
    pub(crate) fn new(
        params: &Params,
        block: &Block,
        chain_work: Work,
        confirmations: u64,
    ) -> Self {
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
            difficulty: header.bits.difficulty(params.pow_limit),
            chain_work: hex::encode(chain_work.to_be_bytes()),
            size: block.encoded_len(),
            confirmations,
            transactions: block
                .transactions
                .iter()
                .map(|tx| TransactionJson::new(params, tx))
                .collect(),
            verified: true,
        }
    }
}

/// The verified tip, as `LightClient.tip()` returns it.
#[derive(Debug, Serialize)]
pub(crate) struct TipJson {
    pub(crate) height: u64,
    pub(crate) hash: String,
    pub(crate) time: u64,
    pub(crate) bits: u32,
    #[serde(rename = "chainWork")]
    pub(crate) chain_work: String,
}
