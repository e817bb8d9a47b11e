//! A transaction decodes only from its canonical encoding; checking a decoded
//! one never panics.
#![no_main]

use blockchain_core::crypto::RustCryptoVerifier;
use blockchain_core::{Decode, Encode, Network, Transaction};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = Transaction::decode(data) {
        assert_eq!(tx.encode(), data);
        let _ = tx.check_signed(Network::Devnet.params(), &RustCryptoVerifier);
    }
});
