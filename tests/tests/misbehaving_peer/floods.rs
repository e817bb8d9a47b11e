//! Floods of gossiped blocks (docs/SECURITY.md, "Peer-to-peer"): the node
//! judges each by its header before its body costs anything, keeps what it
//! queues bounded, and still follows the honest chain.

use std::path::Path;
use std::time::{Duration, Instant};

use blockchain_core::params::REGTEST;
use blockchain_core::{Header, Transaction};
use libp2p::Multiaddr;

use super::{ban_reason, headers, honest_node, peer_id, vector_transaction, wait_until};
use crate::p2p::{node_with, tip};
use crate::support::blocks::{orphan_block, side_block};
use crate::support::evil_peer::{EvilPeer, Lie};
use blockchain_testkit::http::request;
use blockchain_testkit::vectors::{repository_json, vector_address};

/// Side-branch blocks the flood test sends; `FLOOD_BLOCKS` changes it.
const DEFAULT_FLOOD_BLOCKS: usize = 10_000;

/// About `bytes` of validly signed transactions (the REST vectors, again
/// and again): a block body whose signatures cost real work to check.
fn signed_padding(bytes: usize) -> Vec<Transaction> {
    let vectors = repository_json("tests/data/rest_transactions.json");
    let vectors: Vec<Transaction> = vectors["transactions"]["regtest"]
        .as_array()
        .expect("transactions")
        .iter()
        .map(|vector| vector_transaction(&vector["json"]))
        .collect();
    vectors
        .iter()
        .cycle()
        .scan(0, |size, transaction| {
            *size += transaction.encoded_len();
            (*size <= bytes).then(|| transaction.clone())
        })
        .collect()
}

/// Blocks whose parents no one knows, 64 KB of signatures each: the node
/// looks at the header, asks the sender for headers instead of queuing the
/// block, checks no signature, and bans a sender that keeps at it.
#[test]
fn a_flood_of_blocks_with_unknown_parents_gets_its_sender_banned() {
    let dir = tempfile::tempdir().expect("temp dir");
    let honest = honest_node(&dir.path().join("honest"), 30);
    let target = tip(&honest);
    let padding = signed_padding(64 * 1024);
    let blocks = (0..200)
        .map(|salt| orphan_block(&REGTEST, 1_000, salt, &padding))
        .collect();
    let flooder = EvilPeer::start(Lie::GossipFlood(blocks));
    let node = node_with(
        &dir.path().join("node"),
        &[
            "--bootstrap".to_owned(),
            honest.listen_addr("/tcp/"),
            "--bootstrap".to_owned(),
            flooder.addr.to_string(),
        ],
    );
    wait_until(
        "the node to sync the honest chain",
        &[&honest, &node],
        || tip(&node) == target,
    );
    wait_until("the flooder's ban", &[&node], || {
        ban_reason(&node, &flooder.peer_id).is_some()
    });
    assert_eq!(
        ban_reason(&node, &flooder.peer_id).as_deref(),
        Some("Unhelpful"),
        "blocks that connect to nothing, again and again"
    );
    let seen = flooder.seen(&peer_id(&node));
    eprintln!("flooded {} blocks before the ban", seen.flooded);
    assert_eq!(tip(&node), target, "still on the honest chain");
    assert_eq!(ban_reason(&node, &peer_id(&honest)), None);
}

/// Bytes of the node's database files (SQLite file, write-ahead log).
fn database_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("data dir")
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("blockchain.db")
        })
        .filter_map(|entry| entry.metadata().ok())
        .map(|metadata| metadata.len())
        .sum()
}

/// The `p`-th percentile of `samples` (sorted in place).
fn percentile(samples: &mut [Duration], p: usize) -> Duration {
    samples.sort();
    samples[(samples.len() * p / 100).min(samples.len() - 1)]
}

/// Cheap side branches (docs/SECURITY.md): blocks that pass every check a
/// side-branch block met before it was stored, each a child of a block of
/// the honest chain, so its branch never has more work than the tip. The
/// node judges each by its header, stores none, relays none, and keeps
/// following the honest chain and answering its API meanwhile. The figures
/// go to the test output; `FLOOD_BLOCKS` sets the count.
#[test]
fn a_flood_of_cheap_side_branch_blocks_leaves_the_database_and_memory_bounded() {
    let count = std::env::var("FLOOD_BLOCKS")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(DEFAULT_FLOOD_BLOCKS);
    let dir = tempfile::tempdir().expect("temp dir");
    let honest = honest_node(&dir.path().join("honest"), 20);
    let node_dir = dir.path().join("node");
    let node = node_with(
        &node_dir,
        &["--bootstrap".to_owned(), honest.listen_addr("/tcp/")],
    );
    wait_until(
        "the node to sync the honest chain",
        &[&honest, &node],
        || tip(&node) == tip(&honest),
    );

    let mut parents: Vec<Header> = vec![REGTEST.genesis_header()];
    parents.extend(headers(&honest, 20));
    let padding = signed_padding(2_500);
    let built = Instant::now();
    let blocks: Vec<_> = (0..count)
        .map(|salt| {
            side_block(
                &REGTEST,
                &parents[salt % parents.len()],
                salt as u64,
                &padding,
            )
        })
        .collect();
    let flood_bytes: usize = blocks.iter().map(|block| block.encoded_len()).sum();
    let sample: Vec<String> = blocks
        .iter()
        .step_by(count.div_ceil(10).max(1))
        .map(|block| block.hash().to_string())
        .collect();
    eprintln!(
        "{count} side-branch blocks, {:.1} MB, built in {:.1} s",
        flood_bytes as f64 / 1e6,
        built.elapsed().as_secs_f64()
    );

    std::thread::sleep(Duration::from_secs(1));
    let (db_before, rss_before) = (database_bytes(&node_dir), node.rss_bytes());
    let flooder = EvilPeer::start(Lie::GossipFlood(blocks));
    let addr: Multiaddr = node.listen_addr("/tcp/").parse().expect("multiaddr");
    flooder.dial(addr);
    let node_id = peer_id(&node);
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut peak_rss = rss_before;
    let mut mined = 0;
    while flooder.seen(&node_id).flooded < count {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the flood did not go out: {:?}",
            flooder.seen(&node_id)
        );
        let asked = Instant::now();
        let answer = request(node.addr, "GET", "/api/v1/status", None).expect("the API answers");
        latencies.push(asked.elapsed());
        assert_eq!(answer.status, 200);
        peak_rss = peak_rss.max(node.rss_bytes());
        // The honest chain keeps growing meanwhile.
        if started.elapsed() > Duration::from_secs(mined) {
            honest.mine(&vector_address(1), 1);
            mined += 1;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let flood_time = started.elapsed();
    honest.mine(&vector_address(1), 1);
    let target = tip(&honest);
    wait_until(
        "the node to follow the honest chain",
        &[&honest, &node],
        || tip(&node) == target,
    );
    std::thread::sleep(Duration::from_secs(2));
    peak_rss = peak_rss.max(node.rss_bytes());
    let (db_after, rss_after) = (database_bytes(&node_dir), node.rss_bytes());
    let db_growth = db_after.saturating_sub(db_before);
    let rss_growth = peak_rss.saturating_sub(rss_before);
    let p99 = percentile(&mut latencies, 99);
    eprintln!(
        "flood of {count} side-branch blocks in {:.1} s; honest blocks meanwhile: {}; \
         database {:.2} MB -> {:.2} MB (+{:.3} MB); RSS {:.1} MB -> peak {:.1} MB \
         (+{:.1} MB), {:.1} MB after; GET /status p50 {:.1} ms, p99 {:.1} ms over {} requests",
        flood_time.as_secs_f64(),
        mined + 1,
        db_before as f64 / 1e6,
        db_after as f64 / 1e6,
        db_growth as f64 / 1e6,
        rss_before as f64 / 1e6,
        peak_rss as f64 / 1e6,
        rss_growth as f64 / 1e6,
        rss_after as f64 / 1e6,
        percentile(&mut latencies, 50).as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        latencies.len(),
    );
    assert!(
        db_growth < 1_000_000,
        "the database grew by {db_growth} bytes"
    );
    assert!(rss_growth < 20_000_000, "memory grew by {rss_growth} bytes");
    assert_eq!(tip(&node), target, "on the honest chain");
    for hash in &sample {
        let stored = request(
            node.addr,
            "GET",
            &format!("/api/v1/blocks/hash/{hash}"),
            None,
        )
        .expect("the API answers");
        assert_eq!(stored.status, 404, "side block {hash} is not stored");
    }
}
