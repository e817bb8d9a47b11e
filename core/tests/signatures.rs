//! RSA-PSS against signatures made by Python `cryptography`, and the ring
//! verifier against the reference on every one of them.

// In a browser (tests/wasm.rs) the same functions run under wasm-bindgen-test.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use blockchain_core::crypto::{
    PublicKeyError, RsaPublicKey, RustCryptoVerifier, SignatureVerifier,
};
use blockchain_core::params::{DEVNET, REGTEST};
use blockchain_core::{Address, Decode, Encode, Transaction};

use crate::support::{data, hex_bytes, keys, rng};

fn verifiers() -> Vec<(&'static str, Box<dyn SignatureVerifier>)> {
    vec![
        ("rustcrypto", Box::new(RustCryptoVerifier)),
        #[cfg(feature = "ring-verify")]
        ("ring", Box::new(blockchain_core::crypto::RingVerifier)),
    ]
}

#[test]
fn vector_keys_have_the_vector_addresses() {
    let vectors = data("rsa.json");
    for (key, vector) in keys().iter().zip(vectors["keys"].as_array().expect("keys")) {
        assert_eq!(key.public_key().to_spki_der(), hex_bytes(&vector["spki"]));
        assert_eq!(
            key.public_key().address().0.to_vec(),
            hex_bytes(&vector["address"])
        );
        assert_eq!(
            key.public_key().address().to_bech32m("tblk"),
            vector["tblk"].as_str().expect("str")
        );
    }
}

#[test]
fn bad_keys_are_rejected_for_the_right_reason() {
    for bad in data("rsa.json")["bad_keys"].as_array().expect("bad keys") {
        let result = RsaPublicKey::from_spki_der(&hex_bytes(&bad["spki"]));
        match bad["reason"].as_str().expect("reason") {
            "size" => assert!(
                matches!(result, Err(PublicKeyError::WrongSize { .. })),
                "{result:?}"
            ),
            "exponent" => assert_eq!(result, Err(PublicKeyError::WrongExponent)),
            other => panic!("unknown reason {other}"),
        }
    }
}

#[test]
fn every_verifier_agrees_with_the_vectors() {
    for vector in data("rsa.json")["signatures"]
        .as_array()
        .expect("signatures")
    {
        let key = RsaPublicKey::from_spki_der(&hex_bytes(&vector["spki"]))
            .expect("vector keys are valid");
        let message = hex_bytes(&vector["message"]);
        let signature = hex_bytes(&vector["signature"]);
        let expected = vector["valid"].as_bool().expect("bool");
        for (name, verifier) in verifiers() {
            assert_eq!(
                verifier.verify_pss(&key, &message, &signature),
                expected,
                "{name}: {}",
                vector["note"]
            );
        }
    }
}

#[test]
fn our_signatures_verify_everywhere() {
    let key = &keys()[1];
    for message in [
        &b""[..],
        b"BCdv0123456789012345678901234567890x",
        &[0xffu8; 36],
    ] {
        let signature = key.sign_pss(&mut rng(), message).expect("signs");
        assert_eq!(signature.len(), 384);
        for (name, verifier) in verifiers() {
            assert!(
                verifier.verify_pss(key.public_key(), message, &signature),
                "{name}"
            );
        }
    }
}

#[test]
fn vector_transactions_decode_hash_and_verify() {
    for vector in data("rsa.json")["transactions"]
        .as_array()
        .expect("transactions")
    {
        let params = match vector["network"].as_str().expect("network") {
            "devnet" => &DEVNET,
            "regtest" => &REGTEST,
            other => panic!("unknown network {other}"),
        };
        let signed = hex_bytes(&vector["signed"]);
        let tx = Transaction::decode(&signed).expect("vector transactions decode");
        assert_eq!(tx.encode(), signed);
        assert_eq!(tx.unsigned_bytes(), hex_bytes(&vector["unsigned"]));
        assert_eq!(
            tx.txid().to_string(),
            vector["txid"].as_str().expect("txid")
        );
        assert_eq!(
            tx.to,
            Address(hex_bytes(&vector["to"]).try_into().expect("20 bytes"))
        );
        assert_eq!(tx.amount.0, vector["amount"].as_u64().expect("amount"));
        assert_eq!(tx.nonce, vector["nonce"].as_u64().expect("nonce"));
        // Some vectors carry amount + fee overflows: valid signatures over
        // transactions the state rules reject, so the signature is checked alone.
        let key = RsaPublicKey::from_spki_der(&tx.from).expect("vector keys are valid");
        let other = if params.magic == DEVNET.magic {
            &REGTEST
        } else {
            &DEVNET
        };
        for (name, verifier) in verifiers() {
            assert!(
                verifier.verify_pss(&key, &tx.signing_message(params), &tx.signature),
                "{name}"
            );
            assert!(
                !verifier.verify_pss(&key, &tx.signing_message(other), &tx.signature),
                "{name}: replay across networks"
            );
        }
    }
}
