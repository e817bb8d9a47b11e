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
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

use crate::js::{get, object};

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

#[wasm_bindgen(module = "/js/worker.js")]
extern "C" {
    /// Runs a job in the key worker (js/key-worker.js).
    #[wasm_bindgen(js_name = runKeyJob)]
    fn run_key_job(message: &JsValue, on_progress: &JsValue) -> js_sys::Promise;
}

/// Runs `message` in the key worker; its error keeps the worker's code.
async fn in_worker(message: js_sys::Object, on_progress: &JsValue) -> Result<JsValue> {
    JsFuture::from(run_key_job(&message.into(), on_progress))
        .await
        .map_err(|error| {
            let code = match get(&error, "code").as_string().as_deref() {
                Some("WRONG_PASSWORD") => ErrorCode::WrongPassword,
                Some("INVALID_KEYSTORE") => ErrorCode::InvalidKeystore,
                Some("INVALID_ARGUMENT") => ErrorCode::InvalidArgument,
                _ => ErrorCode::Internal,
            };
            ClientError::new(code, crate::error::describe(&error))
        })
}

/// The private key a worker job returned (hex PKCS#8), checked against the keystore.
fn signer_from_worker(keystore: &Keystore, result: &JsValue) -> Result<Signer> {
    let pkcs8 = zeroize::Zeroizing::new(
        hex::decode(get(result, "pkcs8").as_string().unwrap_or_default())
            .map_err(|_| ClientError::new(ErrorCode::Internal, "the key worker sent no key"))?,
    );
    let key = keystore.open_plaintext(&pkcs8).map_err(keystore_error)?;
    Ok(Signer::Rust(Box::new(key)))
}

/// A new wallet: its keystore and its signer. Without WebCrypto the work
/// runs in the key worker, reporting its stages to `on_progress`.
pub(crate) async fn create(
    params: &'static Params,
    password: &str,
    on_progress: &JsValue,
) -> Result<(Keystore, Signer)> {
    if let Some(subtle) = webcrypto::subtle() {
        return create_with_webcrypto(params, password, subtle).await;
    }
    let message = object(&[
        ("op", "create".into()),
        ("network", params.name.into()),
        ("password", password.into()),
    ]);
    let result = in_worker(message, on_progress).await?;
    let keystore = Keystore::from_json(&get(&result, "keystore").as_string().unwrap_or_default())
        .map_err(keystore_error)?;
    let signer = signer_from_worker(&keystore, &result)?;
    Ok((keystore, signer))
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

/// Opens `keystore` with `password` (in the key worker without WebCrypto).
pub(crate) async fn open(
    keystore: &Keystore,
    password: &str,
    on_progress: &JsValue,
) -> Result<Signer> {
    let Some(subtle) = webcrypto::subtle() else {
        // Check the file here first: the worker gets only well-formed keystores.
        keystore.sealed_key().map_err(keystore_error)?;
        let message = object(&[
            ("op", "open".into()),
            ("keystore", keystore.to_json().into()),
            ("password", password.into()),
        ]);
        let result = in_worker(message, on_progress).await?;
        return signer_from_worker(keystore, &result);
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

fn report(progress: &js_sys::Function, stage: &str) {
    // A progress callback that throws does not stop the work.
    let _ = progress.call1(&JsValue::NULL, &JsValue::from_str(stage));
}

/// The PKCS#8 DER key (hex) of a Rust signer, for the page that asked.
fn pkcs8_hex(signer: &Signer) -> Result<String> {
    let Signer::Rust(key) = signer else {
        return Err(ClientError::new(ErrorCode::Internal, "not a Rust key"));
    };
    let pkcs8 = key
        .to_pkcs8_der()
        .map_err(|error| ClientError::new(ErrorCode::Internal, error.to_string()))?;
    Ok(hex::encode(pkcs8.as_slice()))
}

/// In the key worker: a new key and its keystore. Returns `{keystore, pkcs8}`
/// (the PKCS#8 key in hex goes back to the page that asked, nowhere else).
#[wasm_bindgen(js_name = keyWorkerCreate)]
pub fn key_worker_create(
    network: String,
    password: String,
    progress: &js_sys::Function,
) -> core::result::Result<JsValue, JsValue> {
    let params = crate::wallet::network_params(&network)?;
    report(progress, "generating key and encrypting keystore");
    let (keystore, signer) = create_with_rust(params, &password)?;
    let pkcs8 = pkcs8_hex(&signer)?;
    report(progress, "done");
    Ok(object(&[
        ("keystore", keystore.to_json().into()),
        ("pkcs8", pkcs8.into()),
    ])
    .into())
}

/// In the key worker: opens a keystore. Returns `{pkcs8}` (hex).
#[wasm_bindgen(js_name = keyWorkerOpen)]
pub fn key_worker_open(
    keystore_json: String,
    password: String,
    progress: &js_sys::Function,
) -> core::result::Result<JsValue, JsValue> {
    let keystore = Keystore::from_json(&keystore_json).map_err(keystore_error)?;
    report(progress, "decrypting keystore");
    let signer = open_with_rust(&keystore, &password)?;
    let pkcs8 = pkcs8_hex(&signer)?;
    report(progress, "done");
    Ok(object(&[("pkcs8", pkcs8.into())]).into())
}
