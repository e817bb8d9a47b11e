//! Keystores written by Python `cryptography` open here; ours round-trip.

// In a browser (tests/wasm.rs) the same functions run under wasm-bindgen-test.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use blockchain_core::keystore::{Keystore, KeystoreError};
use blockchain_core::params::DEVNET;

use crate::support::{data, hex_bytes, keys, rng};

#[test]
fn python_keystores_open_with_the_password_and_not_without() {
    for vector in data("keystore.json").as_array().expect("keystores") {
        let json = serde_json::to_string(&vector["keystore"]).expect("json");
        let keystore = Keystore::from_json(&json).expect("parses");
        let key = keystore
            .decrypt(vector["password"].as_str().expect("password"))
            .expect("opens");
        assert_eq!(
            *key.to_pkcs8_der().expect("encodes"),
            hex_bytes(&vector["pkcs8"])
        );
        assert_eq!(
            keystore
                .decrypt(vector["wrong_password"].as_str().expect("password"))
                .map(drop),
            Err(KeystoreError::WrongPassword)
        );
    }
}

#[test]
fn our_keystore_round_trips_and_refuses_tampering() {
    let key = &keys()[0];
    // Fewer iterations keep the test quick; the count is read back from the file.
    let keystore =
        Keystore::encrypt(&DEVNET, key, "correct horse", 1000, &mut rng()).expect("encrypts");
    let reread = Keystore::from_json(&keystore.to_json()).expect("parses");
    assert_eq!(reread, keystore);
    assert_eq!(
        reread.decrypt("correct horse").expect("opens").public_key(),
        key.public_key()
    );
    assert_eq!(
        reread.decrypt("wrong").map(drop),
        Err(KeystoreError::WrongPassword)
    );

    let mut other_address = keystore.clone();
    other_address.address = keys()[1].public_key().address().to_bech32m("tblk");
    assert_eq!(
        other_address.decrypt("correct horse").map(drop),
        Err(KeystoreError::Mismatch { field: "address" })
    );

    let mut bad_iv = keystore.clone();
    bad_iv.encrypted_private_key.iv = "AAAA".into();
    assert_eq!(
        bad_iv.decrypt("correct horse").map(drop),
        Err(KeystoreError::BadEncoding { field: "iv" })
    );

    let mut huge = keystore;
    huge.encrypted_private_key.iterations = u32::MAX;
    assert!(matches!(
        huge.decrypt("correct horse"),
        Err(KeystoreError::Unsupported {
            field: "iterations",
            ..
        })
    ));
}

#[test]
fn malformed_json_is_a_clear_error() {
    for text in [
        "",
        "{",
        "[]",
        r#"{"version": 1}"#,
        r#"{"version":1,"network":"devnet","address":"x","public_key":"y","encrypted_private_key":{},"extra":1}"#,
    ] {
        assert!(
            matches!(Keystore::from_json(text), Err(KeystoreError::Json(_))),
            "{text}"
        );
    }
}
