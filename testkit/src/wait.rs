//! Waiting for something to happen, by polling.

use std::time::{Duration, Instant};

/// How often a condition is polled.
const POLL_EVERY: Duration = Duration::from_millis(50);

/// Polls `done` until it holds; after `timeout`, panics saying what was
/// awaited, followed by `explain()` (e.g. the tail of a node's log).
#[track_caller]
pub fn wait_until(
    what: &str,
    timeout: Duration,
    explain: impl FnOnce() -> String,
    mut done: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + timeout;
    while !done() {
        if Instant::now() > deadline {
            panic!(
                "timed out after {timeout:?} waiting for {what}{}",
                explain()
            );
        }
        std::thread::sleep(POLL_EVERY);
    }
}

/// [`wait_until`] for async conditions, sleeping on tokio's clock.
pub async fn wait_until_async<F, Fut>(what: &str, timeout: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(POLL_EVERY).await;
    }
}
