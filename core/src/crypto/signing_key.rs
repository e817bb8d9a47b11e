//! RSA-3072 private keys: generation, PKCS#8 DER, signing.

use alloc::vec::Vec;
use core::fmt;

use rand_core::TryCryptoRng;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::pss::Pss;
use rsa::traits::PublicKeyParts;
use sha2::Sha256;

use super::{MODULUS_BITS, PublicKeyError, RsaPublicKey, SALT_LEN};
use crate::hash::sha256;

/// A private key whose public half passes the consensus key rules.
#[derive(Clone)]
pub struct SigningKey {
    private: rsa::PrivateKey,
    public: RsaPublicKey,
}

/// Why a private key could not be made, read or used.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningKeyError {
    /// Not a PKCS#8 DER RSA private key.
    MalformedPkcs8,
    /// The public half breaks a key rule.
    PublicKey(PublicKeyError),
    /// The RSA implementation failed (key generation or signing).
    Rsa,
}

impl fmt::Display for SigningKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedPkcs8 => f.write_str("private key is not PKCS#8 DER RSA"),
            Self::PublicKey(error) => {
                write!(f, "private key's public half is not allowed: {error}")
            }
            Self::Rsa => f.write_str("RSA operation failed"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SigningKeyError {}

impl SigningKey {
    /// Generates a new RSA-3072 key with exponent 65537.
    pub fn generate<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, SigningKeyError> {
        let private = rsa::PrivateKey::new(rng, MODULUS_BITS).map_err(|_| SigningKeyError::Rsa)?;
        Self::from_private(private)
    }

    /// Reads a PKCS#8 DER private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SigningKeyError> {
        let private =
            rsa::PrivateKey::from_pkcs8_der(der).map_err(|_| SigningKeyError::MalformedPkcs8)?;
        Self::from_private(private)
    }

    fn from_private(private: rsa::PrivateKey) -> Result<Self, SigningKeyError> {
        let spki = private
            .to_public_key()
            .to_public_key_der()
            .map_err(|_| SigningKeyError::Rsa)?;
        let public =
            RsaPublicKey::from_spki_der(spki.as_bytes()).map_err(SigningKeyError::PublicKey)?;
        debug_assert_eq!(private.size(), super::SIGNATURE_LEN);
        Ok(Self { private, public })
    }

    /// PKCS#8 DER of the private key (secret: zeroise what you keep).
    pub fn to_pkcs8_der(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, SigningKeyError> {
        let document = self
            .private
            .to_pkcs8_der()
            .map_err(|_| SigningKeyError::Rsa)?;
        Ok(zeroize::Zeroizing::new(document.as_bytes().to_vec()))
    }

    /// The public key.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// RSASSA-PSS signature of `message` (SHA-256, MGF1-SHA-256, salt 32).
    pub fn sign_pss<R: TryCryptoRng + ?Sized>(
        &self,
        rng: &mut R,
        message: &[u8],
    ) -> Result<Vec<u8>, SigningKeyError> {
        self.private
            .sign_with_rng(
                rng,
                Pss::<Sha256>::new_with_salt(SALT_LEN),
                &sha256(message),
            )
            .map_err(|_| SigningKeyError::Rsa)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({:?})", self.public.address())
    }
}
