//! `GET /api/v1/health`: liveness and readiness for load balancers and
//! orchestrators. Any answer means the process is alive; 200 means ready
//! for traffic: the database answers, and the node is not in its initial
//! sync (its best verified header is at most [`SYNC_SLACK`] blocks above
//! its chain).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::AppState;

/// Blocks the verified headers may run ahead of the chain without the node
/// counting as syncing: a new block's header is announced before its body.
pub(super) const SYNC_SLACK: u64 = 6;
/// Longest the database may take to answer the readiness check.
const DATABASE_TIMEOUT: Duration = Duration::from_secs(2);

/// The node's health.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Health {
    /// `ready` or `not_ready`.
    #[schema(value_type = String, pattern = "^(ready|not_ready)$")]
    status: &'static str,
    /// Always true: the node answered.
    live: bool,
    /// The database answered and the node is not in its initial sync.
    ready: bool,
    /// The database answered within 2 s.
    database: bool,
    /// The best verified header is more than 6 blocks above the chain.
    syncing: bool,
    /// Best-chain height.
    height: u64,
    /// Height of the best verified header (the chain's height when the node has no peer-to-peer layer).
    header_height: u64,
}

/// Liveness and readiness
///
/// For load balancers and orchestrators: any answer means alive; 200 means
/// ready for traffic (the database answers and the node is not in its
/// initial sync), 503 means alive but not ready, with the reason in the body.
#[utoipa::path(
    get,
    path = "/health",
    tag = "node",
    operation_id = "get_health",
    responses(
        (status = 200, description = "Alive and ready", body = Health),
        (status = 503, description = "Alive, not ready: the database does not answer, or the node is in its initial sync", body = Health),
    )
)]
pub(super) async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let database = matches!(
        tokio::time::timeout(DATABASE_TIMEOUT, state.chain.storage().tip()).await,
        Ok(Ok(_))
    );
    let height = state.chain.status().header.height;
    let header_height = state
        .network
        .as_ref()
        .map_or(height, |network| network.header_height());
    let syncing = header_height > height.saturating_add(SYNC_SLACK);
    let ready = database && !syncing;
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(Health {
            status: if ready { "ready" } else { "not_ready" },
            live: true,
            ready,
            database,
            syncing,
            height,
            header_height,
        }),
    )
}
