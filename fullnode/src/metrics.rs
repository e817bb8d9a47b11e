//! The node's metrics, served at `GET /metrics` in the Prometheus text format
//! (docs/API.md lists them).
//!
//! Gauges are read from the node at scrape time and handed to
//! [`Metrics::render`] as [`Readings`]. Counters and histograms live here:
//! chain counters fed by [`Metrics::count_chain_events`], HTTP requests by the
//! API's middleware ([`Metrics::observe_http`]), database operations by
//! [`TimedStorage`](crate::storage::TimedStorage) ([`Metrics::observe_database`]).
//! Every label takes values from a bounded set (route templates, never raw
//! paths), so a client cannot grow the exposition.

mod histogram;
mod text;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use tokio::sync::{broadcast, watch};

use crate::chain::{Chain, ChainEvent, TipStatus};
use histogram::{DATABASE_BUCKETS, HTTP_BUCKETS, Histogram};
use text::{Exposition, Kind};

/// The `Content-Type` of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The `route` label of requests that matched no route (unknown paths, the web app).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Counters and histograms of one node.
#[derive(Debug, Default)]
pub struct Metrics {
    blocks_connected: AtomicU64,
    reorgs: AtomicU64,
    transactions_accepted: AtomicU64,
    /// Per route template: the series of each (method, status) seen on it.
    http: Mutex<HashMap<Box<str>, Vec<HttpSeries>>>,
    database: Mutex<BTreeMap<&'static str, DatabaseSeries>>,
}

/// The requests of one route template with one method and one status.
#[derive(Clone, Debug)]
struct HttpSeries {
    method: &'static str,
    status: u16,
    latency: Histogram,
}

/// The labels of an HTTP series.
fn http_labels<'a>(
    route: &'a str,
    method: &'a str,
    status: &'a str,
) -> [(&'static str, &'a str); 3] {
    [("method", method), ("route", route), ("status", status)]
}

#[derive(Debug)]
struct DatabaseSeries {
    latency: Histogram,
    errors: u64,
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

impl Metrics {
    /// Counts the blocks, reorgs and transactions `chain` announces, on a
    /// task that ends when the chain is gone.
    pub fn count_chain_events(self: &Arc<Self>, chain: &Chain) {
        let events = chain.subscribe();
        let status = chain.watch_status();
        tokio::spawn(Arc::clone(self).count(events, status));
    }

    async fn count(
        self: Arc<Self>,
        mut events: broadcast::Receiver<ChainEvent>,
        status: watch::Receiver<TipStatus>,
    ) {
        let mut height = status.borrow().header.height;
        loop {
            let connected = match events.recv().await {
                Ok(ChainEvent::NewTip { height: new, .. }) => {
                    new.saturating_sub(std::mem::replace(&mut height, new))
                }
                Ok(ChainEvent::Reorg {
                    fork_height,
                    height: new,
                    ..
                }) => {
                    self.reorgs.fetch_add(1, Ordering::Relaxed);
                    height = new;
                    new.saturating_sub(fork_height)
                }
                Ok(ChainEvent::NewTransaction { .. }) => {
                    self.transactions_accepted.fetch_add(1, Ordering::Relaxed);
                    0
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    // Blocks still count, by height; missed reorgs and transactions do not.
                    tracing::warn!(missed, "metrics missed chain events");
                    let new = status.borrow().header.height;
                    new.saturating_sub(std::mem::replace(&mut height, new))
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            self.blocks_connected
                .fetch_add(connected, Ordering::Relaxed);
        }
    }

    /// Counts one answered HTTP request. `method` is [`method_label`]'s,
    /// `route` the matched route template (`/api/v1/blocks/{height}`), None
    /// when no route matched. Allocates only for a series seen for the first time.
    pub fn observe_http(
        &self,
        method: &'static str,
        route: Option<&str>,
        status: StatusCode,
        elapsed: Duration,
    ) {
        let route = route.unwrap_or(UNMATCHED_ROUTE);
        let status = status.as_u16();
        let mut http = self.http.lock().expect("metrics lock is never poisoned");
        let series = match http.get_mut(route) {
            Some(series) => series,
            None => http.entry(route.into()).or_default(),
        };
        let position = series
            .iter()
            .position(|series| series.method == method && series.status == status);
        let histogram = match position {
            Some(position) => &mut series[position].latency,
            None => {
                series.push(HttpSeries {
                    method,
                    status,
                    latency: Histogram::new(HTTP_BUCKETS),
                });
                &mut series.last_mut().expect("just pushed").latency
            }
        };
        histogram.observe(elapsed);
    }

    /// Counts one storage operation (a [`Storage`](crate::storage::Storage) method name).
    pub fn observe_database(&self, operation: &'static str, elapsed: Duration, succeeded: bool) {
        let mut database = self
            .database
            .lock()
            .expect("metrics lock is never poisoned");
        let series = database.entry(operation).or_insert_with(|| DatabaseSeries {
            latency: Histogram::new(DATABASE_BUCKETS),
            errors: 0,
        });
        series.latency.observe(elapsed);
        series.errors += u64::from(!succeeded);
    }

    /// The text exposition of these metrics and `readings`.
    pub fn render(&self, readings: &Readings) -> String {
        let mut text = Exposition::default();
        let gauges: [(&str, &str, f64); 6] = [
            (
                "blockchain_height",
                "Best-chain height.",
                readings.height as f64,
            ),
            (
                "blockchain_tip_age_seconds",
                "Seconds since the timestamp of the best block.",
                readings.tip_age_seconds,
            ),
            (
                "blockchain_peers",
                "Connected peers.",
                readings.peers as f64,
            ),
            (
                "blockchain_mempool_transactions",
                "Transactions in the mempool.",
                readings.mempool_transactions as f64,
            ),
            (
                "blockchain_mempool_bytes",
                "Encoded size of the transactions in the mempool.",
                readings.mempool_bytes as f64,
            ),
            (
                "blockchain_hash_rate",
                "Hashes per second of the miner threads.",
                readings.hash_rate,
            ),
        ];
        for (name, help, value) in gauges {
            text.family(name, Kind::Gauge, help);
            text.sample(name, &[], value);
        }

        let counters = [
            (
                "blockchain_blocks_connected_total",
                "Blocks connected to the best chain, reorgs included.",
                &self.blocks_connected,
            ),
            (
                "blockchain_reorgs_total",
                "Switches of the best chain to another branch.",
                &self.reorgs,
            ),
            (
                "blockchain_transactions_accepted_total",
                "Transactions accepted into the mempool.",
                &self.transactions_accepted,
            ),
        ];
        for (name, help, counter) in counters {
            text.family(name, Kind::Counter, help);
            text.sample(name, &[], counter.load(Ordering::Relaxed));
        }

        text.family(
            "blockchain_event_clients",
            Kind::Gauge,
            "Open server-sent event streams.",
        );
        text.sample("blockchain_event_clients", &[], readings.event_clients);
        text.family(
            "blockchain_event_clients_dropped_total",
            Kind::Counter,
            "Event streams ended because their client fell behind.",
        );
        text.sample(
            "blockchain_event_clients_dropped_total",
            &[],
            readings.event_clients_dropped,
        );

        self.render_http(&mut text);
        self.render_database(&mut text);
        text.finish()
    }

    fn render_http(&self, text: &mut Exposition) {
        // A copy in label order, so the lock is not held while rendering.
        let mut http: Vec<(Box<str>, HttpSeries)> = self
            .http
            .lock()
            .expect("metrics lock is never poisoned")
            .iter()
            .flat_map(|(route, series)| series.iter().map(|one| (route.clone(), one.clone())))
            .collect();
        http.sort_by(|(a_route, a), (b_route, b)| {
            (a_route, a.method, a.status).cmp(&(b_route, b.method, b.status))
        });
        let name = "blockchain_http_requests_total";
        text.family(
            name,
            Kind::Counter,
            "HTTP requests answered, by route template and status.",
        );
        for (route, series) in &http {
            let status = series.status.to_string();
            text.sample(
                name,
                &http_labels(route, series.method, &status),
                series.latency.count(),
            );
        }
        let name = "blockchain_http_request_duration_seconds";
        text.family(
            name,
            Kind::Histogram,
            "Seconds from a request to its answer's head, by route template and status.",
        );
        for (route, series) in &http {
            let status = series.status.to_string();
            text.histogram(
                name,
                &http_labels(route, series.method, &status),
                &series.latency,
            );
        }
    }

    fn render_database(&self, text: &mut Exposition) {
        let database = self
            .database
            .lock()
            .expect("metrics lock is never poisoned");
        let name = "blockchain_db_operation_duration_seconds";
        text.family(name, Kind::Histogram, "Seconds per storage operation.");
        for (operation, series) in database.iter() {
            text.histogram(name, &[("operation", operation)], &series.latency);
        }
        let name = "blockchain_db_errors_total";
        text.family(name, Kind::Counter, "Storage operations that failed.");
        for (operation, series) in database.iter() {
            text.sample(name, &[("operation", operation)], series.errors);
        }
    }
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
