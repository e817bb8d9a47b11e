//! Making and opening wallets on either path: WebCrypto where the page is a
//! secure context, the core's Rust implementations (RSA key generation,
//! PBKDF2, AES-GCM) where it is not. Both produce and read the same
//! keystore bytes: the core's [`Keystore`] checks every field either way.

use blockchain_core::crypto::{RsaPublicKey, SigningKey};
use blockchain_core::keystore::{
    DEFAULT_ITERATIONS, IV_LEN, Keystore, KeystoreError, SALT_LEN, SealedKey,
};
use blockchain_core::params::Params;
use getrandom::SysRng as OsRng;
use web_sys::{CryptoKey, SubtleCrypto};

use crate::error::{ClientError, ErrorCode, Result};
use crate::webcrypto;

/// What signs for a wallet.
pub(crate) enum Signer {
    /// A non-extractable WebCrypto key.
    WebCrypto {
        subtle: SubtleCrypto,
        key: CryptoKey,
    },
    /// The core's RSA-PSS (pages without WebCrypto).
    Rust(Box<SigningKey>),
}

impl core::fmt::Debug for Signer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::WebCrypto { .. } => "Signer::WebCrypto",
            Self::Rust(_) => "Signer::Rust",
        })
    }
}

impl Signer {
    /// RSASSA-PSS (SHA-256, salt 32) over `message`.
    pub(crate) async fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        match self {
            Self::WebCrypto { subtle, key } => webcrypto::sign_pss(subtle, key, message).await,
            Self::Rust(key) => key
                .sign_pss(&mut OsRng, message)
                .map_err(|error| ClientError::new(ErrorCode::Internal, error.to_string())),
        }
    }

    /// Which implementation signs: "webcrypto" or "rust".
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::WebCrypto { .. } => "webcrypto",
            Self::Rust(_) => "rust",
        }
    }
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|error| {
        ClientError::new(ErrorCode::Internal, format!("getRandomValues: {error}"))
    })?;
    Ok(bytes)
}

/// A keystore error as the JS error it stands for.
pub(crate) fn keystore_error(error: KeystoreError) -> ClientError {
    match error {
        KeystoreError::WrongPassword => {
            ClientError::new(ErrorCode::WrongPassword, "wrong password")
        }
        KeystoreError::Rng => ClientError::new(ErrorCode::Internal, error.to_string()),
        other => ClientError::new(ErrorCode::InvalidKeystore, other.to_string()),
    }
}

/// A new wallet: its keystore and its signer.
pub(crate) async fn create(params: &'static Params, password: &str) -> Result<(Keystore, Signer)> {
    match webcrypto::subtle() {
        Some(subtle) => create_with_webcrypto(params, password, subtle).await,
        None => create_with_rust(params, password),
    }
}

async fn create_with_webcrypto(
    params: &'static Params,
    password: &str,
    subtle: SubtleCrypto,
) -> Result<(Keystore, Signer)> {
    let (spki, pkcs8) = webcrypto::generate_rsa_key(&subtle).await?;
    let pkcs8 = zeroize::Zeroizing::new(pkcs8);
    let public_key = RsaPublicKey::from_spki_der(&spki).map_err(|error| {
        ClientError::new(
            ErrorCode::Internal,
            format!("the browser made a key the consensus rules refuse: {error}"),
        )
    })?;
    let salt: [u8; SALT_LEN] = random()?;
    let iv: [u8; IV_LEN] = random()?;
    let aes_key = webcrypto::derive_aes_key(&subtle, password, &salt, DEFAULT_ITERATIONS).await?;
    let ciphertext = webcrypto::aes_gcm_encrypt(&subtle, &aes_key, &iv, &pkcs8).await?;
    let sealed = SealedKey {
        iterations: DEFAULT_ITERATIONS,
        salt,
        iv,
        ciphertext,
    };
    let keystore = Keystore::from_sealed(params, &public_key, &sealed);
    let key = webcrypto::import_signing_key(&subtle, &pkcs8).await?;
    Ok((keystore, Signer::WebCrypto { subtle, key }))
}

pub(crate) fn create_with_rust(
    params: &'static Params,
    password: &str,
) -> Result<(Keystore, Signer)> {
    let key = SigningKey::generate(&mut OsRng)
        .map_err(|error| ClientError::new(ErrorCode::Internal, error.to_string()))?;
    let keystore = Keystore::encrypt(params, &key, password, DEFAULT_ITERATIONS, &mut OsRng)
        .map_err(keystore_error)?;
    Ok((keystore, Signer::Rust(Box::new(key))))
}

/// Opens `keystore` with `password`.
pub(crate) async fn open(keystore: &Keystore, password: &str) -> Result<Signer> {
    let Some(subtle) = webcrypto::subtle() else {
        return open_with_rust(keystore, password);
    };
    let sealed = keystore.sealed_key().map_err(keystore_error)?;
    let aes_key =
        webcrypto::derive_aes_key(&subtle, password, &sealed.salt, sealed.iterations).await?;
    let plaintext = zeroize::Zeroizing::new(
        webcrypto::aes_gcm_decrypt(&subtle, &aes_key, &sealed.iv, &sealed.ciphertext).await?,
    );
    // The key must parse, pass the key rules and match the file's public
    // key and address, exactly as on the Rust path.
    keystore
        .open_plaintext(&plaintext)
        .map_err(keystore_error)?;
    let key = webcrypto::import_signing_key(&subtle, &plaintext).await?;
    Ok(Signer::WebCrypto { subtle, key })
}

/// Opens `keystore` with the core's PBKDF2 and AES-GCM.
pub(crate) fn open_with_rust(keystore: &Keystore, password: &str) -> Result<Signer> {
    keystore
        .decrypt(password)
        .map(|key| Signer::Rust(Box::new(key)))
        .map_err(keystore_error)
}
