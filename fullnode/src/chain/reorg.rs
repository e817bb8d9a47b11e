//! Accepting a checked block: store it, and when its branch has the most
//! work, move the best chain there (disconnecting with undo data, connecting
//! in order), then write the whole change in one database transaction.

use std::collections::{BTreeSet, HashSet};

use blockchain_core::state::{StateTree, undo_block};
use blockchain_core::validation::{BlockError, CheckedBlock, connect_block};
use blockchain_core::{Address, BlockHash, Transaction, Txid};

use super::{Arrival, BlockOutcome, Chain, ChainEvent, ChainState, SubmitBlockError};
use crate::mempool::Mempool;
use crate::storage::{ChainUpdate, ConnectedBlock, StorageError};

fn now_ms() -> u64 {
    crate::clock::now_ms()
}

pub(super) async fn accept_block(
    chain: &Chain,
    inner: &mut ChainState,
    checked: CheckedBlock,
    arrival: Arrival,
) -> Result<BlockOutcome, SubmitBlockError> {
    let hash = checked.hash();
    let header = checked.block().header;
    let chain_work =
        super::check_against_parent(chain.params, &inner.index, &header, &hash, arrival)?;
    chain
        .storage
        .store_block(checked.block(), chain_work)
        .await?;
    inner.index.insert(header, chain_work, false);
    if chain_work <= inner.index.tip().chain_work {
        return Ok(BlockOutcome::SideBranch);
    }
    move_best_chain(chain, inner, hash, Some(checked)).await
}

/// Moves the best chain to `target` (which has more work than the tip).
async fn move_best_chain(
    chain: &Chain,
    inner: &mut ChainState,
    target: BlockHash,
    mut known: Option<CheckedBlock>,
) -> Result<BlockOutcome, SubmitBlockError> {
    let old_tip = inner.index.tip().hash;
    let (fork, branch) = inner.index.path_to(&target);
    let extends_tip = fork == inner.index.height();

    // Work on a scratch copy when blocks leave the chain; extending the tip
    // works on the live state (connect_block leaves it untouched on error).
    let mut scratch = if extends_tip {
        None
    } else {
        Some(inner.state.clone())
    };
    let state: &mut StateTree = scratch.as_mut().unwrap_or(&mut inner.state);

    let mut update = ChainUpdate {
        new_tip: target,
        ..Default::default()
    };
    let mut touched: BTreeSet<Address> = BTreeSet::new();
    let mut returned: Vec<Transaction> = Vec::new();
    let mut undos = Vec::new();

    for height in (fork + 1..=inner.index.height()).rev() {
        let hash = inner
            .index
            .hash_at(height)
            .expect("height is on the best chain");
        let undo = chain
            .storage
            .block_undo(&hash)
            .await?
            .ok_or_else(|| StorageError::Corrupt {
                what: "undo record",
                reason: format!("missing for best-chain block {hash}"),
            })?;
        let stored =
            chain
                .storage
                .block_by_hash(&hash)
                .await?
                .ok_or_else(|| StorageError::Corrupt {
                    what: "block",
                    reason: format!("missing best-chain block {hash}"),
                })?;
        undo_block(state, &undo);
        touched.extend(undo.previous.iter().map(|(address, _)| *address));
        returned.extend(stored.block.transactions.into_iter().skip(1));
        update.disconnected.push(hash);
    }

    let mut mined: HashSet<Txid> = HashSet::new();
    for hash in &branch {
        let checked = match known.take_if(|block| block.hash() == *hash) {
            Some(block) => block,
            None => {
                let stored = chain.storage.block_by_hash(hash).await?.ok_or_else(|| {
                    StorageError::Corrupt {
                        what: "block",
                        reason: format!("missing branch block {hash}"),
                    }
                })?;
                let params = chain.params;
                match tokio::task::spawn_blocking(move || {
                    super::verify::check_block_parallel(params, stored.block)
                })
                .await
                .expect("block checks do not panic")
                {
                    Ok(checked) => checked,
                    Err(error) => {
                        return reject(chain, inner, hash, scratch.is_none(), &undos, error).await;
                    }
                }
            }
        };
        let parent = inner
            .index
            .get(&checked.block().header.prev_hash)
            .expect("branch parents are indexed")
            .as_parent();
        let state: &mut StateTree = scratch.as_mut().unwrap_or(&mut inner.state);
        match connect_block(chain.params, state, &checked, &parent) {
            Ok(undo) => {
                touched.extend(undo.previous.iter().map(|(address, _)| *address));
                mined.extend(checked.txids().iter().copied());
                let transactions = checked
                    .txids()
                    .iter()
                    .copied()
                    .zip(checked.block().transactions.iter().cloned())
                    .collect();
                undos.push(undo.clone());
                update.connected.push(ConnectedBlock {
                    hash: *hash,
                    height: checked.block().header.height,
                    undo,
                    transactions,
                });
            }
            Err(error) => {
                return reject(chain, inner, hash, scratch.is_none(), &undos, error).await;
            }
        }
    }

    let state: &StateTree = scratch.as_ref().unwrap_or(&inner.state);
    update.accounts = touched
        .iter()
        .map(|address| (*address, state.get(address)))
        .collect();

    // The mempool after the change: mined ones out, returned ones back in if still valid.
    let mut mempool: Mempool = inner.mempool.clone();
    for txid in &mined {
        mempool.remove(txid);
    }
    let now = now_ms();
    for transaction in returned {
        let txid = transaction.txid();
        if mined.contains(&txid) {
            continue;
        }
        if let Ok(admission) = mempool.check(state, &transaction, &txid) {
            mempool.insert(transaction, txid, now, &admission);
        }
    }
    mempool.revalidate(state);
    let before: HashSet<Txid> = inner
        .mempool
        .by_fee_descending()
        .map(|entry| entry.txid)
        .collect();
    let after: HashSet<Txid> = mempool
        .by_fee_descending()
        .map(|entry| entry.txid)
        .collect();
    update.mempool_removed = before.difference(&after).copied().collect();
    update.mempool_added = mempool
        .by_fee_descending()
        .filter(|entry| !before.contains(&entry.txid))
        .map(|entry| (entry.transaction.clone(), entry.accepted_ms))
        .collect();

    if let Err(error) = chain.storage.apply_chain_update(&update).await {
        if scratch.is_none() {
            for undo in undos.iter().rev() {
                undo_block(&mut inner.state, undo);
            }
        }
        return Err(error.into());
    }

    if let Some(state) = scratch {
        inner.state = state;
    }
    inner.mempool = mempool;
    inner.index.set_best(&target);
    let height = inner.index.height();
    let event = if update.disconnected.is_empty() {
        ChainEvent::NewTip {
            hash: target,
            height,
        }
    } else {
        tracing::info!(%old_tip, new_tip = %target, fork_height = fork, disconnected = update.disconnected.len(), "reorganized");
        ChainEvent::Reorg {
            old_tip,
            new_tip: target,
            fork_height: fork,
            height,
        }
    };
    let _ = chain.events.send(event);
    Ok(BlockOutcome::NewTip)
}

/// A block of the new branch is invalid: remember that, restore the live
/// state if it was touched, keep the old chain.
async fn reject(
    chain: &Chain,
    inner: &mut ChainState,
    hash: &BlockHash,
    live_state: bool,
    applied: &[blockchain_core::state::BlockUndo],
    error: BlockError,
) -> Result<BlockOutcome, SubmitBlockError> {
    if live_state {
        for undo in applied.iter().rev() {
            undo_block(&mut inner.state, undo);
        }
    }
    tracing::warn!(block = %hash, %error, "invalid block");
    inner.index.mark_invalid(hash);
    chain.storage.mark_invalid(hash).await?;
    Err(SubmitBlockError::Invalid(error))
}
