//! GET /metrics through a real socket: the exposition parses with a strict
//! Prometheus text parser, the chain gauges and counters move when a block
//! is mined, HTTP requests are labelled with route templates (never raw
//! paths), and database operations are timed.

use std::net::SocketAddr;
use std::time::Duration;

use blockchain_core::params::REGTEST;
use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{MetricsExposition, PrometheusType, PrometheusValue};
use serde_json::json;

use super::harness::{api, sign, test_config, transaction_json, vector_key, wait_until_async};
use super::socket::http;
use crate::node;
use crate::testing::TestDatabase;

/// A parsed scrape of GET /metrics.
pub(super) struct Scrape(MetricsExposition<PrometheusType, PrometheusValue>);

impl std::fmt::Debug for Scrape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.0.families.keys().collect();
        names.sort();
        f.debug_tuple("Scrape").field(&names).finish()
    }
}

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
        let exposition = parse_prometheus(&text)
            .unwrap_or_else(|error| panic!("GET /metrics does not parse ({error:?}):\n{text}"));
        Scrape(exposition)
    }

    /// Every sample of `family` as (labels, value); a histogram's value is
    /// its count of observations.
    fn samples(&self, family: &str) -> Vec<(Vec<(String, String)>, f64)> {
        let family = self
            .0
            .families
            .get(family)
            .unwrap_or_else(|| panic!("no family {family} in {self:?}"));
        family
            .iter_samples()
            .map(|sample| {
                let labels = sample
                    .get_labelset()
                    .expect("samples of a parsed family have labels")
                    .iter()
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect();
                let value = match &sample.value {
                    PrometheusValue::Gauge(number) | PrometheusValue::Unknown(number) => {
                        number.as_f64()
                    }
                    PrometheusValue::Counter(counter) => counter.value.as_f64(),
                    PrometheusValue::Histogram(histogram) => {
                        let count = histogram.count.expect("a histogram has a count");
                        let infinite = histogram.buckets.last().expect("a histogram has buckets");
                        assert_eq!(infinite.upper_bound, f64::INFINITY);
                        assert_eq!(infinite.count.as_f64(), count as f64);
                        count as f64
                    }
                    PrometheusValue::Summary(_) => panic!("the node has no summaries"),
                };
                (labels, value)
            })
            .collect()
    }

    /// The value of the one sample of `family` with exactly `labels`
    /// (0 when there is none).
    pub(super) fn value(&self, family: &str, labels: &[(&str, &str)]) -> f64 {
        let mut wanted: Vec<(String, String)> = labels
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        wanted.sort();
        self.samples(family)
            .into_iter()
            .find(|(labels, _)| {
                let mut labels = labels.clone();
                labels.sort();
                labels == wanted
            })
            .map_or(0.0, |(_, value)| value)
    }

    /// Every value the label `name` takes in `family`.
    fn label_values(&self, family: &str, name: &str) -> Vec<String> {
        self.samples(family)
            .into_iter()
            .filter_map(|(labels, _)| {
                labels
                    .into_iter()
                    .find(|(label, _)| label == name)
                    .map(|(_, value)| value)
            })
            .collect()
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
    let body = json!({ "miner_address": alice.address, "count": 2 }).to_string();
    let mined = http(
        address,
        "POST",
        &api("/mining/blocks"),
        &[
            ("Content-Type", "application/json"),
            ("Authorization", authorization.as_str()),
        ],
        body.as_bytes(),
    )
    .await;
    assert_eq!(mined.status, 201);
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
