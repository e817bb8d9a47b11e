//! The API's middleware: one hand-written tower layer around every route
//! that does, per request,
//!
//! - the `Host` check: a request for a host name the node does not answer
//!   for (an IP address, `localhost`, `--allowed-host`) is refused, which
//!   defeats DNS rebinding;
//! - CORS for the web app (any origin; `GET`, `POST`, `DELETE`; the
//!   `Content-Type` and `Authorization` headers; the `X-RateLimit-*`
//!   headers exposed), except on the answers of protected routes
//!   ([`super::auth::NoCors`]): a preflight (`OPTIONS`) is answered here;
//! - a request body must be `application/json` (415 otherwise), so a
//!   "simple" cross-site form or `no-cors` fetch never reaches a handler;
//! - the body limit: a declared body over [`BODY_LIMIT`] is refused with the
//!   API's 413, a body of unknown length is cut at the limit (the extractor
//!   that reads it answers 413);
//! - the per-client rate limit, with its `X-RateLimit-*` headers (a holder
//!   of the node's own token, the operator, is not limited; a loopback
//!   address alone is no one);
//! - `X-Content-Type-Options: nosniff` on every answer;
//! - the HTTP metrics: every answer counted and timed by route template.
//!
//! One layer holding one `Arc`, and a future that is not boxed: axum copies
//! the middleware of a route for every request, so this is what the API's
//! busiest routes pay on top of their handler.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::body::{Body, HttpBody};
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use http_body_util::Limited;
use tower::{Layer, Service};

use super::BODY_LIMIT;
use super::auth::{NoCors, bearer_token, tokens_match};
use super::error::ApiError;
use super::extract::client_ip_of;
use super::rate_limit::{RateLimiter, Verdict};
use crate::metrics::{Metrics, method_label};

/// `Access-Control-Allow-Methods` of a preflight answer.
const ALLOWED_METHODS: HeaderValue = HeaderValue::from_static("GET,POST,DELETE");
/// `Access-Control-Allow-Headers` of a preflight answer.
const ALLOWED_HEADERS: HeaderValue = HeaderValue::from_static("content-type,authorization");
/// `Access-Control-Expose-Headers` of every other answer: the web app reads the rate limit.
const EXPOSED_HEADERS: HeaderValue =
    HeaderValue::from_static("x-ratelimit-limit,x-ratelimit-remaining,x-ratelimit-reset");

/// The layer: see the module documentation.
#[derive(Clone, Debug)]
pub(super) struct FrontDoorLayer {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    metrics: Arc<Metrics>,
    limiter: Arc<RateLimiter>,
    /// `--allowed-host` names (lower case).
    allowed_hosts: Vec<String>,
    /// The node's own bearer tokens (the API cookie's, `--api-token`):
    /// their holder is the operator, whom the rate limit spares.
    operator_tokens: Vec<Arc<str>>,
}

impl FrontDoorLayer {
    pub(super) fn new(
        metrics: Arc<Metrics>,
        limiter: Arc<RateLimiter>,
        allowed_hosts: Vec<String>,
        operator_tokens: Vec<Arc<str>>,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                metrics,
                limiter,
                allowed_hosts,
                operator_tokens,
            }),
        }
    }
}

impl<S> Layer<S> for FrontDoorLayer {
    type Service = FrontDoor<S>;

    fn layer(&self, inner: S) -> FrontDoor<S> {
        FrontDoor {
            inner,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// The service of [`FrontDoorLayer`].
#[derive(Clone, Debug)]
pub(super) struct FrontDoor<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Service<Request> for FrontDoor<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let method = method_label(request.method());
        // The route template (`/api/v1/blocks/{height}`), never the raw path.
        let route = request.extensions().get::<MatchedPath>().cloned();
        let outcome = self.admit(request);
        Answer {
            outcome,
            started,
            method,
            route,
            metrics: Arc::clone(&self.shared.metrics),
        }
    }
}

impl<S> FrontDoor<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    /// Answers here (preflight, too large, rate limited) or passes the request on.
    fn admit(&mut self, request: Request) -> Outcome<S::Future> {
        if !host_allowed(&request, &self.shared.allowed_hosts) {
            return Outcome::Answered(Some(
                ApiError::new(
                    StatusCode::FORBIDDEN,
                    "HOST_NOT_ALLOWED",
                    "this node does not answer for that host name; \
                     its operator can add it with --allowed-host",
                )
                .into_response(),
            ));
        }
        if request.method() == Method::OPTIONS {
            return Outcome::Answered(Some(preflight()));
        }
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
        if declared.is_some_and(|length| length > BODY_LIMIT as u64) {
            let mut refusal = ApiError::payload_too_large().into_response();
            add_cors_headers(refusal.headers_mut());
            return Outcome::Answered(Some(refusal));
        }
        if has_body(&request, declared) && !is_json(request.headers()) {
            let mut refusal = ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "request bodies must be JSON sent as `Content-Type: application/json`",
            )
            .into_response();
            add_cors_headers(refusal.headers_mut());
            return Outcome::Answered(Some(refusal));
        }
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
            add_cors_headers(refusal.headers_mut());
            return Outcome::Answered(Some(refusal));
        }
        Outcome::Forwarded {
            inner: self.inner.call(limit_body(request)),
            verdict,
        }
    }
}

/// Whether the request's host (the `Host` header, else the URI's) is one
/// the node answers for: an IP address (DNS rebinding needs a name),
/// `localhost` or a name under it, or an `--allowed-host` name. A request
/// naming no host (HTTP/1.0 tools) is let through: browsers always name one.
fn host_allowed(request: &Request, allowed: &[String]) -> bool {
    let host = match request.headers().get(header::HOST) {
        Some(value) => match value.to_str() {
            Ok(host) => host,
            Err(_) => return false,
        },
        None => match request.uri().host() {
            Some(host) => host,
            None => return true,
        },
    };
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

/// Whether a request carries a body: a declared length over zero, one sent
/// in chunks, or a body not known to be empty.
fn has_body(request: &Request, declared: Option<u64>) -> bool {
    let body = request.body();
    declared.is_some_and(|length| length > 0)
        || request.headers().contains_key(header::TRANSFER_ENCODING)
        || !(body.is_end_stream() || body.size_hint().exact() == Some(0))
}

/// Whether `Content-Type` is `application/json` (parameters such as
/// `charset` allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// Cuts a body of unknown length at [`BODY_LIMIT`]. A body of known length
/// under the limit (most requests: none at all) is left as it is, and one
/// over it was refused already if its length was declared.
fn limit_body(request: Request) -> Request {
    match request.body().size_hint().exact() {
        Some(length) if length <= BODY_LIMIT as u64 => request,
        _ => request.map(|body| Body::new(Limited::new(body, BODY_LIMIT))),
    }
}

/// The answer to a CORS preflight request.
fn preflight() -> Response {
    let mut answer = Response::new(Body::empty());
    let headers = answer.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS);
    headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS);
    answer
}

/// The CORS headers of an answer to anything but a preflight.
fn add_cors_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED_HEADERS);
}

/// What [`FrontDoor`] did with a request.
#[derive(Debug)]
enum Outcome<F> {
    /// Answered here (taken when ready).
    Answered(Option<Response>),
    /// Passed on, with the rate limit's count when the client is limited.
    Forwarded { inner: F, verdict: Option<Verdict> },
}

/// The answer of [`FrontDoor`], counted in the metrics when it is ready.
#[derive(Debug)]
pub(super) struct Answer<F> {
    outcome: Outcome<F>,
    started: Instant,
    method: &'static str,
    route: Option<MatchedPath>,
    metrics: Arc<Metrics>,
}

impl<F> Future for Answer<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut response = match &mut this.outcome {
            Outcome::Answered(answer) => answer
                .take()
                .expect("a finished answer is not polled again"),
            Outcome::Forwarded { inner, verdict } => {
                let Ok(mut response) = ready!(Pin::new(inner).poll(cx));
                if let Some(verdict) = verdict {
                    verdict.add_headers(&mut response);
                }
                if response.extensions().get::<NoCors>().is_none() {
                    add_cors_headers(response.headers_mut());
                }
                response
            }
        };
        response.headers_mut().insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        this.metrics.observe_http(
            this.method,
            this.route.as_ref().map(MatchedPath::as_str),
            response.status(),
            this.started.elapsed(),
        );
        Poll::Ready(Ok(response))
    }
}
