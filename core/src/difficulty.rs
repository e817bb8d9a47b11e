//! Difficulty: aserti3-2d (as in Bitcoin Cash), anchored at block 1.
//!
//! Block 1, the child of genesis, carries the genesis bits; every later
//! block's target follows from how far its parent is ahead of or behind an
//! ideal schedule that starts at block 1 of the same chain. Genesis is not the
//! anchor because its time is fixed in the code: a chain whose first block is
//! mined long after it would start far behind schedule, at the pow limit.
//!
//! Integer arithmetic only, so native and wasm agree bit for bit.

use ruint::aliases::{U256, U512};

use crate::header::ParentInfo;
use crate::params::{Params, Retarget};
use crate::pow::{CompactBits, Target};

/// The bits the child of `parent` must carry: the genesis bits when the
/// parent is genesis (or the network does not retarget), else the ASERT
/// target anchored at block 1 of the parent's chain, as canonical compact bits.
pub fn next_bits(params: &Params, parent: &ParentInfo) -> CompactBits {
    match next_asert_target(params, parent) {
        Some(target) => target.to_compact(),
        None => params.genesis_bits,
    }
}

/// The target the child of `parent` must meet, before compact encoding
/// ([`next_bits`] is this target encoded, then decoded again by the check).
pub fn next_target(params: &Params, parent: &ParentInfo) -> Target {
    next_asert_target(params, parent).unwrap_or_else(|| params.initial_target())
}

/// None when the child carries the genesis bits.
fn next_asert_target(params: &Params, parent: &ParentInfo) -> Option<Target> {
    debug_assert_eq!(
        parent.anchor_time.is_none(),
        parent.height == 0,
        "only genesis has no block 1 at or below it"
    );
    match (params.retarget, parent.anchor_time) {
        (Retarget::None, _) | (_, None) => None,
        (Retarget::Asert { half_life_ms }, Some(anchor_time_ms)) => Some(asert_target(
            params,
            half_life_ms,
            anchor_time_ms,
            parent.height,
            parent.time,
        )),
    }
}

/// The aserti3-2d formula of DESIGN section 3 for a parent at
/// (`parent_height`, `parent_time_ms`) whose chain's block 1 has time
/// `anchor_time_ms`: clamped to `1..=pow_limit`.
fn asert_target(
    params: &Params,
    half_life_ms: u64,
    anchor_time_ms: u64,
    parent_height: u64,
    parent_time_ms: u64,
) -> Target {
    // |time_delta| < 2^64 and |height_delta| < 2^64, so with any spacing below
    // 2^47 ms the numerator stays below 2^127: no overflow in i128.
    let time_delta = i128::from(parent_time_ms) - i128::from(anchor_time_ms);
    let height_delta = i128::from(parent_height) - 1;
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
mod tests;
