//! Network parameters and genesis blocks.

use core::fmt;
use core::str::FromStr;
use ruint::aliases::U256;

use crate::amount::Amount;
use crate::block::Block;
use crate::hash::{BlockHash, MerkleHash, sha256};
use crate::header::Header;
use crate::pow::{CompactBits, Target};

/// The networks this software knows.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Network {
    /// Local tests: trivial proof of work, no retargeting.
    Regtest,
    /// The default development network: ASERT, 10-second blocks.
    Devnet,
}

/// An unknown network name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownNetworkError(pub alloc::string::String);

impl fmt::Display for UnknownNetworkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown network {:?} (expected devnet or regtest)",
            self.0
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for UnknownNetworkError {}

impl Network {
    /// Every network.
    pub const ALL: [Network; 2] = [Network::Regtest, Network::Devnet];

    /// The lowercase name used on the command line, in JSON and in protocol names.
    pub fn name(self) -> &'static str {
        self.params().name
    }

    /// The network's parameters.
    pub fn params(self) -> &'static Params {
        match self {
            Network::Regtest => &REGTEST,
            Network::Devnet => &DEVNET,
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Network {
    type Err = UnknownNetworkError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Network::ALL
            .into_iter()
            .find(|network| network.name() == s)
            .ok_or_else(|| UnknownNetworkError(s.into()))
    }
}

/// Difficulty adjustment of a network.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Retarget {
    /// Every block carries the genesis bits.
    None,
    /// aserti3-2d anchored at genesis, with this half-life in milliseconds.
    Asert { half_life_ms: u64 },
}

/// Everything consensus needs to know about a network.
#[derive(Clone, Debug)]
pub struct Params {
    /// Which network.
    pub network: Network,
    /// Lowercase name.
    pub name: &'static str,
    /// Four bytes that start every signed message, so signatures do not replay across networks.
    pub magic: [u8; 4],
    /// Human-readable part of bech32m addresses.
    pub address_prefix: &'static str,
    /// The easiest allowed target.
    pub pow_limit: Target,
    /// Bits of genesis, which are also ASERT's initial target.
    pub genesis_bits: CompactBits,
    /// Genesis time, ms since the Unix epoch.
    pub genesis_time_ms: u64,
    /// Ideal time between blocks, ms.
    pub target_spacing_ms: u64,
    /// Difficulty adjustment.
    pub retarget: Retarget,
    /// How far ahead of the local clock a header's time may be, ms.
    pub max_future_drift_ms: u64,
    /// Reward of the first era.
    pub initial_reward: Amount,
    /// Blocks between halvings of the reward.
    pub halving_interval: u64,
    /// Largest encoded block, in bytes.
    pub max_block_size: usize,
}

const fn pow2_minus_one(bits: usize) -> U256 {
    let mut limbs = [0u64; 4];
    let mut i = 0;
    while i < 4 {
        let low = i * 64;
        limbs[i] = if bits >= low + 64 {
            u64::MAX
        } else if bits > low {
            (1u64 << (bits - low)) - 1
        } else {
            0
        };
        i += 1;
    }
    U256::from_limbs(limbs)
}

const GENESIS_TIME_MS: u64 = 1_764_000_000_000;

/// Regtest: for tests. Every block carries 0x207fffff.
pub static REGTEST: Params = Params {
    network: Network::Regtest,
    name: "regtest",
    magic: *b"BCrt",
    address_prefix: "rblk",
    pow_limit: Target(pow2_minus_one(255)),
    genesis_bits: CompactBits(0x207f_ffff),
    genesis_time_ms: GENESIS_TIME_MS,
    target_spacing_ms: 1_000,
    retarget: Retarget::None,
    max_future_drift_ms: 2 * 60 * 60 * 1000,
    initial_reward: Amount(5_000_000_000),
    halving_interval: 210_000,
    max_block_size: 1_000_000,
};

/// Devnet: the default network. ASERT with a one-hour half-life, 10-second blocks.
pub static DEVNET: Params = Params {
    network: Network::Devnet,
    name: "devnet",
    magic: *b"BCdv",
    address_prefix: "tblk",
    pow_limit: Target(pow2_minus_one(240)),
    genesis_bits: CompactBits(0x1e00_8000),
    genesis_time_ms: GENESIS_TIME_MS,
    target_spacing_ms: 10_000,
    retarget: Retarget::Asert {
        half_life_ms: 60 * 60 * 1000,
    },
    max_future_drift_ms: 60 * 1000,
    initial_reward: Amount(5_000_000_000),
    halving_interval: 210_000,
    max_block_size: 1_000_000,
};

impl Params {
    /// The genesis header: version 1, height 0, no transactions.
    pub fn genesis_header(&self) -> Header {
        Header {
            version: Header::VERSION,
            height: 0,
            prev_hash: BlockHash::ZERO,
            merkle_root: MerkleHash(sha256(b"")),
            state_root: MerkleHash::ZERO,
            time: self.genesis_time_ms,
            bits: self.genesis_bits,
            nonce: 0,
        }
    }

    /// The genesis block (a header and no transactions).
    pub fn genesis_block(&self) -> Block {
        Block {
            header: self.genesis_header(),
            transactions: alloc::vec::Vec::new(),
        }
    }

    /// Hash of the genesis header.
    pub fn genesis_hash(&self) -> BlockHash {
        self.genesis_header().hash()
    }

    /// ASERT's starting target: the genesis target.
    pub fn initial_target(&self) -> Target {
        self.genesis_bits
            .to_target()
            .expect("genesis bits are canonical, checked by a test")
    }

    /// Block reward at `height`: halves every `halving_interval` blocks, zero after 64 halvings.
    pub fn block_reward(&self, height: u64) -> Amount {
        let halvings = height / self.halving_interval;
        if halvings >= 64 {
            Amount::ZERO
        } else {
            Amount(self.initial_reward.0 >> halvings)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genesis_targets_are_within_the_pow_limit() {
        for network in Network::ALL {
            let params = network.params();
            assert!(params.initial_target() <= params.pow_limit);
            assert_eq!(params.genesis_bits.to_target(), Ok(params.initial_target()));
            assert_eq!(network.name().parse::<Network>(), Ok(network));
        }
        assert_eq!(DEVNET.initial_target().0, U256::from(1u8) << 231);
        assert_eq!(
            DEVNET.pow_limit.0,
            (U256::from(1u8) << 240) - U256::from(1u8)
        );
        assert_eq!(
            REGTEST.pow_limit.0,
            (U256::from(1u8) << 255) - U256::from(1u8)
        );
    }

    #[test]
    fn reward_halves_and_ends() {
        assert_eq!(DEVNET.block_reward(0), Amount(5_000_000_000));
        assert_eq!(DEVNET.block_reward(209_999), Amount(5_000_000_000));
        assert_eq!(DEVNET.block_reward(210_000), Amount(2_500_000_000));
        assert_eq!(DEVNET.block_reward(210_000 * 33), Amount(0));
        assert_eq!(DEVNET.block_reward(u64::MAX), Amount(0));
    }

    #[test]
    fn unknown_network_is_an_error() {
        assert!("mainnet".parse::<Network>().is_err());
    }
}
