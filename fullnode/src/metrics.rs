//! The node's metrics, served at `GET /metrics` in the text format of
//! prometheus-client (docs/API.md lists them).
//!
//! Gauges are read from the node at scrape time and handed to
//! [`Metrics::render`] as [`Readings`]. Counters and histograms live here:
//! chain counters fed by [`Metrics::count_chain_events`], HTTP requests by the
//! API's middleware ([`Metrics::observe_http`]), database operations by
//! [`TimedStorage`] ([`Metrics::observe_database`]). The peer-to-peer layer
//! keeps libp2p's metrics in a registry of its own, rendered after these.
//! Every label takes values from a bounded set (route templates, never raw
//! paths), so a client cannot grow the exposition.

mod chain_events;
#[cfg(test)]
pub(crate) mod exposition;
mod timed_storage;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::{encode_eof, encode_registry};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

pub use timed_storage::TimedStorage;

/// The `Content-Type` of [`Metrics::render`]'s text: the Prometheus text
/// format, which reads the OpenMetrics text prometheus-client writes (its
/// closing `# EOF` is a comment there).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `route` label of requests that matched no route (unknown paths, the web app).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Bucket bounds (seconds) of HTTP request latency: a local read answers in
/// about a millisecond, `POST /mining/blocks` may take up to ten minutes.
const HTTP_BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
    600.0,
];

/// Bucket bounds (seconds) of database operations: from an indexed read on
/// SQLite to a reorg's write transaction on a busy PostgreSQL server.
const DATABASE_BUCKETS: [f64; 15] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// A floating-point gauge.
type FloatGauge = Gauge<f64, AtomicU64>;
/// A histogram per label set, all with the same buckets.
type Histograms<Labels> = Family<Labels, Histogram, fn() -> Histogram>;

/// The labels of an answered HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: String,
    status: u16,
}

/// The label of a storage operation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DatabaseLabels {
    operation: &'static str,
}

/// Counters, gauges and histograms of one node, in one registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    height: Gauge<u64, AtomicU64>,
    tip_age_seconds: FloatGauge,
    peers: Gauge<u64, AtomicU64>,
    mempool_transactions: Gauge<u64, AtomicU64>,
    mempool_bytes: Gauge<u64, AtomicU64>,
    hash_rate: FloatGauge,
    blocks_connected: Counter,
    reorgs: Counter,
    transactions_accepted: Counter,
    event_clients: Gauge<u64, AtomicU64>,
    event_clients_dropped: Counter,
    http_requests: Family<HttpLabels, Counter>,
    http_durations: Histograms<HttpLabels>,
    database_durations: Histograms<DatabaseLabels>,
    database_errors: Family<DatabaseLabels, Counter>,
}

/// Values read from the node when it is scraped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Readings {
    /// Best-chain height.
    pub height: u64,
    /// Seconds since the tip's timestamp (0 when the tip is in the future).
    pub tip_age_seconds: f64,
    /// Connected peers.
    pub peers: usize,
    /// Pending transactions.
    pub mempool_transactions: usize,
    /// Their encoded size.
    pub mempool_bytes: usize,
    /// Hashes per second of the miner threads.
    pub hash_rate: f64,
    /// Open `GET /api/v1/events` streams.
    pub event_clients: usize,
    /// Event streams ended because their client fell behind, since the start.
    pub event_clients_dropped: u64,
}

impl Default for Metrics {
    fn default() -> Self {
        let metrics = Metrics {
            registry: Registry::default(),
            height: Gauge::default(),
            tip_age_seconds: Gauge::default(),
            peers: Gauge::default(),
            mempool_transactions: Gauge::default(),
            mempool_bytes: Gauge::default(),
            hash_rate: Gauge::default(),
            blocks_connected: Counter::default(),
            reorgs: Counter::default(),
            transactions_accepted: Counter::default(),
            event_clients: Gauge::default(),
            event_clients_dropped: Counter::default(),
            http_requests: Family::default(),
            http_durations: Family::new_with_constructor(|| Histogram::new(HTTP_BUCKETS)),
            database_durations: Family::new_with_constructor(|| Histogram::new(DATABASE_BUCKETS)),
            database_errors: Family::default(),
        };
        metrics.registered()
    }
}

impl Metrics {
    /// These metrics, registered with their names and help texts (in the
    /// order they are written). prometheus-client writes the samples of a
    /// counter registered as `x` as `x_total`, and ends each help text with
    /// a period: both are left out here.
    fn registered(mut self) -> Self {
        let registry = &mut self.registry;
        registry.register(
            "blockchain_height",
            "Best-chain height",
            self.height.clone(),
        );
        registry.register(
            "blockchain_tip_age_seconds",
            "Seconds since the timestamp of the best block",
            self.tip_age_seconds.clone(),
        );
        registry.register("blockchain_peers", "Connected peers", self.peers.clone());
        registry.register(
            "blockchain_mempool_transactions",
            "Transactions in the mempool",
            self.mempool_transactions.clone(),
        );
        registry.register(
            "blockchain_mempool_bytes",
            "Encoded size of the transactions in the mempool",
            self.mempool_bytes.clone(),
        );
        registry.register(
            "blockchain_hash_rate",
            "Hashes per second of the miner threads",
            self.hash_rate.clone(),
        );
        registry.register(
            "blockchain_blocks_connected",
            "Blocks connected to the best chain, reorgs included",
            self.blocks_connected.clone(),
        );
        registry.register(
            "blockchain_reorgs",
            "Switches of the best chain to another branch",
            self.reorgs.clone(),
        );
        registry.register(
            "blockchain_transactions_accepted",
            "Transactions accepted into the mempool",
            self.transactions_accepted.clone(),
        );
        registry.register(
            "blockchain_event_clients",
            "Open server-sent event streams",
            self.event_clients.clone(),
        );
        registry.register(
            "blockchain_event_clients_dropped",
            "Event streams ended because their client fell behind",
            self.event_clients_dropped.clone(),
        );
        registry.register(
            "blockchain_http_requests",
            "HTTP requests answered, by route template and status",
            self.http_requests.clone(),
        );
        registry.register(
            "blockchain_http_request_duration_seconds",
            "Seconds from a request to its answer's head, by route template and status",
            self.http_durations.clone(),
        );
        registry.register(
            "blockchain_db_operation_duration_seconds",
            "Seconds per storage operation",
            self.database_durations.clone(),
        );
        registry.register(
            "blockchain_db_errors",
            "Storage operations that failed",
            self.database_errors.clone(),
        );
        self
    }

    /// Counts one answered HTTP request. `method` is [`method_label`]'s,
    /// `route` the matched route template (`/api/v1/blocks/{height}`), None
    /// when no route matched.
    pub fn observe_http(
        &self,
        method: &'static str,
        route: Option<&str>,
        status: StatusCode,
        elapsed: Duration,
    ) {
        let labels = HttpLabels {
            method,
            route: route.unwrap_or(UNMATCHED_ROUTE).to_owned(),
            status: status.as_u16(),
        };
        self.http_requests.get_or_create(&labels).inc();
        self.http_durations
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one storage operation (a [`Storage`](crate::storage::Storage) method name).
    pub fn observe_database(&self, operation: &'static str, elapsed: Duration, succeeded: bool) {
        let labels = DatabaseLabels { operation };
        self.database_durations
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
        // Created on the first operation, so a healthy operation shows 0 errors.
        let errors = self.database_errors.get_or_create(&labels);
        if !succeeded {
            errors.inc();
        }
    }

    /// The text exposition of these metrics with `readings`, then of
    /// `network`, the peer-to-peer layer's registry when it runs.
    pub fn render(&self, readings: &Readings, network: Option<&Registry>) -> String {
        // Two scrapes at once may each write the other's readings: both are
        // values of now, so either exposition is right.
        self.height.set(readings.height);
        self.tip_age_seconds.set(readings.tip_age_seconds);
        self.peers.set(as_u64(readings.peers));
        self.mempool_transactions
            .set(as_u64(readings.mempool_transactions));
        self.mempool_bytes.set(as_u64(readings.mempool_bytes));
        self.hash_rate.set(readings.hash_rate);
        self.event_clients.set(as_u64(readings.event_clients));
        // A count kept by the event streams: copied, not added to.
        self.event_clients_dropped
            .inner()
            .store(readings.event_clients_dropped, Ordering::Relaxed);

        let mut text = String::new();
        let written = encode_registry(&mut text, &self.registry)
            .and_then(|()| network.map_or(Ok(()), |network| encode_registry(&mut text, network)))
            .and_then(|()| encode_eof(&mut text));
        // The encoders fail only when their writer does; a String never does.
        written.expect("writing to a String cannot fail");
        text
    }
}

/// A count as a gauge's value.
fn as_u64(count: usize) -> u64 {
    u64::try_from(count).unwrap_or(u64::MAX)
}

/// The `method` label: a standard method's name, `other` for any other.
pub fn method_label(method: &Method) -> &'static str {
    const STANDARD: [&str; 9] = [
        "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE",
    ];
    STANDARD
        .into_iter()
        .find(|name| *name == method.as_str())
        .unwrap_or("other")
}

#[cfg(test)]
mod tests;
