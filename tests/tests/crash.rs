//! kill -9 at random moments while the node mines and takes transactions
//! from several senders at once (so their writes share group commits):
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
use blockchain_node::testing::transaction_json;
use blockchain_testkit::http::{get, request};
use blockchain_testkit::vectors::vector_signing_key;
use rand::{RngExt, SeedableRng};

use crate::support::node::{NodeOptions, NodeProcess};

const KILLS: usize = 12;

/// Test-vector keys sending at once, one submitter each; key 0 mines and
/// funds the others.
const SENDERS: usize = 3;

/// `key`'s next payment of `amount` to `to`, with the nonce the node expects.
fn next_payment(
    addr: std::net::SocketAddr,
    key: &SigningKey,
    to: Address,
    amount: u64,
    rng: &mut rand::rngs::StdRng,
) -> Option<Transaction> {
    let sender = key.public_key().address();
    let balance = request(
        addr,
        "GET",
        &format!("/api/v1/wallet/{}/balance", sender.to_bech32m("rblk")),
        None,
    )
    .ok()?;
    let nonce = balance.body["next_nonce"].as_u64().unwrap_or(0);
    let transaction = Transaction::new_signed(
        &REGTEST,
        key,
        to,
        Amount(amount),
        // Over the default minimum relay fee (1 unit a byte: 870 for a payment).
        Amount(rng.random_range(1_000..1_100)),
        nonce,
        1,
        rng,
    )
    .expect("signs");
    Some(transaction)
}

/// Submits `key`'s payments one after the other until `stop` or the node
/// goes away; remembers every 202.
fn submit_until_killed(
    addr: std::net::SocketAddr,
    key: &SigningKey,
    stop: &AtomicBool,
    acknowledged: &Mutex<BTreeSet<String>>,
    mut rng: rand::rngs::StdRng,
) {
    while !stop.load(Ordering::Acquire) {
        let to = Address(rng.random());
        let Some(transaction) = next_payment(addr, key, to, 1000, &mut rng) else {
            return;
        };
        match request(
            addr,
            "POST",
            "/api/v1/transactions",
            Some(&transaction_json(&REGTEST, &transaction)),
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
    let keys: Vec<SigningKey> = (0..SENDERS).map(vector_signing_key).collect();
    let sender = keys[0].public_key().address();
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

        if round == 0 {
            fund_other_senders(&node, &keys, &acknowledged, &mut rng);
        }

        // Every sender submits until the kill; every 202 is remembered.
        let stop = Arc::new(AtomicBool::new(false));
        let submitters: Vec<_> = keys
            .iter()
            .enumerate()
            .map(|(index, key)| {
                let (stop, acknowledged, key, addr) = (
                    Arc::clone(&stop),
                    Arc::clone(&acknowledged),
                    key.clone(),
                    node.addr,
                );
                let rng =
                    rand::rngs::StdRng::seed_from_u64(seed ^ (round * SENDERS + index) as u64);
                std::thread::spawn(move || {
                    submit_until_killed(addr, &key, &stop, &acknowledged, rng);
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(rng.random_range(200..1500)));
        last_height = get(node.addr, "/api/v1/status").body["height"]
            .as_u64()
            .expect("height");
        node.kill();
        stop.store(true, Ordering::Release);
        for submitter in submitters {
            let _ = submitter.join();
        }
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

/// Key 0 (the miner) pays each other sender, and the payments are mined.
fn fund_other_senders(
    node: &NodeProcess,
    keys: &[SigningKey],
    acknowledged: &Mutex<BTreeSet<String>>,
    rng: &mut rand::rngs::StdRng,
) {
    // Key 0 needs a mined block before it can pay.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while get(node.addr, "/api/v1/status").body["height"].as_u64() < Some(1) {
        assert!(std::time::Instant::now() < deadline, "the node mines");
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut txids = Vec::new();
    for key in &keys[1..] {
        let to = key.public_key().address();
        let payment =
            next_payment(node.addr, &keys[0], to, 1_000_000_000, rng).expect("the node runs");
        let answer = request(
            node.addr,
            "POST",
            "/api/v1/transactions",
            Some(&transaction_json(&REGTEST, &payment)),
        )
        .expect("the node answers");
        assert_eq!(answer.status, 202, "{:?}", answer.body);
        let txid = answer.body["txid"].as_str().expect("txid").to_string();
        acknowledged.lock().expect("lock").insert(txid.clone());
        txids.push(txid);
    }
    for txid in txids {
        while get(node.addr, &format!("/api/v1/transactions/{txid}")).body["status"] != "confirmed"
        {
            assert!(std::time::Instant::now() < deadline, "the funding is mined");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
