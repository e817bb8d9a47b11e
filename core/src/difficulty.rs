//! Difficulty: aserti3-2d (as in Bitcoin Cash), anchored at genesis.
//!
//! Integer arithmetic only, so native and wasm agree bit for bit.

use ruint::aliases::{U256, U512};

use crate::params::{Params, Retarget};
use crate::pow::{CompactBits, Target};

/// The bits the child of a block at (`parent_height`, `parent_time_ms`) must carry.
pub fn next_bits(params: &Params, parent_height: u64, parent_time_ms: u64) -> CompactBits {
    match params.retarget {
        Retarget::None => params.genesis_bits,
        Retarget::Asert { half_life_ms } => {
            asert_target(params, half_life_ms, parent_height, parent_time_ms).to_compact()
        }
    }
}

/// The ASERT target (before compact encoding) for the child of the given parent.
pub fn asert_target(
    params: &Params,
    half_life_ms: u64,
    parent_height: u64,
    parent_time_ms: u64,
) -> Target {
    let time_delta = i128::from(parent_time_ms) - i128::from(params.genesis_time_ms);
    let height_delta = i128::from(parent_height);
    // |time_delta| < 2^64, spacing * height < 2^64 * 2^64: the product with 2^16
    // stays far below i128::MAX only while spacing < 2^47 ms, which holds for any
    // sensible network; the parameters are constants checked by tests.
    let ideal = i128::from(params.target_spacing_ms) * height_delta;
    let numerator = (time_delta - ideal) * 65536;
    // i128 division is a slow library call; every real chain fits in i64.
    let exponent = match (i64::try_from(numerator), i64::try_from(half_life_ms)) {
        (Ok(numerator), Ok(half_life)) => i128::from(numerator.div_euclid(half_life)),
        _ => numerator.div_euclid(i128::from(half_life_ms)),
    };
    let shifts = exponent >> 16;
    let frac = (exponent - shifts * 65536) as u128;
    debug_assert!(frac < 65536);
    let polynomial = 195_766_423_245_049u128 * frac
        + 971_821_376u128 * frac * frac
        + 5_127u128 * frac * frac * frac
        + (1u128 << 47);
    let factor = 65536u128 + (polynomial >> 48);

    let scaled = mul_small(&params.initial_target().0, factor as u64);
    // (scaled << shifts) >> 16, as one shift: exact in both directions.
    let net_shift = shifts - 16;
    let pow_limit = params.pow_limit.0;
    let target = if net_shift >= 0 {
        if scaled.bit_len() as i128 + net_shift > 256 {
            return params.pow_limit;
        }
        scaled << (net_shift as usize)
    } else if -net_shift >= 512 {
        U512::ZERO
    } else {
        scaled >> ((-net_shift) as usize)
    };
    let limbs = target.as_limbs();
    // Past 256 bits only when net_shift >= 0, which returned above.
    debug_assert!(limbs[4..].iter().all(|&limb| limb == 0));
    let target = U256::from_limbs([limbs[0], limbs[1], limbs[2], limbs[3]]);
    Target(target.clamp(U256::from(1u8), pow_limit))
}

/// `value * factor` without overflow: 256 bits times 64 bits fits in 320.
fn mul_small(value: &U256, factor: u64) -> U512 {
    let mut limbs = [0u64; 8];
    let mut carry = 0u128;
    for (out, &limb) in limbs.iter_mut().zip(value.as_limbs()) {
        let product = u128::from(limb) * u128::from(factor) + carry;
        *out = product as u64;
        carry = product >> 64;
    }
    limbs[4] = carry as u64;
    U512::from_limbs(limbs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{DEVNET, REGTEST};

    const HALF_LIFE: u64 = 3_600_000;

    #[test]
    fn on_schedule_keeps_the_initial_target() {
        for height in [0u64, 1, 100, 1_000_000] {
            let time = DEVNET.genesis_time_ms + height * DEVNET.target_spacing_ms;
            assert_eq!(
                asert_target(&DEVNET, HALF_LIFE, height, time),
                DEVNET.initial_target()
            );
            assert_eq!(next_bits(&DEVNET, height, time), DEVNET.genesis_bits);
        }
    }

    #[test]
    fn one_half_life_behind_doubles_the_target() {
        let time = DEVNET.genesis_time_ms + HALF_LIFE;
        assert_eq!(
            asert_target(&DEVNET, HALF_LIFE, 0, time).0,
            DEVNET.initial_target().0 << 1
        );
        let ahead = DEVNET.genesis_time_ms + 360 * DEVNET.target_spacing_ms - HALF_LIFE;
        assert_eq!(
            asert_target(&DEVNET, HALF_LIFE, 360, ahead).0,
            DEVNET.initial_target().0 >> 1
        );
    }

    #[test]
    fn extremes_clamp_to_one_and_the_pow_limit() {
        assert_eq!(
            asert_target(&DEVNET, HALF_LIFE, 0, u64::MAX),
            DEVNET.pow_limit
        );
        assert_eq!(
            asert_target(&DEVNET, HALF_LIFE, u64::MAX, 0).0,
            U256::from(1u8)
        );
        assert_eq!(
            asert_target(
                &DEVNET,
                HALF_LIFE,
                1_000_000_000,
                DEVNET.genesis_time_ms + 1
            )
            .0,
            U256::from(1u8)
        );
    }

    #[test]
    fn mul_small_matches_full_multiplication() {
        let value = U256::MAX - U256::from(12345u64);
        let wide = U512::from_limbs_slice(value.as_limbs());
        assert_eq!(mul_small(&value, 131_071), wide * U512::from(131_071u64));
    }

    #[test]
    fn regtest_never_retargets() {
        assert_eq!(next_bits(&REGTEST, 5, 0), REGTEST.genesis_bits);
        assert_eq!(next_bits(&REGTEST, 5, u64::MAX), REGTEST.genesis_bits);
    }
}
