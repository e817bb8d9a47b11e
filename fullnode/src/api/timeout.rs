//! The request timeout: an answer that is not ready by the deadline is
//! replaced with the API's 408 error.
//!
//! The timer is armed only when the handler's first poll is pending: most
//! answers (status, blocks from memory) are ready at once and never touch
//! the runtime's timer wheel.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};

use super::error::ApiError;

/// Answers 408 `REQUEST_TIMEOUT` when the inner service takes longer than its duration.
#[derive(Clone, Copy, Debug)]
pub(super) struct TimeoutLayer {
    duration: Duration,
}

impl TimeoutLayer {
    pub(super) fn new(duration: Duration) -> Self {
        Self { duration }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            duration: self.duration,
        }
    }
}

/// The service of [`TimeoutLayer`].
#[derive(Clone, Debug)]
pub(super) struct Timeout<S> {
    inner: S,
    duration: Duration,
}

impl<S> Service<Request> for Timeout<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Unpin,
{
    type Response = Response;
    type Error = Infallible;
    type Future = TimedAnswer<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        TimedAnswer {
            deadline: Instant::now() + self.duration,
            timer: None,
            inner: self.inner.call(request),
        }
    }
}

/// The inner answer, raced against the deadline once it is pending.
#[derive(Debug)]
pub(super) struct TimedAnswer<F> {
    inner: F,
    deadline: Instant,
    timer: Option<Pin<Box<Sleep>>>,
}

impl<F> Future for TimedAnswer<F>
where
    F: Future<Output = Result<Response, Infallible>> + Unpin,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Poll::Ready(answer) = Pin::new(&mut this.inner).poll(cx) {
            return Poll::Ready(answer);
        }
        let deadline = this.deadline;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Ok(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "REQUEST_TIMEOUT",
                "the request took too long",
            )
            .into_response())),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// The answer of a route that waits `delay` (zero: yields once, so that
    /// its first poll is pending) under a `limit` timeout.
    async fn answer_after(delay: Duration, limit: Duration) -> Response {
        let router = axum::Router::new()
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
            .layer(TimeoutLayer::new(limit));
        let request = Request::builder()
            .uri("/")
            .body(Body::empty())
            .expect("a valid request");
        router.oneshot(request).await.expect("infallible")
    }

    #[tokio::test]
    async fn a_slow_answer_becomes_a_json_408() {
        let answer = answer_after(Duration::from_secs(600), Duration::from_millis(10)).await;
        assert_eq!(answer.status(), StatusCode::REQUEST_TIMEOUT);
        let body = axum::body::to_bytes(answer.into_body(), 4096)
            .await
            .expect("a body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(body["code"], "REQUEST_TIMEOUT");
    }

    #[tokio::test]
    async fn a_pending_answer_in_time_passes() {
        let answer = answer_after(Duration::ZERO, Duration::from_secs(600)).await;
        assert_eq!(answer.status(), StatusCode::OK);
    }
}
