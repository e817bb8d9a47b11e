//! The API's middleware around every route, outermost first:
//!
//! 1. `X-Content-Type-Options: nosniff` on every answer (tower-http);
//! 2. the HTTP metrics: every answer counted and timed by route template;
//! 3. the `Host` check: a request for a host name the node does not answer
//!    for (an IP address, `localhost`, `--allowed-host`) is refused, which
//!    defeats DNS rebinding (a tower-http validator);
//! 4. no CORS headers on the answers of protected routes
//!    ([`super::auth::NoCors`]), so no other origin's page may read them;
//! 5. CORS for the web app (tower-http): any origin; `GET`, `POST`,
//!    `DELETE`; the `Content-Type` and `Authorization` headers; the
//!    `X-RateLimit-*` headers exposed; every `OPTIONS` answered as a preflight;
//! 6. the answers of the tower-http layers below (and of the route
//!    timeouts) in the API's error format ([`super::error::api_error_answers`]);
//! 7. the body limit (tower-http): a declared body over [`BODY_LIMIT`] is a
//!    413, a longer body is cut at the limit (its extractor answers 413);
//! 8. a request body must be `application/json` (415 otherwise), so a
//!    "simple" cross-site form or `no-cors` fetch never reaches a handler
//!    (a tower-http validator);
//! 9. the per-client rate limit, with its `X-RateLimit-*` headers;
//! 10. a panicking handler answers 500 instead of dropping the connection
//!     (tower-http).
//!
//! axum copies this stack for every request: each layer holds at most one
//! `Arc`, and no future is boxed but the panic catcher's answer body.

use std::any::Any;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service, ServiceBuilder};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{Any as AnyOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::validate_request::ValidateRequestHeaderLayer;

use super::BODY_LIMIT;
use super::auth::{NoCors, bearer_token, tokens_match};
use super::error::{ApiError, api_error_answers};
use super::extract::client_ip_of;
use super::rate_limit::{LIMIT_HEADER, REMAINING_HEADER, RESET_HEADER, RateLimiter, Verdict};
use crate::metrics::{Metrics, method_label};

/// What the stack needs from the node.
#[derive(Debug)]
pub(super) struct FrontDoor {
    pub(super) metrics: Arc<Metrics>,
    pub(super) limiter: Arc<RateLimiter>,
    /// `--allowed-host` names (lower case).
    pub(super) allowed_hosts: Vec<String>,
    /// The node's own bearer tokens (the API cookie's, `--api-token`):
    /// their holder is the operator, whom the rate limit spares.
    pub(super) operator_tokens: Vec<Arc<str>>,
}

/// `router` with the middleware of the module documentation around each
/// of its routes.
pub(super) fn with_front_door<S>(router: Router<S>, front_door: FrontDoor) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let allowed_hosts: Arc<[String]> = front_door.allowed_hosts.into();
    // tower-http's `ValidateRequest` signature: the refusal is the answer.
    #[allow(clippy::result_large_err)]
    let stack = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(HttpMetricsLayer {
            metrics: front_door.metrics,
        })
        .layer(ValidateRequestHeaderLayer::custom(
            move |request: &mut Request| check_host(request, &allowed_hosts),
        ))
        .map_response(drop_cors_of_protected_routes)
        .layer(cors())
        .map_response(api_error_answers)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(ValidateRequestHeaderLayer::custom(json_bodies_only))
        .layer(RateLimitLayer {
            shared: Arc::new(RateLimitShared {
                limiter: front_door.limiter,
                operator_tokens: front_door.operator_tokens,
            }),
        })
        // The panic catcher boxes every answer; axum's body again for the layers above.
        .map_response(|response: Response<_>| response.map(Body::new))
        .layer(CatchPanicLayer::custom(panic_answer));
    router.layer(stack)
}

/// CORS for every origin; the rate-limit headers readable by pages.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AnyOrigin)
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .expose_headers([LIMIT_HEADER, REMAINING_HEADER, RESET_HEADER])
        // The answers are the same for every origin: no `Vary` (which
        // tower-http would otherwise build for every answer).
        .vary([] as [HeaderName; 0])
}

/// Refuses a request whose host (the `Host` header, else the URI's) is not
/// one the node answers for: an IP address (DNS rebinding needs a name),
/// `localhost` or a name under it, or an `--allowed-host` name. A request
/// naming no host (HTTP/1.0 tools) is let through: browsers always name one.
// tower-http's `ValidateRequest` signature: the refusal is the answer.
#[allow(clippy::result_large_err)]
fn check_host(request: &Request, allowed: &[String]) -> Result<(), Response> {
    let host = match request.headers().get(header::HOST) {
        Some(value) => value.to_str().ok(),
        None => match request.uri().host() {
            Some(host) => Some(host),
            None => return Ok(()),
        },
    };
    if host.is_some_and(|host| host_allowed(host, allowed)) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "HOST_NOT_ALLOWED",
        "this node does not answer for that host name; \
         its operator can add it with --allowed-host",
    )
    .into_response())
}

fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = host_name(host);
    if name.is_empty() {
        return false;
    }
    if name.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost") || allowed.contains(&name)
}

/// `host[:port]` or `[v6][:port]` without the port and brackets.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split_once(']').map_or("", |(address, _)| address);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|byte| byte.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Takes the CORS headers off the answers of protected routes. Our own:
/// tower-http's CORS policy is per request, this exception per route.
fn drop_cors_of_protected_routes(mut response: Response) -> Response {
    if response.extensions().get::<NoCors>().is_some() {
        let headers = response.headers_mut();
        headers.remove(header::ACCESS_CONTROL_ALLOW_ORIGIN);
        headers.remove(header::ACCESS_CONTROL_EXPOSE_HEADERS);
    }
    response
}

/// Refuses a request body that is not `application/json` (parameters such
/// as `charset` allowed): a declared length over zero, one sent in chunks,
/// or a body not known to be empty.
// tower-http's `ValidateRequest` signature: the refusal is the answer.
#[allow(clippy::result_large_err)]
fn json_bodies_only<B: HttpBody>(request: &mut Request<B>) -> Result<(), Response> {
    let headers = request.headers();
    let body = request.body();
    let declared_empty = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok())
        .is_none_or(|length| length == 0);
    let has_body = !declared_empty
        || headers.contains_key(header::TRANSFER_ENCODING)
        || !(body.is_end_stream() || body.size_hint().exact() == Some(0));
    if !has_body || is_json(headers) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
        "request bodies must be JSON sent as `Content-Type: application/json`",
    )
    .into_response())
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// The answer to a panicking handler: a bare 500, which
/// [`api_error_answers`] turns into the API's `INTERNAL_ERROR`.
fn panic_answer(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    tracing::error!(panic = message, "a request handler panicked");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

/// Counts and times every answer by route template (`GET /metrics`). Our
/// own: tower-http has no per-route metrics.
#[derive(Clone, Debug)]
struct HttpMetricsLayer {
    metrics: Arc<Metrics>,
}

impl<S> Layer<S> for HttpMetricsLayer {
    type Service = HttpMetrics<S>;

    fn layer(&self, inner: S) -> HttpMetrics<S> {
        HttpMetrics {
            inner,
            metrics: Arc::clone(&self.metrics),
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct HttpMetrics<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S> Service<Request> for HttpMetrics<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ObservedAnswer<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        ObservedAnswer {
            started: Instant::now(),
            method: method_label(request.method()),
            // The route template (`/api/v1/blocks/{height}`), never the raw path.
            route: request.extensions().get::<MatchedPath>().cloned(),
            metrics: Arc::clone(&self.metrics),
            inner: self.inner.call(request),
        }
    }
}

/// The answer of [`HttpMetrics`], counted when it is ready.
#[derive(Debug)]
pub(super) struct ObservedAnswer<F> {
    inner: F,
    started: Instant,
    method: &'static str,
    route: Option<MatchedPath>,
    metrics: Arc<Metrics>,
}

impl<F> Future for ObservedAnswer<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Ok(response) = ready!(Pin::new(&mut this.inner).poll(cx));
        this.metrics.observe_http(
            this.method,
            this.route.as_ref().map(MatchedPath::as_str),
            response.status(),
            this.started.elapsed(),
        );
        Poll::Ready(Ok(response))
    }
}

/// The per-client rate limit, with its `X-RateLimit-*` headers on every
/// answer to a limited client; a holder of the node's own token (the
/// operator) is not limited, a loopback address alone is no one. Our own:
/// tower's `RateLimit` is one budget for all clients, and sets no headers.
#[derive(Clone, Debug)]
struct RateLimitLayer {
    shared: Arc<RateLimitShared>,
}

#[derive(Debug)]
struct RateLimitShared {
    limiter: Arc<RateLimiter>,
    operator_tokens: Vec<Arc<str>>,
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimit<S>;

    fn layer(&self, inner: S) -> RateLimit<S> {
        RateLimit {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct RateLimit<S> {
    inner: S,
    shared: Arc<RateLimitShared>,
}

impl<S, B> Service<Request<B>> for RateLimit<S>
where
    S: Service<Request<B>, Response = Response, Error = Infallible>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = Infallible;
    type Future = LimitedAnswer<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let operator = bearer_token(request.headers()).is_some_and(|presented| {
            self.shared
                .operator_tokens
                .iter()
                .any(|token| tokens_match(presented, token))
        });
        let verdict = client_ip_of(request.extensions())
            .filter(|_| !operator)
            .and_then(|ip| self.shared.limiter.check(ip, Instant::now()));
        if let Some(verdict) = verdict.filter(|verdict| !verdict.allowed) {
            let mut refusal = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                format!("too many requests; try again in {} s", verdict.reset),
            )
            .into_response();
            verdict.add_headers(&mut refusal);
            return LimitedAnswer::Refused(Some(refusal));
        }
        LimitedAnswer::Counted {
            inner: self.inner.call(request),
            verdict,
        }
    }
}

/// The answer of [`RateLimit`].
#[derive(Debug)]
pub(super) enum LimitedAnswer<F> {
    /// Over the limit (taken when polled).
    Refused(Option<Response>),
    /// Passed on, with the count when the client is limited.
    Counted { inner: F, verdict: Option<Verdict> },
}

impl<F> Future for LimitedAnswer<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            LimitedAnswer::Refused(refusal) => Poll::Ready(Ok(refusal
                .take()
                .expect("a finished answer is not polled again"))),
            LimitedAnswer::Counted { inner, verdict } => {
                let Ok(mut response) = ready!(Pin::new(inner).poll(cx));
                if let Some(verdict) = verdict {
                    verdict.add_headers(&mut response);
                }
                Poll::Ready(Ok(response))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    fn stack(router: Router) -> Router {
        with_front_door(
            router,
            FrontDoor {
                metrics: Arc::default(),
                limiter: Arc::new(RateLimiter::new(0)),
                allowed_hosts: Vec::new(),
                operator_tokens: Vec::new(),
            },
        )
    }

    async fn error_code(answer: Response) -> serde_json::Value {
        assert_eq!(
            answer.headers()[header::CONTENT_TYPE],
            "application/json",
            "{answer:?}"
        );
        let body = axum::body::to_bytes(answer.into_body(), 4096)
            .await
            .expect("a body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(body["error"], true);
        body["code"].clone()
    }

    /// The answer of a route that waits `delay` (zero: yields once, so that
    /// its first poll is pending) under a `limit` timeout, as api.rs sets it.
    async fn answer_after(delay: Duration, limit: Duration) -> Response {
        let router = Router::new()
            .route(
                "/",
                get(move || async move {
                    if delay.is_zero() {
                        tokio::task::yield_now().await;
                    } else {
                        tokio::time::sleep(delay).await;
                    }
                    "done"
                }),
            )
            .layer(super::super::timeout(limit));
        let request = Request::get("/").body(Body::empty()).expect("a request");
        stack(router).oneshot(request).await.expect("infallible")
    }

    #[tokio::test]
    async fn a_slow_answer_becomes_a_json_408() {
        let answer = answer_after(Duration::from_secs(600), Duration::from_millis(10)).await;
        assert_eq!(answer.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(answer.headers()["access-control-allow-origin"], "*");
        assert_eq!(error_code(answer).await, "REQUEST_TIMEOUT");
    }

    #[tokio::test]
    async fn a_pending_answer_in_time_passes() {
        let answer = answer_after(Duration::ZERO, Duration::from_secs(600)).await;
        assert_eq!(answer.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_json_500_and_the_next_request_is_served() {
        let router = stack(Router::new().route(
            "/",
            get(|| async {
                "not a number"
                    .parse::<u32>()
                    .map(|_| "parsed")
                    .expect("a bug: this handler panics")
            }),
        ));
        for _ in 0..2 {
            let request = Request::get("/").body(Body::empty()).expect("a request");
            let answer = router.clone().oneshot(request).await.expect("infallible");
            assert_eq!(answer.status(), StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
            assert_eq!(error_code(answer).await, "INTERNAL_ERROR");
        }
    }

    #[tokio::test]
    async fn a_declared_body_over_the_limit_is_a_json_413_with_cors() {
        let router = stack(Router::new().route("/", axum::routing::post(|| async { "read" })));
        let request = Request::post("/")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, BODY_LIMIT + 1)
            .body(Body::empty())
            .expect("a request");
        let answer = router.oneshot(request).await.expect("infallible");
        assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(answer.headers()["access-control-allow-origin"], "*");
        assert_eq!(error_code(answer).await, "PAYLOAD_TOO_LARGE");
    }

    #[test]
    fn host_names_are_compared_without_port_brackets_or_case() {
        let allowed = ["node.example".to_owned()];
        for host in [
            "127.0.0.1:8080",
            "[::1]:80",
            "localhost",
            "LOCALHOST.:3000",
            "app.localhost",
            "Node.Example:443",
        ] {
            assert!(host_allowed(host, &allowed), "{host}");
        }
        for host in [
            "",
            "[::1",
            "evil.example",
            "node.example.evil",
            "localhost.evil",
        ] {
            assert!(!host_allowed(host, &allowed), "{host}");
        }
    }
}
