//! `GET /metrics` (Prometheus text format, outside `/api/v1`): the node's
//! metrics, then libp2p's when the peer-to-peer layer runs; the requests are
//! counted by the HTTP metrics layer of [`super::middleware`].

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::clock::now_ms;
use crate::metrics::{CONTENT_TYPE, Readings};

/// The node's metrics, with its gauges read now.
pub(super) async fn scrape(State(state): State<AppState>) -> Response {
    let tip = state.chain.status();
    let readings = Readings {
        height: tip.header.height,
        tip_age_seconds: now_ms().saturating_sub(tip.header.time) as f64 / 1000.0,
        peers: state
            .network
            .as_ref()
            .map_or(0, |network| network.peers_count()),
        mempool_transactions: tip.mempool_size,
        mempool_bytes: tip.mempool_bytes,
        hash_rate: state.mining.hash_rate(),
        event_clients: state.events.clients(),
        event_clients_dropped: state.events.dropped(),
    };
    let network = state
        .network
        .as_ref()
        .map(|network| network.metrics_registry());
    let text = state.metrics.render(&readings, network);
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response()
}
