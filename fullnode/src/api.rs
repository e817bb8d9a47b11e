//! The REST API under `/api/v1` and the web app at `/`.
//!
//! [`app`] builds the whole router, so tests can call it with
//! `app(state).oneshot(request)` without a socket. The API's OpenAPI
//! document is built along with its routes and served at
//! `/api/v1/openapi.json`.

mod auth;
mod blocks;
pub mod error;
mod events;
mod extract;
pub mod json;
mod login;
mod metrics;
mod mining;
mod network;
mod openapi;
mod rate_limit;
mod status;
#[cfg(test)]
mod tests;
mod transactions;
mod wallet;
mod webhooks;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::timeout::TimeoutLayer;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::chain::Chain;
use crate::config::Config;
use crate::metrics::Metrics;
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
    /// Counters and histograms served at `GET /metrics`.
    pub metrics: Arc<Metrics>,
    /// Open `GET /api/v1/events` streams.
    pub events: Arc<events::EventStreams>,
    /// Administrator login: challenges, administrators, token key.
    pub auth: Arc<crate::auth::AdminAuth>,
    /// Webhook subscriptions and their deliveries.
    pub webhooks: Arc<crate::webhooks::Webhooks>,
}

impl AppState {
    /// State for a node.
    pub fn new(
        chain: Arc<Chain>,
        mining: Arc<MiningControl>,
        config: Arc<Config>,
        auth: Arc<crate::auth::AdminAuth>,
        webhooks: Arc<crate::webhooks::Webhooks>,
    ) -> Self {
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
            metrics: Arc::default(),
            events: Arc::default(),
            auth,
            webhooks,
        }
    }

    /// The same state counting into `metrics` (the node's, shared with its
    /// storage and its chain-event counter) instead of metrics of its own.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
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

/// A timeout answering 408 (the outer layer in [`app`] gives it a JSON body).
fn timeout(duration: Duration) -> TimeoutLayer {
    TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, duration)
}

/// The `/api/v1` routes and their OpenAPI document. Routes are registered
/// only with `routes!`, which adds the handler's `#[utoipa::path]` operation
/// to the document: a route cannot be served without being documented.
fn api_routes(state: &AppState) -> OpenApiRouter<AppState> {
    let protected = OpenApiRouter::default()
        .routes(routes!(wallet::create))
        .routes(routes!(wallet::send))
        .routes(routes!(mining::start))
        .routes(routes!(mining::stop))
        .routes(routes!(network::dial))
        .routes(routes!(webhooks::register, webhooks::list))
        .routes(routes!(webhooks::delete))
        .layer(timeout(REQUEST_TIMEOUT))
        .routes(routes!(mining::mine_blocks).layer(timeout(MINING_TIMEOUT)))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_protected,
        ));

    let public = OpenApiRouter::with_openapi(openapi::skeleton())
        .routes(routes!(status::status))
        .routes(routes!(blocks::latest))
        .routes(routes!(blocks::by_height))
        .routes(routes!(blocks::by_hash))
        .routes(routes!(blocks::headers))
        .routes(routes!(transactions::submit))
        .routes(routes!(transactions::pending))
        .routes(routes!(transactions::by_txid))
        .routes(routes!(transactions::proof))
        .routes(routes!(wallet::balance))
        .routes(routes!(wallet::history))
        .routes(routes!(wallet::proof))
        .routes(routes!(mining::status))
        .routes(routes!(network::peers))
        .routes(routes!(events::events))
        .routes(routes!(openapi::document))
        .routes(routes!(login::challenge))
        .routes(routes!(login::login))
        .layer(timeout(REQUEST_TIMEOUT));

    let mut api = public.merge(protected);
    openapi::add_middleware_answers(api.get_openapi_mut());
    api
}

/// The router: API, web app, limits, CORS.
pub fn app(state: AppState) -> Router {
    let (api, document) = api_routes(&state).split_for_parts();
    let api = api
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(Extension(openapi::Document::new(document)));

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
        .route("/metrics", axum::routing::get(metrics::scrape))
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
        // Outermost, so it sees every answer as the client gets it.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::record_request,
        ))
        .with_state(state)
}
