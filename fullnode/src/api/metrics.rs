//! `GET /metrics` (Prometheus text format, outside `/api/v1`) and the
//! middleware that counts every HTTP request by route template.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
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
        // As in GET /status: no peers until the peer-to-peer layer runs.
        peers: 0,
        mempool_transactions: tip.mempool_size,
        mempool_bytes: tip.mempool_bytes,
        hash_rate: state.mining.hash_rate(),
        event_clients: state.events.clients(),
        event_clients_dropped: state.events.dropped(),
    };
    let text = state.metrics.render(&readings);
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response()
}

/// Counts a request with its matched route template (never the raw path,
/// so labels stay few), its method and its answer's status, and times it
/// up to the answer's head.
pub(super) async fn record_request(
    State(state): State<AppState>,
    route: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    state.metrics.observe_http(
        &method,
        route.as_ref().map(MatchedPath::as_str),
        response.status(),
        started.elapsed(),
    );
    response
}
