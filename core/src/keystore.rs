//! The wallet file shared by the browser and the node: an RSA-3072 private
//! key encrypted with a password (PBKDF2-HMAC-SHA256 + AES-256-GCM), in the
//! JSON layout WebCrypto produces and reads.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand_core::TryCryptoRng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::address::Address;
use crate::crypto::{RsaPublicKey, SigningKey};
use crate::params::{Network, Params};

/// PBKDF2 iterations of a new keystore.
pub const DEFAULT_ITERATIONS: u32 = 600_000;
/// Most iterations a keystore may ask for (bounds the work a file can demand).
pub const MAX_ITERATIONS: u32 = 10_000_000;
/// Bytes of PBKDF2 salt in a keystore.
pub const SALT_LEN: usize = 16;
/// Bytes of AES-GCM nonce in a keystore.
pub const IV_LEN: usize = 12;
const KDF: &str = "pbkdf2-hmac-sha256";
const CIPHER: &str = "aes-256-gcm";

/// The keystore file.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keystore {
    /// Always 1.
    pub version: u32,
    /// Network name, e.g. "devnet".
    pub network: String,
    /// bech32m address of the key.
    pub address: String,
    /// PEM SubjectPublicKeyInfo.
    pub public_key: String,
    /// The encrypted PKCS#8 DER private key.
    pub encrypted_private_key: EncryptedPrivateKey,
}

/// Encryption parameters and ciphertext.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptedPrivateKey {
    /// Always "pbkdf2-hmac-sha256".
    pub kdf: String,
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// Base64 of 16 salt bytes.
    pub salt: String,
    /// Always "aes-256-gcm".
    pub cipher: String,
    /// Base64 of the 12-byte IV.
    pub iv: String,
    /// Base64 of the ciphertext with its 16-byte tag appended.
    pub encrypted: String,
}

/// Why a keystore could not be read, opened or made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeystoreError {
    /// Not keystore JSON.
    Json(String),
    /// A field has a value this implementation does not accept.
    Unsupported { field: &'static str, value: String },
    /// A field is not valid base64, or has the wrong length.
    BadEncoding { field: &'static str },
    /// The password is wrong (or the ciphertext was altered).
    WrongPassword,
    /// The decrypted key, public key and address do not belong together.
    Mismatch { field: &'static str },
    /// The key itself is not acceptable.
    Key(String),
    /// The random number generator failed.
    Rng,
}

impl fmt::Display for KeystoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(reason) => write!(
                f,
                "keystore is not valid JSON of the expected shape: {reason}"
            ),
            Self::Unsupported { field, value } => {
                write!(f, "keystore {field} {value:?} is not supported")
            }
            Self::BadEncoding { field } => write!(
                f,
                "keystore {field} is not valid base64 of the right length"
            ),
            Self::WrongPassword => f.write_str("wrong password"),
            Self::Mismatch { field } => {
                write!(f, "keystore {field} does not match the private key")
            }
            Self::Key(reason) => write!(f, "keystore key: {reason}"),
            Self::Rng => f.write_str("random number generator failed"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for KeystoreError {}

fn derive_key(password: &str, salt: &[u8], iterations: u32) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, iterations, &mut *key);
    key
}

fn decode_base64<const N: usize>(
    field: &'static str,
    text: &str,
) -> Result<[u8; N], KeystoreError> {
    let bytes = BASE64
        .decode(text)
        .map_err(|_| KeystoreError::BadEncoding { field })?;
    bytes
        .try_into()
        .map_err(|_| KeystoreError::BadEncoding { field })
}

/// PEM of an SPKI DER public key, lines of 64 characters, LF endings.
pub fn public_key_pem(key: &RsaPublicKey) -> String {
    let body = BASE64.encode(key.to_spki_der());
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(core::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    pem
}

/// Reads a PEM "PUBLIC KEY" block and applies the consensus key rules.
pub fn parse_public_key_pem(pem: &str) -> Result<RsaPublicKey, KeystoreError> {
    let body = pem
        .trim()
        .strip_prefix("-----BEGIN PUBLIC KEY-----")
        .and_then(|rest| rest.strip_suffix("-----END PUBLIC KEY-----"))
        .ok_or(KeystoreError::BadEncoding {
            field: "public_key",
        })?;
    let base64: String = body.split_whitespace().collect();
    let der = BASE64
        .decode(base64)
        .map_err(|_| KeystoreError::BadEncoding {
            field: "public_key",
        })?;
    RsaPublicKey::from_spki_der(&der).map_err(|error| KeystoreError::Key(error.to_string()))
}

impl Keystore {
    /// Encrypts `key` with `password` for the network of `params`.
    pub fn encrypt<R: TryCryptoRng + ?Sized>(
        params: &Params,
        key: &SigningKey,
        password: &str,
        iterations: u32,
        rng: &mut R,
    ) -> Result<Keystore, KeystoreError> {
        let mut salt = [0u8; SALT_LEN];
        let mut iv = [0u8; IV_LEN];
        rng.try_fill_bytes(&mut salt)
            .map_err(|_| KeystoreError::Rng)?;
        rng.try_fill_bytes(&mut iv)
            .map_err(|_| KeystoreError::Rng)?;
        let pkcs8 = key
            .to_pkcs8_der()
            .map_err(|error| KeystoreError::Key(error.to_string()))?;
        let aes_key = derive_key(password, &salt, iterations);
        let cipher = Aes256Gcm::new_from_slice(&*aes_key).expect("32-byte key");
        let ciphertext = cipher
            .encrypt(&Nonce::from(iv), pkcs8.as_slice())
            .map_err(|_| KeystoreError::Key("encryption failed".into()))?;
        let sealed = SealedKey {
            iterations,
            salt,
            iv,
            ciphertext,
        };
        Ok(Keystore::from_sealed(params, key.public_key(), &sealed))
    }

    /// Reads keystore JSON.
    pub fn from_json(json: &str) -> Result<Keystore, KeystoreError> {
        serde_json::from_str(json).map_err(|error| KeystoreError::Json(error.to_string()))
    }

    /// The keystore as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a keystore always serialises")
    }

    /// The network named in the file.
    pub fn network(&self) -> Result<Network, KeystoreError> {
        self.network
            .parse()
            .map_err(|_| KeystoreError::Unsupported {
                field: "network",
                value: self.network.clone(),
            })
    }

    /// The address in the file, checked against the network.
    pub fn address(&self) -> Result<Address, KeystoreError> {
        let params = self.network()?.params();
        Address::from_bech32m(&self.address, params.address_prefix)
            .map_err(|_| KeystoreError::BadEncoding { field: "address" })
    }

    /// Checks every field a decryption needs and returns the sealed key:
    /// the KDF and cipher parameters and the ciphertext. A platform with its
    /// own PBKDF2 and AES-GCM (WebCrypto) decrypts with these, then hands the
    /// plaintext to [`Keystore::open_plaintext`].
    pub fn sealed_key(&self) -> Result<SealedKey, KeystoreError> {
        if self.version != 1 {
            return Err(KeystoreError::Unsupported {
                field: "version",
                value: self.version.to_string(),
            });
        }
        let encrypted = &self.encrypted_private_key;
        if encrypted.kdf != KDF {
            return Err(KeystoreError::Unsupported {
                field: "kdf",
                value: encrypted.kdf.clone(),
            });
        }
        if encrypted.cipher != CIPHER {
            return Err(KeystoreError::Unsupported {
                field: "cipher",
                value: encrypted.cipher.clone(),
            });
        }
        if encrypted.iterations == 0 || encrypted.iterations > MAX_ITERATIONS {
            return Err(KeystoreError::Unsupported {
                field: "iterations",
                value: encrypted.iterations.to_string(),
            });
        }
        self.address()?;
        parse_public_key_pem(&self.public_key)?;
        let salt: [u8; SALT_LEN] = decode_base64("salt", &encrypted.salt)?;
        let iv: [u8; IV_LEN] = decode_base64("iv", &encrypted.iv)?;
        let ciphertext = BASE64
            .decode(&encrypted.encrypted)
            .map_err(|_| KeystoreError::BadEncoding { field: "encrypted" })?;
        // AES-GCM's tag alone is 16 bytes; a PKCS#8 RSA-3072 key is ~1.7 KB.
        if ciphertext.len() <= 16 || ciphertext.len() > 16 * 1024 {
            return Err(KeystoreError::BadEncoding { field: "encrypted" });
        }
        Ok(SealedKey {
            iterations: encrypted.iterations,
            salt,
            iv,
            ciphertext,
        })
    }

    /// Checks a decrypted PKCS#8 private key against the file: it parses,
    /// passes the key rules, and matches the public key and the address.
    pub fn open_plaintext(&self, pkcs8_der: &[u8]) -> Result<SigningKey, KeystoreError> {
        let key = SigningKey::from_pkcs8_der(pkcs8_der)
            .map_err(|error| KeystoreError::Key(error.to_string()))?;
        if parse_public_key_pem(&self.public_key)? != *key.public_key() {
            return Err(KeystoreError::Mismatch {
                field: "public_key",
            });
        }
        if key.public_key().address() != self.address()? {
            return Err(KeystoreError::Mismatch { field: "address" });
        }
        Ok(key)
    }

    /// A keystore from parts encrypted elsewhere (WebCrypto): `public_key`
    /// is the key's SPKI, `sealed` what [`Keystore::sealed_key`] returns.
    pub fn from_sealed(params: &Params, public_key: &RsaPublicKey, sealed: &SealedKey) -> Keystore {
        Keystore {
            version: 1,
            network: params.name.into(),
            address: public_key.address().to_bech32m(params.address_prefix),
            public_key: public_key_pem(public_key),
            encrypted_private_key: EncryptedPrivateKey {
                kdf: KDF.into(),
                iterations: sealed.iterations,
                salt: BASE64.encode(sealed.salt),
                cipher: CIPHER.into(),
                iv: BASE64.encode(sealed.iv),
                encrypted: BASE64.encode(&sealed.ciphertext),
            },
        }
    }

    /// Decrypts the private key. The password never leaves this function;
    /// the derived key and the plaintext are zeroised.
    pub fn decrypt(&self, password: &str) -> Result<SigningKey, KeystoreError> {
        let sealed = self.sealed_key()?;
        let aes_key = derive_key(password, &sealed.salt, sealed.iterations);
        let cipher = Aes256Gcm::new_from_slice(&*aes_key).expect("32-byte key");
        let plaintext: Zeroizing<Vec<u8>> = Zeroizing::new(
            cipher
                .decrypt(&Nonce::from(sealed.iv), sealed.ciphertext.as_slice())
                .map_err(|_| KeystoreError::WrongPassword)?,
        );
        self.open_plaintext(&plaintext)
    }
}

/// A private key sealed with a password: what a decryption needs.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SealedKey {
    /// PBKDF2-HMAC-SHA256 iterations.
    pub iterations: u32,
    /// PBKDF2 salt.
    pub salt: [u8; SALT_LEN],
    /// AES-256-GCM nonce.
    pub iv: [u8; IV_LEN],
    /// AES-256-GCM ciphertext of the PKCS#8 DER key, tag appended.
    pub ciphertext: Vec<u8>,
}
