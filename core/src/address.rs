//! Account addresses: the first 20 bytes of SHA-256(SPKI DER); text form is
//! bech32m over the 20 bytes with the network's prefix and no version symbol.

use alloc::string::String;
use core::fmt;

use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Bech32m, Hrp};

use crate::hash::sha256;

/// An account address.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address(pub [u8; 20]);

/// Why an address string was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressError {
    /// Not a bech32m string with a valid checksum (a typo, a bech32 checksum,
    /// mixed case or a character outside the alphabet).
    Bech32m(String),
    /// Valid bech32m, but for another network.
    WrongPrefix { expected: &'static str, got: String },
    /// The payload is not exactly 20 bytes.
    WrongLength { characters: usize },
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bech32m(reason) => write!(f, "not a valid bech32m address: {reason}"),
            Self::WrongPrefix { expected, got } => write!(
                f,
                "address prefix {got:?} is not this network's {expected:?}"
            ),
            Self::WrongLength { characters } => {
                write!(
                    f,
                    "an address carries 20 bytes (32 data characters), got {characters} characters"
                )
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for AddressError {}

impl Address {
    /// Data characters of a 20-byte payload: 160 bits = 32 five-bit groups, no padding.
    const DATA_CHARACTERS: usize = 32;

    /// The address of a public key, from its SPKI DER encoding.
    pub fn from_spki_der(spki_der: &[u8]) -> Self {
        let digest = sha256(spki_der);
        let mut bytes = [0u8; 20];
        bytes.copy_from_slice(&digest[..20]);
        Address(bytes)
    }

    /// Lowercase bech32m text with `prefix` (e.g. "tblk").
    pub fn to_bech32m(&self, prefix: &str) -> String {
        let hrp = Hrp::parse(prefix).expect("network prefixes are valid human-readable parts");
        bech32::encode_lower::<Bech32m>(hrp, &self.0)
            .expect("20 bytes are far below bech32m's length limit")
    }

    /// Parses bech32m text, requiring `prefix` and a 20-byte payload.
    pub fn from_bech32m(text: &str, prefix: &'static str) -> Result<Self, AddressError> {
        let checked = CheckedHrpstring::new::<Bech32m>(text)
            .map_err(|error| AddressError::Bech32m(alloc::format!("{error}")))?;
        let hrp = checked.hrp();
        if hrp.to_lowercase() != prefix {
            return Err(AddressError::WrongPrefix {
                expected: prefix,
                got: hrp.to_lowercase(),
            });
        }
        let characters = checked.data_part_ascii_no_checksum().len();
        if characters != Self::DATA_CHARACTERS {
            return Err(AddressError::WrongLength { characters });
        }
        let mut bytes = [0u8; 20];
        for (slot, byte) in bytes.iter_mut().zip(checked.byte_iter()) {
            *slot = byte;
        }
        Ok(Address(bytes))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address(")?;
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        write!(f, ")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let address = Address([0x5a; 20]);
        let text = address.to_bech32m("tblk");
        assert!(text.starts_with("tblk1"));
        assert_eq!(Address::from_bech32m(&text, "tblk"), Ok(address));
        assert_eq!(
            Address::from_bech32m(&text.to_uppercase(), "tblk"),
            Ok(address)
        );
        assert!(matches!(
            Address::from_bech32m(&text, "rblk"),
            Err(AddressError::WrongPrefix {
                expected: "rblk",
                ..
            })
        ));
        let mut typo = text.into_bytes();
        let last = typo.len() - 1;
        typo[last] = if typo[last] == b'q' { b'p' } else { b'q' };
        let typo = String::from_utf8(typo).expect("ascii");
        assert!(matches!(
            Address::from_bech32m(&typo, "tblk"),
            Err(AddressError::Bech32m(_))
        ));
        let short = bech32::encode_lower::<Bech32m>(Hrp::parse("tblk").expect("valid"), &[1u8; 19])
            .expect("encodes");
        assert!(matches!(
            Address::from_bech32m(&short, "tblk"),
            Err(AddressError::WrongLength { .. })
        ));
    }
}
