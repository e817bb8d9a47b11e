//! The chain under database faults: a write (or read) that fails while a
//! block extends the tip, or in the middle of a reorganization, leaves the
//! chain in memory exactly as a restart would load it from the database —
//! the old tip, its state and its mempool — and the chain moves on once the
//! database works again.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use blockchain_core::state::{Account, BlockUndo, StateTree, apply_transactions};
use blockchain_core::{Address, Block, BlockHash, Header, Transaction, Txid, Work};

use super::{BlockOutcome, Chain, SubmitBlockError};
use crate::storage::{
    self, Backend, ChainUpdate, OutboxEntry, PendingWrite, Storage, StorageError, StoredBlock,
    StoredHeader, StoredPeer, StoredTransaction, StoredWebhook,
};
use crate::testing::TestDatabase;

const MEMPOOL_MAX: usize = 1_000;
const SPACING: u64 = 600_000;

/// A database call that can be made to fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Fault {
    StoreBlock,
    ApplyChainUpdate,
    BlockUndo,
}

/// The real database, with the calls in `failing` failing as a lost
/// connection would.
struct FaultyStorage {
    inner: Arc<dyn Storage>,
    failing: Mutex<HashSet<Fault>>,
}

impl FaultyStorage {
    fn set(&self, fault: Fault, failing: bool) {
        let mut set = self.failing.lock().expect("not poisoned");
        if failing {
            set.insert(fault);
        } else {
            set.remove(&fault);
        }
    }

    fn check(&self, fault: Fault) -> Result<(), StorageError> {
        if self.failing.lock().expect("not poisoned").contains(&fault) {
            return Err(StorageError::Database(sqlx::Error::PoolTimedOut));
        }
        Ok(())
    }
}

#[async_trait]
impl Storage for FaultyStorage {
    fn backend(&self) -> Backend {
        self.inner.backend()
    }
    async fn load_block_index(&self) -> Result<Vec<StoredHeader>, StorageError> {
        self.inner.load_block_index().await
    }
    async fn tip(&self) -> Result<Option<BlockHash>, StorageError> {
        self.inner.tip().await
    }
    async fn load_accounts(&self) -> Result<Vec<(Address, Account)>, StorageError> {
        self.inner.load_accounts().await
    }
    async fn load_mempool(&self) -> Result<Vec<(Transaction, u64)>, StorageError> {
        self.inner.load_mempool().await
    }
    async fn store_block(&self, block: &Block, chain_work: Work) -> Result<(), StorageError> {
        self.check(Fault::StoreBlock)?;
        self.inner.store_block(block, chain_work).await
    }
    async fn mark_invalid(&self, hash: &BlockHash) -> Result<(), StorageError> {
        self.inner.mark_invalid(hash).await
    }
    async fn apply_chain_update(&self, update: &ChainUpdate) -> Result<(), StorageError> {
        self.check(Fault::ApplyChainUpdate)?;
        self.inner.apply_chain_update(update).await
    }
    async fn add_pending(&self, writes: &[PendingWrite]) -> Result<(), StorageError> {
        self.inner.add_pending(writes).await
    }
    async fn block_by_height(&self, height: u64) -> Result<Option<StoredBlock>, StorageError> {
        self.inner.block_by_height(height).await
    }
    async fn block_by_hash(&self, hash: &BlockHash) -> Result<Option<StoredBlock>, StorageError> {
        self.inner.block_by_hash(hash).await
    }
    async fn latest_blocks(
        &self,
        limit: u32,
        max_bytes: usize,
    ) -> Result<Vec<StoredBlock>, StorageError> {
        self.inner.latest_blocks(limit, max_bytes).await
    }
    async fn headers(&self, from: u64, count: u32) -> Result<Vec<Header>, StorageError> {
        self.inner.headers(from, count).await
    }
    async fn block_undo(&self, hash: &BlockHash) -> Result<Option<BlockUndo>, StorageError> {
        self.check(Fault::BlockUndo)?;
        self.inner.block_undo(hash).await
    }
    async fn transaction(&self, txid: &Txid) -> Result<Option<StoredTransaction>, StorageError> {
        self.inner.transaction(txid).await
    }
    async fn address_transactions(
        &self,
        address: &Address,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<StoredTransaction>, StorageError> {
        self.inner
            .address_transactions(address, limit, offset)
            .await
    }
    async fn address_transaction_count(&self, address: &Address) -> Result<u64, StorageError> {
        self.inner.address_transaction_count(address).await
    }
    async fn save_wallet(
        &self,
        address: &Address,
        keystore_json: &str,
        created_ms: u64,
    ) -> Result<(), StorageError> {
        self.inner
            .save_wallet(address, keystore_json, created_ms)
            .await
    }
    async fn wallet(&self, address: &Address) -> Result<Option<String>, StorageError> {
        self.inner.wallet(address).await
    }
    async fn save_peer(&self, peer: &StoredPeer) -> Result<(), StorageError> {
        self.inner.save_peer(peer).await
    }
    async fn peers(&self, limit: u32) -> Result<Vec<StoredPeer>, StorageError> {
        self.inner.peers(limit).await
    }
    async fn add_webhook(&self, webhook: &StoredWebhook) -> Result<(), StorageError> {
        self.inner.add_webhook(webhook).await
    }
    async fn webhooks(&self) -> Result<Vec<StoredWebhook>, StorageError> {
        self.inner.webhooks().await
    }
    async fn delete_webhook(&self, id: &str) -> Result<bool, StorageError> {
        self.inner.delete_webhook(id).await
    }
    async fn add_outbox(&self, entries: &[OutboxEntry]) -> Result<(), StorageError> {
        self.inner.add_outbox(entries).await
    }
    async fn remove_outbox(&self, webhook_id: &str, delivery_id: &str) -> Result<(), StorageError> {
        self.inner.remove_outbox(webhook_id, delivery_id).await
    }
    async fn outbox(&self) -> Result<Vec<OutboxEntry>, StorageError> {
        self.inner.outbox().await
    }
    async fn close(&self) {
        self.inner.close().await;
    }
}

/// A chain on `database` behind a [`FaultyStorage`] (no fault yet).
async fn faulty_chain(database: &TestDatabase) -> (Arc<Chain>, Arc<FaultyStorage>) {
    let storage = Arc::new(FaultyStorage {
        inner: storage::open(database.url())
            .await
            .expect("the database opens"),
        failing: Mutex::new(HashSet::new()),
    });
    let dyn_storage: Arc<dyn Storage> = Arc::clone(&storage) as Arc<dyn Storage>;
    let chain = Chain::open(&blockchain_core::params::REGTEST, dyn_storage, MEMPOOL_MAX)
        .await
        .expect("the chain opens");
    (chain, storage)
}

/// Mines a block at `time` on the known block `parent`, whose account state
/// is `state` (advanced past the new block).
async fn mine(chain: &Chain, parent: &BlockHash, state: &mut StateTree, time: u64) -> Block {
    let block = super::tests::mine_unsubmitted(chain, parent, state, time).await;
    apply_transactions(state, &block.transactions).expect("a template applies");
    block
}

/// What the chain holds in memory that a restart rebuilds from the
/// database: tip, height, state root, accounts and pending transactions.
async fn memory(chain: &Chain) -> (BlockHash, u64, String, Vec<String>, Vec<Txid>) {
    let mut inner = chain.inner.lock().await;
    let tip = inner.index.tip().hash;
    let height = inner.index.height();
    let root = format!("{:?}", inner.state.root());
    let accounts = inner
        .state
        .accounts()
        .iter()
        .map(|(address, account)| format!("{address:?} {account:?}"))
        .collect();
    let pending = inner.mempool.by_fee_descending().map(|p| p.txid).collect();
    (tip, height, root, accounts, pending)
}

/// The chain in memory is the chain a restart loads from `database`.
async fn assert_matches_database(chain: &Chain, database: &TestDatabase) {
    let restarted = Chain::open(
        &blockchain_core::params::REGTEST,
        storage::open(database.url())
            .await
            .expect("the database opens"),
        MEMPOOL_MAX,
    )
    .await
    .expect("the stored chain opens");
    assert_eq!(memory(chain).await, memory(&restarted).await);
    assert_eq!(chain.status().hash, restarted.status().hash);
}

fn is_storage_error(result: &Result<BlockOutcome, SubmitBlockError>) -> bool {
    matches!(result, Err(SubmitBlockError::Storage(_)))
}

#[tokio::test]
async fn a_failed_commit_on_the_tip_changes_nothing_in_memory() {
    let database = TestDatabase::sqlite();
    let (chain, storage) = faulty_chain(&database).await;
    let params = chain.params;
    let genesis = params.genesis_hash();
    let mut state = StateTree::new();
    let t = params.genesis_time_ms + SPACING;
    let one = mine(&chain, &genesis, &mut state, t).await;
    chain.submit_block(one.clone(), t).await.expect("block 1");
    let before = memory(&chain).await;

    let mut next_state = state.clone();
    let two = mine(&chain, &one.hash(), &mut next_state, t + SPACING).await;
    storage.set(Fault::ApplyChainUpdate, true);
    let refused = chain.submit_block(two.clone(), t + SPACING).await;
    assert!(is_storage_error(&refused), "{refused:?}");
    assert_eq!(
        memory(&chain).await,
        before,
        "state, tip and mempool as before"
    );
    assert_eq!(chain.status().hash, one.hash());
    assert_matches_database(&chain, &database).await;

    // The block was stored before the commit failed: the next block on it
    // connects both once the database works again.
    storage.set(Fault::ApplyChainUpdate, false);
    let three = mine(&chain, &two.hash(), &mut next_state, t + 2 * SPACING).await;
    assert_eq!(
        chain
            .submit_block(three.clone(), t + 2 * SPACING)
            .await
            .expect("connects"),
        BlockOutcome::NewTip
    );
    assert_eq!(chain.status().hash, three.hash());
    assert_eq!(chain.status().header.height, 3);
    assert_matches_database(&chain, &database).await;
}

#[tokio::test]
async fn a_failed_store_leaves_no_trace() {
    let database = TestDatabase::sqlite();
    let (chain, storage) = faulty_chain(&database).await;
    let params = chain.params;
    let t = params.genesis_time_ms + SPACING;
    let mut state = StateTree::new();
    let one = mine(&chain, &params.genesis_hash(), &mut state, t).await;
    let before = memory(&chain).await;
    storage.set(Fault::StoreBlock, true);
    assert!(is_storage_error(&chain.submit_block(one.clone(), t).await));
    assert_eq!(memory(&chain).await, before);
    assert!(
        chain.inner.lock().await.index.get(&one.hash()).is_none(),
        "not indexed: it is not stored"
    );
    storage.set(Fault::StoreBlock, false);
    assert_eq!(
        chain.submit_block(one.clone(), t).await.expect("accepted"),
        BlockOutcome::NewTip
    );
    assert_matches_database(&chain, &database).await;
}

/// A branch of `count` blocks from `parent` (state `state`), each submitted
/// at its own time; returns the blocks.
async fn branch(
    chain: &Chain,
    parent: BlockHash,
    state: &mut StateTree,
    start: u64,
    count: u64,
) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut parent = parent;
    for i in 0..count {
        let time = start + i * SPACING;
        let block = mine(chain, &parent, state, time).await;
        chain
            .submit_block(block.clone(), time)
            .await
            .expect("accepted");
        parent = block.hash();
        blocks.push(block);
    }
    blocks
}

#[tokio::test]
async fn a_reorg_that_cannot_commit_or_read_its_undo_data_keeps_the_old_chain() {
    let database = TestDatabase::sqlite();
    let (chain, storage) = faulty_chain(&database).await;
    let params = chain.params;
    let genesis = params.genesis_hash();
    let t = params.genesis_time_ms + SPACING;
    // The best chain: 2 blocks. A side branch of 2 blocks (a different
    // schedule, so different blocks) waits at the same work.
    let best = branch(&chain, genesis, &mut StateTree::new(), t, 2).await;
    let mut side_state = StateTree::new();
    let side = branch(&chain, genesis, &mut side_state, t + 7, 2).await;
    assert_eq!(chain.status().hash, best[1].hash());
    let before = memory(&chain).await;

    // Its third block has more work: a reorg, whose commit fails.
    let side_tip = side[1].hash();
    let mut after_state = side_state.clone();
    let third = mine(&chain, &side_tip, &mut after_state, t + 7 + 2 * SPACING).await;
    storage.set(Fault::ApplyChainUpdate, true);
    let refused = chain.submit_block(third.clone(), t + 3 * SPACING).await;
    assert!(is_storage_error(&refused), "{refused:?}");
    assert_eq!(memory(&chain).await, before, "the old chain, untouched");
    assert_matches_database(&chain, &database).await;

    // A fourth, while undo records cannot be read: refused before any
    // change, the old chain still in place.
    storage.set(Fault::ApplyChainUpdate, false);
    storage.set(Fault::BlockUndo, true);
    let fourth = mine(&chain, &third.hash(), &mut after_state, t + 7 + 3 * SPACING).await;
    let refused = chain.submit_block(fourth.clone(), t + 4 * SPACING).await;
    assert!(is_storage_error(&refused), "{refused:?}");
    assert_eq!(memory(&chain).await, before);
    assert_matches_database(&chain, &database).await;

    // The database is back: the next block moves the chain to the branch.
    storage.set(Fault::BlockUndo, false);
    let fifth = mine(
        &chain,
        &fourth.hash(),
        &mut after_state,
        t + 7 + 4 * SPACING,
    )
    .await;
    assert_eq!(
        chain
            .submit_block(fifth.clone(), t + 5 * SPACING)
            .await
            .expect("reorg"),
        BlockOutcome::NewTip
    );
    assert_eq!(chain.status().hash, fifth.hash());
    assert_eq!(chain.status().header.height, 5);
    let mut expected = after_state;
    assert_eq!(
        format!("{:?}", chain.inner.lock().await.state.root()),
        format!("{:?}", expected.root())
    );
    assert_matches_database(&chain, &database).await;
}
