//! The `Wallet` class of DESIGN §5: an RSA-3072 key made and used in the
//! page, kept as the keystore of DESIGN §3.

use blockchain_core::crypto::RsaPublicKey;
use blockchain_core::keystore::Keystore;
use blockchain_core::params::{Network, Params};
use blockchain_core::{Address, Amount, Transaction};
use wasm_bindgen::prelude::*;

use crate::error::{ClientError, ErrorCode, Result};
use crate::js::{MAX_SAFE_INTEGER, from_json, get, now_ms, whole_units};
use crate::json::TransactionJson;
use crate::keys::{self, Signer, keystore_error};

/// A wallet held in the page. The private key never leaves it.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Wallet {
    params: &'static Params,
    keystore: Keystore,
    public_key: RsaPublicKey,
    address: Address,
    signer: Signer,
}

/// The network named `name`, or `INVALID_ARGUMENT`.
pub(crate) fn network_params(name: &str) -> Result<&'static Params> {
    name.parse::<Network>().map(Network::params).map_err(|_| {
        ClientError::new(
            ErrorCode::InvalidArgument,
            format!("unknown network {name:?} (devnet or regtest)"),
        )
    })
}

/// A bech32m address of `params`' network, or `INVALID_ADDRESS`.
pub(crate) fn parse_address(params: &Params, text: &str) -> Result<Address> {
    Address::from_bech32m(text.trim(), params.address_prefix)
        .map_err(|error| ClientError::new(ErrorCode::InvalidAddress, format!("{text:?}: {error}")))
}

#[wasm_bindgen]
impl Wallet {
    /// A new wallet on `network`, its keystore encrypted with `password`.
    /// Without WebCrypto (plain http from a LAN address) the work runs in a
    /// Web Worker and `onProgress`, if given, is called with each stage.
    pub async fn create(
        network: String,
        password: String,
        #[wasm_bindgen(js_name = onProgress, unchecked_param_type = "(stage: string) => void")]
        on_progress: Option<js_sys::Function>,
    ) -> Result<Wallet, JsValue> {
        let params = network_params(&network)?;
        let progress = on_progress.map_or(JsValue::UNDEFINED, JsValue::from);
        let (keystore, signer) = keys::create(params, &password, &progress).await?;
        Ok(Self::from_parts(params, keystore, signer)?)
    }

    /// Opens a keystore file (its JSON text) with its password.
    #[wasm_bindgen(js_name = fromKeystore)]
    pub async fn from_keystore(
        keystore_json: String,
        password: String,
        #[wasm_bindgen(js_name = onProgress, unchecked_param_type = "(stage: string) => void")]
        on_progress: Option<js_sys::Function>,
    ) -> Result<Wallet, JsValue> {
        let keystore = Keystore::from_json(&keystore_json).map_err(keystore_error)?;
        let params = keystore.network().map_err(keystore_error)?.params();
        let progress = on_progress.map_or(JsValue::UNDEFINED, JsValue::from);
        let signer = keys::open(&keystore, &password, &progress).await?;
        Ok(Self::from_parts(params, keystore, signer)?)
    }

    fn from_parts(params: &'static Params, keystore: Keystore, signer: Signer) -> Result<Wallet> {
        let address = keystore.address().map_err(keystore_error)?;
        let public_key = blockchain_core::keystore::parse_public_key_pem(&keystore.public_key)
            .map_err(keystore_error)?;
        Ok(Wallet {
            params,
            keystore,
            public_key,
            address,
            signer,
        })
    }

    /// The bech32m address.
    #[wasm_bindgen(getter)]
    pub fn address(&self) -> String {
        self.address.to_bech32m(self.params.address_prefix)
    }

    /// The network's name.
    #[wasm_bindgen(getter)]
    pub fn network(&self) -> String {
        self.params.name.into()
    }

    /// Hex of the SPKI DER public key.
    #[wasm_bindgen(getter, js_name = publicKey)]
    pub fn public_key(&self) -> String {
        hex::encode(self.public_key.to_spki_der())
    }

    /// Which implementation holds the key: "webcrypto" or "rust" (pages
    /// without WebCrypto).
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.signer.kind().into()
    }

    /// The keystore JSON of DESIGN §3.
    pub fn keystore(&self) -> String {
        self.keystore.to_json()
    }

    /// Signs a transaction `{recipient, amount, fee, nonce, timestamp?}` and
    /// returns the JSON object POST /transactions takes, with `txid` and
    /// `sender_address`.
    #[wasm_bindgen(js_name = signTransaction)]
    pub async fn sign_transaction(&self, tx: JsValue) -> Result<JsValue, JsValue> {
        let recipient = get(&tx, "recipient").as_string().ok_or_else(|| {
            ClientError::new(ErrorCode::InvalidAddress, "recipient must be a string")
        })?;
        let to = parse_address(self.params, &recipient)?;
        let amount = whole_units(&get(&tx, "amount"), "amount")?;
        if amount == 0 {
            return Err(
                ClientError::new(ErrorCode::InvalidAmount, "amount must be above 0").into(),
            );
        }
        let fee = whole_units(&get(&tx, "fee"), "fee")?;
        let nonce = whole_units(&get(&tx, "nonce"), "nonce")?;
        if amount
            .checked_add(fee)
            .is_none_or(|total| total > MAX_SAFE_INTEGER)
        {
            return Err(ClientError::new(
                ErrorCode::InvalidAmount,
                "amount + fee is over 2^53 - 1",
            )
            .into());
        }
        let timestamp = match get(&tx, "timestamp") {
            value if value.is_undefined() || value.is_null() => now_ms(),
            value => whole_units(&value, "timestamp")
                .map_err(|error| ClientError::new(ErrorCode::InvalidArgument, error.message))?,
        };
        let mut transaction = Transaction {
            version: Transaction::VERSION,
            from: self.public_key.to_spki_der(),
            to,
            amount: Amount(amount),
            fee: Amount(fee),
            nonce,
            time: timestamp,
            signature: Vec::new(),
        };
        transaction.signature = self
            .signer
            .sign(&transaction.signing_message(self.params))
            .await?;
        let json = TransactionJson::new(self.params, &transaction);
        Ok(from_json(
            &serde_json::to_string(&json).expect("plain data serialises"),
        )?)
    }

    /// Signs a login challenge's UTF-8 bytes (RSA-PSS, as transactions) and
    /// returns the signature in hex, for POST /auth/login.
    #[wasm_bindgen(js_name = signChallenge)]
    pub async fn sign_challenge(&self, challenge: String) -> Result<String, JsValue> {
        if challenge.is_empty() || challenge.len() > 1024 {
            return Err(ClientError::new(
                ErrorCode::InvalidArgument,
                "a challenge is 1 to 1024 bytes",
            )
            .into());
        }
        Ok(hex::encode(self.signer.sign(challenge.as_bytes()).await?))
    }
}
