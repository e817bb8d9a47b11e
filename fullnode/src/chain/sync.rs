//! What the chain answers to peers of the sync protocol
//! (docs/PROTOCOL.md, "Sync protocol"), read under the chain lock so every
//! answer is one consistent view of the best chain.

use std::collections::HashSet;

use blockchain_core::merkle::MerkleProof;
use blockchain_core::sync_message::{MAX_BLOCKS, MAX_HEADERS, TransactionProof};
use blockchain_core::{Block, BlockHash, Header, Txid};

use super::Chain;
use crate::storage::StorageError;

impl Chain {
    /// Best-chain headers after the first hash of `locator` that is on the
    /// best chain (after genesis when none is), at most `max`.
    pub async fn headers_after_locator(&self, locator: &[BlockHash], max: usize) -> Vec<Header> {
        let inner = self.inner.lock().await;
        let index = &inner.index;
        let start = locator
            .iter()
            .filter_map(|hash| index.get(hash))
            .find(|entry| index.hash_at(entry.header.height) == Some(entry.hash))
            .map_or(0, |entry| entry.header.height);
        let end = index
            .height()
            .min(start.saturating_add(max.min(MAX_HEADERS) as u64));
        ((start + 1)..=end)
            .filter_map(|height| index.hash_at(height))
            .filter_map(|hash| index.get(&hash))
            .map(|entry| entry.header)
            .collect()
    }

    /// Whether a block is stored (valid or not, on any branch).
    pub async fn knows_block(&self, hash: &BlockHash) -> bool {
        self.inner.lock().await.index.contains(hash)
    }

    /// The best-chain blocks among `hashes` (valid: side-branch and
    /// invalid blocks are never served), each once, in the order asked, the
    /// first [`MAX_BLOCKS`] hashes at most, while their encodings fit in
    /// `max_bytes` in all: a small request cannot make a large answer.
    pub async fn best_chain_blocks(
        &self,
        hashes: &[BlockHash],
        max_bytes: usize,
    ) -> Result<Vec<Block>, StorageError> {
        let wanted: Vec<BlockHash> = {
            let inner = self.inner.lock().await;
            let index = &inner.index;
            let mut seen = HashSet::new();
            hashes
                .iter()
                .take(MAX_BLOCKS)
                .filter(|hash| seen.insert(**hash))
                .filter(|hash| {
                    index
                        .get(hash)
                        .is_some_and(|entry| index.hash_at(entry.header.height) == Some(**hash))
                })
                .copied()
                .collect()
        };
        let mut blocks = Vec::new();
        let mut bytes = 0usize;
        for hash in &wanted {
            let Some(stored) = self.storage.block_by_hash(hash).await? else {
                continue;
            };
            // Read after the lock: skip what a reorg took off the best chain since.
            if !stored.on_main {
                continue;
            }
            bytes += stored.block.encoded_len();
            if bytes > max_bytes {
                break;
            }
            blocks.push(stored.block);
        }
        Ok(blocks)
    }

    /// A confirmed transaction with its inclusion proof in its best-chain block.
    pub async fn transaction_proof(
        &self,
        txid: &Txid,
    ) -> Result<Option<TransactionProof>, StorageError> {
        let Some(stored) = self.storage.transaction(txid).await? else {
            return Ok(None);
        };
        let Some(block) = self.storage.block_by_hash(&stored.block_hash).await? else {
            return Ok(None);
        };
        if !block.on_main {
            return Ok(None);
        }
        let proof = MerkleProof::new(&block.block.txids(), stored.position as usize);
        Ok(proof.map(|proof| TransactionProof {
            transaction: stored.transaction,
            header: block.block.header,
            proof,
        }))
    }
}
