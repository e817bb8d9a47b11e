//! A block decodes only from its canonical encoding; context-free checks of a
//! decoded block never panic.
#![no_main]

use blockchain_core::crypto::RingVerifier;
use blockchain_core::validation::check_block;
use blockchain_core::{Block, Decode, Encode, Network};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(block) = Block::decode(data) {
        assert_eq!(block.encode(), data);
        let _ = check_block(Network::Regtest.params(), block, &RingVerifier);
    }
});
