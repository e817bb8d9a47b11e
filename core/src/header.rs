//! The 128-byte block header and the rules a header must follow.

use alloc::vec::Vec;
use core::fmt;

use crate::difficulty::next_bits;
use crate::encode::{Decode, DecodeError, Encode, Reader};
use crate::hash::{BlockHash, MerkleHash, sha256};
use crate::params::Params;
use crate::pow::{CompactBits, CompactError, Target};

/// A block header. Its hash is SHA-256 of its 128 encoded bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Header {
    /// Always [`Header::VERSION`].
    pub version: u32,
    /// Parent's height + 1; genesis is 0.
    pub height: u64,
    /// Hash of the parent header; zeros in genesis.
    pub prev_hash: BlockHash,
    /// RFC 6962 root of the block's txids.
    pub merkle_root: MerkleHash,
    /// Root of the account state tree after this block.
    pub state_root: MerkleHash,
    /// Milliseconds since the Unix epoch.
    pub time: u64,
    /// Compact target.
    pub bits: CompactBits,
    /// Free field for the miner.
    pub nonce: u64,
}

/// Byte offsets of the header fields (DESIGN section 3).
pub mod layout {
    /// version u32
    pub const VERSION: usize = 0;
    /// height u64
    pub const HEIGHT: usize = 4;
    /// prev_hash [u8; 32]
    pub const PREV_HASH: usize = 12;
    /// merkle_root [u8; 32]
    pub const MERKLE_ROOT: usize = 44;
    /// state_root [u8; 32]
    pub const STATE_ROOT: usize = 76;
    /// time u64
    pub const TIME: usize = 108;
    /// bits u32
    pub const BITS: usize = 116;
    /// nonce u64
    pub const NONCE: usize = 120;
    /// encoded size
    pub const SIZE: usize = 128;
}

impl Header {
    /// The only header version.
    pub const VERSION: u32 = 1;
    /// Encoded size in bytes.
    pub const SIZE: usize = layout::SIZE;

    /// The 128 encoded bytes.
    pub fn to_bytes(&self) -> [u8; Header::SIZE] {
        let mut out = [0u8; Header::SIZE];
        out[layout::VERSION..layout::HEIGHT].copy_from_slice(&self.version.to_le_bytes());
        out[layout::HEIGHT..layout::PREV_HASH].copy_from_slice(&self.height.to_le_bytes());
        out[layout::PREV_HASH..layout::MERKLE_ROOT].copy_from_slice(&self.prev_hash.0);
        out[layout::MERKLE_ROOT..layout::STATE_ROOT].copy_from_slice(&self.merkle_root.0);
        out[layout::STATE_ROOT..layout::TIME].copy_from_slice(&self.state_root.0);
        out[layout::TIME..layout::BITS].copy_from_slice(&self.time.to_le_bytes());
        out[layout::BITS..layout::NONCE].copy_from_slice(&self.bits.0.to_le_bytes());
        out[layout::NONCE..layout::SIZE].copy_from_slice(&self.nonce.to_le_bytes());
        out
    }

    /// Block hash: SHA-256 of the encoded header.
    pub fn hash(&self) -> BlockHash {
        BlockHash(sha256(&self.to_bytes()))
    }
}

impl Encode for Header {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_bytes());
    }
}

impl Decode for Header {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = reader.u32()?;
        if version != Header::VERSION {
            return Err(DecodeError::UnknownVersion {
                field: "header",
                version,
            });
        }
        Ok(Header {
            version,
            height: reader.u64()?,
            prev_hash: BlockHash(reader.array()?),
            merkle_root: MerkleHash(reader.array()?),
            state_root: MerkleHash(reader.array()?),
            time: reader.u64()?,
            bits: CompactBits(reader.u32()?),
            nonce: reader.u64()?,
        })
    }
}

/// Why a header breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderError {
    /// Bits are negative, overflowing, zero or not canonical.
    BadBits(CompactError),
    /// The target is easier than the network allows.
    TargetAbovePowLimit { bits: CompactBits },
    /// The hash does not meet the target.
    InsufficientProofOfWork { hash: BlockHash, bits: CompactBits },
    /// The bits are not the ASERT result for this parent.
    WrongBits {
        expected: CompactBits,
        got: CompactBits,
    },
    /// Height is not the parent's + 1.
    WrongHeight { expected: u64, got: u64 },
    /// prev_hash is not the parent's hash.
    WrongPrevHash { expected: BlockHash, got: BlockHash },
    /// Time is not after the median time past.
    TimeNotAfterMedianTimePast { time: u64, median_time_past: u64 },
    /// Time is too far ahead of the local clock.
    TimeTooFarInFuture { time: u64, now: u64, max_drift: u64 },
    /// The parent is not known.
    UnknownParent { prev_hash: BlockHash },
    /// A header claims to be a second genesis.
    BadGenesis { hash: BlockHash },
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadBits(error) => write!(f, "bad bits: {error}"),
            Self::TargetAbovePowLimit { bits } => {
                write!(f, "target of bits {:#010x} is above the pow limit", bits.0)
            }
            Self::InsufficientProofOfWork { hash, bits } => {
                write!(
                    f,
                    "hash {hash} does not meet the target of bits {:#010x}",
                    bits.0
                )
            }
            Self::WrongBits { expected, got } => {
                write!(
                    f,
                    "wrong bits {:#010x}, expected {:#010x}",
                    got.0, expected.0
                )
            }
            Self::WrongHeight { expected, got } => {
                write!(f, "wrong height {got}, expected {expected}")
            }
            Self::WrongPrevHash { expected, got } => {
                write!(f, "wrong prev_hash {got}, expected {expected}")
            }
            Self::TimeNotAfterMedianTimePast {
                time,
                median_time_past,
            } => {
                write!(
                    f,
                    "time {time} is not after the median time past {median_time_past}"
                )
            }
            Self::TimeTooFarInFuture {
                time,
                now,
                max_drift,
            } => {
                write!(
                    f,
                    "time {time} is more than {max_drift} ms after the local time {now}"
                )
            }
            Self::UnknownParent { prev_hash } => write!(f, "unknown parent {prev_hash}"),
            Self::BadGenesis { hash } => {
                write!(f, "header {hash} at height 0 is not this network's genesis")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for HeaderError {}

/// What a header's rules need to know about its parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParentInfo {
    /// The parent's hash.
    pub hash: BlockHash,
    /// The parent's height.
    pub height: u64,
    /// The parent's time.
    pub time: u64,
    /// Median of the times of the last min(11, height + 1) blocks ending at the parent.
    pub median_time_past: u64,
    /// Time of block 1 of the parent's chain, ASERT's anchor: the parent's
    /// own time when it is block 1, None exactly when it is genesis.
    pub anchor_time: Option<u64>,
}

impl ParentInfo {
    /// The anchor time of a child of this parent whose time is `child_time`:
    /// its own when it is block 1, else the same as this parent's.
    pub fn child_anchor_time(&self, child_time: u64) -> Option<u64> {
        if self.height == 0 {
            Some(child_time)
        } else {
            self.anchor_time
        }
    }
}

/// Number of blocks whose times make the median time past.
pub const MEDIAN_TIME_SPAN: usize = 11;

/// The median of up to 11 times: sorted, element ⌊n/2⌋ (as Bitcoin Core).
/// `times` must not be empty.
pub fn median_time_past(times: &[u64]) -> u64 {
    let mut sorted = [0u64; MEDIAN_TIME_SPAN];
    let count = times.len().min(MEDIAN_TIME_SPAN);
    sorted[..count].copy_from_slice(&times[times.len() - count..]);
    let sorted = &mut sorted[..count];
    sorted.sort_unstable();
    sorted[count / 2]
}

/// Context-free proof of work: canonical bits, target within the limit, hash meets it.
pub fn check_proof_of_work(
    params: &Params,
    hash: &BlockHash,
    bits: CompactBits,
) -> Result<Target, HeaderError> {
    let target = bits.to_target().map_err(HeaderError::BadBits)?;
    if target > params.pow_limit {
        return Err(HeaderError::TargetAbovePowLimit { bits });
    }
    if !target.is_met_by(&hash.0) {
        return Err(HeaderError::InsufficientProofOfWork { hash: *hash, bits });
    }
    Ok(target)
}

/// Every rule of a non-genesis header that needs only its parent: height,
/// prev_hash, time after the median time past, ASERT bits (anchored at block
/// 1, see [`crate::difficulty`]) and proof of work.
/// The future-drift rule needs a clock: see [`check_header_time_against_clock`].
pub fn check_header(
    params: &Params,
    header: &Header,
    hash: &BlockHash,
    parent: &ParentInfo,
) -> Result<Target, HeaderError> {
    let expected_height = parent
        .height
        .checked_add(1)
        .ok_or(HeaderError::WrongHeight {
            expected: u64::MAX,
            got: header.height,
        })?;
    if header.height != expected_height {
        return Err(HeaderError::WrongHeight {
            expected: expected_height,
            got: header.height,
        });
    }
    if header.prev_hash != parent.hash {
        return Err(HeaderError::WrongPrevHash {
            expected: parent.hash,
            got: header.prev_hash,
        });
    }
    if header.time <= parent.median_time_past {
        return Err(HeaderError::TimeNotAfterMedianTimePast {
            time: header.time,
            median_time_past: parent.median_time_past,
        });
    }
    let expected_bits = next_bits(params, parent);
    if header.bits != expected_bits {
        return Err(HeaderError::WrongBits {
            expected: expected_bits,
            got: header.bits,
        });
    }
    check_proof_of_work(params, hash, header.bits)
}

/// A header may not be more than the network's drift ahead of `now_ms`.
pub fn check_header_time_against_clock(
    params: &Params,
    header: &Header,
    now_ms: u64,
) -> Result<(), HeaderError> {
    if header.time > now_ms.saturating_add(params.max_future_drift_ms) {
        return Err(HeaderError::TimeTooFarInFuture {
            time: header.time,
            now: now_ms,
            max_drift: params.max_future_drift_ms,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
