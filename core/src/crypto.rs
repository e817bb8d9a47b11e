//! RSA-3072 keys and RSASSA-PSS signatures (SHA-256, MGF1-SHA-256, salt 32).
//!
//! Key rules (3072-bit modulus, exponent 65537, canonical SPKI DER) are
//! consensus and live in [`public_key`]; the RSA arithmetic sits behind the
//! [`SignatureVerifier`] trait so a native node can plug in a faster
//! verifier without being able to change what is accepted.

pub mod public_key;
#[cfg(feature = "ring-verify")]
pub mod ring_verifier;
pub mod signing_key;
pub mod verifier;

pub use public_key::{PublicKeyError, RsaPublicKey};
#[cfg(feature = "ring-verify")]
pub use ring_verifier::RingVerifier;
pub use signing_key::{SigningKey, SigningKeyError};
pub use verifier::{RustCryptoVerifier, SignatureVerifier};

/// Modulus size in bits.
pub const MODULUS_BITS: usize = 3072;
/// Signature and modulus size in bytes.
pub const SIGNATURE_LEN: usize = MODULUS_BITS / 8;
/// The one allowed public exponent.
pub const PUBLIC_EXPONENT: u32 = 65537;
/// PSS salt length in bytes.
pub const SALT_LEN: usize = 32;
