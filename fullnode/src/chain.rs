//! The chain-state owner: the one place that changes the best chain, the
//! account state and the mempool. The miner, the REST API and (later) the
//! network all go through [`Chain`]; it announces changes on a broadcast
//! channel of [`ChainEvent`]s.
//!
//! A change of the best chain is written to storage in one transaction
//! before it becomes visible in memory. An accepted transaction is in the
//! mempool at once, but its submitter is answered only after it is stored
//! (see `group_commit`). Either way, what a client was told is what a
//! restart finds.

#[cfg(test)]
mod fault_tests;
mod group_commit;
pub mod index;
mod reorg;
mod sync;
mod template;
#[cfg(test)]
mod tests;
pub mod verify;

use std::sync::Arc;

use blockchain_core::crypto::RingVerifier;
use blockchain_core::difficulty::next_bits;
use blockchain_core::header::{check_header, check_header_time_against_clock};
use blockchain_core::state::{Account, StateProof, StateTree};
use blockchain_core::transaction::TxError;
use blockchain_core::validation::{BlockError, CheckedBlock};
use blockchain_core::{
    Address, Block, BlockHash, CompactBits, Header, Params, Transaction, Txid, Work,
};
use tokio::sync::{Mutex, broadcast, mpsc, oneshot, watch};

use crate::mempool::{Mempool, MempoolError, MempoolPolicy, PendingTransaction};
use crate::storage::{PendingWrite, Storage, StorageError};
use group_commit::{QueuedWrite, Waiter};
use index::BlockIndex;

pub use template::{Template, block_template};

/// Something that changed, for subscribers (API events, network, miner).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainEvent {
    /// The best tip moved forward.
    NewTip { hash: BlockHash, height: u64 },
    /// The best chain switched branches.
    Reorg {
        old_tip: BlockHash,
        new_tip: BlockHash,
        fork_height: u64,
        height: u64,
    },
    /// A transaction entered the mempool.
    NewTransaction { txid: Txid },
}

/// The best tip, cheap to read without the lock.
#[derive(Clone, Debug)]
pub struct TipStatus {
    /// Tip header.
    pub header: Header,
    /// Tip hash.
    pub hash: BlockHash,
    /// Cumulative work.
    pub chain_work: Work,
    /// The bits the next block on this tip must carry.
    pub next_bits: CompactBits,
    /// Mean seconds between the last (up to) 100 mined blocks; genesis is
    /// left out (its time is fixed by the network's definition, often long
    /// before the first block), so 0 below height 2.
    pub average_block_time: f64,
    /// Pending transactions.
    pub mempool_size: usize,
    /// Their total size in bytes.
    pub mempool_bytes: usize,
}

/// Blocks over which the average block time is taken.
const AVERAGE_SPAN: u64 = 100;

fn tip_status(params: &Params, index: &BlockIndex, mempool: &Mempool) -> TipStatus {
    let tip = index.tip();
    let span = tip.header.height.saturating_sub(1).min(AVERAGE_SPAN);
    let first_time = index
        .hash_at(tip.header.height - span)
        .and_then(|hash| index.get(&hash))
        .map(|entry| entry.header.time);
    let average_block_time = match first_time {
        Some(first) if span > 0 => {
            tip.header.time.saturating_sub(first) as f64 / 1000.0 / span as f64
        }
        _ => 0.0,
    };
    TipStatus {
        header: tip.header,
        hash: tip.hash,
        chain_work: tip.chain_work,
        next_bits: next_bits(params, &tip.as_parent()),
        average_block_time,
        mempool_size: mempool.len(),
        mempool_bytes: mempool.bytes(),
    }
}

/// Why a block was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitBlockError {
    /// Already known.
    #[error("block {0} is already known")]
    Duplicate(BlockHash),
    /// Its parent is not known.
    #[error("parent {0} is not known")]
    UnknownParent(BlockHash),
    /// Unrequested, and its branch has no more work than the tip: not stored.
    #[error("block {0} was not asked for and does not add work to the best chain")]
    NotBetter(BlockHash),
    /// Its parent failed validation.
    #[error("parent {0} is invalid")]
    InvalidParent(BlockHash),
    /// Its time is too far ahead of our clock: not invalid (the sender's
    /// clock may run ahead of ours), acceptable later.
    #[error("block time {time} is more than the allowed drift ahead of the local clock")]
    TooFarInFuture {
        /// The block's time (ms).
        time: u64,
    },
    /// It breaks a rule.
    #[error("invalid block: {0}")]
    Invalid(#[from] BlockError),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// How a block reached the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    /// Asked for: by the sync (along the most-work header chain), or made
    /// here (the miner, tests).
    Requested,
    /// Not asked for (gossip): stored only when its branch has more work
    /// than the tip, so cheap side branches never reach the disk (as in
    /// Bitcoin Core, unrequested blocks that do not extend the most-work
    /// chain are not processed).
    Unrequested,
}

/// The checks of a new block against its stored parent (cheap: no body):
/// not stored yet, parent stored and not invalid, the header rules (height,
/// time after the median, bits = the ASERT result for the parent, proof of
/// work), and for an unrequested block more work than the tip. Returns the
/// block's cumulative work.
pub(crate) fn check_against_parent(
    params: &Params,
    index: &BlockIndex,
    header: &Header,
    hash: &BlockHash,
    arrival: Arrival,
) -> Result<Work, SubmitBlockError> {
    if index.contains(hash) {
        return Err(SubmitBlockError::Duplicate(*hash));
    }
    let parent = index
        .get(&header.prev_hash)
        .ok_or(SubmitBlockError::UnknownParent(header.prev_hash))?;
    if parent.invalid {
        return Err(SubmitBlockError::InvalidParent(header.prev_hash));
    }
    let target =
        check_header(params, header, hash, &parent.as_parent()).map_err(BlockError::Header)?;
    let chain_work = parent.chain_work.saturating_add(target.work());
    if arrival == Arrival::Unrequested && chain_work <= index.tip().chain_work {
        return Err(SubmitBlockError::NotBetter(*hash));
    }
    Ok(chain_work)
}

/// Why a transaction was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitTxError {
    /// It breaks a context-free rule (key, amount, signature).
    #[error("invalid transaction: {0}")]
    Invalid(#[from] TxError),
    /// The state or the mempool refuses it.
    #[error(transparent)]
    Rejected(#[from] MempoolError),
    /// The database failed (for a transaction admitted into the mempool:
    /// [`StorageError::BatchFailed`], and it left the mempool again).
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// An error opening the chain from storage.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Stored data contradicts itself.
    #[error("stored chain is inconsistent: {0}")]
    Inconsistent(String),
}

/// What happened to an accepted block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockOutcome {
    /// It is the new tip.
    NewTip,
    /// Stored on a side branch with less work.
    SideBranch,
}

pub(crate) struct ChainState {
    pub(crate) index: BlockIndex,
    pub(crate) state: StateTree,
    pub(crate) mempool: Mempool,
}

/// The chain-state owner.
pub struct Chain {
    params: &'static Params,
    storage: Arc<dyn Storage>,
    inner: Mutex<ChainState>,
    events: broadcast::Sender<ChainEvent>,
    status: watch::Sender<TipStatus>,
    /// Admitted transactions on their way to storage (see `group_commit`).
    pending_writes: mpsc::Sender<QueuedWrite>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("network", &self.params.name)
            .finish_non_exhaustive()
    }
}

/// Account view for the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountView {
    /// Confirmed state (None: the account does not exist).
    pub account: Option<Account>,
    /// Amount + fee of pending outgoing transactions.
    pub pending_out: u128,
    /// Amount of pending incoming transactions.
    pub pending_in: u128,
    /// The nonce the next transaction must carry.
    pub next_nonce: u64,
}

impl Chain {
    /// Loads the chain from storage and checks it: the block index links up,
    /// the tip is known, the accounts hash to the tip's state root; pending
    /// transactions are re-validated. The mempool holds at most
    /// `mempool_max` transactions and asks for no minimum relay fee (tests,
    /// tools); the node opens it with [`Chain::open_with`].
    pub async fn open(
        params: &'static Params,
        storage: Arc<dyn Storage>,
        mempool_max: usize,
    ) -> Result<Arc<Chain>, OpenError> {
        let policy = MempoolPolicy {
            max_transactions: mempool_max,
            min_relay_fee: 0,
        };
        Self::open_with(params, storage, policy).await
    }

    /// [`Chain::open`] with a mempool that admits what `policy` allows
    /// (pending transactions that no longer do are dropped).
    pub async fn open_with(
        params: &'static Params,
        storage: Arc<dyn Storage>,
        policy: MempoolPolicy,
    ) -> Result<Arc<Chain>, OpenError> {
        let genesis = params.genesis_header();
        if storage.tip().await?.is_none() {
            // A new database: genesis becomes the stored tip, so the API serves it like any block.
            let block = params.genesis_block();
            let hash = block.hash();
            let work = params
                .genesis_bits
                .to_target()
                .map(|target| target.work())
                .unwrap_or_default();
            storage.store_block(&block, work).await?;
            let connected = crate::storage::ConnectedBlock {
                hash,
                height: 0,
                undo: Default::default(),
                transactions: Vec::new(),
            };
            storage
                .apply_chain_update(&crate::storage::ChainUpdate {
                    connected: vec![connected],
                    new_tip: hash,
                    ..Default::default()
                })
                .await?;
        }
        let mut index = BlockIndex::new(genesis);
        for stored in storage.load_block_index().await? {
            if stored.header.height == 0 {
                if stored.header != genesis {
                    return Err(OpenError::Inconsistent(
                        "stored genesis is not this network's genesis".into(),
                    ));
                }
                continue;
            }
            if !index.contains(&stored.header.prev_hash) {
                return Err(OpenError::Inconsistent(format!(
                    "block {} has no stored parent",
                    stored.header.hash()
                )));
            }
            index.insert(stored.header, stored.chain_work, stored.invalid);
        }
        if let Some(tip) = storage.tip().await? {
            if !index.contains(&tip) {
                return Err(OpenError::Inconsistent(format!("tip {tip} is not stored")));
            }
            index.set_best(&tip);
        }
        let mut state = StateTree::new();
        for (address, account) in storage.load_accounts().await? {
            state.insert(address, account);
        }
        let tip = index.tip().clone();
        if state.root() != tip.header.state_root {
            return Err(OpenError::Inconsistent(format!(
                "accounts hash to {}, but tip {} at height {} commits to {}",
                state.root(),
                tip.hash,
                tip.header.height,
                tip.header.state_root
            )));
        }
        let mut mempool = Mempool::with_policy(policy);
        let mut stale = Vec::new();
        let mut pending = storage.load_mempool().await?;
        // Each sender's transactions in nonce order, whatever their times:
        // a batch stores many with the same acceptance time.
        pending.sort_by_key(|(transaction, accepted_ms)| (transaction.nonce, *accepted_ms));
        for (transaction, accepted_ms) in pending {
            let txid = transaction.txid();
            let admitted = transaction
                .check_signed(params, &RingVerifier)
                .ok()
                .and_then(|_| mempool.check(&state, &transaction, &txid).ok());
            match admitted {
                Some(admission) => {
                    mempool.insert(transaction, txid, accepted_ms, &admission);
                }
                None => stale.push(txid),
            }
        }
        if !stale.is_empty() {
            tracing::info!(
                count = stale.len(),
                "dropping pending transactions no longer valid"
            );
            let update = crate::storage::ChainUpdate {
                mempool_removed: stale,
                new_tip: tip.hash,
                ..Default::default()
            };
            storage.apply_chain_update(&update).await?;
        }
        tracing::info!(height = tip.header.height, tip = %tip.hash, accounts = state.len(), pending = mempool.len(), "chain loaded");
        let status = tip_status(params, &index, &mempool);
        let (events, _) = broadcast::channel(1024);
        let (status, _) = watch::channel(status);
        let (pending_writes, queue) = mpsc::channel(group_commit::QUEUE_CAPACITY);
        let chain = Arc::new(Chain {
            params,
            storage: Arc::clone(&storage),
            inner: Mutex::new(ChainState {
                index,
                state,
                mempool,
            }),
            events,
            status,
            pending_writes,
        });
        group_commit::spawn_writer(storage, queue, Arc::downgrade(&chain));
        Ok(chain)
    }

    /// Network parameters.
    pub fn params(&self) -> &'static Params {
        self.params
    }

    /// The storage.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// Subscribes to changes.
    pub fn subscribe(&self) -> broadcast::Receiver<ChainEvent> {
        self.events.subscribe()
    }

    /// The current tip, without waiting for the lock.
    pub fn status(&self) -> TipStatus {
        self.status.borrow().clone()
    }

    /// A receiver that sees every tip change.
    pub fn watch_status(&self) -> watch::Receiver<TipStatus> {
        self.status.subscribe()
    }

    fn publish(&self, inner: &ChainState) {
        self.status
            .send_replace(tip_status(self.params, &inner.index, &inner.mempool));
    }

    /// Validates and stores a block; moves the best chain to it when it has
    /// the most work. Signatures are checked before the lock is taken.
    pub async fn submit_block(
        &self,
        block: Block,
        now_ms: u64,
    ) -> Result<BlockOutcome, SubmitBlockError> {
        let checked = self.check_block(block, now_ms, Arrival::Requested).await?;
        self.submit_checked_block(checked, Arrival::Requested).await
    }

    /// The checks of [`Chain::submit_block`] before the state, cheapest
    /// first, so a bad block costs as little as possible: size; not stored
    /// yet, parent stored and valid, the header rules against the parent
    /// (proof of work against the bits it calls for), for an unrequested
    /// block more work than the tip, briefly under the lock (a requested
    /// block's parent may still be on its way: checked again when it is
    /// connected); time not too far ahead of `now_ms`; then the
    /// context-free checks (structure, merkle root, then signatures spread
    /// over every core on the blocking pool) without the lock, so a caller
    /// with many blocks (sync) checks the next one while the last one is
    /// connected.
    pub async fn check_block(
        &self,
        block: Block,
        now_ms: u64,
        arrival: Arrival,
    ) -> Result<CheckedBlock, SubmitBlockError> {
        let size = block.encoded_len();
        if size > self.params.max_block_size {
            return Err(BlockError::TooLarge {
                size,
                max: self.params.max_block_size,
            }
            .into());
        }
        let hash = block.hash();
        let against_parent = {
            let inner = self.inner.lock().await;
            check_against_parent(self.params, &inner.index, &block.header, &hash, arrival)
        };
        match against_parent {
            Ok(_) => {}
            // Asked for along the sync's verified header chain (which checked
            // the header rules): its parent may be the block being connected
            // right now, one stage down the connector.
            Err(SubmitBlockError::UnknownParent(_)) if arrival == Arrival::Requested => {}
            Err(error) => return Err(error),
        }
        check_header_time_against_clock(self.params, &block.header, now_ms).map_err(|_| {
            SubmitBlockError::TooFarInFuture {
                time: block.header.time,
            }
        })?;
        let params = self.params;
        let checked =
            tokio::task::spawn_blocking(move || verify::check_block_parallel(params, block))
                .await
                .expect("block checks do not panic")?;
        Ok(checked)
    }

    /// Stores a block that passed [`Chain::check_block`] and moves the best
    /// chain to it when it has the most work (the rules against its parent
    /// and the state are checked here, under the lock).
    pub async fn submit_checked_block(
        &self,
        checked: CheckedBlock,
        arrival: Arrival,
    ) -> Result<BlockOutcome, SubmitBlockError> {
        let mut inner = self.inner.lock().await;
        let outcome = reorg::accept_block(self, &mut inner, checked, arrival).await;
        self.publish(&inner);
        outcome
    }

    /// Validates a transaction and adds it to the mempool; returns once it is
    /// persisted.
    ///
    /// The signature is checked first, outside the lock, on the calling
    /// task: about 50 µs, within what a task may run between two awaits, and
    /// the runtime has a worker per core, so concurrent submitters verify on
    /// every core. (Handing each check to a blocking thread cost ~40 µs of
    /// CPU more per transaction in thread wake-ups.) Under the lock the
    /// transaction is checked against the state and the mempool, enters the
    /// mempool, and its write is queued; the writes of concurrent submitters
    /// are committed together (see `group_commit`). If that commit fails, the
    /// transaction leaves the mempool again and the error is returned.
    pub async fn submit_transaction(
        &self,
        transaction: Transaction,
        now_ms: u64,
    ) -> Result<Txid, SubmitTxError> {
        transaction.check_signed(self.params, &RingVerifier)?;
        let txid = transaction.txid();
        // Room in the queue first, so that the lock is never held waiting for it.
        let slot = self
            .pending_writes
            .reserve()
            .await
            .map_err(|_| StorageError::WriterStopped)?;
        let (reply, committed) = oneshot::channel();
        {
            let mut inner = self.inner.lock().await;
            let admission = inner.mempool.check(&inner.state, &transaction, &txid)?;
            let write = PendingWrite {
                transaction: transaction.clone(),
                txid,
                accepted_ms: now_ms,
                removed: admission.removed.clone(),
            };
            let displaced = inner.mempool.insert(transaction, txid, now_ms, &admission);
            slot.send(QueuedWrite {
                write,
                waiter: Waiter {
                    txid,
                    displaced,
                    reply,
                },
            });
            self.publish(&inner);
        }
        committed
            .await
            .map_err(|_| StorageError::WriterStopped)?
            .map_err(StorageError::BatchFailed)?;
        let _ = self.events.send(ChainEvent::NewTransaction { txid });
        Ok(txid)
    }

    /// A block template paying `miner`, with the best pending transactions.
    pub async fn template(&self, miner: Address, now_ms: u64) -> Template {
        let mut inner = self.inner.lock().await;
        let ChainState {
            index,
            state,
            mempool,
        } = &mut *inner;
        block_template(self.params, index.tip(), state, mempool, miner, now_ms)
    }

    /// An account with its pending activity.
    pub async fn account(&self, address: &Address) -> AccountView {
        let inner = self.inner.lock().await;
        let pending_in = inner
            .mempool
            .by_fee_descending()
            .filter(|entry| entry.transaction.to == *address)
            .map(|entry| u128::from(entry.transaction.amount.0))
            .sum();
        AccountView {
            account: inner.state.get(address),
            pending_out: inner.mempool.pending_spend(address, None),
            pending_in,
            next_nonce: inner.mempool.next_nonce(&inner.state, address),
        }
    }

    /// A state proof of `address` against the tip, with the tip header.
    pub async fn prove_account(&self, address: &Address) -> (StateProof, Header, BlockHash) {
        let mut inner = self.inner.lock().await;
        let proof = inner.state.prove(address);
        let tip = inner.index.tip();
        (proof, tip.header, tip.hash)
    }

    /// Pending transactions, highest fee first.
    pub async fn pending(&self, limit: usize, offset: usize) -> (Vec<PendingTransaction>, usize) {
        let inner = self.inner.lock().await;
        let page = inner
            .mempool
            .by_fee_descending()
            .skip(offset)
            .take(limit)
            .cloned()
            .collect();
        (page, inner.mempool.len())
    }

    /// One pending transaction.
    pub async fn pending_transaction(&self, txid: &Txid) -> Option<PendingTransaction> {
        self.inner.lock().await.mempool.get(txid).cloned()
    }
}
