//! Compact bits, targets, proof of work and chain work.
//!
//! Compact bits are Bitcoin's nBits: a one-byte size and a three-byte mantissa
//! with a sign bit. Consensus accepts only canonical bits: positive, non-zero,
//! no overflow, and exactly what [`Target::to_compact`] produces.

use core::fmt;
use ruint::aliases::U256;

/// A 256-bit proof-of-work target: a block hash, read as a big-endian number,
/// must be at most this.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Target(pub U256);

/// A target in compact form, as carried in a header.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct CompactBits(pub u32);

/// Expected number of hashes to find a block at a target; sums to chain work.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Work(pub U256);

/// Why compact bits are not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CompactError {
    /// The sign bit is set on a non-zero mantissa.
    Negative(CompactBits),
    /// The value does not fit in 256 bits.
    Overflow(CompactBits),
    /// The target is zero.
    Zero(CompactBits),
    /// A valid target, but not in its one canonical encoding.
    NonCanonical(CompactBits),
}

impl fmt::Display for CompactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Negative(bits) => write!(f, "compact bits {:#010x} are negative", bits.0),
            Self::Overflow(bits) => write!(f, "compact bits {:#010x} overflow 256 bits", bits.0),
            Self::Zero(bits) => write!(f, "compact bits {:#010x} give a zero target", bits.0),
            Self::NonCanonical(bits) => {
                write!(f, "compact bits {:#010x} are not canonical", bits.0)
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CompactError {}

/// A 256-bit big-endian number as the nearest `f64` (for display only).
fn u256_to_f64(bytes: [u8; 32]) -> f64 {
    bytes
        .iter()
        .fold(0.0, |value, &byte| value * 256.0 + f64::from(byte))
}

impl CompactBits {
    /// Difficulty for display: `pow_limit / target`, 1 at the network's
    /// easiest target, 0 for bits that give no target. Never used by a rule.
    pub fn difficulty(self, pow_limit: Target) -> f64 {
        match self.to_target_lenient() {
            Ok(target) => u256_to_f64(pow_limit.to_be_bytes()) / u256_to_f64(target.to_be_bytes()),
            Err(_) => 0.0,
        }
    }

    /// Decodes the target as Bitcoin Core's `SetCompact` does, rejecting
    /// negative, overflowing and zero values (but not non-canonical ones).
    pub fn to_target_lenient(self) -> Result<Target, CompactError> {
        let size = self.0 >> 24;
        let mut word = self.0 & 0x007f_ffff;
        let target = if size <= 3 {
            word >>= 8 * (3 - size);
            U256::from(word)
        } else {
            let shift = 8 * (size as usize - 3);
            let overflow = word != 0
                && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
            if overflow {
                return Err(CompactError::Overflow(self));
            }
            U256::from(word) << shift
        };
        if word != 0 && self.0 & 0x0080_0000 != 0 {
            return Err(CompactError::Negative(self));
        }
        if target.is_zero() {
            return Err(CompactError::Zero(self));
        }
        Ok(Target(target))
    }

    /// Decodes the target and requires the canonical encoding.
    pub fn to_target(self) -> Result<Target, CompactError> {
        let target = self.to_target_lenient()?;
        if target.to_compact() != self {
            return Err(CompactError::NonCanonical(self));
        }
        Ok(target)
    }
}

impl Target {
    /// Builds a target from 32 big-endian bytes.
    pub fn from_be_bytes(bytes: [u8; 32]) -> Self {
        Self(U256::from_be_bytes(bytes))
    }

    /// The target as 32 big-endian bytes.
    pub fn to_be_bytes(self) -> [u8; 32] {
        self.0.to_be_bytes()
    }

    /// Encodes as compact bits, as Bitcoin Core's `GetCompact` does (the
    /// mantissa keeps the top 23 bits; the rest is truncated).
    pub fn to_compact(self) -> CompactBits {
        let mut size = self.0.bit_len().div_ceil(8) as u32;
        let mut compact = if size <= 3 {
            (self.0.as_limbs()[0] << (8 * (3 - size))) as u32
        } else {
            (self.0 >> (8 * (size as usize - 3))).as_limbs()[0] as u32
        };
        if compact & 0x0080_0000 != 0 {
            compact >>= 8;
            size += 1;
        }
        CompactBits(compact | (size << 24))
    }

    /// True when `hash`, read as a big-endian number, is at most this target.
    pub fn is_met_by(&self, hash: &[u8; 32]) -> bool {
        U256::from_be_bytes(*hash) <= self.0
    }

    /// [`Target::is_met_by`] for a digest given as its eight big-endian
    /// words ([`crate::hash::NonceSearch::hash_words`]). The most
    /// significant word settles almost every comparison, so the miner's
    /// loop rarely builds the full number.
    pub fn is_met_by_words(&self, words: &[u32; 8]) -> bool {
        let top: u32 = (self.0 >> 224_usize).to::<u32>();
        match words[0].cmp(&top) {
            core::cmp::Ordering::Less => true,
            core::cmp::Ordering::Greater => false,
            core::cmp::Ordering::Equal => {
                let mut bytes = [0u8; 32];
                for (chunk, word) in bytes.chunks_exact_mut(4).zip(words) {
                    chunk.copy_from_slice(&word.to_be_bytes());
                }
                self.is_met_by(&bytes)
            }
        }
    }

    /// floor(2^256 / (target + 1)), computed as Bitcoin Core does:
    /// (~target / (target + 1)) + 1, which needs no 257-bit number.
    pub fn work(&self) -> Work {
        if self.0 == U256::MAX {
            return Work(U256::from(1u8));
        }
        Work((!self.0 / (self.0 + U256::from(1u8))) + U256::from(1u8))
    }
}

impl Work {
    /// Adds work; chain work cannot reach 2^256 with any real chain, so
    /// saturating is a formality that keeps the function total.
    #[must_use]
    pub fn saturating_add(self, other: Work) -> Work {
        Work(self.0.saturating_add(other.0))
    }

    /// The work as 32 big-endian bytes (for storage and JSON hex).
    pub fn to_be_bytes(self) -> [u8; 32] {
        self.0.to_be_bytes()
    }

    /// Reads work from 32 big-endian bytes.
    pub fn from_be_bytes(bytes: [u8; 32]) -> Self {
        Self(U256::from_be_bytes(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words_of(bytes: &[u8; 32]) -> [u32; 8] {
        let mut words = [0u32; 8];
        for (word, chunk) in words.iter_mut().zip(bytes.chunks_exact(4)) {
            *word = u32::from_be_bytes(chunk.try_into().expect("4 bytes"));
        }
        words
    }

    proptest::proptest! {
        /// Word-wise and byte-wise comparison agree, also when the top
        /// words are equal (the hash made close to the target).
        #[test]
        fn is_met_by_words_agrees_with_is_met_by(
            target in proptest::array::uniform32(proptest::num::u8::ANY),
            hash in proptest::array::uniform32(proptest::num::u8::ANY),
            share_top in proptest::bool::ANY,
            share_all in proptest::bool::ANY,
        ) {
            let target = Target(U256::from_be_bytes(target));
            let mut hash = hash;
            if share_top {
                hash[..4].copy_from_slice(&target.0.to_be_bytes::<32>()[..4]);
            }
            if share_all {
                hash = target.0.to_be_bytes::<32>();
            }
            proptest::prop_assert_eq!(target.is_met_by_words(&words_of(&hash)), target.is_met_by(&hash));
        }
    }

    #[test]
    fn genesis_bits_decode_to_the_designed_targets() {
        let devnet = CompactBits(0x1e00_8000).to_target().expect("canonical");
        assert_eq!(devnet.0, U256::from(1u8) << 231);
        let regtest = CompactBits(0x207f_ffff).to_target().expect("canonical");
        assert_eq!(regtest.0, U256::from(0x7f_ffffu32) << 232);
    }

    #[test]
    fn bad_bits_are_rejected_for_the_right_reason() {
        assert_eq!(
            CompactBits(0x0492_3456).to_target(),
            Err(CompactError::Negative(CompactBits(0x0492_3456)))
        );
        assert_eq!(
            CompactBits(0xff12_3456).to_target(),
            Err(CompactError::Overflow(CompactBits(0xff12_3456)))
        );
        assert_eq!(
            CompactBits(0x0300_0000).to_target(),
            Err(CompactError::Zero(CompactBits(0x0300_0000)))
        );
        assert_eq!(
            CompactBits(0x0400_0001).to_target(),
            Err(CompactError::NonCanonical(CompactBits(0x0400_0001)))
        );
    }

    #[test]
    fn work_of_the_largest_target_is_one() {
        assert_eq!(Target(U256::MAX).work(), Work(U256::from(1u8)));
        assert_eq!(Target(U256::from(1u8) << 255).work(), Work(U256::from(1u8)));
        assert_eq!(
            Target((U256::from(1u8) << 255) - U256::from(1u8)).work(),
            Work(U256::from(2u8))
        );
    }
}
