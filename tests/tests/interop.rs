//! Interop with an outside libp2p implementation: js-libp2p peers (tests/js)
//! dial a real node over WebSocket and WebRTC-direct (from Node.js and from
//! headless Chromium), identify it, subscribe to the blocks topic and
//! receive a block the node mines, which decodes with the core.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use blockchain_core::{Block, Decode};
use serde_json::{Value, json};

use crate::support::node::{NodeOptions, NodeProcess};
use blockchain_testkit::http::get;

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("js")
}

/// Runs `script` against `addr` while the node mines a block a second;
/// returns the JSON lines the peer printed.
fn run_js_peer(node: &NodeProcess, script: &str, addr: &str) -> Vec<Value> {
    assert!(
        js_dir().join("node_modules").is_dir(),
        "tests/js/node_modules is missing: run `npm ci --prefix tests/js` (cargo xtask test does)"
    );
    let mut child = Command::new("node")
        .arg("--experimental-websocket")
        .arg(script)
        .args([addr, "regtest", "60000"])
        .current_dir(js_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node (Node.js) runs: apt-get install -y nodejs npm");
    let stdout = child.stdout.take().expect("stdout");
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let miner = blockchain_testkit::vectors::vector_address(0);
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut events = Vec::new();
    let mut subscribed = false;
    loop {
        match received.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => {
                let event: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|_| panic!("{script} printed a non-JSON line: {line}"));
                subscribed |= event["event"] == "subscribed";
                let done = event["event"] == "block" || event["event"] == "error";
                events.push(event);
                if done {
                    break;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if subscribed {
                    let mined = node.post_protected(
                        "/api/v1/mining/blocks",
                        &json!({ "miner_address": miner, "count": 1 }),
                    );
                    assert_eq!(mined.status, 201, "{:?}", mined.body);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        assert!(
            Instant::now() < deadline,
            "{script} did not finish: {events:?}\nnode log:\n{}",
            node.log_text()
        );
    }
    let status = child.wait().expect("peer exits");
    assert!(status.success(), "{script} failed: {events:?}");
    events
}

fn check_peer_run(node: &NodeProcess, events: &[Value]) {
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    for expected in ["connected", "identified", "subscribed", "block"] {
        assert!(kinds.contains(&expected), "no {expected} in {kinds:?}");
    }
    let identified = events
        .iter()
        .find(|e| e["event"] == "identified")
        .expect("identified");
    assert_eq!(identified["protocol_version"], "/blockchain/regtest/1.0.0");
    let protocols: Vec<&str> = identified["protocols"]
        .as_array()
        .expect("protocols")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for protocol in [
        "/blockchain/regtest/kad/1.0.0",
        "/blockchain/regtest/sync/1",
        "/meshsub/1.1.0",
    ] {
        assert!(
            protocols.contains(&protocol),
            "{protocol} missing: {protocols:?}"
        );
    }
    let block_event = events.last().expect("events");
    let bytes = hex::decode(block_event["bytes_hex"].as_str().expect("hex")).expect("hex bytes");
    let block = Block::decode(&bytes).expect("the gossiped message is one consensus-encoded block");
    let stored = get(node.addr, &format!("/api/v1/blocks/hash/{}", block.hash()));
    assert_eq!(
        stored.status, 200,
        "the node mined that block: {:?}",
        stored.body
    );
}

fn node(dir: &Path) -> NodeProcess {
    let mut options = NodeOptions::regtest(dir);
    options.extra = [
        "--listen",
        "/ip4/127.0.0.1/tcp/0",
        "--listen",
        "/ip4/127.0.0.1/tcp/0/ws",
        "--listen",
        "/ip4/127.0.0.1/udp/0/webrtc-direct",
    ]
    .map(String::from)
    .to_vec();
    NodeProcess::start(&options)
}

#[test]
fn js_libp2p_over_websocket_receives_a_mined_block() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = node(dir.path());
    let addr = node.listen_addr("/ws/");
    let events = run_js_peer(&node, "ws-peer.mjs", &addr);
    check_peer_run(&node, &events);
}

#[test]
fn js_libp2p_over_webrtc_direct_receives_a_mined_block() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = node(dir.path());
    let addr = node.listen_addr("/webrtc-direct/");
    assert!(addr.contains("/certhash/"), "{addr}");
    let events = run_js_peer(&node, "webrtc-peer.mjs", &addr);
    check_peer_run(&node, &events);
}

#[test]
fn headless_chromium_over_webrtc_direct_receives_a_mined_block() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = node(dir.path());
    let addr = node.listen_addr("/webrtc-direct/");
    let events = run_js_peer(&node, "browser-peer.mjs", &addr);
    check_peer_run(&node, &events);
}
