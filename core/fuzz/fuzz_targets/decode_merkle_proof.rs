//! An inclusion proof decodes only from its canonical encoding; verifying
//! any decoded proof never panics.
#![no_main]

use blockchain_core::merkle::MerkleProof;
use blockchain_core::{Decode, Encode, MerkleHash, Txid};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(proof) = MerkleProof::decode(data) {
        assert_eq!(proof.encode(), data);
        let _ = proof.verify(&Txid([1; 32]), &MerkleHash([2; 32]));
    }
});
