//! A header decodes only from its one canonical encoding, and never panics.
#![no_main]

use blockchain_core::{Decode, Encode, Header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(header) = Header::decode(data) {
        assert_eq!(header.encode(), data);
        let _ = blockchain_core::header::check_proof_of_work(blockchain_core::Network::Devnet.params(), &header.hash(), header.bits);
    }
});
