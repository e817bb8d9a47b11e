//! The wasm light client end to end: headless Chromium (Debian's
//! `/usr/bin/chromium`, driven by playwright-core from tests/js) loads the
//! package `cargo xtask build-web` put in www/pkg from a real node, and
//! `tests/js/e2e/light-client.mjs` runs the flow of DESIGN §5 against it:
//! wallet in the page, header sync over WebSocket and over WebRTC-direct,
//! a balance verified by a state proof, a transaction signed in the page,
//! mined by the node and checked by its inclusion proof. This test checks
//! what the page reports against the node's REST API.

use std::path::{Path, PathBuf};
use std::process::Command;

use blockchain_core::{Decode, Header};
use serde_json::Value;

use crate::support::evil_peer::{EvilPeer, Lie};
use crate::support::node::{NodeOptions, NodeProcess};
use blockchain_testkit::http::get;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn require_package() {
    let pkg = workspace().join("www/pkg/blockchain_webclient_bg.wasm");
    assert!(
        pkg.is_file(),
        "{} is missing: run `cargo xtask build-web` (cargo xtask test does)",
        pkg.display()
    );
}

/// Runs `tests/js/<script>` with `args`; its last stdout line, as JSON.
fn run_node_script(node: &NodeProcess, script: &str, args: &[String]) -> Value {
    let js = workspace().join("tests/js");
    assert!(
        js.join("node_modules/playwright-core").is_dir(),
        "tests/js/node_modules is missing: run `npm ci --prefix tests/js` (cargo xtask test does)"
    );
    // Output goes to files, not pipes: Chromium's helper processes inherit
    // the descriptors and may outlive the script, and a pipe would stay
    // open until they exit.
    let logs = tempfile::tempdir().expect("temp dir");
    let stdout_path = logs.path().join("stdout");
    let stderr_path = logs.path().join("stderr");
    let status = Command::new("node")
        .arg(script)
        .args(args)
        // The cookie token, for the script's protected calls (mining).
        .env("API_TOKEN", node.api_token())
        .current_dir(&js)
        .stdout(std::fs::File::create(&stdout_path).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .status()
        .expect("node (Node.js) runs: apt-get install -y nodejs npm");
    let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
    assert!(
        status.success(),
        "{script} failed ({status}):\n{stderr}\nnode log:\n{}",
        node.log_text()
    );
    eprintln!("{stderr}");
    let stdout = std::fs::read_to_string(&stdout_path).expect("stdout");
    let last = stdout.lines().last().expect("the script prints its result");
    serde_json::from_str(last).expect("the last line is JSON")
}

fn run_script(node: &NodeProcess) -> Value {
    let args = [
        format!("http://{}", node.addr),
        node.listen_addr("/ws"),
        node.listen_addr("/webrtc-direct"),
    ];
    run_node_script(node, "e2e/light-client.mjs", &args)
}

fn node_with_browser_listeners(dir: &Path) -> NodeProcess {
    let mut options = NodeOptions::regtest(dir);
    options.extra = [
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--listen",
        "/ip4/127.0.0.1/tcp/0/ws",
        "--listen",
        "/ip4/127.0.0.1/udp/0/webrtc-direct",
        // The page without WebCrypto is opened as http://wallet.test:PORT/.
        "--allowed-host",
        "wallet.test",
    ]
    .map(String::from)
    .to_vec();
    NodeProcess::start(&options)
}

#[test]
fn a_page_syncs_verifies_signs_and_sends_over_websocket_and_webrtc() {
    require_package();
    let dir = tempfile::tempdir().expect("temp dir");
    let node = node_with_browser_listeners(dir.path());
    node.mine(&blockchain_testkit::vectors::vector_address(0), 5);

    let out = run_script(&node);
    eprintln!(
        "web client: sync {} ms, long tasks {:?} / {:?}",
        out["syncMs"], out["longTasksMs"], out["webrtcLongTasksMs"]
    );

    // The first sync reached the node's tip over WebSocket.
    assert_eq!(out["firstTip"]["height"], 5, "{out}");
    assert_eq!(out["peers"][0]["transport"], "websocket", "{out}");
    assert_eq!(out["walletBackend"], "webcrypto");
    // Tip events came by gossip for the mined blocks.
    assert!(out["tipEvents"].as_u64().unwrap_or(0) >= 1, "{out}");

    // The verified balance is the node's.
    let address = out["address"].as_str().expect("address");
    assert_eq!(out["account"]["verified"], true);
    assert_eq!(out["account"]["balance"], out["restBalance"]["balance"]);
    assert_eq!(out["account"]["balance"], 3 * 5_000_000_000u64);

    // The transaction the page signed was mined, and the page proved it.
    let txid = out["sent"]["txid"].as_str().expect("txid");
    let confirmed = get(node.addr, &format!("/api/v1/transactions/{txid}"));
    assert_eq!(confirmed.status, 200);
    assert_eq!(confirmed.body["status"], "confirmed", "{}", confirmed.body);
    assert_eq!(out["transaction"]["verified"], true);
    assert_eq!(out["transaction"]["confirmations"], 1);
    assert_eq!(
        out["transaction"]["blockHeight"],
        confirmed.body["block_height"]
    );
    assert_eq!(out["sent"]["tx"]["sender_address"], address);
    assert_eq!(out["block"]["verified"], true);
    let in_block = out["block"]["transactions"]
        .as_array()
        .expect("transactions")
        .iter()
        .any(|tx| tx["txid"] == txid);
    assert!(
        in_block,
        "the block holds the transaction: {}",
        out["block"]
    );
    assert_eq!(out["recipient"]["balance"], 150_000_000);
    assert_eq!(out["recipient"]["verified"], true);
    let headers = out["headers"].as_array().expect("headers");
    assert_eq!(headers.len(), 3);
    assert_eq!(headers[0]["index"], 0);

    // Errors carry the stable codes of DESIGN §5.
    assert_eq!(out["errors"]["wrongPassword"]["code"], "WRONG_PASSWORD");
    assert_eq!(out["errors"]["badKeystore"]["code"], "INVALID_KEYSTORE");
    assert_eq!(out["errors"]["badAddress"]["code"], "INVALID_ADDRESS");
    assert_eq!(out["errors"]["badAmount"]["code"], "INVALID_AMOUNT");
    assert_eq!(out["errors"]["unknownBlock"]["code"], "NOT_FOUND");
    assert_eq!(out["reopened"], address);

    // A reload resumed from IndexedDB: the stored tip was there at start,
    // and nothing was downloaded again (no progress: no new headers).
    assert_eq!(out["resumed"]["atStart"], out["tipBeforeReload"], "{out}");
    assert_eq!(out["resumed"]["tip"], out["tipBeforeReload"], "{out}");
    assert_eq!(out["resumed"]["progress"], 0, "{out}");

    // A page without WebCrypto made and opened a wallet in the key worker
    // (the core's Rust code), and a WebCrypto page opened that keystore.
    assert_eq!(out["insecure"]["secure"], false, "{}", out["insecure"]);
    assert_eq!(out["insecure"]["subtle"], "undefined");
    assert_eq!(out["insecure"]["backend"], "rust");
    assert_eq!(out["insecure"]["reopened"], out["insecure"]["address"]);
    assert_eq!(out["insecure"]["wrong"], "WRONG_PASSWORD");
    assert!(
        out["insecure"]["stages"]
            .as_array()
            .is_some_and(|stages| stages.iter().any(|stage| stage == "done")),
        "progress reported: {}",
        out["insecure"]["stages"]
    );
    assert_eq!(
        out["insecureOpenedInSecurePage"],
        out["insecure"]["address"]
    );

    // WebRTC-direct: synced to the same tip, same verified balance.
    let height = node.height();
    assert_eq!(out["webrtc"]["tip"]["height"], height, "{out}");
    assert_eq!(out["webrtc"]["peers"][0]["transport"], "webrtc-direct");
    assert_eq!(out["webrtc"]["account"]["verified"], true);
    assert_eq!(
        out["webrtc"]["account"]["balance"],
        out["account"]["balance"].as_u64().expect("balance") - 150_000_000 - 1000
            + 5_000_000_000
            + 1000
    );
}

/// The node's best-chain headers 0..=height, from GET /api/v1/headers.
fn node_headers(node: &NodeProcess, height: u64) -> Vec<Header> {
    let answer = get(
        node.addr,
        &format!("/api/v1/headers?from=0&count={}", height + 1),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
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

#[test]
fn lying_peers_are_dropped_and_the_honest_answers_are_used() {
    require_package();
    let dir = tempfile::tempdir().expect("temp dir");
    let node = node_with_browser_listeners(dir.path());
    let address = blockchain_testkit::vectors::vector_address(0);
    node.mine(&address, 5);
    let headers = node_headers(&node, 5);
    let bad_pow = EvilPeer::start(Lie::BrokenProofOfWork);
    let bad_bodies = EvilPeer::start(Lie::ForgedBodies(headers.clone()));
    let bad_proof = EvilPeer::start(Lie::ForgedAccountProof(headers));
    let args = [
        format!("http://{}", node.addr),
        address.clone(),
        bad_pow.ws_addr.to_string(),
        bad_bodies.ws_addr.to_string(),
        bad_proof.ws_addr.to_string(),
        node.listen_addr("/ws"),
    ];
    let out = run_node_script(&node, "e2e/lying-peers.mjs", &args);

    // The verified tip is the honest node's, not the bad-PoW chain.
    let status = node.status();
    assert_eq!(out["tip"]["height"], 5, "{out}");
    assert_eq!(out["tip"]["hash"], status["tip_hash"], "{out}");
    // Every block is the node's, verified, whoever was asked first.
    for block in out["blocks"].as_array().expect("blocks") {
        let height = block["height"].as_u64().expect("height");
        let stored = get(node.addr, &format!("/api/v1/blocks/{height}"));
        assert_eq!(block["hash"], stored.body["hash"]);
        assert_eq!(block["verified"], true);
    }
    // Every balance is the node's, never the forged one.
    let balance = get(node.addr, &format!("/api/v1/wallet/{address}/balance"));
    for account in out["accounts"].as_array().expect("accounts") {
        assert_eq!(account["balance"], balance.body["balance"], "{out}");
        assert_eq!(account["verified"], true);
    }
    // Each liar was caught and dropped; the honest node stayed.
    let errors = out["errors"].to_string();
    for liar in [&bad_pow, &bad_bodies, &bad_proof] {
        let id = liar.peer_id.to_string();
        assert!(errors.contains(&id), "{id} not dropped: {errors}");
    }
    let node_id = status["peer_id"].as_str().expect("peer id");
    let peers: Vec<&str> = out["peers"]
        .as_array()
        .expect("peers")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(peers, [node_id], "{out}");
}
