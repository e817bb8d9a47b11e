//! The SubtleCrypto calls of the wallet: RSA-PSS key generation, import and
//! signing, PBKDF2-SHA256 key derivation, AES-256-GCM. WebCrypto exists
//! only in secure contexts; [`subtle`] says whether this page has it.

use js_sys::{Array, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{CryptoKey, SubtleCrypto};

use crate::error::{ClientError, ErrorCode, Result};
use crate::js::{await_promise, bytes_of, get, global_crypto, object, uint8_array};

/// The page's SubtleCrypto, or `None` outside a secure context.
pub(crate) fn subtle() -> Option<SubtleCrypto> {
    let secure = get(&js_sys::global(), "isSecureContext");
    if secure.as_bool() == Some(false) {
        return None;
    }
    let crypto = global_crypto().ok()?;
    let subtle = get(&crypto, "subtle");
    if subtle.is_undefined() || subtle.is_null() {
        return None;
    }
    subtle.dyn_into::<SubtleCrypto>().ok()
}

fn usages(names: &[&str]) -> Array {
    names.iter().map(|name| JsValue::from_str(name)).collect()
}

fn rsa_pss_import() -> js_sys::Object {
    object(&[("name", "RSA-PSS".into()), ("hash", "SHA-256".into())])
}

/// A fresh RSA-3072 (e = 65537) RSA-PSS/SHA-256 key pair: (SPKI DER, PKCS#8 DER).
pub(crate) async fn generate_rsa_key(subtle: &SubtleCrypto) -> Result<(Vec<u8>, Vec<u8>)> {
    let algorithm = object(&[
        ("name", "RSA-PSS".into()),
        ("modulusLength", 3072.into()),
        ("publicExponent", uint8_array(&[1, 0, 1]).into()),
        ("hash", "SHA-256".into()),
    ]);
    let promise = subtle
        .generate_key_with_object(&algorithm, true, &usages(&["sign", "verify"]))
        .map_err(|error| ClientError::internal("generateKey", &error))?;
    let pair = await_promise(promise, "generateKey").await?;
    let public: CryptoKey = get(&pair, "publicKey").unchecked_into();
    let private: CryptoKey = get(&pair, "privateKey").unchecked_into();
    let spki = export(subtle, "spki", &public).await?;
    let pkcs8 = export(subtle, "pkcs8", &private).await?;
    Ok((spki, pkcs8))
}

async fn export(subtle: &SubtleCrypto, format: &str, key: &CryptoKey) -> Result<Vec<u8>> {
    let promise = subtle
        .export_key(format, key)
        .map_err(|error| ClientError::internal("exportKey", &error))?;
    Ok(bytes_of(&await_promise(promise, "exportKey").await?))
}

/// A non-extractable RSA-PSS signing key from PKCS#8 DER.
pub(crate) async fn import_signing_key(subtle: &SubtleCrypto, pkcs8: &[u8]) -> Result<CryptoKey> {
    let promise = subtle
        .import_key_with_object(
            "pkcs8",
            &uint8_array(pkcs8),
            &rsa_pss_import(),
            false,
            &usages(&["sign"]),
        )
        .map_err(|error| ClientError::internal("importKey", &error))?;
    Ok(await_promise(promise, "importKey").await?.unchecked_into())
}

/// RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32) over `message`.
pub(crate) async fn sign_pss(
    subtle: &SubtleCrypto,
    key: &CryptoKey,
    message: &[u8],
) -> Result<Vec<u8>> {
    let algorithm = object(&[("name", "RSA-PSS".into()), ("saltLength", 32.into())]);
    let promise = subtle
        .sign_with_object_and_u8_array(&algorithm, key, message)
        .map_err(|error| ClientError::internal("sign", &error))?;
    Ok(bytes_of(&await_promise(promise, "sign").await?))
}

/// The AES-256-GCM key PBKDF2-HMAC-SHA256 derives from `password`.
pub(crate) async fn derive_aes_key(
    subtle: &SubtleCrypto,
    password: &str,
    salt: &[u8],
    iterations: u32,
) -> Result<CryptoKey> {
    let password_bytes = uint8_array(password.as_bytes());
    let promise = subtle
        .import_key_with_str(
            "raw",
            &password_bytes,
            "PBKDF2",
            false,
            &usages(&["deriveKey"]),
        )
        .map_err(|error| ClientError::internal("importKey PBKDF2", &error))?;
    // Overwrite our copy of the password bytes once WebCrypto has its own.
    let base: CryptoKey = await_promise(promise, "importKey PBKDF2")
        .await?
        .unchecked_into();
    password_bytes.fill(0, 0, password_bytes.length());
    let algorithm = object(&[
        ("name", "PBKDF2".into()),
        ("hash", "SHA-256".into()),
        ("salt", uint8_array(salt).into()),
        ("iterations", iterations.into()),
    ]);
    let derived = object(&[("name", "AES-GCM".into()), ("length", 256.into())]);
    let promise = subtle
        .derive_key_with_object_and_object(
            &algorithm,
            &base,
            &derived,
            false,
            &usages(&["encrypt", "decrypt"]),
        )
        .map_err(|error| ClientError::internal("deriveKey", &error))?;
    Ok(await_promise(promise, "deriveKey").await?.unchecked_into())
}

fn aes_gcm(iv: &[u8]) -> js_sys::Object {
    object(&[("name", "AES-GCM".into()), ("iv", uint8_array(iv).into())])
}

/// AES-256-GCM encryption; the 16-byte tag is appended.
pub(crate) async fn aes_gcm_encrypt(
    subtle: &SubtleCrypto,
    key: &CryptoKey,
    iv: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let data = uint8_array(plaintext);
    let promise = subtle
        .encrypt_with_object_and_buffer_source(&aes_gcm(iv), key, &data)
        .map_err(|error| ClientError::internal("encrypt", &error))?;
    let result = await_promise(promise, "encrypt").await;
    data.fill(0, 0, data.length());
    Ok(bytes_of(&result?))
}

/// AES-256-GCM decryption: a wrong key (wrong password) or altered
/// ciphertext fails the tag check, which is `WRONG_PASSWORD`.
pub(crate) async fn aes_gcm_decrypt(
    subtle: &SubtleCrypto,
    key: &CryptoKey,
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>> {
    let data: Uint8Array = uint8_array(ciphertext);
    let promise = subtle
        .decrypt_with_object_and_buffer_source(&aes_gcm(iv), key, &data)
        .map_err(|error| ClientError::internal("decrypt", &error))?;
    let plaintext = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|_| ClientError::new(ErrorCode::WrongPassword, "wrong password"))?;
    Ok(bytes_of(&plaintext))
}
