//! A native-speed verifier backed by ring.

use ring::signature::{RSA_PSS_2048_8192_SHA256, RsaPublicKeyComponents};

use super::{RsaPublicKey, SignatureVerifier};

/// RSASSA-PSS verification by ring. ring's PSS check fixes the salt length
/// to the digest length (32), which is the consensus rule.
#[derive(Clone, Copy, Debug, Default)]
pub struct RingVerifier;

impl SignatureVerifier for RingVerifier {
    fn verify_pss(&self, key: &RsaPublicKey, message: &[u8], signature: &[u8]) -> bool {
        let components = RsaPublicKeyComponents {
            n: &key.modulus()[..],
            e: &[0x01, 0x00, 0x01][..],
        };
        components
            .verify(&RSA_PSS_2048_8192_SHA256, message, signature)
            .is_ok()
    }
}
