//! Each subscriber's bounded delivery queue and the worker that empties it,
//! in order, retrying a failed delivery with exponential backoff.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::sync::Notify;

use super::WebhookEvent;
use super::http::post_json;
use super::url::WebhookUrl;
use crate::storage::Storage;

/// Most deliveries waiting per subscriber; beyond it the oldest is dropped.
pub const QUEUE_CAPACITY: usize = 1000;
/// Wait after the first failed attempt.
pub const FIRST_RETRY_DELAY: Duration = Duration::from_millis(500);
/// Longest wait between attempts.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// One event, ready to send: the same body goes to every subscriber.
#[derive(Debug)]
pub(super) struct Delivery {
    /// Random, the same for every subscriber and every attempt, so a
    /// receiver can drop a repeat (`X-Webhook-Delivery`).
    pub(super) id: String,
    /// Queue order, increasing across restarts (the outbox's `seq`).
    pub(super) seq: u64,
    pub(super) event: WebhookEvent,
    /// `{"event", "data", "timestamp"}`.
    pub(super) body: Bytes,
}

/// A subscriber's waiting deliveries, oldest first.
#[derive(Debug, Default)]
pub(super) struct DeliveryQueue {
    waiting: Mutex<VecDeque<Arc<Delivery>>>,
    dropped: AtomicU64,
    pushed: Notify,
}

impl DeliveryQueue {
    /// Adds a delivery, dropping the oldest when full (counted, and
    /// returned so that the caller forgets it in the outbox too).
    pub(super) fn push(&self, delivery: Arc<Delivery>) -> Option<Arc<Delivery>> {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        let dropped = if waiting.len() >= QUEUE_CAPACITY {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            waiting.pop_front()
        } else {
            None
        };
        waiting.push_back(delivery);
        drop(waiting);
        self.pushed.notify_one();
        dropped
    }

    /// Deliveries waiting.
    pub(super) fn len(&self) -> usize {
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Deliveries dropped because the queue was full.
    pub(super) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The oldest delivery, once there is one.
    async fn oldest(&self) -> Arc<Delivery> {
        loop {
            if let Some(oldest) = self
                .waiting
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .front()
            {
                return Arc::clone(oldest);
            }
            // A push between the check and here leaves a permit: no lost wake-up.
            self.pushed.notified().await;
        }
    }

    /// Removes `delivery` if it is still the oldest (a full queue may have
    /// dropped it meanwhile).
    fn remove_delivered(&self, delivery: &Arc<Delivery>) {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if waiting
            .front()
            .is_some_and(|oldest| Arc::ptr_eq(oldest, delivery))
        {
            waiting.pop_front();
        }
    }
}

/// Where a subscriber's deliveries go and how they are signed.
#[derive(Clone)]
pub(super) struct Target {
    pub(super) subscription_id: String,
    pub(super) url: WebhookUrl,
    pub(super) secret: String,
    /// The HTTP client (shared by every subscriber).
    pub(super) client: reqwest::Client,
    /// Where the outbox lives: a sent delivery is removed from it.
    pub(super) storage: Arc<dyn Storage>,
}

/// `X-Signature`: lowercase hex of HMAC-SHA256 of `body` keyed with `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Delivers `queue`'s deliveries to `target` one at a time, oldest first,
/// forever (the task is aborted when the subscription goes). A delivery
/// is done when the receiver answers 2xx; otherwise it is tried again
/// after a delay that starts at [`FIRST_RETRY_DELAY`] and doubles up to
/// [`MAX_RETRY_DELAY`], for as long as it is in the queue.
pub(super) async fn deliver(target: Target, queue: Arc<DeliveryQueue>) {
    let mut delay = FIRST_RETRY_DELAY;
    let mut attempts = 0u32;
    loop {
        let delivery = queue.oldest().await;
        let headers = [
            ("x-signature", signature(&target.secret, &delivery.body)),
            ("x-webhook-event", delivery.event.as_str().to_owned()),
            ("x-webhook-id", target.subscription_id.clone()),
            ("x-webhook-delivery", delivery.id.clone()),
        ];
        attempts += 1;
        let failure =
            match post_json(&target.client, &target.url, &headers, delivery.body.clone()).await {
                Ok(status) if status.is_success() => None,
                Ok(status) => Some(format!("answered {status}")),
                Err(error) => Some(error.to_string()),
            };
        match failure {
            None => {
                // Out of the outbox first, then out of the queue: a queue
                // that shows it gone means the database forgot it too.
                // Should this fail, the delivery is sent again after a
                // restart: at least once, as promised.
                if let Err(error) = target
                    .storage
                    .remove_outbox(&target.subscription_id, &delivery.id)
                    .await
                {
                    tracing::warn!(webhook = %target.subscription_id, delivery = %delivery.id, %error, "could not remove a sent delivery from the outbox");
                }
                queue.remove_delivered(&delivery);
                delay = FIRST_RETRY_DELAY;
                attempts = 0;
            }
            Some(reason) => {
                tracing::warn!(
                    webhook = %target.subscription_id,
                    url = %target.url,
                    delivery = %delivery.id,
                    attempts,
                    retry_in_ms = delay.as_millis() as u64,
                    %reason,
                    "webhook delivery failed"
                );
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(MAX_RETRY_DELAY);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(id: usize) -> Arc<Delivery> {
        Arc::new(Delivery {
            id: id.to_string(),
            seq: id as u64,
            event: WebhookEvent::NewBlock,
            body: Bytes::from(format!("{{\"n\":{id}}}")),
        })
    }

    #[tokio::test]
    async fn a_full_queue_drops_the_oldest_and_counts_it() {
        let queue = DeliveryQueue::default();
        let mut dropped = Vec::new();
        for id in 0..QUEUE_CAPACITY + 3 {
            dropped.extend(queue.push(delivery(id)));
        }
        let dropped: Vec<&str> = dropped
            .iter()
            .map(|delivery| delivery.id.as_str())
            .collect();
        assert_eq!(dropped, ["0", "1", "2"], "the oldest, handed back");
        assert_eq!(queue.len(), QUEUE_CAPACITY);
        assert_eq!(queue.dropped(), 3);
        assert_eq!(queue.oldest().await.id, "3");
    }

    #[tokio::test]
    async fn only_the_delivery_sent_is_removed() {
        let queue = DeliveryQueue::default();
        queue.push(delivery(0));
        let sent = queue.oldest().await;
        // While it was being sent, a full queue dropped it.
        for id in 1..=QUEUE_CAPACITY {
            queue.push(delivery(id));
        }
        queue.remove_delivered(&sent);
        assert_eq!(queue.len(), QUEUE_CAPACITY);
        assert_eq!(queue.oldest().await.id, "1");
        let next = queue.oldest().await;
        queue.remove_delivered(&next);
        assert_eq!(queue.oldest().await.id, "2");
    }

    #[tokio::test]
    async fn a_waiting_worker_wakes_on_push() {
        let queue = Arc::new(DeliveryQueue::default());
        let waiter = tokio::spawn({
            let queue = Arc::clone(&queue);
            async move { queue.oldest().await.id.clone() }
        });
        tokio::task::yield_now().await;
        queue.push(delivery(7));
        assert_eq!(waiter.await.expect("joins"), "7");
    }

    /// RFC 4231 test case 2.
    #[test]
    fn signature_is_hex_hmac_sha256() {
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
