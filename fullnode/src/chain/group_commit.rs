//! Group commit of accepted pending transactions.
//!
//! [`Chain::submit_transaction`](super::Chain::submit_transaction) admits a
//! transaction into the in-memory mempool under the chain lock and queues its
//! write here, in admission order. One writer task takes everything queued
//! while the previous batch was committing and writes it in one database
//! transaction ([`Storage::add_pending`]); each submitter is answered once
//! the batch holding its transaction has committed, so a 202 still means
//! "durable", while concurrent submitters share one commit.
//!
//! If a batch fails, its transactions leave the mempool again, with the later
//! ones of the same senders (queued behind it, now out of sequence); what
//! they had displaced comes back; all those submitters get the error.

use std::collections::HashSet;
use std::sync::{Arc, Weak};

use blockchain_core::Txid;
use tokio::sync::{mpsc, oneshot};

use super::{Chain, ChainState};
use crate::mempool::PendingTransaction;
use crate::storage::{PendingWrite, Storage, StorageError};

/// Writes queued at most; a submitter waits for room before taking the lock.
pub(super) const QUEUE_CAPACITY: usize = 4096;
/// Most writes taken from the queue for one database transaction (writes
/// carried over from a failed batch come on top).
const MAX_BATCH: usize = 1024;

/// The answer a submitter waits for.
pub(super) type Committed = Result<(), Arc<StorageError>>;

/// One admitted transaction waiting to be written.
#[derive(Debug)]
pub(super) struct QueuedWrite {
    /// What to store.
    pub(super) write: PendingWrite,
    /// Who waits for it.
    pub(super) waiter: Waiter,
}

/// The submitter of a queued write.
#[derive(Debug)]
pub(super) struct Waiter {
    /// The transaction's id.
    pub(super) txid: Txid,
    /// What its admission pushed out of the mempool, restored if the write fails.
    pub(super) displaced: Vec<PendingTransaction>,
    /// Where the outcome goes.
    pub(super) reply: oneshot::Sender<Committed>,
}

/// Starts the writer of `chain`'s pending transactions; it ends once every
/// sender of `queue` is gone (the chain dropped) and the queue is drained.
pub(super) fn spawn_writer(
    storage: Arc<dyn Storage>,
    queue: mpsc::Receiver<QueuedWrite>,
    chain: Weak<Chain>,
) {
    tokio::spawn(write_batches(storage, queue, chain));
}

async fn write_batches(
    storage: Arc<dyn Storage>,
    mut queue: mpsc::Receiver<QueuedWrite>,
    chain: Weak<Chain>,
) {
    // Writes carried over from a failed batch go first, with whatever arrived since.
    let mut batch: Vec<QueuedWrite> = Vec::new();
    loop {
        if batch.is_empty() {
            if queue.recv_many(&mut batch, MAX_BATCH).await == 0 {
                return;
            }
        } else {
            while batch.len() < MAX_BATCH
                && let Ok(queued) = queue.try_recv()
            {
                batch.push(queued);
            }
        }
        let (writes, waiters): (Vec<PendingWrite>, Vec<Waiter>) = batch
            .drain(..)
            .map(|queued| (queued.write, queued.waiter))
            .unzip();
        match storage.add_pending(&writes).await {
            Ok(()) => {
                for waiter in waiters {
                    let _ = waiter.reply.send(Ok(()));
                }
            }
            Err(error) => {
                let error = Arc::new(error);
                tracing::error!(%error, transactions = waiters.len(), "storing pending transactions failed; refusing them");
                batch = refuse(&chain, &mut queue, waiters, &error).await;
            }
        }
    }
}

/// Takes the failed batch's transactions out of the mempool, restores what
/// they displaced, and refuses them and every queued write that depended on
/// them. Returns the queued writes that still go ahead.
async fn refuse(
    chain: &Weak<Chain>,
    queue: &mut mpsc::Receiver<QueuedWrite>,
    failed: Vec<Waiter>,
    error: &Arc<StorageError>,
) -> Vec<QueuedWrite> {
    let Some(chain) = chain.upgrade() else {
        // No chain, no mempool to fix: refuse everything left.
        for waiter in failed {
            let _ = waiter.reply.send(Err(Arc::clone(error)));
        }
        while let Ok(queued) = queue.try_recv() {
            let _ = queued.waiter.reply.send(Err(Arc::clone(error)));
        }
        return Vec::new();
    };
    // Under the lock no submitter can queue a write: everything admitted
    // after the failed batch is in the queue now.
    let mut inner = chain.inner.lock().await;
    let refused = withdraw(&mut inner, &failed);
    for waiter in failed {
        let _ = waiter.reply.send(Err(Arc::clone(error)));
    }
    let mut carried = Vec::new();
    while let Ok(mut queued) = queue.try_recv() {
        if refused.contains(&queued.write.txid) {
            let _ = queued.waiter.reply.send(Err(Arc::clone(error)));
        } else {
            // Never restore a transaction that was not stored.
            queued
                .waiter
                .displaced
                .retain(|entry| !refused.contains(&entry.txid));
            carried.push(queued);
        }
    }
    chain.publish(&inner);
    carried
}

/// Undoes the admissions of `failed`, newest first, and drops what lost its
/// place in a sender's sequence. Returns every transaction taken out.
fn withdraw(inner: &mut ChainState, failed: &[Waiter]) -> HashSet<Txid> {
    let ChainState { state, mempool, .. } = inner;
    let mut refused: HashSet<Txid> = failed.iter().map(|waiter| waiter.txid).collect();
    for waiter in failed.iter().rev() {
        mempool.remove(&waiter.txid);
        for entry in &waiter.displaced {
            if refused.contains(&entry.txid) {
                continue;
            }
            // Best effort: a displaced transaction that no longer fits stays
            // stored and comes back on the next start.
            if let Ok(admission) = mempool.check(state, &entry.transaction, &entry.txid)
                && admission.removed.is_empty()
            {
                mempool.insert(
                    entry.transaction.clone(),
                    entry.txid,
                    entry.accepted_ms,
                    &admission,
                );
            }
        }
    }
    refused.extend(mempool.revalidate(state));
    refused
}

#[cfg(test)]
mod tests;
