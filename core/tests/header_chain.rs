//! The light client's header chain: extension, forks, most work, locators,
//! and ASERT anchored at block 1 of each branch.

use blockchain_core::difficulty::next_bits;
use blockchain_core::header::HeaderError;
use blockchain_core::header_chain::{HeaderChain, HeaderChainError, TipUpdate};
use blockchain_core::params::{DEVNET, REGTEST};
use blockchain_core::{BlockHash, CompactBits, Header, MerkleHash, Params, Target};
use ruint::aliases::U256;

const FAR_FUTURE: u64 = u64::MAX / 2;

/// `count` mined regtest headers on top of `parent`; `salt` makes branches differ.
fn headers_after(parent: &Header, count: usize, salt: u8) -> Vec<Header> {
    let mut out: Vec<Header> = Vec::new();
    let mut previous = *parent;
    for _ in 0..count {
        let mut header = Header {
            version: 1,
            height: previous.height + 1,
            prev_hash: previous.hash(),
            merkle_root: MerkleHash([salt; 32]),
            state_root: MerkleHash::ZERO,
            time: previous.time + 1000,
            bits: REGTEST.genesis_bits,
            nonce: 0,
        };
        let target = header.bits.to_target().expect("canonical");
        while !target.is_met_by(&header.hash().0) {
            header.nonce += 1;
        }
        out.push(header);
        previous = header;
    }
    out
}

#[test]
fn a_batch_extends_the_chain() {
    let mut chain = HeaderChain::new(&REGTEST);
    let headers = headers_after(&REGTEST.genesis_header(), 30, 0);
    let update = chain.accept_headers(&headers, FAR_FUTURE).expect("valid");
    assert_eq!(
        update,
        TipUpdate {
            added: 30,
            fork_height: Some(0),
            reorganized: false
        }
    );
    assert_eq!(chain.height(), 30);
    assert_eq!(chain.tip_hash(), headers[29].hash());
    assert_eq!(chain.header_at(7), Some(&headers[6]));
    // Re-sending known headers changes nothing.
    assert_eq!(
        chain.accept_headers(&headers, FAR_FUTURE),
        Ok(TipUpdate::default())
    );
}

#[test]
fn a_longer_branch_wins_and_a_shorter_one_does_not() {
    let genesis = REGTEST.genesis_header();
    let mut chain = HeaderChain::new(&REGTEST);
    let main = headers_after(&genesis, 10, 0);
    chain.accept_headers(&main, FAR_FUTURE).expect("valid");
    // A branch from height 5 of equal length: ties keep the first seen.
    let tie = headers_after(&main[4], 5, 1);
    let update = chain.accept_headers(&tie, FAR_FUTURE).expect("valid");
    assert_eq!(
        update,
        TipUpdate {
            added: 5,
            fork_height: None,
            reorganized: false
        }
    );
    assert_eq!(chain.tip_hash(), main[9].hash());
    // One more block on it gives it more work: reorg at height 5.
    let more = headers_after(&tie[4], 1, 1);
    let update = chain.accept_headers(&more, FAR_FUTURE).expect("valid");
    assert_eq!(
        update,
        TipUpdate {
            added: 1,
            fork_height: Some(5),
            reorganized: true
        }
    );
    assert_eq!(chain.tip_hash(), more[0].hash());
    assert!(!chain.is_on_best_chain(&main[9].hash()));
    assert!(chain.is_on_best_chain(&main[4].hash()));
    assert_eq!(chain.header_at(6), Some(&tie[0]));
    assert!(chain.tip_work() > chain.chain_work(&main[9].hash()).expect("known"));
}

#[test]
fn an_invalid_header_stops_the_batch_and_keeps_the_valid_prefix() {
    let mut chain = HeaderChain::new(&REGTEST);
    let mut headers = headers_after(&REGTEST.genesis_header(), 5, 0);
    headers[3].height = 99;
    let error = chain
        .accept_headers(&headers, FAR_FUTURE)
        .expect_err("invalid");
    assert_eq!(
        error,
        HeaderChainError {
            index: 3,
            hash: headers[3].hash(),
            error: HeaderError::WrongHeight {
                expected: 4,
                got: 99
            }
        }
    );
    assert_eq!(chain.height(), 3);
}

#[test]
fn unknown_parent_and_second_genesis_are_rejected() {
    let mut chain = HeaderChain::new(&REGTEST);
    let headers = headers_after(&REGTEST.genesis_header(), 3, 0);
    let error = chain
        .accept_headers(&headers[1..], FAR_FUTURE)
        .expect_err("orphan");
    assert_eq!(
        error.error,
        HeaderError::UnknownParent {
            prev_hash: headers[0].hash()
        }
    );
    let mut fake_genesis = REGTEST.genesis_header();
    fake_genesis.nonce = 1;
    let error = chain
        .accept_headers(&[fake_genesis], FAR_FUTURE)
        .expect_err("second genesis");
    assert_eq!(
        error.error,
        HeaderError::BadGenesis {
            hash: fake_genesis.hash()
        }
    );
}

#[test]
fn a_header_from_the_far_future_is_rejected() {
    let mut chain = HeaderChain::new(&REGTEST);
    let headers = headers_after(&REGTEST.genesis_header(), 1, 0);
    let now = headers[0].time - REGTEST.max_future_drift_ms - 1;
    let error = chain
        .accept_headers(&headers, now)
        .expect_err("too far ahead");
    assert!(matches!(
        error.error,
        HeaderError::TimeTooFarInFuture { .. }
    ));
}

#[test]
fn locator_steps_back_exponentially_and_finds_the_fork() {
    let mut chain = HeaderChain::new(&REGTEST);
    let headers = headers_after(&REGTEST.genesis_header(), 100, 0);
    chain.accept_headers(&headers, FAR_FUTURE).expect("valid");
    let locator = chain.locator();
    let heights: Vec<u64> = locator
        .iter()
        .map(|hash| chain.get(hash).expect("known").height)
        .collect();
    assert_eq!(
        heights,
        vec![
            100, 99, 98, 97, 96, 95, 94, 93, 92, 91, 89, 85, 77, 61, 29, 0
        ]
    );
    assert_eq!(chain.find_fork(&locator), 100);
    assert_eq!(
        chain.find_fork(&[BlockHash([5; 32]), headers[41].hash()]),
        42
    );
    assert_eq!(chain.find_fork(&[]), 0);
}

#[test]
fn median_time_past_is_enforced_across_a_batch() {
    let mut chain = HeaderChain::new(&REGTEST);
    let mut headers = headers_after(&REGTEST.genesis_header(), 12, 0);
    // Block 12 at the time of block 6: the median of blocks 1..=11 is block 6's time.
    let mut late = headers[11];
    late.time = headers[5].time;
    let target = late.bits.to_target().expect("canonical");
    while !target.is_met_by(&late.hash().0) {
        late.nonce += 1;
    }
    headers[11] = late;
    let error = chain.accept_headers(&headers, FAR_FUTURE).expect_err("mtp");
    assert_eq!(
        error.error,
        HeaderError::TimeNotAfterMedianTimePast {
            time: headers[5].time,
            median_time_past: headers[5].time
        }
    );
}

/// Devnet's ASERT rules with a target easy enough to mine in a test (2^250;
/// the pow limit is raised to 2^255 - 1 so targets can grow).
fn easy_asert() -> &'static Params {
    Box::leak(Box::new(Params {
        genesis_bits: CompactBits(0x2004_0000),
        pow_limit: Target((U256::from(1u8) << 255) - U256::from(1u8)),
        ..DEVNET.clone()
    }))
}

/// A mined child of the known `parent` at `time`, carrying the bits the chain expects.
fn mine_on(chain: &HeaderChain, parent: &BlockHash, time: u64, salt: u8) -> Header {
    let parent = chain.parent_info(parent).expect("known parent");
    let mut header = Header {
        version: 1,
        height: parent.height + 1,
        prev_hash: parent.hash,
        merkle_root: MerkleHash([salt; 32]),
        state_root: MerkleHash::ZERO,
        time,
        bits: next_bits(chain.params(), &parent),
        nonce: 0,
    };
    let target = header.bits.to_target().expect("canonical");
    while !target.is_met_by(&header.hash().0) {
        header.nonce += 1;
    }
    header
}

/// `count` blocks on `parent`, `spacing` ms apart, each accepted.
fn extend(
    chain: &mut HeaderChain,
    parent: &Header,
    count: usize,
    spacing: u64,
    salt: u8,
) -> Vec<Header> {
    let mut out: Vec<Header> = Vec::new();
    let mut previous = *parent;
    for _ in 0..count {
        let header = mine_on(chain, &previous.hash(), previous.time + spacing, salt);
        chain.accept_headers(&[header], FAR_FUTURE).expect("valid");
        out.push(header);
        previous = header;
    }
    out
}

#[test]
fn asert_is_anchored_at_block_one_of_each_branch() {
    const DAY: u64 = 24 * 3_600_000;
    let params = easy_asert();
    let spacing = params.target_spacing_ms;
    let mut chain = HeaderChain::new(params);
    let genesis = params.genesis_header();
    // Two branches whose first blocks come a year and two years after the
    // genesis time, then follow the schedule: all carry the genesis bits.
    let first = extend(&mut chain, &genesis, 1, 365 * DAY, 1);
    let first = [first.clone(), extend(&mut chain, &first[0], 20, spacing, 1)].concat();
    let second = extend(&mut chain, &genesis, 1, 2 * 365 * DAY, 2);
    let second = [
        second.clone(),
        extend(&mut chain, &second[0], 25, spacing, 2),
    ]
    .concat();
    for (branch, block_one) in [(&first, first[0]), (&second, second[0])] {
        for header in branch {
            assert_eq!(header.bits, params.genesis_bits, "height {}", header.height);
            let parent = chain.parent_info(&header.hash()).expect("known");
            assert_eq!(parent.anchor_time, Some(block_one.time));
        }
    }
    assert_eq!(
        chain
            .parent_info(&genesis.hash())
            .expect("genesis")
            .anchor_time,
        None
    );
    assert_eq!(chain.tip_hash(), second[25].hash());

    // One half-life late on the first branch: the target doubles there only.
    let tip = first[20];
    let late = mine_on(&chain, &tip.hash(), tip.time + spacing + 3_600_000, 1);
    chain.accept_headers(&[late], FAR_FUTURE).expect("valid");
    let after_late = mine_on(&chain, &late.hash(), late.time + spacing, 1);
    assert_eq!(after_late.bits, CompactBits(0x2008_0000));
    let on_second = mine_on(&chain, &second[25].hash(), second[25].time + spacing, 2);
    assert_eq!(on_second.bits, params.genesis_bits);

    // Bits computed from the genesis time (the pow limit here) are refused.
    let mut genesis_anchored = on_second;
    genesis_anchored.bits = params.pow_limit.to_compact();
    let error = chain
        .accept_headers(&[genesis_anchored], FAR_FUTURE)
        .expect_err("wrong bits");
    assert_eq!(
        error.error,
        HeaderError::WrongBits {
            expected: params.genesis_bits,
            got: params.pow_limit.to_compact()
        }
    );
}

#[test]
fn a_windowed_chain_keeps_a_bounded_number_of_headers_and_still_follows_the_tip() {
    let mut full = HeaderChain::new(&REGTEST);
    let mut windowed = HeaderChain::new(&REGTEST).with_window(100);
    let headers = headers_after(&REGTEST.genesis_header(), 600, 0);
    for batch in headers.chunks(50) {
        full.accept_headers(batch, FAR_FUTURE).expect("valid");
        windowed.accept_headers(batch, FAR_FUTURE).expect("valid");
        assert!(windowed.height() - windowed.lowest_height() < 125 + 50);
    }
    assert_eq!(windowed.tip_hash(), full.tip_hash());
    assert_eq!(windowed.tip_work(), full.tip_work());
    assert!(windowed.lowest_height() > 400);
    assert_eq!(windowed.header_at(10), None, "pruned");
    assert_eq!(windowed.header_at(600), Some(&headers[599]));
    let locator = windowed.locator();
    assert_eq!(locator.first(), Some(&full.tip_hash()));
    assert_eq!(locator.last(), Some(&REGTEST.genesis_hash()));
    // A fork inside the window still wins by work; one below it is unknown.
    let fork = headers_after(&headers[579], 30, 9);
    let update = windowed
        .accept_headers(&fork, FAR_FUTURE)
        .expect("valid fork");
    assert_eq!(update.fork_height, Some(580));
    assert!(update.reorganized);
    assert_eq!(windowed.tip_hash(), fork[29].hash());
    let deep = headers_after(&headers[9], 1, 7);
    assert!(matches!(
        windowed.accept_headers(&deep, FAR_FUTURE),
        Err(HeaderChainError {
            error: HeaderError::UnknownParent { .. },
            ..
        })
    ));
}

#[test]
fn a_chain_resumed_from_stored_headers_matches_the_full_chain() {
    use blockchain_core::header_chain::CheckpointError;

    let headers = headers_after(&REGTEST.genesis_header(), 300, 0);
    let mut full = HeaderChain::new(&REGTEST);
    full.accept_headers(&headers[..250], FAR_FUTURE)
        .expect("valid");
    let stored = &headers[150..250];
    let mut resumed =
        HeaderChain::from_checkpoint(&REGTEST, Some(&headers[0]), stored, full.tip_work())
            .expect("resumes");
    assert_eq!(resumed.tip_hash(), full.tip_hash());
    assert_eq!(resumed.lowest_height(), 151);
    assert_eq!(resumed.locator().last(), Some(&REGTEST.genesis_hash()));
    // Only what is new is verified, and both end on the same tip and work.
    full.accept_headers(&headers[250..], FAR_FUTURE)
        .expect("valid");
    let update = resumed
        .accept_headers(&headers[250..], FAR_FUTURE)
        .expect("valid");
    assert_eq!(update.added, 50);
    assert_eq!(resumed.tip_hash(), full.tip_hash());
    assert_eq!(resumed.tip_work(), full.tip_work());
    assert_eq!(
        resumed.chain_work(&headers[200].hash()),
        full.chain_work(&headers[200].hash())
    );
    // From genesis, no anchor is needed.
    let from_genesis = [&[REGTEST.genesis_header()][..], &headers[..20]].concat();
    let work = full.chain_work(&headers[19].hash()).expect("known");
    assert!(HeaderChain::from_checkpoint(&REGTEST, None, &from_genesis, work).is_ok());

    // What does not fit together is refused.
    let tip_work = full.chain_work(&headers[249].hash()).expect("known");
    assert_eq!(
        HeaderChain::from_checkpoint(&REGTEST, None, &[], tip_work).err(),
        Some(CheckpointError::Empty)
    );
    assert_eq!(
        HeaderChain::from_checkpoint(&REGTEST, None, stored, tip_work).err(),
        Some(CheckpointError::MissingAnchor)
    );
    let gap = [headers[150], headers[152]];
    assert_eq!(
        HeaderChain::from_checkpoint(&REGTEST, Some(&headers[0]), &gap, tip_work).err(),
        Some(CheckpointError::NotConsecutive { height: 153 })
    );
    assert_eq!(
        HeaderChain::from_checkpoint(&REGTEST, Some(&headers[0]), stored, Default::default()).err(),
        Some(CheckpointError::BadWork)
    );
    let mut other_genesis = REGTEST.genesis_header();
    other_genesis.nonce = 1;
    assert_eq!(
        HeaderChain::from_checkpoint(&REGTEST, None, &[other_genesis], tip_work).err(),
        Some(CheckpointError::WrongGenesis)
    );
}
