//! Per-client rate limit: a fixed one-minute window per IP address, with
//! X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (seconds
//! until the window ends) on every answer.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;

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

/// What the rate limit says about one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Verdict {
    /// Within the limit.
    pub(super) allowed: bool,
    /// Requests per window.
    limit: u32,
    /// Requests left in this window.
    remaining: u32,
    /// Seconds until the window ends.
    pub(super) reset: u64,
}

impl Verdict {
    /// Adds X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset.
    pub(super) fn add_headers(&self, response: &mut Response) {
        let headers = response.headers_mut();
        headers.insert(LIMIT_HEADER, HeaderValue::from(self.limit));
        headers.insert(REMAINING_HEADER, HeaderValue::from(self.remaining));
        headers.insert(RESET_HEADER, HeaderValue::from(self.reset));
    }
}

const LIMIT_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-limit");
const REMAINING_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
const RESET_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-reset");

impl RateLimiter {
    /// Counts a request from `ip`; None when `ip` is not limited (no limit
    /// configured, or a loopback caller while loopback is spared).
    pub(super) fn check(&self, ip: IpAddr, now: Instant) -> Option<Verdict> {
        if self.limit == 0 || (ip.is_loopback() && !self.include_loopback) {
            return None;
        }
        let (allowed, remaining, reset) = self.hit(ip, now);
        Some(Verdict {
            allowed,
            limit: self.limit,
            remaining,
            reset,
        })
    }
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

    #[test]
    fn loopback_is_spared_unless_included_and_zero_means_unlimited() {
        let start = Instant::now();
        let loopback: IpAddr = [127, 0, 0, 1].into();
        assert_eq!(RateLimiter::new(5, false).check(loopback, start), None);
        let counted = RateLimiter::new(5, true)
            .check(loopback, start)
            .expect("counted");
        assert!(counted.allowed);
        assert_eq!((counted.limit, counted.remaining), (5, 4));
        assert_eq!(
            RateLimiter::new(0, true).check([10, 0, 0, 1].into(), start),
            None
        );
    }
}
