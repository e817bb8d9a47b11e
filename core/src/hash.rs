//! SHA-256 and the 32-byte hash newtypes.
//!
//! Hashes are shown in hex in byte order (no reversal, unlike Bitcoin).

use core::fmt;
use core::str::FromStr;
use sha2::{Digest, Sha256};

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// SHA-256 of the concatenation of `parts`, without copying them together.
pub fn sha256_parts(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

/// Why a hex hash could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashParseError {
    /// Not 64 characters.
    Length(usize),
    /// A character that is not a lowercase or uppercase hex digit.
    InvalidHex,
}

impl fmt::Display for HashParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length(len) => write!(f, "a hash is 64 hex digits, got {len} characters"),
            Self::InvalidHex => f.write_str("a hash must be hex"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for HashParseError {}

macro_rules! hash_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// All zero bytes.
            pub const ZERO: Self = Self([0; 32]);

            /// The bytes, in byte order.
            pub fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for byte in self.0 {
                    write!(f, "{byte:02x}")?;
                }
                Ok(())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl FromStr for $name {
            type Err = HashParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                if s.len() != 64 {
                    return Err(HashParseError::Length(s.len()));
                }
                let mut bytes = [0u8; 32];
                hex::decode_to_slice(s, &mut bytes).map_err(|_| HashParseError::InvalidHex)?;
                Ok(Self(bytes))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <alloc::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

hash_newtype!(
    /// SHA-256 of a block's 128-byte header.
    BlockHash
);
hash_newtype!(
    /// SHA-256 of a transaction's unsigned encoding.
    Txid
);
hash_newtype!(
    /// A Merkle root or node: of the transaction tree or of the state tree.
    MerkleHash
);

/// SHA-256 initial state (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// The padding block of a 128-byte message: 0x80, zeros, bit length 1024 (big-endian).
const PADDING_AFTER_128_BYTES: [u8; 64] = {
    let mut block = [0u8; 64];
    block[0] = 0x80;
    block[62] = 0x04;
    block
};

/// SHA-256 of a 128-byte header whose first 64 bytes are fixed: the state after
/// the first block is computed once, so each nonce costs two compressions
/// instead of three.
#[derive(Clone, Debug)]
pub struct HeaderMidstate {
    state: [u32; 8],
}

impl HeaderMidstate {
    /// Absorbs the first 64 bytes of a header.
    pub fn new(first_block: &[u8; 64]) -> Self {
        let mut state = SHA256_IV;
        sha2::block_api::compress256(&mut state, core::slice::from_ref(first_block));
        Self { state }
    }

    /// SHA-256 of the header whose last 64 bytes are `second_block`.
    pub fn hash(&self, second_block: &[u8; 64]) -> [u8; 32] {
        let mut state = self.state;
        sha2::block_api::compress256(&mut state, &[*second_block, PADDING_AFTER_128_BYTES]);
        digest_bytes(state)
    }
}

/// A nonce search over one 128-byte header whose nonce is its last 8
/// bytes (little-endian): the midstate of the first 64 bytes, and the last
/// 64 bytes already followed by their padding block, so each nonce costs
/// writing 8 bytes and two compressions, with nothing copied.
#[derive(Clone, Debug)]
pub struct NonceSearch {
    midstate: [u32; 8],
    blocks: [[u8; 64]; 2],
}

impl NonceSearch {
    /// Prepares the search over `header` (its nonce bytes are overwritten by
    /// [`NonceSearch::set_nonce`]).
    pub fn new(header: &[u8; 128]) -> Self {
        let (first, second) = header.split_at(64);
        let first: &[u8; 64] = first.try_into().expect("64 bytes");
        let second: [u8; 64] = second.try_into().expect("64 bytes");
        Self {
            midstate: HeaderMidstate::new(first).state,
            blocks: [second, PADDING_AFTER_128_BYTES],
        }
    }

    /// Puts `nonce` into the header's last 8 bytes.
    pub fn set_nonce(&mut self, nonce: u64) {
        self.blocks[0][56..].copy_from_slice(&nonce.to_le_bytes());
    }

    /// SHA-256 of the header as the eight big-endian words of the digest
    /// (word 0 holds the digest's first 4 bytes): compare them with
    /// [`crate::pow::Target::is_met_by_words`] without serialising.
    pub fn hash_words(&self) -> [u32; 8] {
        let mut state = self.midstate;
        sha2::block_api::compress256(&mut state, &self.blocks);
        state
    }

    /// SHA-256 of the header.
    pub fn hash(&self) -> [u8; 32] {
        digest_bytes(self.hash_words())
    }
}

/// The digest bytes of a final SHA-256 state.
fn digest_bytes(state: [u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_empty_string_is_the_known_value() {
        let expected: MerkleHash =
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                .parse()
                .expect("valid hex");
        assert_eq!(MerkleHash(sha256(b"")), expected);
    }

    #[test]
    fn midstate_hash_equals_plain_sha256() {
        let mut header = [0u8; 128];
        for (i, byte) in header.iter_mut().enumerate() {
            *byte = (i * 7 + 3) as u8;
        }
        let first: [u8; 64] = header[..64].try_into().expect("64 bytes");
        let second: [u8; 64] = header[64..].try_into().expect("64 bytes");
        assert_eq!(HeaderMidstate::new(&first).hash(&second), sha256(&header));
    }

    proptest::proptest! {
        #[test]
        fn nonce_search_hashes_the_header_with_its_nonce(
            first in proptest::array::uniform32(proptest::num::u8::ANY),
            rest in proptest::collection::vec(proptest::num::u8::ANY, 96),
            nonces in proptest::collection::vec(proptest::num::u64::ANY, 1..8),
        ) {
            let mut header = [0u8; 128];
            header[..32].copy_from_slice(&first);
            header[32..].copy_from_slice(&rest);
            let mut search = NonceSearch::new(&header);
            for nonce in nonces {
                search.set_nonce(nonce);
                header[120..].copy_from_slice(&nonce.to_le_bytes());
                proptest::prop_assert_eq!(search.hash(), sha256(&header));
                proptest::prop_assert_eq!(digest_bytes(search.hash_words()), sha256(&header));
            }
        }
    }

    #[test]
    fn hash_parse_rejects_bad_input() {
        assert_eq!("ab".parse::<Txid>(), Err(HashParseError::Length(2)));
        assert_eq!(
            "zz".repeat(32).parse::<Txid>(),
            Err(HashParseError::InvalidHex)
        );
    }
}
