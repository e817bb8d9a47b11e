//! The RSASSA-PSS verification primitive, behind a trait.

use rsa::BoxedUint;
use rsa::pss::Pss;
use sha2::Sha256;

use super::{MODULUS_BITS, PUBLIC_EXPONENT, RsaPublicKey, SALT_LEN};
use crate::hash::sha256;

/// Verifies RSASSA-PSS signatures with SHA-256, MGF1-SHA-256 and a 32-byte salt.
///
/// Key rules are already enforced by [`RsaPublicKey`]; an implementation only
/// does the arithmetic and the padding check. Every implementation must
/// accept exactly the signatures [`RustCryptoVerifier`] accepts.
pub trait SignatureVerifier: Sync {
    /// True when `signature` is a valid signature of `message` by `key`.
    fn verify_pss(&self, key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> bool;
}

/// The reference verifier: the RustCrypto `rsa` crate, on every target.
#[derive(Clone, Copy, Debug, Default)]
pub struct RustCryptoVerifier;

impl SignatureVerifier for RustCryptoVerifier {
    fn verify_pss(&self, key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
        let Ok(modulus) = BoxedUint::from_be_slice(key.modulus(), MODULUS_BITS as u32) else {
            return false;
        };
        let Ok(public_key) =
            rsa::PublicKey::new(modulus, BoxedUint::from(u64::from(PUBLIC_EXPONENT)))
        else {
            return false;
        };
        public_key
            .verify(
                Pss::<Sha256>::new_with_salt(SALT_LEN),
                &sha256(message),
                signature,
            )
            .is_ok()
    }
}
