//! `balance --verify`: the node is not trusted. Every best-chain header from
//! genesis is fetched and verified with the core's [`HeaderChain`] (proof of
//! work, ASERT difficulty, links, timestamps), then the node's state proof of
//! the account is checked against the state root of a header on that chain.

use blockchain_core::header_chain::HeaderChain;
use blockchain_core::light::check_account_proof;
use blockchain_core::state::StateProof;
use blockchain_core::{Address, BlockHash, Decode, Header, Params};

use super::client::NodeClient;
use crate::clock::now_ms;

/// Headers per request (the API's most).
const BATCH: u32 = 2000;

/// A balance proven against headers verified here.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct VerifiedBalance {
    /// Units.
    pub(super) balance: u64,
    /// Account nonce.
    pub(super) nonce: u64,
    /// Whether the account exists.
    pub(super) exists: bool,
    /// The proof's block.
    pub(super) height: u64,
    /// Its hash.
    pub(super) block_hash: BlockHash,
    /// Headers verified.
    pub(super) headers: u64,
}

/// The best chain of headers the node serves, each verified.
pub(super) fn verified_headers(
    client: &NodeClient,
    params: &'static Params,
) -> anyhow::Result<HeaderChain> {
    let mut chain = HeaderChain::new(params);
    loop {
        let from = chain.height() + 1;
        let answer = client.get(&format!("/headers?from={from}&count={BATCH}"))?;
        let headers = answer["headers"]
            .as_array()
            .ok_or_else(|| anyhow::anyhow!("the node's /headers answer has no headers"))?
            .iter()
            .map(|header| {
                let raw = header["raw"]
                    .as_str()
                    .ok_or_else(|| anyhow::anyhow!("a header without its raw bytes"))?;
                Ok(Header::decode(&hex::decode(raw)?)?)
            })
            .collect::<anyhow::Result<Vec<Header>>>()?;
        if headers.is_empty() {
            return Ok(chain);
        }
        let count = headers.len();
        chain
            .accept_headers(&headers, now_ms())
            .map_err(|error| anyhow::anyhow!("the node served an invalid header: {error}"))?;
        if count < BATCH as usize {
            return Ok(chain);
        }
    }
}

/// `address`'s account, proven against `chain`.
pub(super) fn verified_balance(
    client: &NodeClient,
    chain: &HeaderChain,
    address: &Address,
    text: &str,
) -> anyhow::Result<VerifiedBalance> {
    let answer = client.get(&format!("/wallet/{text}/proof"))?;
    let height = answer["block_height"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("the proof names no block height"))?;
    let header = chain.header_at(height).ok_or_else(|| {
        anyhow::anyhow!(
            "the proof is at height {height}, above the {} headers verified",
            chain.height()
        )
    })?;
    let named: BlockHash = answer["block_hash"]
        .as_str()
        .unwrap_or_default()
        .parse()
        .map_err(|_| anyhow::anyhow!("the proof's block hash is not 64 hex digits"))?;
    if named != header.hash() {
        anyhow::bail!("the proof is for block {named}, not the verified block at height {height}");
    }
    let proof = StateProof::decode(&hex::decode(answer["proof"].as_str().unwrap_or_default())?)?;
    let account = check_account_proof(header, &proof, address, |hash| chain.is_on_best_chain(hash))
        .map_err(|error| anyhow::anyhow!("the node's state proof does not verify: {error}"))?;
    Ok(VerifiedBalance {
        balance: account.map_or(0, |account| account.balance.0),
        nonce: account.map_or(0, |account| account.nonce),
        exists: account.is_some(),
        height,
        block_hash: named,
        headers: chain.height() + 1,
    })
}
