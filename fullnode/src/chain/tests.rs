//! The chain on a real database with devnet's ASERT rules: each
//! branch's difficulty is anchored at its own block 1, and a restarted node
//! rebuilds those anchors from the stored headers.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use blockchain_core::state::{StateTree, apply_transactions};
use blockchain_core::{Address, Block, BlockHash, CompactBits, Params, Target};

use super::{Chain, block_template};
use crate::mempool::Mempool;
use crate::storage;
use crate::test_support::TestDatabase;

const MEMPOOL_MAX: usize = 1_000;
const HALF_LIFE_MS: u64 = 3_600_000;
const DAY_MS: u64 = 24 * HALF_LIFE_MS;
const MINER: Address = Address([7; 20]);

/// Devnet's rules with a target a test mines at once: 2^250 (bits
/// 0x20040000), under a pow limit of 2^255 - 1 so the target can grow.
fn easy_devnet() -> &'static Params {
    let mut pow_limit = [0xff; 32];
    pow_limit[0] = 0x7f;
    Box::leak(Box::new(Params {
        genesis_bits: CompactBits(0x2004_0000),
        pow_limit: Target::from_be_bytes(pow_limit),
        ..blockchain_core::params::DEVNET.clone()
    }))
}

async fn open_chain(params: &'static Params, database: &TestDatabase) -> Arc<Chain> {
    let storage = storage::open(database.url())
        .await
        .expect("the database opens");
    Chain::open(params, storage, MEMPOOL_MAX)
        .await
        .expect("the stored chain opens")
}

/// Mines and submits a block at `time` on the known block `parent`, whose
/// account state is `state` (advanced past the new block).
async fn mine_on(chain: &Chain, parent: &BlockHash, state: &mut StateTree, time: u64) -> Block {
    let entry = chain
        .inner
        .lock()
        .await
        .index
        .get(parent)
        .expect("a known parent")
        .clone();
    let template = block_template(
        chain.params,
        &entry,
        state,
        &Mempool::new(MEMPOOL_MAX),
        MINER,
        time,
    );
    let block = crate::miner::search(&template, 0, 1, &AtomicU64::new(0), || true)
        .expect("a search without a stop finds a block");
    apply_transactions(state, &block.transactions).expect("a template applies");
    chain
        .submit_block(block.clone(), time)
        .await
        .expect("a mined template is valid");
    block
}

async fn anchor_of(chain: &Chain, block: &Block) -> Option<u64> {
    chain
        .inner
        .lock()
        .await
        .index
        .get(&block.hash())
        .expect("stored")
        .anchor_time
}

#[tokio::test]
async fn each_branch_is_anchored_at_its_block_one_across_restarts_sqlite() {
    anchors_across_restarts(TestDatabase::sqlite()).await;
}

#[tokio::test]
async fn each_branch_is_anchored_at_its_block_one_across_restarts_postgres() {
    if let Some(database) = TestDatabase::postgres().await {
        anchors_across_restarts(database).await;
    }
}

async fn anchors_across_restarts(database: TestDatabase) {
    let params = easy_devnet();
    let chain = open_chain(params, &database).await;
    let genesis = params.genesis_hash();

    // The best branch: block 1 a hundred days after the genesis time (on the
    // genesis-anchored rule that was the pow limit, 0x207fffff), block 2 one
    // half-life late: the next target is twice the genesis one.
    let block_one_time = params.genesis_time_ms + 100 * DAY_MS;
    let mut state = StateTree::new();
    let one = mine_on(&chain, &genesis, &mut state, block_one_time).await;
    assert_eq!(one.header.bits, params.genesis_bits);
    let two_time = block_one_time + HALF_LIFE_MS + params.target_spacing_ms;
    let two = mine_on(&chain, &one.hash(), &mut state, two_time).await;
    assert_eq!(two.header.bits, params.genesis_bits);
    let doubled = CompactBits(0x2008_0000);
    assert_eq!(chain.status().next_bits, doubled);

    // A side branch whose block 1 came a day later.
    let mut side_state = StateTree::new();
    let side_time = block_one_time + DAY_MS;
    let side_one = mine_on(&chain, &genesis, &mut side_state, side_time).await;
    assert_eq!(chain.status().hash, two.hash());

    let restarted = open_chain(params, &database).await;
    assert_eq!(restarted.status().hash, two.hash());
    assert_eq!(restarted.status().next_bits, doubled);
    let template = restarted.template(MINER, two_time + 1).await;
    assert_eq!(template.block.header.bits, doubled);
    assert_eq!(anchor_of(&restarted, &one).await, Some(block_one_time));
    assert_eq!(anchor_of(&restarted, &two).await, Some(block_one_time));
    assert_eq!(anchor_of(&restarted, &side_one).await, Some(side_time));

    // The side branch takes over, on its own schedule: the genesis bits.
    let spacing = params.target_spacing_ms;
    let side_two = mine_on(
        &restarted,
        &side_one.hash(),
        &mut side_state,
        side_time + spacing,
    )
    .await;
    let side_three = mine_on(
        &restarted,
        &side_two.hash(),
        &mut side_state,
        side_time + 2 * spacing,
    )
    .await;
    assert_eq!(side_three.header.bits, params.genesis_bits);
    assert_eq!(restarted.status().hash, side_three.hash());
    assert_eq!(restarted.status().next_bits, params.genesis_bits);

    let again = open_chain(params, &database).await;
    assert_eq!(again.status().hash, side_three.hash());
    assert_eq!(again.status().next_bits, params.genesis_bits);
    assert_eq!(anchor_of(&again, &side_three).await, Some(side_time));
    assert_eq!(anchor_of(&again, &two).await, Some(block_one_time));
    // The old branch's anchor still gives its next block the doubled target.
    let three = mine_on(&again, &two.hash(), &mut state, two_time + spacing).await;
    assert_eq!(three.header.bits, doubled);
    assert_eq!(again.status().hash, side_three.hash());
}
