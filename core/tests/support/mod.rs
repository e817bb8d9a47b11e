//! Fixtures: keys from the checked-in vectors, and a block builder.

use blockchain_core::crypto::SigningKey;
use blockchain_core::header::ParentInfo;
use blockchain_core::merkle::merkle_root;
use blockchain_core::params::{Params, REGTEST};
use blockchain_core::state::{StateTree, apply_transactions};
use blockchain_core::{Address, Amount, Block, Header, MerkleHash, Transaction};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::Value;
use std::sync::OnceLock;

/// A vector file from core/tests/data, compiled in (the same tests run in
/// a browser, which has no file system).
pub(crate) fn data(name: &str) -> Value {
    let text = match name {
        "addresses.json" => include_str!("../data/addresses.json"),
        "asert.json" => include_str!("../data/asert.json"),
        "chain_regtest.json" => include_str!("../data/chain_regtest.json"),
        "compact.json" => include_str!("../data/compact.json"),
        "headers.json" => include_str!("../data/headers.json"),
        "keystore.json" => include_str!("../data/keystore.json"),
        "merkle.json" => include_str!("../data/merkle.json"),
        "rsa.json" => include_str!("../data/rsa.json"),
        "state.json" => include_str!("../data/state.json"),
        other => panic!("no vector file {other}"),
    };
    serde_json::from_str(text).expect("vector files are JSON")
}

pub(crate) fn hex_bytes(value: &Value) -> Vec<u8> {
    hex::decode(value.as_str().expect("hex string")).expect("valid hex")
}

pub(crate) fn hex32(value: &Value) -> [u8; 32] {
    hex_bytes(value).try_into().expect("32 bytes")
}

pub(crate) fn u64_of(value: &Value) -> u64 {
    value.as_u64().expect("u64")
}

/// The three RSA-3072 keys of rsa.json (made by Python `cryptography`).
pub(crate) fn keys() -> &'static [SigningKey] {
    static KEYS: OnceLock<Vec<SigningKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        data("rsa.json")["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|key| {
                SigningKey::from_pkcs8_der(&hex_bytes(&key["pkcs8"]))
                    .expect("vector keys are valid")
            })
            .collect()
    })
}

pub(crate) fn address(key: usize) -> Address {
    keys()[key].public_key().address()
}

pub(crate) fn rng() -> StdRng {
    StdRng::seed_from_u64(2026)
}

/// A transaction signed for regtest.
pub(crate) fn signed(from: usize, to: Address, amount: u64, fee: u64, nonce: u64) -> Transaction {
    Transaction::new_signed(
        &REGTEST,
        &keys()[from],
        to,
        Amount(amount),
        Amount(fee),
        nonce,
        1_764_000_000_500,
        &mut rng(),
    )
    .expect("signing works")
}

/// A regtest chain being built in a test: its state and its tip.
pub(crate) struct Builder {
    pub(crate) params: &'static Params,
    pub(crate) state: StateTree,
    pub(crate) parent: ParentInfo,
    pub(crate) times: Vec<u64>,
}

impl Builder {
    pub(crate) fn new() -> Self {
        let genesis = REGTEST.genesis_header();
        Builder {
            params: &REGTEST,
            state: StateTree::new(),
            parent: ParentInfo {
                hash: genesis.hash(),
                height: 0,
                time: genesis.time,
                median_time_past: genesis.time,
                anchor_time: None,
            },
            times: vec![genesis.time],
        }
    }

    /// A valid, mined child of the tip paying reward + fees to `miner`
    /// (not connected: see [`Builder::advance`]).
    pub(crate) fn block(&self, miner: Address, transactions: Vec<Transaction>) -> Block {
        let height = self.parent.height + 1;
        let time = self.parent.time + 1000;
        let fees = transactions
            .iter()
            .fold(0u64, |sum, tx| sum.wrapping_add(tx.fee.0));
        let coinbase = Transaction::coinbase(
            miner,
            Amount(self.params.block_reward(height).0.wrapping_add(fees)),
            height,
            time,
        );
        let mut all = vec![coinbase];
        all.extend(transactions);
        let mut state = self.state.clone();
        let state_root = match apply_transactions(&mut state, &all) {
            Ok(_) => state.root(),
            Err(_) => MerkleHash::ZERO,
        };
        let txids: Vec<_> = all.iter().map(Transaction::txid).collect();
        let header = Header {
            version: 1,
            height,
            prev_hash: self.parent.hash,
            merkle_root: merkle_root(&txids),
            state_root,
            time,
            bits: self.params.genesis_bits,
            nonce: 0,
        };
        mine(Block {
            header,
            transactions: all,
        })
    }

    /// Records a connected block as the new tip.
    pub(crate) fn advance(&mut self, header: &Header) {
        self.times.push(header.time);
        let last: Vec<u64> = self.times.iter().rev().take(11).copied().collect();
        self.parent = ParentInfo {
            hash: header.hash(),
            height: header.height,
            time: header.time,
            median_time_past: blockchain_core::header::median_time_past(&last),
            anchor_time: self.parent.child_anchor_time(header.time),
        };
    }
}

/// Grinds the nonce until the header meets its own bits.
pub(crate) fn mine(mut block: Block) -> Block {
    let target = block.header.bits.to_target().expect("canonical bits");
    while !target.is_met_by(&block.header.hash().0) {
        block.header.nonce += 1;
    }
    block
}

/// Grinds the nonce until the header misses its bits.
pub(crate) fn unmine(mut block: Block) -> Block {
    let target = block.header.bits.to_target().expect("canonical bits");
    while target.is_met_by(&block.header.hash().0) {
        block.header.nonce += 1;
    }
    block
}
