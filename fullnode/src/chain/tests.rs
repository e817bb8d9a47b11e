//! The chain on a real database with devnet's ASERT rules: each
//! branch's difficulty is anchored at its own block 1, and a restarted node
//! rebuilds those anchors from the stored headers.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use blockchain_core::state::{StateTree, apply_transactions};
use blockchain_core::{Address, Block, BlockHash, CompactBits, Params, Target};

use super::{Arrival, BlockOutcome, Chain, SubmitBlockError, block_template};
use crate::mempool::Mempool;
use crate::storage;
use crate::testing::TestDatabase;

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

/// [`easy_devnet`] and a new chain with its rules on `database`.
async fn easy_devnet_chain(database: &TestDatabase) -> (&'static Params, Arc<Chain>) {
    let params = easy_devnet();
    (params, open_chain(params, database).await)
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
    let block = mine_unsubmitted(chain, parent, state, time).await;
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

blockchain_testkit::on_both_backends! {
    #[tokio::test]
    open: TestDatabase::open;
    restarts: [each_branch_is_anchored_at_its_block_one_across_restarts],
}

mod restarts {
    use super::*;

    pub(super) async fn each_branch_is_anchored_at_its_block_one_across_restarts(
        database: TestDatabase,
    ) {
        let (params, chain) = easy_devnet_chain(&database).await;
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
}

/// Mines a block at `time` on the known block `parent`, whose account state
/// is `state`, without submitting it.
pub(super) async fn mine_unsubmitted(
    chain: &Chain,
    parent: &BlockHash,
    state: &mut StateTree,
    time: u64,
) -> Block {
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
    crate::miner::search(&template, 0, 1, &AtomicU64::new(0), || true)
        .expect("a search without a stop finds a block")
}

/// Devnet allows 60 s of drift: a block five minutes ahead of our clock is
/// not invalid (its miner's clock runs ahead), only not acceptable yet.
#[tokio::test]
async fn a_block_too_far_in_the_future_is_not_invalid() {
    let database = TestDatabase::sqlite();
    let (params, chain) = easy_devnet_chain(&database).await;
    let now = params.genesis_time_ms + DAY_MS;
    let time = now + 5 * 60_000;
    let block = mine_unsubmitted(&chain, &params.genesis_hash(), &mut StateTree::new(), time).await;
    match chain
        .check_block(block.clone(), now, super::Arrival::Requested)
        .await
    {
        Err(SubmitBlockError::TooFarInFuture { time: refused }) => {
            assert_eq!(refused, time)
        }
        other => panic!("{other:?}"),
    }
    let ahead_59_s = mine_unsubmitted(
        &chain,
        &params.genesis_hash(),
        &mut StateTree::new(),
        now + 59_000,
    )
    .await;
    assert!(
        chain
            .check_block(ahead_59_s, now, super::Arrival::Requested)
            .await
            .is_ok()
    );
    chain
        .submit_block(block, time - params.max_future_drift_ms)
        .await
        .expect("valid once it is due");
}

/// A block nobody asked for is stored only when its branch has more work
/// than the tip: a cheap side branch never reaches the database. The sync
/// asks only along the most-work header chain, so what it asks for is stored.
#[tokio::test]
async fn unrequested_blocks_are_stored_only_when_they_add_work() {
    let database = TestDatabase::sqlite();
    let (params, chain) = easy_devnet_chain(&database).await;
    let genesis = params.genesis_hash();
    let time = params.genesis_time_ms + DAY_MS;
    let mut state = StateTree::new();
    let one = mine_on(&chain, &genesis, &mut state, time).await;

    let side = mine_unsubmitted(&chain, &genesis, &mut StateTree::new(), time + 1).await;
    match chain
        .check_block(side.clone(), time + 1, Arrival::Unrequested)
        .await
    {
        Err(SubmitBlockError::NotBetter(hash)) => assert_eq!(hash, side.hash()),
        other => panic!("{other:?}"),
    }
    assert!(!chain.knows_block(&side.hash()).await);
    assert_eq!(database_blocks(&chain).await, 2, "genesis and block 1 only");

    assert_eq!(
        check_and_submit(&chain, &side, time + 1, Arrival::Requested).await,
        BlockOutcome::SideBranch
    );

    let two = mine_unsubmitted(&chain, &one.hash(), &mut state, time + 2).await;
    assert_eq!(
        check_and_submit(&chain, &two, time + 2, Arrival::Unrequested).await,
        BlockOutcome::NewTip
    );
    assert_eq!(chain.status().hash, two.hash());
}

/// Checks `block`, arrived as `arrival` at `now`, which must pass, then stores it.
async fn check_and_submit(
    chain: &Chain,
    block: &Block,
    now: u64,
    arrival: Arrival,
) -> BlockOutcome {
    let checked = chain
        .check_block(block.clone(), now, arrival)
        .await
        .expect("the block passes its checks");
    chain
        .submit_checked_block(checked, arrival)
        .await
        .expect("stored")
}

/// Blocks in the block index (what storage loaded plus what was stored since).
async fn database_blocks(chain: &Chain) -> usize {
    chain
        .storage()
        .load_block_index()
        .await
        .expect("the index loads")
        .len()
}

/// A GetBlocks answer holds best-chain blocks only (never a stored side or
/// invalid block), each once, within a byte budget: a 517-byte request for
/// one 1 MB block sixteen times no longer makes a 16 MB answer.
#[tokio::test]
async fn blocks_are_served_from_the_best_chain_once_each_within_a_budget() {
    let database = TestDatabase::sqlite();
    let (params, chain) = easy_devnet_chain(&database).await;
    let genesis = params.genesis_hash();
    let time = params.genesis_time_ms + DAY_MS;
    let mut state = StateTree::new();
    let one = mine_on(&chain, &genesis, &mut state, time).await;
    let two = mine_on(&chain, &one.hash(), &mut state, time + 1).await;
    let side = mine_on(&chain, &genesis, &mut StateTree::new(), time + 2).await;
    assert_eq!(chain.status().hash, two.hash());

    let unknown = BlockHash([9; 32]);
    let asked = [
        one.hash(),
        one.hash(),
        side.hash(),
        unknown,
        two.hash(),
        one.hash(),
    ];
    let served = chain
        .best_chain_blocks(&asked, usize::MAX)
        .await
        .expect("storage");
    assert_eq!(served, vec![one.clone(), two.clone()]);
    let sixteen = [one.hash(); 16];
    assert_eq!(
        chain
            .best_chain_blocks(&sixteen, usize::MAX)
            .await
            .expect("storage"),
        vec![one.clone()]
    );
    let budget = one.encoded_len() + two.encoded_len() - 1;
    assert_eq!(
        chain
            .best_chain_blocks(&asked, budget)
            .await
            .expect("storage"),
        vec![one.clone()],
        "within the budget"
    );
    assert!(
        chain
            .best_chain_blocks(&asked, 0)
            .await
            .expect("storage")
            .is_empty()
    );
}
