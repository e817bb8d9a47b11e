//! The REST API under `/api/v1` and the web app at `/`.
//!
//! [`app`] builds the whole router, so tests can call it with
//! `app(state).oneshot(request)` without a socket. The API's OpenAPI
//! document is built along with its routes and served at
//! `/api/v1/openapi.json`.

mod auth;
mod blocks;
mod client_slots;
pub mod error;
mod events;
mod extract;
mod health;
pub mod json;
mod login;
mod metrics;
mod middleware;
mod mining;
mod network;
mod openapi;
pub(crate) mod password_limit;
mod rate_limit;
pub mod server;
mod status;
#[cfg(test)]
mod tests;
mod transactions;
mod wallet;
mod webhooks;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;
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

/// What every handler can reach: [`AppStateInner`] behind one `Arc`, so
/// that the copies axum makes for every request (router, middleware,
/// extractors) cost one reference count each.
#[derive(Clone, Debug)]
pub struct AppState(Arc<AppStateInner>);

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// The fields of [`AppState`].
#[derive(Clone, Debug)]
pub struct AppStateInner {
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
    /// The peer-to-peer layer, when it runs.
    pub network: Option<Arc<crate::p2p::Network>>,
    /// Wrong node-side wallet passwords, per wallet and per client.
    pub password_attempts: Arc<password_limit::PasswordAttempts>,
    /// The token of `<data dir>/api.cookie` (this run's), which opens the
    /// protected routes.
    pub cookie_token: Option<Arc<str>>,
    /// The OpenAPI document, set once the router is built.
    openapi: Arc<std::sync::OnceLock<openapi::Document>>,
    /// Texts of `GET /status` that rarely change.
    status_cache: Arc<status::StatusCache>,
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
        let rate_limiter = Arc::new(rate_limit::RateLimiter::new(config.rate_limit));
        Self(Arc::new(AppStateInner {
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
            network: None,
            cookie_token: None,
            password_attempts: Arc::default(),
            openapi: Arc::default(),
            status_cache: Arc::default(),
        }))
    }

    /// The fields, to change one while building the state (copied if the
    /// state is shared already).
    fn fields_mut(&mut self) -> &mut AppStateInner {
        Arc::make_mut(&mut self.0)
    }

    /// The same state with the peer-to-peer layer.
    pub fn with_network(mut self, network: Option<Arc<crate::p2p::Network>>) -> Self {
        self.fields_mut().network = network;
        self
    }

    /// The same state counting into `metrics` (the node's, shared with its
    /// storage and its chain-event counter) instead of metrics of its own.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.fields_mut().metrics = metrics;
        self
    }

    /// The same state with the API cookie's token.
    #[must_use]
    pub fn with_cookie_token(mut self, token: &str) -> Self {
        self.fields_mut().cookie_token = Some(Arc::from(token));
        self
    }

    /// The same state with other event streams (tests: a smaller queue).
    #[cfg(test)]
    pub(crate) fn with_events(mut self, events: Arc<events::EventStreams>) -> Self {
        self.fields_mut().events = events;
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

/// A route timeout: a bare 408, which [`middleware`] answers as the API's
/// `REQUEST_TIMEOUT` ([`error::api_error_answers`]).
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
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_protected,
        ));

    let public = OpenApiRouter::with_openapi(openapi::skeleton())
        .routes(routes!(status::status))
        .routes(routes!(health::health))
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

/// The router: API, web app, and around every route the middleware of
/// [`middleware`] (Host check, CORS, body limit, rate limit, metrics).
pub fn app(state: AppState) -> Router {
    let (api, document) = api_routes(&state).split_for_parts();
    let _ = state.openapi.set(openapi::Document::new(document));
    let api = api
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);

    let www = &state.config.www;
    let files = ServeDir::new(www).not_found_service(ServeFile::new(www.join("index.html")));
    // The web client package: gzip copies written by `cargo xtask build-web`
    // go to browsers that accept them; browsers revalidate (Last-Modified)
    // on every load, so a rebuilt client is picked up at once.
    let pkg = tower::ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        ))
        .service(ServeDir::new(www.join("pkg")).precompressed_gzip());
    // Holders of the node's own tokens (the cookie's, --api-token) are the
    // operator: not rate limited. A loopback address alone is no one.
    let operator_tokens = state
        .cookie_token
        .iter()
        .cloned()
        .chain(state.config.api_token.as_deref().map(Arc::from))
        .collect();
    let front_door = middleware::FrontDoor {
        metrics: Arc::clone(&state.metrics),
        limiter: Arc::clone(&state.rate_limiter),
        allowed_hosts: state.config.allowed_hosts.clone(),
        operator_tokens,
    };
    // The pages: `/` the wallet, `/explorer` and its linkable pages
    // (`/explorer/block/…`, `/explorer/tx/…`, `/explorer/address/…`, routed
    // in the page), `/node`; every other path a file of www/.
    let explorer = ServeFile::new(www.join("explorer.html"));
    let web = web_security_headers(
        Router::new()
            .route_service("/explorer", explorer.clone())
            .route_service("/explorer/", explorer.clone())
            .route_service("/explorer/{*page}", explorer)
            .route_service("/node", ServeFile::new(www.join("node.html")))
            .route_service("/node/", ServeFile::new(www.join("node.html")))
            .nest_service("/pkg", pkg)
            .fallback_service(files),
    );
    let router = Router::new()
        .nest("/api/v1", api)
        .route("/metrics", axum::routing::get(metrics::scrape))
        .merge(web);
    middleware::with_front_door(router, front_door).with_state(state)
}

/// The Content-Security-Policy of the web app: scripts and styles from the
/// node's origin only (nothing inline, no `eval`), WebAssembly compiled
/// from them (`'wasm-unsafe-eval'`), connections to the node's origin and
/// to the WebSocket listeners of peers (libp2p over `ws:`/`wss:`; WebRTC is
/// not governed by CSP), images from the origin or `data:` URLs, no
/// plugins, no `<base>`, no framing, no form submissions (every form is
/// handled by its script, so a password can never land in a URL).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ws: wss:; \
img-src 'self' data:; style-src 'self'; object-src 'none'; base-uri 'none'; \
frame-ancestors 'none'; form-action 'none'";

/// Adds the web app's security headers (Content-Security-Policy,
/// X-Frame-Options, Referrer-Policy) to every answer of `web`.
fn web_security_headers<S: Clone + Send + Sync + 'static>(web: Router<S>) -> Router<S> {
    web.layer(SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    ))
    .layer(SetResponseHeaderLayer::overriding(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("DENY"),
    ))
    .layer(SetResponseHeaderLayer::overriding(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ))
}
