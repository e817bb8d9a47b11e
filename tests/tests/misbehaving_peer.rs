//! Misbehaving peers with a real node process: liars speaking the sync and
//! gossip protocols (support/evil_peer.rs) are banned, and the node still
//! syncs the honest chain; honest peers that look odd (a clock ahead of
//! the node's) are not.

mod amplification;
mod clock_skew;
mod eclipse;
mod floods;

use std::path::Path;
use std::time::Duration;

use blockchain_core::encode::Decode;
use blockchain_core::params::REGTEST;
use blockchain_core::{Address, Amount, Header, Transaction};
use libp2p::{Multiaddr, PeerId};
use serde_json::json;

use crate::p2p::{node_with, tip};
use crate::support::evil_peer::{EvilPeer, Lie, made_up_chain};
use crate::support::node::NodeProcess;
use blockchain_testkit::http::get;
use blockchain_testkit::vectors::{repository_json, vector_address};

const TIMEOUT: Duration = Duration::from_secs(60);

/// Waits until `done` holds, or fails with `what` and the nodes' logs.
pub(crate) fn wait_until(what: &str, nodes: &[&NodeProcess], done: impl FnMut() -> bool) {
    crate::p2p::wait_until(what, TIMEOUT, nodes, done);
}

/// An honest node with `count` blocks mined.
pub(crate) fn honest_node(dir: &Path, count: u32) -> NodeProcess {
    let node = node_with(dir, &[]);
    node.mine(&vector_address(1), count);
    node
}

pub(crate) fn peer_id(node: &NodeProcess) -> PeerId {
    node.status()["peer_id"]
        .as_str()
        .expect("peer id")
        .parse()
        .expect("a peer id")
}

/// The reason `node` logged for banning `peer`, if it did.
pub(crate) fn ban_reason(node: &NodeProcess, peer: &PeerId) -> Option<String> {
    let peer_field = format!("peer={peer}");
    node.log_text()
        .lines()
        .filter(|line| line.contains("WARN") && line.contains("banning peer"))
        .filter(|line| line.split_whitespace().any(|field| field == peer_field))
        .find_map(|line| {
            line.split_whitespace()
                .find_map(|field| field.strip_prefix("reason="))
                .map(str::to_owned)
        })
}

/// `node`'s best-chain headers from height 1.
pub(crate) fn headers(node: &NodeProcess, count: u64) -> Vec<Header> {
    let answer = get(node.addr, &format!("/api/v1/headers?from=1&count={count}"));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|header| {
            let raw = hex::decode(header["raw"].as_str().expect("raw")).expect("hex");
            Header::decode(&raw).expect("a header")
        })
        .collect()
}

/// `node` banned `liar` for `reason` after it lied, dropped the connection,
/// stopped listing it, and refuses it when it dials again.
fn assert_banned(node: &NodeProcess, liar: &EvilPeer, reason: &str) {
    let node_id = peer_id(node);
    let liar_id = liar.peer_id.to_string();
    wait_until(&format!("the ban of {liar_id} ({reason})"), &[node], || {
        ban_reason(node, &liar.peer_id).is_some()
    });
    assert_eq!(
        ban_reason(node, &liar.peer_id).as_deref(),
        Some(reason),
        "why {liar_id} was banned"
    );
    assert!(liar.seen(&node_id).lies >= 1, "{liar_id} lied to the node");
    wait_until(&format!("{liar_id} to be disconnected"), &[node], || {
        liar.seen(&node_id).open == 0 && !node.connected_peers().contains(&liar_id)
    });
    assert!(liar.seen(&node_id).closed >= 1, "{:?}", liar.seen(&node_id));

    // Banned: a new connection from it is refused.
    let before = liar.seen(&node_id);
    let addr: Multiaddr = node.listen_addr("/tcp/").parse().expect("multiaddr");
    liar.dial(addr);
    wait_until(&format!("the node to refuse {liar_id}"), &[node], || {
        let now = liar.seen(&node_id);
        now.open == 0 && (now.dial_failures > before.dial_failures || now.closed > before.closed)
    });
    assert!(
        !node.connected_peers().contains(&liar_id),
        "{liar_id} is not listed as connected"
    );
}

#[test]
fn a_misbehaving_peer_is_banned_and_the_honest_sync_completes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let honest = honest_node(&dir.path().join("honest"), 30);
    let target = tip(&honest);
    assert_eq!(target.0, 30);

    // Each liar breaks one rule, so each ban has one right reason.
    let liars = [
        (EvilPeer::start(Lie::BrokenProofOfWork), "InvalidHeader"),
        // More work than the honest chain: the node has to download it.
        (
            EvilPeer::start(Lie::ForgedBodies(made_up_chain(40, true))),
            "InvalidBlock",
        ),
        (EvilPeer::start(Lie::GossipGarbage), "Garbage"),
        (EvilPeer::start(Lie::GossipInvalidBlock), "InvalidBlock"),
    ];
    let mut args = vec!["--bootstrap".to_owned(), honest.listen_addr("/tcp/")];
    for (liar, _) in &liars {
        args.extend(["--bootstrap".to_owned(), liar.addr.to_string()]);
    }
    let node = node_with(&dir.path().join("node"), &args);

    wait_until(
        "the node to sync the honest chain",
        &[&honest, &node],
        || tip(&node) == target,
    );
    for (liar, reason) in &liars {
        assert_banned(&node, liar, reason);
    }
    assert_eq!(tip(&node), target, "still on the honest chain");
    assert!(
        node.connected_peers()
            .contains(&peer_id(&honest).to_string()),
        "the honest peer stays connected"
    );
}

/// A forged body for an honest header says nothing about the block: the
/// node bans the forger and takes the block from an honest peer.
#[test]
fn forged_bodies_of_honest_blocks_do_not_stall_the_sync() {
    let dir = tempfile::tempdir().expect("temp dir");
    let honest = honest_node(&dir.path().join("honest"), 30);
    let target = tip(&honest);
    let forger = EvilPeer::start(Lie::ForgedBodies(headers(&honest, 30)));
    // Only the forger at first: every block of the honest chain is first
    // downloaded, forged, from it.
    let node = node_with(
        &dir.path().join("node"),
        &["--bootstrap".to_owned(), forger.addr.to_string()],
    );
    assert_banned(&node, &forger, "InvalidBlock");
    assert_eq!(node.height(), 0, "nothing forged was connected");

    let dial = node.post_protected(
        "/api/v1/network/peers",
        &json!({ "multiaddr": honest.listen_addr("/tcp/") }),
    );
    assert_eq!(dial.status, 202, "{:?}", dial.body);
    wait_until(
        "the node to sync the honest chain",
        &[&honest, &node],
        || tip(&node) == target,
    );
}

/// One of the REST test vectors (signed by Python) as a core transaction.
pub(crate) fn vector_transaction(json: &serde_json::Value) -> Transaction {
    let text = |field: &str| json[field].as_str().expect(field).to_owned();
    let number = |field: &str| json[field].as_u64().expect(field);
    Transaction {
        version: u32::try_from(number("version")).expect("version"),
        from: hex::decode(text("sender")).expect("sender hex"),
        to: Address::from_bech32m(&text("recipient"), REGTEST.address_prefix).expect("recipient"),
        amount: Amount(number("amount")),
        fee: Amount(number("fee")),
        nonce: number("nonce"),
        time: number("timestamp"),
        signature: hex::decode(text("signature")).expect("signature hex"),
    }
}

/// Gossip keeps no order: a sender's transactions that arrive last nonce
/// first are held until their predecessors arrive, then all accepted, and
/// the peer that sent them is not punished.
#[test]
fn transactions_gossiped_out_of_order_are_all_accepted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = node_with(
        &dir.path().join("node"),
        &crate::p2p::NO_MIN_RELAY_FEE.map(str::to_owned),
    );
    let vectors = repository_json("tests/data/rest_transactions.json");
    let vectors = vectors["transactions"]["regtest"].as_array().expect("txs");
    // Fund their sender.
    node.mine(&vector_address(0), 1);

    let transactions: Vec<Transaction> = vectors
        .iter()
        .map(|vector| vector_transaction(&vector["json"]))
        .collect();
    assert!(transactions.len() >= 3, "a sequence of nonces");
    for (transaction, vector) in transactions.iter().zip(vectors) {
        assert_eq!(
            transaction.txid().to_string(),
            vector["txid"].as_str().expect("txid"),
            "the vector decodes to the transaction it names"
        );
    }
    let peer = EvilPeer::start(Lie::GossipReversed(transactions));
    peer.dial(node.listen_addr("/tcp/").parse().expect("multiaddr"));
    wait_until("every gossiped transaction to be pending", &[&node], || {
        get(node.addr, "/api/v1/transactions/pending").body["count"] == vectors.len()
    });
    let node_id = peer_id(&node);
    assert_eq!(peer.seen(&node_id).open, 1, "still connected");
    assert_eq!(ban_reason(&node, &peer.peer_id), None);
}
