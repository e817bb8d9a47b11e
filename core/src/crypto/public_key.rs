//! RSA-3072 public keys in their one canonical SubjectPublicKeyInfo DER form.

use alloc::vec::Vec;
use core::fmt;

use rsa::pkcs1::der::Decode as _;

use super::{MODULUS_BITS, PUBLIC_EXPONENT, SIGNATURE_LEN};
use crate::address::Address;

/// SPKI DER of an RSA key with a 3072-bit modulus and exponent 65537 is this
/// prefix, the 384 modulus bytes, then [`SPKI_SUFFIX`]: one layout, so a key
/// has exactly one encoding and one address.
const SPKI_PREFIX: [u8; 33] = [
    0x30, 0x82, 0x01, 0xa2, // SEQUENCE, 418 bytes
    0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05,
    0x00, // rsaEncryption, NULL
    0x03, 0x82, 0x01, 0x8f, 0x00, // BIT STRING, 399 bytes, no unused bits
    0x30, 0x82, 0x01, 0x8a, // SEQUENCE, 394 bytes
    0x02, 0x82, 0x01, 0x81, 0x00, // INTEGER, 385 bytes, leading zero (top bit set)
];
const SPKI_SUFFIX: [u8; 5] = [0x02, 0x03, 0x01, 0x00, 0x01]; // INTEGER 65537

/// Length of a canonical SPKI DER key.
pub const SPKI_LEN: usize = SPKI_PREFIX.len() + SIGNATURE_LEN + SPKI_SUFFIX.len();

/// A public key that passed every consensus rule.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RsaPublicKey {
    modulus: [u8; SIGNATURE_LEN],
}

/// Why a public key was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKeyError {
    /// Not DER SubjectPublicKeyInfo holding an RSA key.
    Malformed,
    /// The modulus is not 3072 bits.
    WrongSize { bits: usize },
    /// The public exponent is not 65537.
    WrongExponent,
    /// The modulus is even, so not an RSA modulus.
    EvenModulus,
    /// A valid RSA-3072 key, but not in the one canonical DER layout.
    NonCanonical,
}

impl fmt::Display for PublicKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("public key is not an RSA SubjectPublicKeyInfo in DER"),
            Self::WrongSize { bits } => {
                write!(f, "RSA modulus has {bits} bits, must be {MODULUS_BITS}")
            }
            Self::WrongExponent => write!(f, "RSA public exponent must be {PUBLIC_EXPONENT}"),
            Self::EvenModulus => f.write_str("RSA modulus is even"),
            Self::NonCanonical => f.write_str("public key DER is not in canonical form"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for PublicKeyError {}

const RSA_ENCRYPTION_OID: rsa::pkcs8::ObjectIdentifier =
    rsa::pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

impl RsaPublicKey {
    /// Parses SPKI DER, enforcing the consensus key rules.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, PublicKeyError> {
        if der.len() == SPKI_LEN && der.starts_with(&SPKI_PREFIX) && der.ends_with(&SPKI_SUFFIX) {
            let mut modulus = [0u8; SIGNATURE_LEN];
            modulus.copy_from_slice(&der[SPKI_PREFIX.len()..SPKI_PREFIX.len() + SIGNATURE_LEN]);
            return Self::from_modulus(modulus);
        }
        Err(classify_rejected_spki(der))
    }

    /// A key from its 384-byte big-endian modulus (exponent 65537).
    pub fn from_modulus(modulus: [u8; SIGNATURE_LEN]) -> Result<Self, PublicKeyError> {
        if modulus[0] & 0x80 == 0 {
            let bits = modulus
                .iter()
                .position(|&byte| byte != 0)
                .map_or(0, |index| {
                    (SIGNATURE_LEN - index) * 8 - modulus[index].leading_zeros() as usize
                });
            return Err(PublicKeyError::WrongSize { bits });
        }
        if modulus[SIGNATURE_LEN - 1] & 1 == 0 {
            return Err(PublicKeyError::EvenModulus);
        }
        Ok(Self { modulus })
    }

    /// The 384-byte big-endian modulus.
    pub fn modulus(&self) -> &[u8; SIGNATURE_LEN] {
        &self.modulus
    }

    /// The canonical SPKI DER encoding.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let mut der = Vec::with_capacity(SPKI_LEN);
        der.extend_from_slice(&SPKI_PREFIX);
        der.extend_from_slice(&self.modulus);
        der.extend_from_slice(&SPKI_SUFFIX);
        der
    }

    /// The key's address.
    pub fn address(&self) -> Address {
        Address::from_spki_der(&self.to_spki_der())
    }
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPublicKey({:?})", self.address())
    }
}

/// Says why bytes that are not a canonical key were rejected.
fn classify_rejected_spki(der: &[u8]) -> PublicKeyError {
    let Ok(spki) = rsa::pkcs8::SubjectPublicKeyInfoRef::from_der(der) else {
        return PublicKeyError::Malformed;
    };
    if spki.algorithm.oid != RSA_ENCRYPTION_OID {
        return PublicKeyError::Malformed;
    }
    let Some(key_bytes) = spki.subject_public_key.as_bytes() else {
        return PublicKeyError::Malformed;
    };
    let Ok(key) = rsa::pkcs1::RsaPublicKey::<rsa::pkcs1::UintRef<'_>>::from_der(key_bytes) else {
        return PublicKeyError::Malformed;
    };
    let modulus = key.modulus.as_bytes();
    let bits = modulus.len() * 8
        - modulus
            .first()
            .map_or(8, |byte| byte.leading_zeros() as usize);
    if bits != MODULUS_BITS {
        return PublicKeyError::WrongSize { bits };
    }
    if key.public_exponent.as_bytes() != [0x01, 0x00, 0x01] {
        return PublicKeyError::WrongExponent;
    }
    PublicKeyError::NonCanonical
}

#[cfg(test)]
mod tests {
    use super::*;

    fn odd_modulus() -> [u8; SIGNATURE_LEN] {
        let mut modulus = [0x5au8; SIGNATURE_LEN];
        modulus[0] = 0xc3;
        modulus[SIGNATURE_LEN - 1] = 0x01;
        modulus
    }

    #[test]
    fn canonical_encoding_round_trips() {
        let key = RsaPublicKey::from_modulus(odd_modulus()).expect("valid");
        let der = key.to_spki_der();
        assert_eq!(der.len(), 422);
        assert_eq!(RsaPublicKey::from_spki_der(&der), Ok(key));
    }

    #[test]
    fn garbage_and_small_moduli_are_rejected() {
        assert_eq!(
            RsaPublicKey::from_spki_der(b"not a key"),
            Err(PublicKeyError::Malformed)
        );
        let mut small = odd_modulus();
        small[0] = 0x01;
        assert_eq!(
            RsaPublicKey::from_modulus(small),
            Err(PublicKeyError::WrongSize { bits: 3065 })
        );
        let mut even = odd_modulus();
        even[SIGNATURE_LEN - 1] = 0x02;
        assert_eq!(
            RsaPublicKey::from_modulus(even),
            Err(PublicKeyError::EvenModulus)
        );
    }
}
