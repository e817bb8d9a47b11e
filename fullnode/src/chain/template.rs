//! Block templates for the miner.

use blockchain_core::difficulty::next_bits;
use blockchain_core::merkle::merkle_root;
use blockchain_core::state::{StateTree, apply_transactions, undo_block};
use blockchain_core::{Address, Block, Header, Params, Target, Transaction};

use super::index::IndexEntry;
use crate::mempool::Mempool;

/// A block to mine: everything fixed but the nonce (the miner searches it).
#[derive(Clone, Debug)]
pub struct Template {
    /// The block, nonce 0.
    pub block: Block,
    /// Its target.
    pub target: Target,
}

/// Room for the header, the count and the coinbase.
const RESERVED_BYTES: usize = 1024;

/// A complete block on `tip` paying `miner` reward + fees, with the best
/// pending transactions, time = max(now, median time past + 1).
pub fn block_template(
    params: &Params,
    tip: &IndexEntry,
    state: &mut StateTree,
    mempool: &Mempool,
    miner: Address,
    now_ms: u64,
) -> Template {
    let height = tip.header.height + 1;
    let time = now_ms.max(tip.median_time_past + 1);
    let bits = next_bits(params, &tip.as_parent());
    let mut transactions = mempool.select(params.max_block_size.saturating_sub(RESERVED_BYTES));
    loop {
        let fees = Mempool::fees(&transactions);
        let reward = params
            .block_reward(height)
            .checked_add(fees)
            .unwrap_or(params.block_reward(height));
        let mut all = vec![Transaction::coinbase(miner, reward, height, time)];
        all.extend(transactions.iter().cloned());
        match apply_transactions(state, &all) {
            Ok(undo) => {
                let state_root = state.root();
                undo_block(state, &undo);
                let txids: Vec<_> = all.iter().map(Transaction::txid).collect();
                let header = Header {
                    version: Header::VERSION,
                    height,
                    prev_hash: tip.hash,
                    merkle_root: merkle_root(&txids),
                    state_root,
                    time,
                    bits,
                    nonce: 0,
                };
                let target = bits.to_target().expect("next_bits gives canonical bits");
                return Template {
                    block: Block {
                        header,
                        transactions: all,
                    },
                    target,
                };
            }
            // The mempool is revalidated on every tip, so this is rare (a
            // recipient balance overflow): leave the offender and what follows it out.
            Err((index, _)) => transactions.truncate(index.saturating_sub(1)),
        }
    }
}
