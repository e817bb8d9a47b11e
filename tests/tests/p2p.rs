//! Peer-to-peer with real node processes on 127.0.0.1: DHT discovery,
//! gossip of blocks and transactions, initial sync, partitions and reorgs.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::node::{NodeOptions, NodeProcess};
use blockchain_testkit::http::{get, post};
use blockchain_testkit::vectors::{repository_json, vector_address};

/// Waits until `done` holds, or fails with `what` and the tails of the nodes' logs.
pub(crate) fn wait_until(
    what: &str,
    timeout: Duration,
    nodes: &[&NodeProcess],
    done: impl FnMut() -> bool,
) {
    let logs = || {
        let tails: Vec<String> = nodes
            .iter()
            .map(|node| {
                let text = node.log_text();
                let tail: Vec<&str> = text.lines().rev().take(40).collect();
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            })
            .collect();
        format!("; logs:\n{}", tails.join("\n-----\n"))
    };
    blockchain_testkit::wait::wait_until(what, timeout, logs, done);
}

pub(crate) fn node_with(dir: &Path, extra: &[String]) -> NodeProcess {
    let mut options = NodeOptions::regtest(dir);
    options.extra = extra.to_vec();
    NodeProcess::start(&options)
}

fn bootstrap(node: &NodeProcess) -> Vec<String> {
    let mut args = vec!["--bootstrap".into(), node.listen_addr("/tcp/")];
    args.extend(NO_MIN_RELAY_FEE.map(str::to_owned));
    args
}

/// The REST vectors pay fees of 1000, 5000 and 0 units: nodes relaying and
/// mining them ask for no minimum relay fee.
pub(crate) const NO_MIN_RELAY_FEE: [&str; 2] = ["--min-relay-fee", "0"];

fn no_min_relay_fee() -> Vec<String> {
    NO_MIN_RELAY_FEE.map(str::to_owned).to_vec()
}

pub(crate) fn tip(node: &NodeProcess) -> (u64, String) {
    let status = node.status();
    (
        status["height"].as_u64().expect("height"),
        status["tip_hash"].as_str().expect("tip").to_owned(),
    )
}

#[test]
fn nodes_find_each_other_and_gossip_blocks_and_transactions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = node_with(&dir.path().join("a"), &no_min_relay_fee());
    let b = node_with(&dir.path().join("b"), &bootstrap(&a));
    let c = node_with(&dir.path().join("c"), &bootstrap(&a));
    let b_id = b.status()["peer_id"].as_str().expect("peer id").to_owned();
    // C only knows A: it finds B through the DHT and connects to it.
    wait_until(
        "C to find B through the DHT",
        Duration::from_secs(60),
        &[&a, &b, &c],
        || c.connected_peers().contains(&b_id),
    );

    // A block mined on A reaches B and C.
    let sender = vector_address(0);
    a.mine(&sender, 1);
    let a_tip = tip(&a);
    wait_until(
        "the block to reach B and C",
        Duration::from_secs(30),
        &[&a, &b, &c],
        || tip(&b) == a_tip && tip(&c) == a_tip,
    );

    // Transactions submitted to C are mined by B.
    let vectors = repository_json("tests/data/rest_transactions.json");
    let transactions = vectors["transactions"]["regtest"].as_array().expect("txs");
    for transaction in transactions {
        let answer = post(c.addr, "/api/v1/transactions", &transaction["json"]);
        assert_eq!(answer.status, 202, "{:?}", answer.body);
    }
    wait_until(
        "the transactions to reach B",
        Duration::from_secs(30),
        &[&b, &c],
        || get(b.addr, "/api/v1/transactions/pending").body["count"] == transactions.len(),
    );
    let mined = b.mine(&vector_address(2), 1);
    assert_eq!(
        mined["blocks"][0]["transactions"].as_array().map(Vec::len),
        Some(transactions.len() + 1),
        "{mined}"
    );
    let b_tip = tip(&b);
    wait_until(
        "B's block to reach A and C",
        Duration::from_secs(30),
        &[&a, &b, &c],
        || tip(&a) == b_tip && tip(&c) == b_tip,
    );
    for transaction in transactions {
        let txid = transaction["txid"].as_str().expect("txid");
        let answer = get(a.addr, &format!("/api/v1/transactions/{txid}"));
        assert_eq!(answer.body["status"], "confirmed", "{:?}", answer.body);
    }
}

#[test]
fn a_fresh_node_syncs_a_long_chain() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = node_with(&dir.path().join("a"), &[]);
    let miner = vector_address(1);
    for _ in 0..20 {
        a.mine(&miner, 100);
    }
    let target = tip(&a);
    assert_eq!(target.0, 2000);
    let fresh = node_with(&dir.path().join("fresh"), &bootstrap(&a));
    wait_until(
        "the fresh node to sync 2000 blocks",
        Duration::from_secs(180),
        &[&a, &fresh],
        || tip(&fresh) == target,
    );
    assert!(
        fresh.log_text().contains("syncing: block"),
        "sync progress is logged"
    );
}

/// Copies a stopped node's data (database, not its identity) to `to`.
fn clone_chain(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(from).expect("data dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("blockchain.db") {
            std::fs::copy(entry.path(), to.join(&*name)).expect("copy");
        }
    }
}

#[test]
fn partitioned_nodes_agree_on_the_most_work_chain_when_reconnected() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sender = vector_address(0);
    // A shared history: the sender's coins, mined before the partition.
    let a = node_with(&dir.path().join("a"), &no_min_relay_fee());
    a.mine(&sender, 1);
    assert_eq!(a.terminate(), Some(0));
    clone_chain(&dir.path().join("a"), &dir.path().join("b"));
    let a = node_with(&dir.path().join("a"), &no_min_relay_fee());
    let b = node_with(&dir.path().join("b"), &no_min_relay_fee());
    assert_eq!(tip(&b), tip(&a), "B starts from A's chain");
    let c = node_with(&dir.path().join("c"), &bootstrap(&a));
    wait_until(
        "C to catch up with A",
        Duration::from_secs(30),
        &[&a, &c],
        || tip(&c) == tip(&a),
    );

    // Side A+C: the transactions are mined there.
    let vectors = repository_json("tests/data/rest_transactions.json");
    let transactions = vectors["transactions"]["regtest"].as_array().expect("txs");
    for transaction in transactions {
        let answer = post(a.addr, "/api/v1/transactions", &transaction["json"]);
        assert_eq!(answer.status, 202, "{:?}", answer.body);
    }
    a.mine(&vector_address(2), 1);
    let short = tip(&a);
    wait_until("C to follow A", Duration::from_secs(30), &[&a, &c], || {
        tip(&c) == short
    });
    // Side B: more work, without them.
    b.mine(&vector_address(1), 3);
    let long = tip(&b);
    assert!(long.0 > short.0);

    // Reconnect: every node ends on B's chain.
    let reconnected = Instant::now();
    let dial = b.post_protected(
        "/api/v1/network/peers",
        &json!({ "multiaddr": a.listen_addr("/tcp/") }),
    );
    assert_eq!(dial.status, 202, "{:?}", dial.body);
    assert_eq!(dial.body["status"], "dialling");
    wait_until(
        "all three nodes on the most-work tip",
        Duration::from_secs(30),
        &[&a, &b, &c],
        || tip(&a) == long && tip(&c) == long,
    );
    eprintln!(
        "partition healed: three nodes on the most-work tip {:.2} s after reconnecting",
        reconnected.elapsed().as_secs_f64()
    );
    // The losing branch's transactions are back in the mempool (or mined again).
    for node in [&a, &c] {
        for transaction in transactions {
            let txid = transaction["txid"].as_str().expect("txid");
            let answer = get(node.addr, &format!("/api/v1/transactions/{txid}"));
            let status = answer.body["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            assert!(
                status == "pending" || status == "confirmed",
                "{txid} after the reorg: {:?}",
                answer.body
            );
        }
    }
}
