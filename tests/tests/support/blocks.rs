//! Valid blocks built outside a node, for the harness peers: a chain (with
//! any side branches) on a network's genesis, each block's bits the ASERT
//! result for its parent, its state root the accounts after it.

use std::collections::HashMap;

use blockchain_core::difficulty::next_bits;
use blockchain_core::header::check_proof_of_work;
use blockchain_core::header_chain::HeaderChain;
use blockchain_core::merkle::merkle_root;
use blockchain_core::state::{StateTree, apply_transactions};
use blockchain_core::{
    Address, Block, BlockHash, CompactBits, Header, MerkleHash, Params, Transaction,
};

/// The harness's clock is not checked: every header is in the past for it.
const NO_CLOCK: u64 = u64::MAX / 2;

/// Blocks on `params`'s genesis, every branch kept.
#[derive(Debug)]
pub(crate) struct ChainBuilder {
    params: &'static Params,
    headers: HeaderChain,
    /// The accounts after each block.
    states: HashMap<BlockHash, StateTree>,
}

impl ChainBuilder {
    pub(crate) fn new(params: &'static Params) -> Self {
        let mut states = HashMap::new();
        states.insert(params.genesis_hash(), StateTree::new());
        Self {
            params,
            headers: HeaderChain::new(params),
            states,
        }
    }

    /// A block on `parent` at `time` paying `miner` the reward and the fees
    /// of `transactions` (which must apply to the parent's accounts); its
    /// nonce searched from `nonce`.
    pub(crate) fn build(
        &mut self,
        parent: &BlockHash,
        time: u64,
        miner: Address,
        transactions: &[Transaction],
        nonce: u64,
    ) -> Block {
        let parent_info = self
            .headers
            .parent_info(parent)
            .expect("the parent was built here");
        let height = parent_info.height + 1;
        let fees = transactions.iter().map(|tx| tx.fee.0).sum::<u64>();
        let reward = self.params.block_reward(height).0 + fees;
        let mut all = vec![Transaction::coinbase(
            miner,
            blockchain_core::Amount(reward),
            height,
            time,
        )];
        all.extend_from_slice(transactions);
        let mut state = self.states[parent].clone();
        apply_transactions(&mut state, &all).expect("the transactions apply");
        let txids: Vec<_> = all.iter().map(Transaction::txid).collect();
        let header = mined(
            self.params,
            Header {
                version: Header::VERSION,
                height,
                prev_hash: *parent,
                merkle_root: merkle_root(&txids),
                state_root: state.root(),
                time,
                bits: next_bits(self.params, &parent_info),
                nonce,
            },
        );
        self.headers
            .accept_headers(&[header], NO_CLOCK)
            .expect("a valid header");
        self.states.insert(header.hash(), state);
        Block {
            header,
            transactions: all,
        }
    }
}

/// Who the devnet start blocks pay.
pub(crate) const DEVNET_MINER: Address = Address([0x11; 20]);
/// Devnet block 1's time: a minute after genesis.
const DEVNET_ONE_TIME: u64 = 1_764_000_060_000;
/// Block 2 comes ten hours (half-lives) later: the chain is far behind
/// schedule from then on, and every later block is at the pow limit.
const DEVNET_TWO_TIME: u64 = DEVNET_ONE_TIME + 10 * 3_600_000;
/// Their nonces: the first that meet the genesis bits (about 2^25 hashes
/// each), found once by `ChainBuilder::build` from nonce 0.
const DEVNET_NONCES: [u64; 2] = [9_065_229, 16_641_311];

impl ChainBuilder {
    /// Devnet blocks 1 and 2 (at the genesis bits, precomputed) paying
    /// [`DEVNET_MINER`]: after them, a devnet block costs 2^16 hashes.
    pub(crate) fn devnet_start(&mut self) -> [Block; 2] {
        let one = self.build(
            &self.params.genesis_hash(),
            DEVNET_ONE_TIME,
            DEVNET_MINER,
            &[],
            DEVNET_NONCES[0],
        );
        let two = self.build(
            &one.hash(),
            DEVNET_TWO_TIME,
            DEVNET_MINER,
            &[],
            DEVNET_NONCES[1],
        );
        [one, two]
    }
}

/// `header` with the first nonce from its own that meets its proof of work.
fn mined(params: &Params, mut header: Header) -> Header {
    while check_proof_of_work(params, &header.hash(), header.bits).is_err() {
        header.nonce += 1;
    }
    header
}

/// A mined block at `height` and `time` on `prev_hash` with `state_root`
/// and `bits`: a coinbase paying the reward, then `padding`.
fn padded_block(
    params: &'static Params,
    height: u64,
    prev_hash: BlockHash,
    state_root: MerkleHash,
    time: u64,
    bits: CompactBits,
    padding: &[Transaction],
) -> Block {
    let mut transactions = vec![Transaction::coinbase(
        Address([0xee; 20]),
        params.block_reward(height),
        height,
        time,
    )];
    transactions.extend_from_slice(padding);
    let txids: Vec<_> = transactions.iter().map(Transaction::txid).collect();
    let header = Header {
        version: Header::VERSION,
        height,
        prev_hash,
        merkle_root: merkle_root(&txids),
        state_root,
        time,
        bits,
        nonce: 0,
    };
    Block {
        header: mined(params, header),
        transactions,
    }
}

/// A block at `height` whose parent no one has (its prev_hash is made from
/// `salt`), with a valid proof of work and merkle root, carrying `padding`
/// after its coinbase.
pub(crate) fn orphan_block(
    params: &'static Params,
    height: u64,
    salt: u64,
    padding: &[Transaction],
) -> Block {
    let mut prev_hash = [0xab; 32];
    prev_hash[..8].copy_from_slice(&salt.to_le_bytes());
    let time = params.genesis_time_ms + height * params.target_spacing_ms;
    padded_block(
        params,
        height,
        BlockHash(prev_hash),
        MerkleHash::ZERO,
        time,
        params.genesis_bits,
        padding,
    )
}

/// A child of `parent` (regtest-style: the parent's bits) that passes every
/// check a side-branch block meets before it is stored: height, time after
/// the parent, proof of work, merkle root; `salt` makes each one different.
/// Its state root is made up: it would be checked only if its branch
/// became the best.
pub(crate) fn side_block(
    params: &'static Params,
    parent: &Header,
    salt: u64,
    padding: &[Transaction],
) -> Block {
    let mut state_root = [0x5e; 32];
    state_root[..8].copy_from_slice(&salt.to_le_bytes());
    padded_block(
        params,
        parent.height + 1,
        parent.hash(),
        MerkleHash(state_root),
        parent.time + 1 + salt % 1_000,
        parent.bits,
        padding,
    )
}
