//! Browser tests (wasm-bindgen-test in headless Chromium, and Firefox):
//! WebCrypto and the core's Rust implementations make and read the same
//! keystore and signature bytes, Python-made keystores open, WebCrypto
//! signatures verify with the core's verifier, bad input gets its code.

use blockchain_core::crypto::{RustCryptoVerifier, SignatureVerifier};
use blockchain_core::keystore::Keystore;
use blockchain_core::params::REGTEST;
use blockchain_core::{Header, Transaction};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

use crate::js::{get, object};
use crate::keys;
use crate::wallet::Wallet;

wasm_bindgen_test_configure!(run_in_browser);

const PYTHON_KEYSTORES: &str = include_str!("../../core/tests/data/keystore.json");
const PASSWORD: &str = "correct horse battery staple";

fn code_of(error: &JsValue) -> String {
    get(error, "code").as_string().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn webcrypto_is_available_in_the_test_page() {
    assert!(crate::webcrypto::subtle().is_some());
}

#[wasm_bindgen_test]
async fn a_webcrypto_wallet_opens_with_the_core_and_its_signatures_verify_with_the_core() {
    let wallet = Wallet::create("regtest".into(), PASSWORD.into(), None)
        .await
        .expect("created");
    assert_eq!(wallet.backend(), "webcrypto");
    // The keystore opens with the core's Rust PBKDF2 + AES-GCM.
    let keystore = Keystore::from_json(&wallet.keystore()).expect("keystore JSON");
    let key = keystore.decrypt(PASSWORD).expect("the core opens it");
    assert_eq!(
        hex::encode(key.public_key().to_spki_der()),
        wallet.public_key()
    );
    assert_eq!(
        key.public_key()
            .address()
            .to_bech32m(REGTEST.address_prefix),
        wallet.address()
    );
    // A WebCrypto transaction signature passes the consensus check.
    let signed = wallet
        .sign_transaction(
            object(&[
                ("recipient", wallet.address().into()),
                ("amount", 5.into()),
                ("fee", 1.into()),
                ("nonce", 0.into()),
                ("timestamp", JsValue::from_f64(1_764_000_000_000.0)),
            ])
            .into(),
        )
        .await
        .expect("signed");
    let tx = Transaction {
        version: 1,
        from: hex::decode(get(&signed, "sender").as_string().expect("sender")).expect("hex"),
        to: key.public_key().address(),
        amount: blockchain_core::Amount(5),
        fee: blockchain_core::Amount(1),
        nonce: 0,
        time: 1_764_000_000_000,
        signature: hex::decode(get(&signed, "signature").as_string().expect("sig")).expect("hex"),
    };
    tx.check_signed(&REGTEST, &RustCryptoVerifier)
        .expect("the core verifies the WebCrypto signature");
    assert_eq!(
        get(&signed, "txid").as_string(),
        Some(tx.txid().to_string())
    );
    // A login challenge signature verifies too.
    let challenge = "blockchain-login:regtest:00:1";
    let signature = wallet
        .sign_challenge(challenge.into())
        .await
        .expect("signed");
    assert!(RustCryptoVerifier.verify_pss(
        key.public_key(),
        challenge.as_bytes(),
        &hex::decode(signature).expect("hex")
    ));
}

#[wasm_bindgen_test]
async fn python_keystores_open_through_webcrypto_and_bad_ones_get_their_codes() {
    let vectors: serde_json::Value = serde_json::from_str(PYTHON_KEYSTORES).expect("JSON");
    let first = &vectors[0];
    let json = first["keystore"].to_string();
    let password = first["password"].as_str().expect("password");
    let wallet = Wallet::from_keystore(json.clone(), password.into(), None)
        .await
        .expect("the Python keystore opens");
    assert_eq!(wallet.backend(), "webcrypto");
    assert_eq!(
        wallet.address(),
        first["keystore"]["address"].as_str().expect("address")
    );
    let wrong = Wallet::from_keystore(json.clone(), "not the password".into(), None)
        .await
        .expect_err("wrong password");
    assert_eq!(code_of(&wrong), "WRONG_PASSWORD");
    for bad in [
        "",
        "{}",
        "[1,2]",
        "{\"version\": 1}",
        &json.replace("aes-256-gcm", "aes-128-gcm"),
    ] {
        let error = Wallet::from_keystore(bad.into(), password.into(), None)
            .await
            .expect_err("refused");
        assert_eq!(code_of(&error), "INVALID_KEYSTORE", "{bad}");
    }
}

#[wasm_bindgen_test]
async fn the_rust_fallback_and_webcrypto_read_each_others_keystores() {
    // Made by the core's Rust code (the path of pages without WebCrypto)…
    let (keystore, signer) = keys::create_with_rust(&REGTEST, PASSWORD).expect("Rust keystore");
    assert_eq!(signer.kind(), "rust");
    // …opened by WebCrypto, and the signature of each verifies with the core.
    let webcrypto = keys::open(&keystore, PASSWORD, &JsValue::UNDEFINED)
        .await
        .expect("WebCrypto opens it");
    assert_eq!(webcrypto.kind(), "webcrypto");
    let public =
        blockchain_core::keystore::parse_public_key_pem(&keystore.public_key).expect("public key");
    for signer in [&signer, &webcrypto] {
        let signature = signer.sign(b"same bytes either way").await.expect("signed");
        assert!(RustCryptoVerifier.verify_pss(&public, b"same bytes either way", &signature));
    }
    // And a WebCrypto keystore opens with the Rust path.
    let wallet = Wallet::create("regtest".into(), PASSWORD.into(), None)
        .await
        .expect("created");
    let keystore = Keystore::from_json(&wallet.keystore()).expect("JSON");
    assert_eq!(
        keys::open_with_rust(&keystore, PASSWORD)
            .expect("opens")
            .kind(),
        "rust"
    );
}

#[wasm_bindgen_test]
async fn bad_transactions_are_refused_with_their_codes() {
    let wallet = Wallet::create("regtest".into(), PASSWORD.into(), None)
        .await
        .expect("created");
    let cases: [(&str, JsValue, JsValue, &str); 5] = [
        (
            "rblk1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq9uc4rm",
            1.into(),
            0.into(),
            "INVALID_ADDRESS",
        ),
        (
            "tblk1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqhlsaz9",
            1.into(),
            0.into(),
            "INVALID_ADDRESS",
        ),
        ("", 0.into(), 0.into(), "INVALID_AMOUNT"),
        ("", 1.5.into(), 0.into(), "INVALID_AMOUNT"),
        ("", 1.into(), (-1).into(), "INVALID_AMOUNT"),
    ];
    for (recipient, amount, fee, code) in cases {
        let recipient = if recipient.is_empty() {
            wallet.address()
        } else {
            recipient.into()
        };
        let tx = object(&[
            ("recipient", recipient.into()),
            ("amount", amount),
            ("fee", fee),
            ("nonce", 0.into()),
        ]);
        let error = wallet
            .sign_transaction(tx.into())
            .await
            .expect_err("refused");
        assert_eq!(code_of(&error), code);
    }
}

/// `count` mined regtest headers on the tip of `chain`, accepted into it.
fn mine_headers(chain: &mut blockchain_core::header_chain::HeaderChain, count: u64) -> Vec<Header> {
    let mut headers = Vec::new();
    for _ in 0..count {
        let parent = chain.parent_info(&chain.tip_hash()).expect("the tip");
        let mut header = Header {
            version: Header::VERSION,
            height: parent.height + 1,
            prev_hash: parent.hash,
            merkle_root: blockchain_core::MerkleHash::ZERO,
            state_root: blockchain_core::MerkleHash::ZERO,
            time: REGTEST.genesis_header().time + (parent.height + 1) * 1000,
            bits: blockchain_core::difficulty::next_bits(&REGTEST, &parent),
            nonce: 0,
        };
        let target = header.bits.to_target().expect("canonical bits");
        while !target.is_met_by(&header.hash().0) {
            header.nonce += 1;
        }
        chain
            .accept_headers(&[header], crate::js::now_ms())
            .expect("a valid header");
        headers.push(header);
    }
    headers
}

#[wasm_bindgen_test]
async fn stored_headers_span_chunks_resume_and_follow_a_shorter_reorg() {
    use crate::header_store::{CHUNK, HeaderStore};
    use blockchain_core::header_chain::HeaderChain;

    let mut chain = HeaderChain::new(&REGTEST);
    let mut headers = mine_headers(&mut chain, 1010);
    let work_at_1010 = chain.tip_work();
    headers.extend(mine_headers(&mut chain, CHUNK * 2 + 100 - 1010));
    let tip = *headers.last().expect("headers");
    let store = HeaderStore::open(&REGTEST).await.expect("IndexedDB");
    // Two saves, the second starting inside a chunk the first began.
    store
        .save(&headers[..600], work_at_1010)
        .await
        .expect("saved");
    store
        .save(&headers[600..], chain.tip_work())
        .await
        .expect("saved");

    let all = store.range(0, tip.height + 10).await.expect("read");
    assert_eq!(all.len() as u64, tip.height + 1, "genesis and every header");
    assert_eq!(all[0], REGTEST.genesis_header());
    assert_eq!(&all[1..], &headers[..]);
    let across = store.range(CHUNK - 3, 7).await.expect("read");
    assert_eq!(
        &across[..],
        &headers[CHUNK as usize - 4..CHUNK as usize + 3]
    );

    let resumed = store.load().await.expect("read").expect("a stored chain");
    assert_eq!(resumed.tip_hash(), tip.hash());
    assert_eq!(resumed.tip_work(), chain.tip_work());
    assert_eq!(resumed.height(), tip.height);

    // A shorter best chain (as after a reorg to a branch with more work
    // but fewer blocks): what is above its tip goes.
    store
        .save(&headers[1000..1010], work_at_1010)
        .await
        .expect("saved");
    let after = store.range(1005, 500).await.expect("read");
    assert_eq!(&after[..], &headers[1004..1010]);
    let resumed = store.load().await.expect("read").expect("a stored chain");
    assert_eq!(resumed.height(), 1010);
    assert_eq!(resumed.tip_work(), work_at_1010);

    // A chain of a few headers resumes from genesis and can be extended.
    let mut short = HeaderChain::new(&REGTEST);
    let few = mine_headers(&mut short, 3);
    store.save(&few, short.tip_work()).await.expect("saved");
    let mut resumed = store.load().await.expect("read").expect("a stored chain");
    assert_eq!(resumed.height(), 3);
    let next = mine_headers(&mut short, 1);
    resumed
        .accept_headers(&next, crate::js::now_ms())
        .expect("a resumed short chain follows new headers");
    assert_eq!(resumed.tip_hash(), next[0].hash());
}
