//! The ring verifier and the RustCrypto reference must accept and reject
//! exactly the same signatures: consensus must never split between them.
//!
//! Input: byte 0 picks a vector key and a mode; mode 0 uses the rest as a raw
//! signature over a fixed message; mode 1 flips bits of a valid signature;
//! mode 2 signs nothing and varies the message under a valid signature.
#![no_main]

use std::sync::OnceLock;

use blockchain_core::crypto::{RingVerifier, RsaPublicKey, RustCryptoVerifier, SignatureVerifier};
use libfuzzer_sys::fuzz_target;

struct Fixture {
    key: RsaPublicKey,
    message: Vec<u8>,
    signature: Vec<u8>,
}

fn fixtures() -> &'static [Fixture] {
    static FIXTURES: OnceLock<Vec<Fixture>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let vectors: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/data/rsa.json")).expect("vector file is JSON");
        vectors["signatures"]
            .as_array()
            .expect("signatures")
            .iter()
            .filter(|vector| vector["valid"].as_bool() == Some(true))
            .map(|vector| {
                let bytes = |field: &str| hex::decode(vector[field].as_str().expect("hex")).expect("hex");
                Fixture {
                    key: RsaPublicKey::from_spki_der(&bytes("spki")).expect("valid key"),
                    message: bytes("message"),
                    signature: bytes("signature"),
                }
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let fixtures = fixtures();
    let fixture = &fixtures[usize::from(selector >> 2) % fixtures.len()];
    let (message, signature) = match selector & 3 {
        0 => (fixture.message.clone(), rest.to_vec()),
        1 => {
            let mut signature = fixture.signature.clone();
            for pair in rest.chunks_exact(2) {
                let position = usize::from(pair[0]) * 2 % signature.len();
                signature[position] ^= pair[1];
            }
            (fixture.message.clone(), signature)
        }
        _ => (rest.to_vec(), fixture.signature.clone()),
    };
    let reference = RustCryptoVerifier.verify_pss(&fixture.key, &message, &signature);
    let ring = RingVerifier.verify_pss(&fixture.key, &message, &signature);
    assert_eq!(reference, ring, "verifiers disagree");
});
