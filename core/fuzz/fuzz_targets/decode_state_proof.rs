//! A state proof decodes only from its canonical encoding; verifying any
//! decoded proof never panics and never proves against an arbitrary root.
#![no_main]

use blockchain_core::state::StateProof;
use blockchain_core::{Address, Decode, Encode, MerkleHash};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(proof) = StateProof::decode(data) {
        assert_eq!(proof.encode(), data);
        let _ = proof.verify(&Address([7; 20]), &MerkleHash([0x42; 32]));
    }
});
