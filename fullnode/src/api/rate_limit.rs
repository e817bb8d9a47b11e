//! Per-client rate limit: a fixed one-minute window per client, with
//! X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset (seconds
//! until the window ends) on every answer. A client is an IPv4 address or an
//! IPv6 /64 (one host commonly holds a whole /64, so its addresses are one
//! client). Memory is bounded without scanning: windows live in two
//! generations that swap every minute, and once the current one is full,
//! new clients share one window until the next swap.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;

const WINDOW: Duration = Duration::from_secs(60);
/// Clients tracked in one generation at most.
const MAX_CLIENTS: usize = 100_000;

/// One client of the API: an IPv4 address, or the first 64 bits of an IPv6
/// address (one host commonly holds a whole /64). Shared with the password
/// limit (api/password_limit.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ClientGroup {
    V4(u32),
    V6(u64),
}

impl ClientGroup {
    pub(crate) fn of(ip: IpAddr) -> ClientGroup {
        match ip.to_canonical() {
            IpAddr::V4(v4) => ClientGroup::V4(u32::from(v4)),
            IpAddr::V6(v6) => ClientGroup::V6((u128::from(v6) >> 64) as u64),
        }
    }
}

/// Who is counted together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Client {
    Group(ClientGroup),
    /// Every new client once the table is full.
    Overflow,
}

/// A client's window: when it began, requests counted in it.
type Window = (Instant, u32);

#[derive(Debug)]
struct Windows {
    current: HashMap<Client, Window>,
    previous: HashMap<Client, Window>,
    swapped: Instant,
}

/// Request counters per client.
#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    windows: Mutex<Windows>,
    max_clients: usize,
}

impl RateLimiter {
    /// `limit` requests per minute (0: unlimited).
    pub fn new(limit: u32) -> Self {
        Self::with_capacity(limit, MAX_CLIENTS)
    }

    fn with_capacity(limit: u32, max_clients: usize) -> Self {
        Self {
            limit,
            windows: Mutex::new(Windows {
                current: HashMap::new(),
                previous: HashMap::new(),
                swapped: Instant::now(),
            }),
            max_clients,
        }
    }

    /// Counts a request: (allowed, remaining, seconds to reset).
    fn hit(&self, ip: IpAddr, now: Instant) -> (bool, u32, u64) {
        let mut windows = self
            .windows
            .lock()
            .expect("rate limiter lock is never poisoned");
        if now.saturating_duration_since(windows.swapped) >= WINDOW {
            // Every window in `previous` began over a minute ago: done.
            windows.previous = std::mem::take(&mut windows.current);
            windows.swapped = now;
        }
        let mut client = Client::Group(ClientGroup::of(ip));
        if !windows.current.contains_key(&client) {
            let carried = windows.previous.remove(&client);
            if windows.current.len() >= self.max_clients {
                client = Client::Overflow;
            } else if let Some(window) = carried {
                windows.current.insert(client, window);
            }
        }
        let (start, count) = windows.current.entry(client).or_insert((now, 0));
        if now.saturating_duration_since(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        let reset = WINDOW
            .saturating_sub(now.saturating_duration_since(*start))
            .as_secs()
            .max(1);
        if *count >= self.limit {
            return (false, 0, reset);
        }
        *count += 1;
        (true, self.limit - *count, reset)
    }

    /// Clients tracked now (both generations).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        let windows = self.windows.lock().expect("not poisoned");
        windows.current.len() + windows.previous.len()
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

pub(super) const LIMIT_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-limit");
pub(super) const REMAINING_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-remaining");
pub(super) const RESET_HEADER: HeaderName = HeaderName::from_static("x-ratelimit-reset");

impl RateLimiter {
    /// Counts a request from `ip`; None when no limit is configured. A
    /// loopback caller is counted like any other: behind a reverse proxy on
    /// the same host, every client is loopback.
    pub(super) fn check(&self, ip: IpAddr, now: Instant) -> Option<Verdict> {
        if self.limit == 0 {
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
        let limiter = RateLimiter::new(2);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let start = Instant::now();
        assert!(limiter.hit(ip, start).0);
        assert_eq!(limiter.hit(ip, start).1, 0);
        assert!(!limiter.hit(ip, start).0);
        assert!(limiter.hit(ip, start + WINDOW).0);
    }

    #[test]
    fn a_thousand_addresses_of_one_ipv6_64_share_one_limit() {
        let limiter = RateLimiter::new(100);
        let start = Instant::now();
        let allowed = (0..1000u128)
            .map(|host| {
                let ip = IpAddr::V6((0x2001_0db8_0000_0001u128 << 64 | host).into());
                limiter.hit(ip, start).0
            })
            .filter(|allowed| *allowed)
            .count();
        assert_eq!(allowed, 100);
        // Another /64 has a limit of its own; IPv4 addresses are one each.
        let other = IpAddr::V6((0x2001_0db8_0000_0002u128 << 64 | 1).into());
        assert!(limiter.hit(other, start).0);
        assert!(limiter.hit([10, 0, 0, 1].into(), start).0);
        assert!(limiter.hit([10, 0, 0, 2].into(), start).0);
        // An IPv4-mapped IPv6 address is its IPv4 client.
        let mapped = IpAddr::V6(std::net::Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped());
        assert_eq!(limiter.hit(mapped, start).1, 98);
    }

    #[test]
    fn memory_stays_bounded_and_windows_outlive_a_generation_swap() {
        let limiter = RateLimiter::with_capacity(3, 50);
        let start = Instant::now();
        for host in 0..10_000u32 {
            limiter.hit(IpAddr::V4(host.into()), start);
        }
        assert_eq!(limiter.tracked(), 51, "50 clients and the shared overflow");
        // New clients beyond the table share one window: three requests in all.
        let overflowed = (20_000..20_010u32)
            .filter(|host| limiter.hit(IpAddr::V4((*host).into()), start).0)
            .count();
        assert_eq!(
            overflowed, 0,
            "the overflow window was used up by the flood"
        );
        // A window begun just before a swap keeps its count after it.
        let late = start + WINDOW - Duration::from_secs(1);
        let ip: IpAddr = [192, 0, 2, 1].into();
        let fresh = RateLimiter::with_capacity(3, 50);
        fresh.hit([192, 0, 2, 9].into(), start);
        assert!(fresh.hit(ip, late).0);
        assert!(fresh.hit(ip, late).0);
        let after_swap = start + WINDOW + Duration::from_secs(1);
        assert_eq!(fresh.hit(ip, after_swap), (true, 0, 58));
        assert!(!fresh.hit(ip, after_swap).0);
        // Minutes on: the last generation and the new one, nothing older.
        fresh.hit([192, 0, 2, 10].into(), start + WINDOW * 3);
        fresh.hit([192, 0, 2, 11].into(), start + WINDOW * 5);
        assert_eq!(fresh.tracked(), 2);
    }

    #[test]
    fn loopback_is_counted_like_anyone_and_zero_means_unlimited() {
        let start = Instant::now();
        let loopback: IpAddr = [127, 0, 0, 1].into();
        let counted = RateLimiter::new(5).check(loopback, start).expect("counted");
        assert!(counted.allowed);
        assert_eq!((counted.limit, counted.remaining), (5, 4));
        assert_eq!(RateLimiter::new(0).check([10, 0, 0, 1].into(), start), None);
    }
}
