//! Values computed by the independent Python implementation in
//! tests/vectors/gen_vectors.py, checked against the core.

// In a browser (tests/wasm.rs) the same functions run under wasm-bindgen-test.
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use blockchain_core::address::Address;
use blockchain_core::crypto::RustCryptoVerifier;
use blockchain_core::difficulty::{next_bits, next_target};
use blockchain_core::header::ParentInfo;
use blockchain_core::merkle::{MerkleProof, merkle_root};
use blockchain_core::params::{DEVNET, REGTEST, Retarget};
use blockchain_core::pow::{CompactBits, Target};
use blockchain_core::state::{Account, StateTree};
use blockchain_core::validation::{check_block, connect_block};
use blockchain_core::{
    Amount, Block, BlockHash, Decode, DecodeError, Encode, Header, MerkleHash, Txid,
};

use crate::support::{data, hex_bytes, hex32, u64_of};

fn bits_of(value: &serde_json::Value) -> CompactBits {
    CompactBits(u32::try_from(u64_of(value)).expect("u32 bits"))
}

#[test]
fn genesis_headers_match() {
    let vectors = data("headers.json");
    for (name, params) in [("regtest", &REGTEST), ("devnet", &DEVNET)] {
        let genesis = &vectors["genesis"][name];
        assert_eq!(
            params.genesis_header().encode(),
            hex_bytes(&genesis["header"]),
            "{name}"
        );
        assert_eq!(
            params.genesis_hash().to_string(),
            genesis["hash"].as_str().expect("hash"),
            "{name}"
        );
    }
}

#[test]
fn header_layout_and_hashes_match() {
    for vector in data("headers.json")["headers"].as_array().expect("headers") {
        let bytes = hex_bytes(&vector["header"]);
        let version = u64_of(&vector["version"]);
        let decoded = Header::decode(&bytes);
        if version != 1 {
            assert_eq!(
                decoded,
                Err(DecodeError::UnknownVersion {
                    field: "header",
                    version: version as u32
                })
            );
            continue;
        }
        let header = decoded.expect("version 1 decodes");
        assert_eq!(header.height, u64_of(&vector["height"]));
        assert_eq!(header.prev_hash.0, hex32(&vector["prev_hash"]));
        assert_eq!(header.merkle_root.0, hex32(&vector["merkle_root"]));
        assert_eq!(header.state_root.0, hex32(&vector["state_root"]));
        assert_eq!(header.time, u64_of(&vector["time"]));
        assert_eq!(header.bits, bits_of(&vector["bits"]));
        assert_eq!(header.nonce, u64_of(&vector["nonce"]));
        assert_eq!(header.encode(), bytes);
        assert_eq!(
            header.hash().to_string(),
            vector["hash"].as_str().expect("hash")
        );
        let midstate =
            blockchain_core::hash::HeaderMidstate::new(bytes[..64].try_into().expect("64"));
        assert_eq!(
            midstate.hash(bytes[64..].try_into().expect("64")),
            header.hash().0
        );
    }
}

#[test]
fn compact_bits_match() {
    let vectors = data("compact.json");
    for vector in vectors["decode"].as_array().expect("decode") {
        let bits = bits_of(&vector["bits"]);
        let lenient = bits.to_target_lenient();
        assert_eq!(
            lenient.is_ok(),
            vector["valid"].as_bool().expect("bool"),
            "{bits:?}"
        );
        if let Ok(target) = lenient {
            assert_eq!(target.to_be_bytes(), hex32(&vector["target"]), "{bits:?}");
        }
        assert_eq!(
            bits.to_target().is_ok(),
            vector["canonical"].as_bool().expect("bool"),
            "{bits:?}"
        );
    }
    for vector in vectors["encode"].as_array().expect("encode") {
        let target = Target::from_be_bytes(hex32(&vector["target"]));
        assert_eq!(target.to_compact(), bits_of(&vector["bits"]), "{target:?}");
    }
    for vector in vectors["work"].as_array().expect("work") {
        let target = bits_of(&vector["bits"]).to_target_lenient().expect("valid");
        assert_eq!(target.work().to_be_bytes(), hex32(&vector["work"]));
    }
}

/// A parent for the difficulty rules alone (its hash and median time past do not matter).
fn asert_parent(height: u64, time: u64, anchor_time: Option<u64>) -> ParentInfo {
    ParentInfo {
        hash: BlockHash::ZERO,
        height,
        time,
        median_time_past: time,
        anchor_time,
    }
}

#[test]
fn asert_matches() {
    let vectors = &data("asert.json")["devnet"];
    let Retarget::Asert { half_life_ms } = DEVNET.retarget else {
        panic!("devnet uses ASERT")
    };
    assert_eq!(u64_of(&vectors["half_life_ms"]), half_life_ms);
    assert_eq!(u64_of(&vectors["spacing_ms"]), DEVNET.target_spacing_ms);
    assert_eq!(u64_of(&vectors["genesis_time"]), DEVNET.genesis_time_ms);
    assert_eq!(
        DEVNET.initial_target().to_be_bytes(),
        hex32(&vectors["initial_target"])
    );
    assert_eq!(DEVNET.pow_limit.to_be_bytes(), hex32(&vectors["pow_limit"]));
    let cases = vectors["cases"].as_array().expect("cases");
    assert!(cases.len() >= 80);
    let mut one = [0u8; 32];
    one[31] = 1;
    let one = Target::from_be_bytes(one);
    let mut clamped_low = 0;
    let mut clamped_high = 0;
    for case in cases {
        let height = u64_of(&case["parent_height"]);
        let time = u64_of(&case["parent_time"]);
        let anchor_time = case["anchor_time"].as_u64();
        assert_eq!(anchor_time.is_none(), case["anchor_time"].is_null());
        let parent = asert_parent(height, time, anchor_time);
        let note = case["note"].as_str().expect("note");
        let target = next_target(&DEVNET, &parent);
        assert_eq!(
            target.to_be_bytes(),
            hex32(&case["target"]),
            "{note}: {parent:?}"
        );
        assert_eq!(
            next_bits(&DEVNET, &parent),
            bits_of(&case["bits"]),
            "{note}: {parent:?}"
        );
        if height <= 1 {
            assert_eq!(next_bits(&DEVNET, &parent), DEVNET.genesis_bits, "{note}");
        }
        clamped_low += usize::from(target == one);
        clamped_high += usize::from(target == DEVNET.pow_limit);
    }
    assert!(
        clamped_low >= 5 && clamped_high >= 5,
        "both clamps are covered"
    );
}

#[test]
fn asert_chains_match_from_genesis() {
    let vectors = data("asert.json");
    let chains = vectors["devnet"]["chains"].as_array().expect("chains");
    assert!(chains.len() >= 3);
    for chain in chains {
        let times = chain["times"].as_array().expect("times");
        let bits = chain["bits"].as_array().expect("bits");
        assert_eq!(times.len(), bits.len());
        let genesis = DEVNET.genesis_header();
        let mut parent = asert_parent(0, genesis.time, None);
        for (time, bits) in times.iter().zip(bits) {
            let time = u64_of(time);
            assert_eq!(
                next_bits(&DEVNET, &parent),
                bits_of(bits),
                "child of {parent:?}"
            );
            parent = asert_parent(parent.height + 1, time, parent.child_anchor_time(time));
        }
        assert_eq!(parent.anchor_time, Some(u64_of(&times[0])));
    }
}

#[test]
fn merkle_roots_and_proofs_match() {
    for vector in data("merkle.json").as_array().expect("trees") {
        let txids: Vec<Txid> = vector["leaves"]
            .as_array()
            .expect("leaves")
            .iter()
            .map(|leaf| Txid(hex32(leaf)))
            .collect();
        let root = MerkleHash(hex32(&vector["root"]));
        assert_eq!(merkle_root(&txids), root, "{} leaves", txids.len());
        for proof in vector["proofs"].as_array().expect("proofs") {
            let index = u64_of(&proof["index"]) as usize;
            let path: Vec<MerkleHash> = proof["path"]
                .as_array()
                .expect("path")
                .iter()
                .map(|h| MerkleHash(hex32(h)))
                .collect();
            let ours = MerkleProof::new(&txids, index).expect("in range");
            assert_eq!(ours.path, path, "{} leaves, index {index}", txids.len());
            assert_eq!(ours.verify(&txids[index], &root), Ok(()));
        }
    }
}

#[test]
fn state_roots_match() {
    for vector in data("state.json").as_array().expect("states") {
        let mut tree = StateTree::new();
        for account in vector["accounts"].as_array().expect("accounts") {
            let address = Address(hex_bytes(&account["address"]).try_into().expect("20 bytes"));
            tree.insert(
                address,
                Account {
                    balance: Amount(u64_of(&account["balance"])),
                    nonce: u64_of(&account["nonce"]),
                },
            );
        }
        assert_eq!(
            tree.root(),
            MerkleHash(hex32(&vector["root"])),
            "{} accounts",
            tree.len()
        );
    }
}

#[test]
fn addresses_match() {
    let vectors = data("addresses.json");
    for vector in vectors["valid"].as_array().expect("valid") {
        let address = Address(hex_bytes(&vector["bytes"]).try_into().expect("20 bytes"));
        let upper = vector
            .get("upper")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        for prefix in ["rblk", "tblk", "blk"] {
            let text = vector[prefix].as_str().expect("string");
            if !upper {
                assert_eq!(address.to_bech32m(prefix), text);
            }
            assert_eq!(Address::from_bech32m(text, prefix), Ok(address), "{text}");
        }
    }
    for vector in vectors["invalid"].as_array().expect("invalid") {
        let text = vector["string"].as_str().expect("string");
        let prefix = match vector["prefix"].as_str().expect("prefix") {
            "tblk" => "tblk",
            "rblk" => "rblk",
            "blk" => "blk",
            other => panic!("unknown prefix {other}"),
        };
        assert!(
            Address::from_bech32m(text, prefix).is_err(),
            "{text}: {}",
            vector["reason"]
        );
    }
}

#[test]
fn the_python_regtest_chain_validates() {
    let vectors = data("chain_regtest.json");
    let mut state = StateTree::new();
    let genesis = REGTEST.genesis_header();
    let mut parent = ParentInfo {
        hash: genesis.hash(),
        height: 0,
        time: genesis.time,
        median_time_past: genesis.time,
        anchor_time: None,
    };
    let mut times = vec![genesis.time];
    for vector in vectors["blocks"].as_array().expect("blocks") {
        let bytes = hex_bytes(&vector["block"]);
        let block = Block::decode(&bytes).expect("decodes");
        assert_eq!(block.encode(), bytes);
        assert_eq!(
            block.hash().to_string(),
            vector["hash"].as_str().expect("hash")
        );
        let checked =
            check_block(&REGTEST, block, &RustCryptoVerifier).expect("context-free valid");
        connect_block(&REGTEST, &mut state, &checked, &parent).expect("connects");
        assert_eq!(state.root(), MerkleHash(hex32(&vector["state_root"])));
        for account in vector["accounts_after"].as_array().expect("accounts") {
            let address = Address(hex_bytes(&account["address"]).try_into().expect("20 bytes"));
            let expected = Account {
                balance: Amount(u64_of(&account["balance"])),
                nonce: u64_of(&account["nonce"]),
            };
            assert_eq!(state.get(&address), Some(expected));
        }
        let header = checked.block().header;
        times.push(header.time);
        let last: Vec<u64> = times.iter().rev().take(11).copied().collect();
        parent = ParentInfo {
            hash: header.hash(),
            height: header.height,
            time: header.time,
            median_time_past: blockchain_core::header::median_time_past(&last),
            anchor_time: parent.child_anchor_time(header.time),
        };
    }
    assert_eq!(parent.height, 3);
}
