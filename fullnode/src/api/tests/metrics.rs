//! GET /metrics through a real socket: the exposition parses with a strict
//! reader of its format ([`crate::metrics::exposition`]), the chain gauges
//! and counters move when a block is mined, HTTP requests are labelled with
//! route templates (never raw paths), database operations are timed, and
//! libp2p's metrics follow once the peer-to-peer layer runs.

use std::net::SocketAddr;
use std::time::Duration;

use blockchain_core::params::REGTEST;
use serde_json::json;

use super::harness::{api, sign, test_config, transaction_json, vector_key, wait_until_async};
use super::socket::http;
use crate::metrics::exposition::{Exposition, Kind};
use crate::node;
use crate::testing::TestDatabase;

/// A parsed scrape of GET /metrics.
#[derive(Debug)]
pub(super) struct Scrape(Exposition);

impl Scrape {
    /// Scrapes the node at `address`; the text must parse.
    pub(super) async fn of(address: SocketAddr) -> Scrape {
        let reply = http(address, "GET", "/metrics", &[], b"").await;
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.header("content-type"),
            Some("text/plain; version=0.0.4; charset=utf-8")
        );
        let text = String::from_utf8(reply.raw).expect("the exposition is UTF-8");
        let exposition = Exposition::parse(&text)
            .unwrap_or_else(|error| panic!("GET /metrics does not parse ({error}):\n{text}"));
        // The Prometheus text parser knows no other types (no `info`, `unknown`).
        for (name, family) in &exposition.families {
            assert!(
                matches!(family.kind, Kind::Counter | Kind::Gauge | Kind::Histogram),
                "{name} is a {:?}",
                family.kind
            );
        }
        Scrape(exposition)
    }

    /// The value of the sample named `name` with exactly `labels` (0 when
    /// there is none); a histogram's name stands for its count of
    /// observations. Its family must exist.
    pub(super) fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.0.value(name, labels).unwrap_or(0.0)
    }

    /// The sum of the samples named `name`, whatever their labels.
    fn total(&self, name: &str) -> f64 {
        self.0.total(name)
    }

    /// Every value the label `label` takes in the samples named `name`.
    fn label_values(&self, name: &str, label: &str) -> Vec<String> {
        self.0.label_values(name, label)
    }
}

pub(super) async fn metrics_parse_and_move_when_a_block_is_mined(database: TestDatabase) {
    let node = node::start(test_config(&database))
        .await
        .expect("the node starts");
    let address = node.http_addr;
    let authorization = format!("Bearer {}", node.cookie().token());

    let before = Scrape::of(address).await;
    assert_eq!(before.value("blockchain_height", &[]), 0.0);
    assert_eq!(before.value("blockchain_blocks_connected_total", &[]), 0.0);
    assert_eq!(before.value("blockchain_reorgs_total", &[]), 0.0);
    assert_eq!(before.value("blockchain_mempool_transactions", &[]), 0.0);
    assert_eq!(before.value("blockchain_peers", &[]), 0.0);
    let genesis_age = before.value("blockchain_tip_age_seconds", &[]);
    assert!(genesis_age > 0.0, "genesis is old: {genesis_age}");
    // Opening the chain already read and wrote the database.
    let writes_before = before.value(
        "blockchain_db_operation_duration_seconds",
        &[("operation", "apply_chain_update")],
    );
    assert!(writes_before >= 1.0, "genesis was stored: {writes_before}");

    let (alice, bob) = (vector_key(0), vector_key(1));
    mine(address, &authorization, &alice.address, 2).await;
    for path in ["/blocks/1", "/blocks/2", "/blocks/3"] {
        http(address, "GET", &api(path), &[], b"").await;
    }
    http(address, "GET", &api("/no/such/route"), &[], b"").await;
    http(address, "GET", "/explorer", &[], b"").await;
    let transaction = sign(&alice, &bob.address, 150_000_000, 1_000, 0);
    let submitted = http(
        address,
        "POST",
        &api("/transactions"),
        &[("Content-Type", "application/json")],
        transaction_json(&REGTEST, &transaction)
            .to_string()
            .as_bytes(),
    )
    .await;
    assert_eq!(submitted.status, 202);

    // The counters follow the chain's events on a task of their own.
    wait_until_async(
        "the counters to count the block and the transaction",
        Duration::from_secs(10),
        || async {
            let scrape = Scrape::of(address).await;
            scrape.value("blockchain_blocks_connected_total", &[]) == 2.0
                && scrape.value("blockchain_transactions_accepted_total", &[]) == 1.0
        },
    )
    .await;
    let after = Scrape::of(address).await;
    assert_eq!(after.value("blockchain_height", &[]), 2.0);
    assert_eq!(after.value("blockchain_mempool_transactions", &[]), 1.0);
    let status = http(address, "GET", &api("/status"), &[], b"").await.json();
    let mempool_bytes = status["mempool_bytes"].as_f64().expect("a number");
    assert!(mempool_bytes > 0.0, "{status}");
    assert_eq!(after.value("blockchain_mempool_bytes", &[]), mempool_bytes);
    let tip_age = after.value("blockchain_tip_age_seconds", &[]);
    assert!((0.0..60.0).contains(&tip_age), "a fresh tip: {tip_age}");
    assert_eq!(after.value("blockchain_reorgs_total", &[]), 0.0);
    assert!(
        after.value(
            "blockchain_db_operation_duration_seconds",
            &[("operation", "apply_chain_update")],
        ) >= writes_before + 2.0
    );
    assert_eq!(
        after.value(
            "blockchain_db_errors_total",
            &[("operation", "apply_chain_update")]
        ),
        0.0
    );

    // Requests by route template, method and status.
    let requests = |route: &str, method: &str, status: &str| {
        let labels = [("route", route), ("method", method), ("status", status)];
        (
            after.value("blockchain_http_requests_total", &labels),
            after.value("blockchain_http_request_duration_seconds", &labels),
        )
    };
    assert_eq!(
        requests("/api/v1/blocks/{height}", "GET", "200"),
        (2.0, 2.0)
    );
    assert_eq!(
        requests("/api/v1/blocks/{height}", "GET", "404"),
        (1.0, 1.0)
    );
    assert_eq!(requests("/api/v1/mining/blocks", "POST", "201"), (1.0, 1.0));
    assert_eq!(requests("/api/v1/transactions", "POST", "202"), (1.0, 1.0));
    assert_eq!(requests("unmatched", "GET", "404"), (1.0, 1.0));
    assert_eq!(requests("/explorer", "GET", "200"), (1.0, 1.0));
    assert!(requests("/metrics", "GET", "200").0 >= 2.0);
    let routes = after.label_values("blockchain_http_requests_total", "route");
    for route in &routes {
        assert!(
            route == "unmatched"
                || route == "/metrics"
                || route == "/explorer"
                || route.starts_with("/api/v1/"),
            "{route}"
        );
        assert!(
            !route.contains("/blocks/1") && !route.contains("/no/such"),
            "a raw path became a label: {route}"
        );
    }

    node.stop().await.expect("a clean stop");
}

pub(super) async fn libp2p_metrics_follow_the_peer_to_peer_layer(database: TestDatabase) {
    let mut config = test_config(&database);
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".to_owned()];
    let node = node::start(config).await.expect("the node starts");
    let address = node.http_addr;
    let authorization = format!("Bearer {}", node.cookie().token());
    let before = Scrape::of(address).await;
    // The node joined its two gossip topics.
    assert_eq!(
        before.total("libp2p_gossipsub_topic_subscription_status"),
        2.0
    );
    assert_eq!(
        before.value("libp2p_request_response_requests_received_total", &[]),
        0.0
    );

    // A block for a peer to sync, then the peer (on SQLite whatever the
    // backend under test: only this node's metrics are checked).
    mine(address, &authorization, &vector_key(0).address, 1).await;
    let listen_addr = node
        .network()
        .expect("the node listens")
        .listen_addrs_text()
        .into_iter()
        .next()
        .expect("one listen address");
    let peer_database = TestDatabase::sqlite();
    let mut peer_config = test_config(&peer_database);
    peer_config.bootstrap = vec![listen_addr];
    let peer = node::start(peer_config).await.expect("the peer starts");
    wait_until_async(
        "the peer to sync the block",
        Duration::from_secs(30),
        || async { peer.chain.status().header.height == 1 },
    )
    .await;

    wait_until_async(
        "libp2p's counters to count the peer",
        Duration::from_secs(30),
        || async {
            let scrape = Scrape::of(address).await;
            scrape.total("libp2p_swarm_connections_established_total") >= 1.0
                && scrape.total("libp2p_swarm_connections_incoming_total") >= 1.0
                && scrape.total("libp2p_bandwidth_bytes_total") > 0.0
                && scrape.total("libp2p_identify_received_total") >= 1.0
                && scrape.value("libp2p_request_response_requests_received_total", &[]) >= 1.0
                && scrape.value("libp2p_request_response_responses_sent_total", &[]) >= 1.0
        },
    )
    .await;
    // Every protocol has its families by now (a family with labels shows
    // once it has a series).
    let after = Scrape::of(address).await;
    for prefix in [
        "libp2p_swarm_",
        "libp2p_bandwidth_",
        "libp2p_gossipsub_",
        "libp2p_kad_",
        "libp2p_identify_",
        "libp2p_ping_",
        "libp2p_request_response_",
    ] {
        assert!(
            after.0.names().iter().any(|name| name.starts_with(prefix)),
            "no {prefix}* family in {:?}",
            after.0.names()
        );
    }

    peer.stop().await.expect("a clean stop");
    node.stop().await.expect("a clean stop");
}

/// Mines `count` blocks paying `miner` through POST /mining/blocks.
async fn mine(address: SocketAddr, authorization: &str, miner: &str, count: u32) {
    let body = json!({ "miner_address": miner, "count": count }).to_string();
    let mined = http(
        address,
        "POST",
        &api("/mining/blocks"),
        &[
            ("Content-Type", "application/json"),
            ("Authorization", authorization),
        ],
        body.as_bytes(),
    )
    .await;
    assert_eq!(mined.status, 201);
}
