//! kill -9 at random moments while the node mines and takes transactions:
//! every restart finds a valid chain, the same or a higher tip, and every
//! transaction it answered 202 for.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blockchain_core::crypto::SigningKey;
use blockchain_core::header_chain::HeaderChain;
use blockchain_core::params::REGTEST;
use blockchain_core::{Address, Amount, Decode, Header, Transaction};
use rand::{RngExt, SeedableRng};
use serde_json::json;

use crate::support::data;
use crate::support::http::{get, request};
use crate::support::node::{NodeOptions, NodeProcess};

const KILLS: usize = 12;

fn sender_key() -> SigningKey {
    let pkcs8 = hex::decode(
        data("core/tests/data/rsa.json")["keys"][0]["pkcs8"]
            .as_str()
            .expect("hex"),
    )
    .expect("hex");
    SigningKey::from_pkcs8_der(&pkcs8).expect("valid key")
}

fn transaction_json(transaction: &Transaction) -> serde_json::Value {
    json!({
        "version": 1,
        "sender": hex::encode(&transaction.from),
        "recipient": transaction.to.to_bech32m("rblk"),
        "amount": transaction.amount.0,
        "fee": transaction.fee.0,
        "nonce": transaction.nonce,
        "timestamp": transaction.time,
        "signature": hex::encode(&transaction.signature),
    })
}

/// Every header from genesis, verified by the core's header chain.
fn verify_chain(node: &NodeProcess) -> u64 {
    let mut chain = HeaderChain::new(&REGTEST);
    let mut from = 1u64;
    loop {
        let answer = get(
            node.addr,
            &format!("/api/v1/headers?from={from}&count=2000"),
        );
        let headers: Vec<Header> = answer.body["headers"]
            .as_array()
            .expect("headers")
            .iter()
            .map(|header| {
                Header::decode(&hex::decode(header["raw"].as_str().expect("raw")).expect("hex"))
                    .expect("decodes")
            })
            .collect();
        if headers.is_empty() {
            return chain.height();
        }
        chain
            .accept_headers(&headers, u64::MAX / 2)
            .expect("the stored chain is valid");
        from += headers.len() as u64;
    }
}

#[test]
fn sigkill_at_random_moments_loses_nothing_acknowledged() {
    let seed: u64 = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("crash test seed {seed} (rerun with CRASH_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    let key = sender_key();
    let sender = key.public_key().address();
    let mut options = NodeOptions::regtest(dir.path());
    options.extra = vec![
        "--mine".into(),
        "--miner-address".into(),
        sender.to_bech32m("rblk"),
    ];

    let acknowledged: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let mut last_height = 0u64;
    for round in 0..KILLS {
        let node = NodeProcess::start(&options);
        let height = verify_chain(&node);
        assert!(
            height >= last_height,
            "round {round}: tip went back from {last_height} to {height}"
        );
        let kept = acknowledged.lock().expect("lock").len();
        eprintln!(
            "round {round}: restarted at height {height} (last seen {last_height}), {kept} acknowledged so far"
        );
        for txid in acknowledged.lock().expect("lock").iter() {
            let answer = get(node.addr, &format!("/api/v1/transactions/{txid}"));
            assert_eq!(
                answer.status, 200,
                "round {round}: acknowledged transaction {txid} is gone: {:?}",
                answer.body
            );
        }

        // Submit transactions until the kill; remember every 202.
        let stop = Arc::new(AtomicBool::new(false));
        let submitter = {
            let (stop, acknowledged, key, addr) = (
                Arc::clone(&stop),
                Arc::clone(&acknowledged),
                key.clone(),
                node.addr,
            );
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ round as u64);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    let Ok(balance) = request(
                        addr,
                        "GET",
                        &format!("/api/v1/wallet/{}/balance", sender.to_bech32m("rblk")),
                        None,
                    ) else {
                        return;
                    };
                    let nonce = balance.body["next_nonce"].as_u64().unwrap_or(0);
                    let to = Address(rng.random());
                    let transaction = Transaction::new_signed(
                        &REGTEST,
                        &key,
                        to,
                        Amount(1000),
                        Amount(rng.random_range(0..100)),
                        nonce,
                        1,
                        &mut rng,
                    )
                    .expect("signs");
                    match request(
                        addr,
                        "POST",
                        "/api/v1/transactions",
                        Some(&transaction_json(&transaction)),
                    ) {
                        Ok(answer) if answer.status == 202 => {
                            acknowledged
                                .lock()
                                .expect("lock")
                                .insert(answer.body["txid"].as_str().expect("txid").to_string());
                        }
                        Ok(_) => {}
                        Err(_) => return,
                    }
                }
            })
        };
        std::thread::sleep(Duration::from_millis(rng.random_range(200..1500)));
        last_height = get(node.addr, "/api/v1/status").body["height"]
            .as_u64()
            .expect("height");
        node.kill();
        stop.store(true, Ordering::Release);
        let _ = submitter.join();
    }
    let node = NodeProcess::start(&options);
    assert!(verify_chain(&node) >= last_height);
    let acknowledged = acknowledged.lock().expect("lock");
    assert!(!acknowledged.is_empty(), "the test submitted transactions");
    for txid in acknowledged.iter() {
        assert_eq!(
            get(node.addr, &format!("/api/v1/transactions/{txid}")).status,
            200,
            "acknowledged transaction {txid} is gone"
        );
    }
    eprintln!(
        "{} acknowledged transactions kept through {KILLS} kills",
        acknowledged.len()
    );
}
