use alloc::vec::Vec;

use super::*;
use crate::hash::BlockHash;
use crate::params::{DEVNET, REGTEST};

const HALF_LIFE: u64 = 3_600_000;
const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// A parent at (`height`, `time`) whose chain's block 1 has time `anchor_time`.
fn parent(height: u64, time: u64, anchor_time: Option<u64>) -> ParentInfo {
    ParentInfo {
        hash: BlockHash::ZERO,
        height,
        time,
        median_time_past: time.saturating_sub(1),
        anchor_time,
    }
}

fn genesis_parent(params: &Params) -> ParentInfo {
    parent(0, params.genesis_time_ms, None)
}

/// The next parent after `parent`, for a child at `time`.
fn child(parent: &ParentInfo, time: u64) -> ParentInfo {
    ParentInfo {
        hash: BlockHash::ZERO,
        height: parent.height + 1,
        time,
        median_time_past: time,
        anchor_time: parent.child_anchor_time(time),
    }
}

#[test]
fn block_one_carries_the_genesis_bits() {
    for params in [&DEVNET, &REGTEST] {
        let genesis = genesis_parent(params);
        assert_eq!(next_bits(params, &genesis), params.genesis_bits);
        assert_eq!(next_target(params, &genesis), params.initial_target());
    }
}

#[test]
fn the_child_of_block_one_carries_the_genesis_bits_whenever_block_one_came() {
    let genesis = DEVNET.genesis_time_ms;
    for time in [
        genesis + 1,
        genesis + 10_000,
        genesis + 365 * DAY_MS,
        u64::MAX,
    ] {
        let block_one = child(&genesis_parent(&DEVNET), time);
        assert_eq!(block_one.anchor_time, Some(time));
        assert_eq!(next_bits(&DEVNET, &block_one), DEVNET.genesis_bits);
    }
}

#[test]
fn on_schedule_from_block_one_keeps_the_initial_target() {
    let anchor = DEVNET.genesis_time_ms + 400 * DAY_MS;
    for height in [1u64, 2, 100, 1_000_000] {
        let time = anchor + (height - 1) * DEVNET.target_spacing_ms;
        assert_eq!(
            asert_target(&DEVNET, HALF_LIFE, anchor, height, time),
            DEVNET.initial_target()
        );
        assert_eq!(
            next_bits(&DEVNET, &parent(height, time, Some(anchor))),
            DEVNET.genesis_bits
        );
    }
}

/// The bug the block-1 anchor fixes: anchored at genesis, a chain started a
/// year after the genesis time was a million blocks behind and mined at the
/// pow limit. (Anchored at genesis, the parent's schedule offset is its
/// height; here that is `asert_target` with genesis as "block 1" and one
/// more block of height.)
#[test]
fn a_chain_started_long_after_genesis_starts_at_the_initial_target() {
    let block_one = DEVNET.genesis_time_ms + 365 * DAY_MS;
    let block_two = block_one + DEVNET.target_spacing_ms;
    assert_eq!(
        next_bits(&DEVNET, &parent(2, block_two, Some(block_one))),
        DEVNET.genesis_bits
    );
    let genesis_anchored = asert_target(&DEVNET, HALF_LIFE, DEVNET.genesis_time_ms, 3, block_two);
    assert_eq!(genesis_anchored, DEVNET.pow_limit);
}

#[test]
fn one_half_life_behind_doubles_and_ahead_halves_the_target() {
    let anchor = DEVNET.genesis_time_ms + 3 * DAY_MS;
    assert_eq!(
        asert_target(&DEVNET, HALF_LIFE, anchor, 1, anchor + HALF_LIFE).0,
        DEVNET.initial_target().0 << 1
    );
    let ahead = anchor + 360 * DEVNET.target_spacing_ms - HALF_LIFE;
    assert_eq!(
        asert_target(&DEVNET, HALF_LIFE, anchor, 361, ahead).0,
        DEVNET.initial_target().0 >> 1
    );
}

#[test]
fn extremes_clamp_to_one_and_the_pow_limit() {
    let anchor = DEVNET.genesis_time_ms;
    assert_eq!(
        asert_target(&DEVNET, HALF_LIFE, anchor, 2, u64::MAX),
        DEVNET.pow_limit
    );
    // Nine half-lives behind: 2^240 is one more than the limit.
    assert_eq!(
        asert_target(&DEVNET, HALF_LIFE, anchor, 1, anchor + 9 * HALF_LIFE),
        DEVNET.pow_limit
    );
    assert_eq!(
        asert_target(&DEVNET, HALF_LIFE, anchor, 1, anchor + 8 * HALF_LIFE).0,
        U256::from(1u8) << 239
    );
    assert_eq!(
        asert_target(&DEVNET, HALF_LIFE, u64::MAX, u64::MAX, 0).0,
        U256::from(1u8)
    );
    assert_eq!(
        asert_target(&DEVNET, HALF_LIFE, anchor, 1_000_000_000, anchor + 1).0,
        U256::from(1u8)
    );
    // 231 half-lives ahead leaves exactly 1; one more rounds to 0, clamped to 1.
    for half_lives in [231u64, 232] {
        let ideal = anchor + 1_000_000 * DEVNET.target_spacing_ms;
        let time = ideal - half_lives * HALF_LIFE;
        assert_eq!(
            asert_target(&DEVNET, HALF_LIFE, anchor, 1_000_001, time).0,
            U256::from(1u8)
        );
    }
}

#[test]
fn mul_small_matches_full_multiplication() {
    let value = U256::MAX - U256::from(12345u64);
    let wide = U512::from_limbs_slice(value.as_limbs());
    assert_eq!(mul_small(&value, 131_071), wide * U512::from(131_071u64));
}

#[test]
fn regtest_never_retargets() {
    for time in [0, u64::MAX] {
        let parent = parent(5, time, Some(REGTEST.genesis_time_ms + 1));
        assert_eq!(next_bits(&REGTEST, &parent), REGTEST.genesis_bits);
    }
}

proptest::proptest! {
    #[test]
    fn block_one_and_its_child_get_the_genesis_bits(time in proptest::num::u64::ANY) {
        let block_one = child(&genesis_parent(&DEVNET), time);
        proptest::prop_assert_eq!(next_bits(&DEVNET, &genesis_parent(&DEVNET)), DEVNET.genesis_bits);
        proptest::prop_assert_eq!(next_bits(&DEVNET, &block_one), DEVNET.genesis_bits);
    }

    #[test]
    fn next_bits_are_canonical_and_within_the_pow_limit(
        height in 1u64..,
        time in proptest::num::u64::ANY,
        anchor in proptest::num::u64::ANY,
    ) {
        let parent = parent(height, time, Some(anchor));
        let target = next_target(&DEVNET, &parent);
        proptest::prop_assert!(target <= DEVNET.pow_limit);
        proptest::prop_assert!(target.0 >= U256::from(1u8));
        let bits = next_bits(&DEVNET, &parent);
        proptest::prop_assert_eq!(bits, target.to_compact());
        let decoded = bits.to_target();
        proptest::prop_assert!(decoded.is_ok(), "{bits:?} is not canonical");
        proptest::prop_assert!(decoded.is_ok_and(|decoded| decoded <= DEVNET.pow_limit));
    }
}

/// Hashes a miner of `rate` hashes per ms needs, on average, for `bits`:
/// the deterministic model of mining, interval = work / rate (at least 1 ms).
fn interval_ms(bits: CompactBits, rate: u64) -> u64 {
    let work = bits.to_target().expect("next_bits are canonical").work().0;
    u64::try_from(work / U256::from(rate))
        .unwrap_or(u64::MAX)
        .max(1)
}

/// Times of the blocks a miner of fixed `rate` makes on a fresh devnet whose
/// mining starts at `start` (long after the genesis time), for `duration` ms.
fn simulate(rate: u64, start: u64, duration: u64) -> Vec<u64> {
    let mut parent = genesis_parent(&DEVNET);
    let mut time = start;
    let mut times = Vec::new();
    while time < start + duration {
        time += interval_ms(next_bits(&DEVNET, &parent), rate);
        times.push(time);
        parent = child(&parent, time);
    }
    times
}

#[test]
fn a_fresh_devnet_mined_at_a_fixed_rate_settles_at_ten_seconds() {
    const MINUTE: u64 = 60_000;
    const HOUR: u64 = 60 * MINUTE;
    // The rate that makes one block per 10 s at the genesis target (DESIGN:
    // about one core).
    let nominal = DEVNET.initial_target().work().0 / U256::from(DEVNET.target_spacing_ms);
    let nominal = u64::try_from(nominal).expect("about 3,355 hashes per ms");
    let start = DEVNET.genesis_time_ms + 200 * DAY_MS;
    for rate in [nominal / 4, nominal, 4 * nominal, 16 * nominal] {
        let times = simulate(rate, start, 24 * HOUR);
        let first_ten_minutes = times.iter().filter(|&&t| t <= start + 10 * MINUTE).count();
        assert!(
            first_ten_minutes < 1_000,
            "{rate} hashes/ms: {first_ten_minutes} blocks in the first 10 minutes"
        );
        // The last 360 intervals (about an hour): within 1% of 10 s each.
        let last = &times[times.len() - 361..];
        for pair in last.windows(2) {
            let interval = pair[1] - pair[0];
            assert!(
                (9_900..=10_100).contains(&interval),
                "{rate} hashes/ms: interval {interval} ms after 24 h"
            );
        }
    }
    // Anchored at genesis the same fresh chain started at the pow limit: a
    // thousand blocks within seconds at one core's rate.
    let mut height = 0u64;
    let mut time = start;
    while height < 1_000 {
        let target = if height == 0 {
            DEVNET.initial_target()
        } else {
            asert_target(&DEVNET, HALF_LIFE, DEVNET.genesis_time_ms, height + 1, time)
        };
        time += interval_ms(target.to_compact(), nominal);
        height += 1;
    }
    assert!(
        time < start + MINUTE,
        "genesis-anchored: {} ms",
        time - start
    );
}
