//! The REST API under `/api/v1` and the web app at `/`.
//!
//! [`app`] builds the whole router, so tests can call it with
//! `app(state).oneshot(request)` without a socket.

mod auth;
mod blocks;
pub mod error;
mod extract;
pub mod json;
mod mining;
mod network;
mod rate_limit;
mod status;
#[cfg(test)]
mod tests;
mod transactions;
mod wallet;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::timeout::TimeoutLayer;

use crate::chain::Chain;
use crate::config::Config;
use crate::mining::MiningControl;
use error::ApiError;

/// Largest request body (a signed transaction is about 1.7 kB of JSON).
pub const BODY_LIMIT: usize = 64 * 1024;
/// Longest a request may take, except mining N blocks.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest `POST /mining/blocks` may take.
pub const MINING_TIMEOUT: Duration = Duration::from_secs(600);

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The chain-state owner.
    pub chain: Arc<Chain>,
    /// Mining.
    pub mining: Arc<MiningControl>,
    /// Configuration.
    pub config: Arc<Config>,
    /// Addresses the HTTP server listens on (filled in once bound).
    pub http_addr: Arc<std::sync::OnceLock<std::net::SocketAddr>>,
    /// Per-client request counters.
    pub rate_limiter: Arc<rate_limit::RateLimiter>,
    /// When the node started.
    pub started: Instant,
    /// Held by a node-side wallet send from choosing its nonce until the
    /// transaction is in the mempool, so concurrent sends take successive
    /// nonces instead of replacing one another.
    pub wallet_sends: Arc<tokio::sync::Mutex<()>>,
}

impl AppState {
    /// State for a node.
    pub fn new(chain: Arc<Chain>, mining: Arc<MiningControl>, config: Arc<Config>) -> Self {
        let rate_limiter = Arc::new(rate_limit::RateLimiter::new(
            config.rate_limit,
            config.rate_limit_loopback,
        ));
        Self {
            chain,
            mining,
            config,
            http_addr: Arc::default(),
            rate_limiter,
            started: Instant::now(),
            wallet_sends: Arc::default(),
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found("NOT_FOUND", "no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "this route does not take that method",
    )
}

/// Refuses a declared body over [`BODY_LIMIT`] with the API's error (the
/// body-limit layer behind it answers such requests in plain text).
async fn refuse_oversized(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > BODY_LIMIT as u64) {
        return ApiError::payload_too_large().into_response();
    }
    next.run(request).await
}

/// The router: API, web app, limits, CORS.
pub fn app(state: AppState) -> Router {
    let protected = Router::new()
        .route("/wallet", post(wallet::create))
        .route("/wallet/{address}/send", post(wallet::send))
        .route("/mining/start", post(mining::start))
        .route("/mining/stop", post(mining::stop))
        .route("/network/peers", post(network::dial))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .route(
            "/mining/blocks",
            post(mining::mine_blocks).layer(TimeoutLayer::with_status_code(
                axum::http::StatusCode::REQUEST_TIMEOUT,
                MINING_TIMEOUT,
            )),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_protected,
        ));

    let public = Router::new()
        .route("/status", get(status::status))
        .route("/blocks/latest", get(blocks::latest))
        .route("/blocks/{height}", get(blocks::by_height))
        .route("/blocks/hash/{hash}", get(blocks::by_hash))
        .route("/headers", get(blocks::headers))
        .route("/transactions", post(transactions::submit))
        .route("/transactions/pending", get(transactions::pending))
        .route("/transactions/{txid}", get(transactions::by_txid))
        .route("/transactions/{txid}/proof", get(transactions::proof))
        .route("/wallet/{address}/balance", get(wallet::balance))
        .route("/wallet/{address}/transactions", get(wallet::history))
        .route("/wallet/{address}/proof", get(wallet::proof))
        .route("/mining/status", get(mining::status))
        .route("/network/peers", get(network::peers))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));

    let api = public
        .merge(protected)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);

    let www = &state.config.www;
    let web = ServeDir::new(www).not_found_service(ServeFile::new(www.join("index.html")));
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .expose_headers([
            header::HeaderName::from_static("x-ratelimit-limit"),
            header::HeaderName::from_static("x-ratelimit-remaining"),
            header::HeaderName::from_static("x-ratelimit-reset"),
        ]);

    Router::new()
        .nest("/api/v1", api)
        .route_service("/explorer", ServeFile::new(www.join("explorer.html")))
        .fallback_service(web)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            rate_limit::limit,
        ))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(middleware::from_fn(refuse_oversized))
        .layer(cors)
        .layer(axum::middleware::map_response(
            |mut response: axum::response::Response| async move {
                // The timeout layer answers with an empty body: give it the API's error format.
                let is_json = response
                    .headers()
                    .get(header::CONTENT_TYPE)
                    .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
                if response.status() == axum::http::StatusCode::REQUEST_TIMEOUT && !is_json {
                    response = axum::response::IntoResponse::into_response(ApiError::new(
                        axum::http::StatusCode::REQUEST_TIMEOUT,
                        "REQUEST_TIMEOUT",
                        "the request took too long",
                    ));
                }
                response.headers_mut().insert(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                );
                response
            },
        ))
        .with_state(state)
}
