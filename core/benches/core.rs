//! Criterion benchmarks of what the node and the light client exist for.
//! `cargo xtask bench` runs them and prints each as a ratio to its limit.

use std::hint::black_box;

use blockchain_core::crypto::{RustCryptoVerifier, SignatureVerifier, SigningKey};
use blockchain_core::hash::NonceSearch;
use blockchain_core::header::{ParentInfo, check_header};
use blockchain_core::header_chain::HeaderChain;
use blockchain_core::keystore::{DEFAULT_ITERATIONS, Keystore};
use blockchain_core::params::{DEVNET, Params};
use blockchain_core::pow::{CompactBits, Target};
use blockchain_core::state::{Account, StateTree};
use blockchain_core::{Address, Amount, Header, MerkleHash, Transaction};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;
use ruint::aliases::U256;

fn vector_key() -> SigningKey {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/rsa.json");
    let vectors: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("vectors")).expect("json");
    let pkcs8 = hex::decode(vectors["keys"][0]["pkcs8"].as_str().expect("hex")).expect("hex");
    SigningKey::from_pkcs8_der(&pkcs8).expect("valid key")
}

fn sha256(c: &mut Criterion) {
    let mut group = c.benchmark_group("sha256");
    group.throughput(Throughput::Elements(1));
    let block = [0x5au8; 64];
    let mut state = [
        0x6a09e667u32,
        0xbb67ae85,
        0x3c6ef372,
        0xa54ff53a,
        0x510e527f,
        0x9b05688c,
        0x1f83d9ab,
        0x5be0cd19,
    ];
    group.bench_function("compress", |b| {
        b.iter(|| {
            sha2::block_api::compress256(
                black_box(&mut state),
                std::slice::from_ref(black_box(&block)),
            )
        })
    });
    group.finish();
}

fn pow(c: &mut Criterion) {
    let mut group = c.benchmark_group("pow");
    group.throughput(Throughput::Elements(1));
    let mut search = NonceSearch::new(&DEVNET.genesis_header().to_bytes());
    let target = DEVNET.initial_target();
    let mut nonce = 0u64;
    group.bench_function("midstate_hash", |b| {
        b.iter(|| {
            nonce = nonce.wrapping_add(1);
            search.set_nonce(black_box(nonce));
            target.is_met_by_words(&search.hash_words())
        })
    });
    group.finish();
}

/// Devnet's rules (ASERT, median time past) with a proof-of-work limit low
/// enough that a benchmark chain can be mined in a moment.
fn easy_devnet() -> &'static Params {
    let genesis_bits = CompactBits(0x207f_ffff);
    Box::leak(Box::new(Params {
        pow_limit: Target((U256::from(1u8) << 255) - U256::from(1u8)),
        genesis_bits,
        ..DEVNET.clone()
    }))
}

fn mined_headers(params: &'static Params, count: usize) -> Vec<Header> {
    let mut chain = HeaderChain::new(params);
    let mut headers = Vec::with_capacity(count);
    let mut previous = params.genesis_header();
    for i in 0..count {
        let parent = chain.parent_info(&previous.hash()).expect("known");
        // Blocks alternately early and late so ASERT keeps moving.
        let time = previous.time + if i % 2 == 0 { 4_000 } else { 16_000 };
        let mut header = Header {
            version: 1,
            height: parent.height + 1,
            prev_hash: parent.hash,
            merkle_root: MerkleHash([1; 32]),
            state_root: MerkleHash([2; 32]),
            time,
            bits: blockchain_core::difficulty::next_bits(params, &parent),
            nonce: 0,
        };
        let target = header.bits.to_target().expect("canonical");
        while !target.is_met_by(&header.hash().0) {
            header.nonce += 1;
        }
        chain
            .accept_headers(&[header], u64::MAX / 2)
            .expect("valid");
        headers.push(header);
        previous = header;
    }
    headers
}

fn headers(c: &mut Criterion) {
    let params = easy_devnet();
    let headers = mined_headers(params, 10_000);
    let mut group = c.benchmark_group("header");
    group.throughput(Throughput::Elements(headers.len() as u64));
    group.bench_function("verify", |b| {
        b.iter_batched(
            || HeaderChain::new(params),
            |mut chain| {
                chain
                    .accept_headers(black_box(&headers), u64::MAX / 2)
                    .expect("valid")
            },
            BatchSize::LargeInput,
        )
    });
    group.throughput(Throughput::Elements(1));
    let parent = ParentInfo {
        hash: headers[0].hash(),
        height: 1,
        time: headers[0].time,
        median_time_past: headers[0].time - 1,
        anchor_time: Some(headers[0].time),
    };
    let child = headers[1];
    let hash = child.hash();
    group.bench_function("check", |b| {
        b.iter(|| check_header(params, black_box(&child), black_box(&hash), &parent))
    });
    group.finish();
}

fn rsa(c: &mut Criterion) {
    let key = vector_key();
    let mut rng = StdRng::seed_from_u64(1);
    let tx = Transaction::new_signed(
        &DEVNET,
        &key,
        Address([9; 20]),
        Amount(5),
        Amount(1),
        0,
        0,
        &mut rng,
    )
    .expect("signs");
    let mut group = c.benchmark_group("rsa");
    group.throughput(Throughput::Elements(1));
    group.bench_function("verify_rustcrypto", |b| {
        b.iter(|| {
            tx.check_signed(
                &DEVNET,
                black_box(&RustCryptoVerifier as &dyn SignatureVerifier),
            )
            .expect("valid")
        })
    });
    #[cfg(feature = "ring-verify")]
    group.bench_function("verify_ring", |b| {
        let verifier = blockchain_core::crypto::RingVerifier;
        b.iter(|| {
            tx.check_signed(&DEVNET, black_box(&verifier as &dyn SignatureVerifier))
                .expect("valid")
        })
    });
    group.sample_size(20);
    group.bench_function("sign", |b| {
        b.iter(|| {
            key.sign_pss(&mut rng, black_box(b"BCdv message of thirty-six bytes.."))
                .expect("signs")
        })
    });
    group.finish();
}

fn state(c: &mut Criterion) {
    let mut tree = StateTree::new();
    let accounts = 100_000u32;
    for i in 0..accounts {
        let mut address = [0u8; 20];
        address[..4].copy_from_slice(&i.to_le_bytes());
        tree.insert(
            Address(address),
            Account {
                balance: Amount(u64::from(i)),
                nonce: 0,
            },
        );
    }
    tree.root();
    let mut group = c.benchmark_group("state");
    group.throughput(Throughput::Elements(1));
    let mut i = 0u32;
    // One account changed and the root recomputed, in a tree of 100,000 accounts.
    group.bench_function("update", |b| {
        b.iter(|| {
            i = (i + 7919) % accounts;
            let mut address = [0u8; 20];
            address[..4].copy_from_slice(&i.to_le_bytes());
            tree.insert(
                Address(address),
                Account {
                    balance: Amount(u64::from(i) + 1),
                    nonce: 1,
                },
            );
            tree.root()
        })
    });
    group.finish();
}

fn keystore(c: &mut Criterion) {
    let key = vector_key();
    let keystore = Keystore::encrypt(
        &DEVNET,
        &key,
        "password",
        DEFAULT_ITERATIONS,
        &mut StdRng::seed_from_u64(2),
    )
    .expect("encrypts");
    let mut group = c.benchmark_group("keystore");
    group.sample_size(10);
    group.bench_function("decrypt", |b| {
        b.iter(|| keystore.decrypt(black_box("password")).expect("opens"))
    });
    group.finish();
}

criterion_group!(benches, sha256, pow, headers, rsa, state, keystore);
criterion_main!(benches);
