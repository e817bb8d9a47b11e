//! [`TimedStorage`]: a [`Storage`] that times every operation of the one it
//! wraps, for the `blockchain_db_*` metrics.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use blockchain_core::state::{Account, BlockUndo};
use blockchain_core::{Address, Block, BlockHash, Header, Transaction, Txid, Work};

use super::Metrics;
use crate::storage::{
    Backend, ChainUpdate, OutboxEntry, PendingWrite, Storage, StorageError, StoredBlock,
    StoredHeader, StoredPeer, StoredTransaction, StoredWebhook,
};

/// Times every database operation of `S` into [`Metrics::observe_database`],
/// labelled with the trait method's name.
pub struct TimedStorage<S: ?Sized> {
    inner: Arc<S>,
    metrics: Arc<Metrics>,
}

impl<S: Storage + ?Sized> TimedStorage<S> {
    /// Wraps `inner`.
    pub fn new(inner: Arc<S>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    async fn timed<T>(
        &self,
        operation: &'static str,
        call: impl Future<Output = Result<T, StorageError>>,
    ) -> Result<T, StorageError> {
        let started = Instant::now();
        let result = call.await;
        self.metrics
            .observe_database(operation, started.elapsed(), result.is_ok());
        result
    }
}

impl<S: Storage + ?Sized> std::fmt::Debug for TimedStorage<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimedStorage")
            .field("backend", &self.inner.backend())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl<S: Storage + ?Sized> Storage for TimedStorage<S> {
    fn backend(&self) -> Backend {
        self.inner.backend()
    }

    async fn load_block_index(&self) -> Result<Vec<StoredHeader>, StorageError> {
        self.timed("load_block_index", self.inner.load_block_index())
            .await
    }

    async fn tip(&self) -> Result<Option<BlockHash>, StorageError> {
        self.timed("tip", self.inner.tip()).await
    }

    async fn load_accounts(&self) -> Result<Vec<(Address, Account)>, StorageError> {
        self.timed("load_accounts", self.inner.load_accounts())
            .await
    }

    async fn load_mempool(&self) -> Result<Vec<(Transaction, u64)>, StorageError> {
        self.timed("load_mempool", self.inner.load_mempool()).await
    }

    async fn store_block(&self, block: &Block, chain_work: Work) -> Result<(), StorageError> {
        self.timed("store_block", self.inner.store_block(block, chain_work))
            .await
    }

    async fn mark_invalid(&self, hash: &BlockHash) -> Result<(), StorageError> {
        self.timed("mark_invalid", self.inner.mark_invalid(hash))
            .await
    }

    async fn apply_chain_update(&self, update: &ChainUpdate) -> Result<(), StorageError> {
        self.timed("apply_chain_update", self.inner.apply_chain_update(update))
            .await
    }

    async fn add_pending(&self, writes: &[PendingWrite]) -> Result<(), StorageError> {
        self.timed("add_pending", self.inner.add_pending(writes))
            .await
    }

    async fn block_by_height(&self, height: u64) -> Result<Option<StoredBlock>, StorageError> {
        self.timed("block_by_height", self.inner.block_by_height(height))
            .await
    }

    async fn block_by_hash(&self, hash: &BlockHash) -> Result<Option<StoredBlock>, StorageError> {
        self.timed("block_by_hash", self.inner.block_by_hash(hash))
            .await
    }

    async fn latest_blocks(
        &self,
        limit: u32,
        max_bytes: usize,
    ) -> Result<Vec<StoredBlock>, StorageError> {
        self.timed("latest_blocks", self.inner.latest_blocks(limit, max_bytes))
            .await
    }

    async fn headers(&self, from: u64, count: u32) -> Result<Vec<Header>, StorageError> {
        self.timed("headers", self.inner.headers(from, count)).await
    }

    async fn block_undo(&self, hash: &BlockHash) -> Result<Option<BlockUndo>, StorageError> {
        self.timed("block_undo", self.inner.block_undo(hash)).await
    }

    async fn transaction(&self, txid: &Txid) -> Result<Option<StoredTransaction>, StorageError> {
        self.timed("transaction", self.inner.transaction(txid))
            .await
    }

    async fn address_transactions(
        &self,
        address: &Address,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<StoredTransaction>, StorageError> {
        self.timed(
            "address_transactions",
            self.inner.address_transactions(address, limit, offset),
        )
        .await
    }

    async fn address_transaction_count(&self, address: &Address) -> Result<u64, StorageError> {
        self.timed(
            "address_transaction_count",
            self.inner.address_transaction_count(address),
        )
        .await
    }

    async fn save_wallet(
        &self,
        address: &Address,
        keystore_json: &str,
        created_ms: u64,
    ) -> Result<(), StorageError> {
        self.timed(
            "save_wallet",
            self.inner.save_wallet(address, keystore_json, created_ms),
        )
        .await
    }

    async fn wallet(&self, address: &Address) -> Result<Option<String>, StorageError> {
        self.timed("wallet", self.inner.wallet(address)).await
    }

    async fn save_peer(&self, peer: &StoredPeer) -> Result<(), StorageError> {
        self.timed("save_peer", self.inner.save_peer(peer)).await
    }

    async fn peers(&self, limit: u32) -> Result<Vec<StoredPeer>, StorageError> {
        self.timed("peers", self.inner.peers(limit)).await
    }

    async fn add_webhook(&self, webhook: &StoredWebhook) -> Result<(), StorageError> {
        self.timed("add_webhook", self.inner.add_webhook(webhook))
            .await
    }

    async fn webhooks(&self) -> Result<Vec<StoredWebhook>, StorageError> {
        self.timed("webhooks", self.inner.webhooks()).await
    }

    async fn delete_webhook(&self, id: &str) -> Result<bool, StorageError> {
        self.timed("delete_webhook", self.inner.delete_webhook(id))
            .await
    }

    async fn add_outbox(&self, entries: &[OutboxEntry]) -> Result<(), StorageError> {
        self.timed("add_outbox", self.inner.add_outbox(entries))
            .await
    }

    async fn remove_outbox(&self, webhook_id: &str, delivery_id: &str) -> Result<(), StorageError> {
        self.timed(
            "remove_outbox",
            self.inner.remove_outbox(webhook_id, delivery_id),
        )
        .await
    }

    async fn outbox(&self) -> Result<Vec<OutboxEntry>, StorageError> {
        self.timed("outbox", self.inner.outbox()).await
    }

    // Not timed: closing happens once, at shutdown, after the last scrape.
    async fn close(&self) {
        self.inner.close().await;
    }
}
