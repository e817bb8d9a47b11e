//! Per-client rate limit: a fixed one-minute window per IP address, with
//! X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (seconds
//! until the window ends) on every answer.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use super::extract::client_ip;

const WINDOW: Duration = Duration::from_secs(60);
/// Clients tracked at most; the oldest windows are dropped beyond this.
const MAX_CLIENTS: usize = 100_000;

/// Request counters per client address.
#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    include_loopback: bool,
    windows: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl RateLimiter {
    /// `limit` requests per minute (0: unlimited).
    pub fn new(limit: u32, include_loopback: bool) -> Self {
        Self {
            limit,
            include_loopback,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a request: (allowed, remaining, seconds to reset).
    fn hit(&self, ip: IpAddr, now: Instant) -> (bool, u32, u64) {
        let mut windows = self
            .windows
            .lock()
            .expect("rate limiter lock is never poisoned");
        if windows.len() >= MAX_CLIENTS {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let (start, count) = windows.entry(ip).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        let reset = WINDOW
            .saturating_sub(now.duration_since(*start))
            .as_secs()
            .max(1);
        if *count >= self.limit {
            return (false, 0, reset);
        }
        *count += 1;
        (true, self.limit - *count, reset)
    }
}

pub(super) async fn limit(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let limiter = &state.rate_limiter;
    let ip = client_ip(&mut request).await;
    let Some(ip) =
        ip.filter(|ip| limiter.limit > 0 && (limiter.include_loopback || !ip.is_loopback()))
    else {
        return next.run(request).await;
    };
    let (allowed, remaining, reset) = limiter.hit(ip, Instant::now());
    let mut response = if allowed {
        next.run(request).await
    } else {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            format!("too many requests; try again in {reset} s"),
        )
        .into_response()
    };
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(limiter.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
    headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_the_limit_then_refuses_until_it_ends() {
        let limiter = RateLimiter::new(2, true);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let start = Instant::now();
        assert!(limiter.hit(ip, start).0);
        assert_eq!(limiter.hit(ip, start).1, 0);
        assert!(!limiter.hit(ip, start).0);
        assert!(limiter.hit(ip, start + WINDOW).0);
    }
}
