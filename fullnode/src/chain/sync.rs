//! What the chain answers to peers of the sync protocol
//! (docs/PROTOCOL.md, "Sync protocol"), read under the chain lock so every
//! answer is one consistent view of the best chain.

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

    /// Stored blocks among `hashes` (at most [`MAX_BLOCKS`]), in that order.
    pub async fn blocks_by_hash(&self, hashes: &[BlockHash]) -> Result<Vec<Block>, StorageError> {
        let mut blocks = Vec::new();
        for hash in hashes.iter().take(MAX_BLOCKS) {
            if let Some(stored) = self.storage.block_by_hash(hash).await? {
                blocks.push(stored.block);
            }
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
