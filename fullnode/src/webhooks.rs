//! Webhooks: operators subscribe a URL to chain events (`new_block`,
//! `new_transaction`, `reorg`); each event is POSTed to it as JSON signed
//! with the subscriber's secret.
//!
//! Subscriptions live in the database and are resumed on start. Each one
//! has an in-memory queue of at most [`QUEUE_CAPACITY`] deliveries (when
//! full, the oldest is dropped and counted) and a worker that sends them in
//! order, one at a time, retrying a failed one with exponential backoff
//! (from [`FIRST_RETRY_DELAY`], doubling, capped at [`MAX_RETRY_DELAY`])
//! as long as it is queued. Delivery is at least once, across restarts: a
//! delivery is written to the database's outbox (`webhook_outbox`) before
//! it is queued and removed once its receiver answers 2xx, and the outbox is
//! queued again at start, so neither a clean stop nor a kill loses one
//! (a receiver may see a delivery twice: `X-Webhook-Delivery` names it).
//!
//! Deliveries go only to loopback URLs and to URLs under a prefix the
//! operator allows (`--webhook-allow`), through one `reqwest` client that
//! follows no redirect and uses no proxy. `https` URLs are reached over TLS
//! (rustls with ring), trusting the bundled Mozilla roots and the
//! operator's `--webhook-ca` certificates.

mod delivery;
mod http;
mod url;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use serde::Serialize;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

use crate::chain::{Chain, ChainEvent};
use crate::clock::now_ms;
use crate::config::Config;
use crate::storage::{OutboxEntry, Storage, StorageError, StoredWebhook};
use delivery::{Delivery, DeliveryQueue, Target};
pub use delivery::{FIRST_RETRY_DELAY, MAX_RETRY_DELAY, QUEUE_CAPACITY, signature};
use http::delivery_client;
pub use http::{ATTEMPT_TIMEOUT, CaError};
pub use url::{MAX_URL_LEN, UrlError, UrlPolicy, UrlPrefix, WebhookUrl};

/// Most subscriptions a node keeps.
pub const MAX_WEBHOOKS: usize = 100;
/// Shortest secret accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 16;
/// Longest secret accepted, in bytes.
pub const MAX_SECRET_LEN: usize = 256;

/// What a subscriber can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WebhookEvent {
    /// The best tip moved forward: `{hash, height}`.
    NewBlock,
    /// A transaction entered the mempool: `{txid}`.
    NewTransaction,
    /// The best chain switched branches: `{old_tip, new_tip, fork_height, height}`.
    Reorg,
}

impl WebhookEvent {
    /// Every event.
    pub const ALL: [WebhookEvent; 3] = [
        WebhookEvent::NewBlock,
        WebhookEvent::NewTransaction,
        WebhookEvent::Reorg,
    ];

    /// Its name in requests, bodies and `X-Webhook-Event`.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::NewBlock => "new_block",
            WebhookEvent::NewTransaction => "new_transaction",
            WebhookEvent::Reorg => "reorg",
        }
    }
}

/// A name that is no event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event {0:?} (expected new_block, new_transaction or reorg)")]
pub struct UnknownEventError(pub String);

impl FromStr for WebhookEvent {
    type Err = UnknownEventError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        WebhookEvent::ALL
            .into_iter()
            .find(|event| event.as_str() == name)
            .ok_or_else(|| UnknownEventError(name.to_owned()))
    }
}

/// A subscription as the API shows it (without its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Random id, 32 lowercase hex digits.
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// What it receives, in [`WebhookEvent::ALL`] order.
    pub events: Vec<WebhookEvent>,
    /// When it was made (ms since the Unix epoch).
    pub created_ms: u64,
    /// Deliveries waiting.
    pub queued: usize,
    /// Deliveries dropped because its queue was full.
    pub dropped: u64,
}

/// Why a subscription was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// The URL does not parse or breaks a rule.
    #[error("invalid webhook URL: {0}")]
    Url(#[from] UrlError),
    /// Neither loopback nor under an allowed prefix.
    #[error("{0} is neither a loopback URL nor under a prefix allowed by --webhook-allow")]
    NotAllowed(String),
    /// No events.
    #[error("subscribe to at least one event")]
    NoEvents,
    /// The secret is too short or too long.
    #[error("the secret must be {MIN_SECRET_LEN} to {MAX_SECRET_LEN} bytes")]
    Secret,
    /// [`MAX_WEBHOOKS`] subscriptions exist.
    #[error("this node keeps at most {MAX_WEBHOOKS} webhooks; delete one first")]
    TooMany,
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The webhook service could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// A `--webhook-allow` prefix is invalid.
    #[error("invalid --webhook-allow prefix: {0}")]
    Prefix(#[from] UrlError),
    /// The `--webhook-ca` file is unusable.
    #[error("invalid --webhook-ca: {0}")]
    Ca(#[from] CaError),
    /// reqwest refused the delivery client's settings.
    #[error("cannot build the webhook HTTP client: {0}")]
    Client(reqwest::Error),
    /// The subscriptions could not be loaded.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

struct Subscriber {
    subscription: Subscription,
    queue: Arc<DeliveryQueue>,
    /// None when the URL is no longer allowed: kept, listed, not delivered to.
    worker: Option<JoinHandle<()>>,
}

impl Subscriber {
    fn view(&self) -> Subscription {
        Subscription {
            queued: self.queue.len(),
            dropped: self.queue.dropped(),
            ..self.subscription.clone()
        }
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        if let Some(worker) = &self.worker {
            worker.abort();
        }
    }
}

type Subscribers = Arc<Mutex<HashMap<String, Subscriber>>>;

/// The running webhook service.
pub struct Webhooks {
    storage: Arc<dyn Storage>,
    policy: UrlPolicy,
    /// The HTTP client of every delivery.
    client: reqwest::Client,
    subscribers: Subscribers,
    /// Serializes registering and deleting (a database write, then the map).
    changes: tokio::sync::Mutex<()>,
    dispatcher: JoinHandle<()>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Drop for Webhooks {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Webhooks {
    /// Loads the stored subscriptions, starts their workers and listens to
    /// `chain`'s events.
    pub async fn start(chain: &Chain, config: &Config) -> Result<Arc<Webhooks>, StartError> {
        let policy = UrlPolicy::new(&config.webhook_allow)?;
        let client = delivery_client(config.webhook_ca.as_deref())?;
        // Subscribed before loading, so no event falls between the two.
        let events = chain.subscribe();
        let storage = Arc::clone(chain.storage());
        let outbox = storage.outbox().await?;
        let next_seq = outbox.iter().map(|entry| entry.seq + 1).max().unwrap_or(0);
        let mut waiting: HashMap<String, Vec<OutboxEntry>> = HashMap::new();
        for entry in outbox {
            waiting
                .entry(entry.webhook_id.clone())
                .or_default()
                .push(entry);
        }
        let mut subscribers = HashMap::new();
        let mut requeued = 0;
        for stored in storage.webhooks().await? {
            let subscriber = resume(stored, &policy, &client, &storage);
            for entry in waiting
                .remove(&subscriber.subscription.id)
                .unwrap_or_default()
            {
                let Some(delivery) = outbox_delivery(&entry) else {
                    continue;
                };
                requeued += 1;
                if let Some(dropped) = subscriber.queue.push(delivery) {
                    forget(&storage, &subscriber.subscription.id, &dropped).await;
                }
            }
            subscribers.insert(subscriber.subscription.id.clone(), subscriber);
        }
        if !subscribers.is_empty() {
            tracing::info!(count = subscribers.len(), requeued, "webhooks resumed");
        }
        let subscribers: Subscribers = Arc::new(Mutex::new(subscribers));
        let dispatcher = tokio::spawn(dispatch(
            events,
            Arc::clone(&subscribers),
            Arc::clone(&storage),
            next_seq,
        ));
        Ok(Arc::new(Webhooks {
            storage,
            policy,
            client,
            subscribers,
            changes: tokio::sync::Mutex::new(()),
            dispatcher,
        }))
    }

    /// Subscribes `url` to `events`, signing deliveries with `secret`.
    pub async fn register(
        &self,
        url: &str,
        events: &[WebhookEvent],
        secret: String,
    ) -> Result<Subscription, RegisterError> {
        let mut events = events.to_vec();
        events.sort_unstable();
        events.dedup();
        if events.is_empty() {
            return Err(RegisterError::NoEvents);
        }
        if !(MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&secret.len()) {
            return Err(RegisterError::Secret);
        }
        let url = WebhookUrl::parse(url)?;
        if !self.policy.allows(&url) {
            return Err(RegisterError::NotAllowed(url.to_string()));
        }
        let _changing = self.changes.lock().await;
        if self.lock().len() >= MAX_WEBHOOKS {
            return Err(RegisterError::TooMany);
        }
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).expect("the operating system's random source works");
        let stored = StoredWebhook {
            id: hex::encode(id),
            url: url.to_string(),
            events: events
                .iter()
                .map(|event| event.as_str().to_owned())
                .collect(),
            secret,
            created_ms: now_ms(),
        };
        self.storage.add_webhook(&stored).await?;
        let subscriber = resume(stored, &self.policy, &self.client, &self.storage);
        let subscription = subscriber.view();
        tracing::info!(id = %subscription.id, url = %subscription.url, events = ?subscription.events, "webhook registered");
        self.lock().insert(subscription.id.clone(), subscriber);
        Ok(subscription)
    }

    /// Every subscription, oldest first.
    pub fn list(&self) -> Vec<Subscription> {
        let mut list: Vec<Subscription> = self.lock().values().map(Subscriber::view).collect();
        list.sort_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        list
    }

    /// Ends a subscription (its queued deliveries are dropped); None when
    /// no subscription has that id.
    pub async fn delete(&self, id: &str) -> Result<Option<Subscription>, StorageError> {
        let _changing = self.changes.lock().await;
        if !self.storage.delete_webhook(id).await? {
            return Ok(None);
        }
        let removed = self.lock().remove(id);
        tracing::info!(%id, "webhook deleted");
        Ok(removed.map(|subscriber| subscriber.view()))
    }

    /// Stops delivering: the event listener and every worker end.
    pub fn stop(&self) {
        self.dispatcher.abort();
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Subscriber>> {
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A stored subscription, with its worker when its URL is allowed.
fn resume(
    stored: StoredWebhook,
    policy: &UrlPolicy,
    client: &reqwest::Client,
    storage: &Arc<dyn Storage>,
) -> Subscriber {
    let mut events: Vec<WebhookEvent> = stored
        .events
        .iter()
        .filter_map(|name| match name.parse() {
            Ok(event) => Some(event),
            Err(error) => {
                tracing::warn!(webhook = %stored.id, %error, "stored webhook names an unknown event; ignoring it");
                None
            }
        })
        .collect();
    events.sort_unstable();
    events.dedup();
    let queue = Arc::new(DeliveryQueue::default());
    let worker = match WebhookUrl::parse(&stored.url) {
        Ok(url) if policy.allows(&url) => {
            let target = Target {
                subscription_id: stored.id.clone(),
                url,
                secret: stored.secret,
                client: client.clone(),
                storage: Arc::clone(storage),
            };
            Some(tokio::spawn(delivery::deliver(target, Arc::clone(&queue))))
        }
        _ => {
            tracing::warn!(webhook = %stored.id, url = %stored.url, "webhook URL is not allowed by this configuration: not delivering to it (delete it or allow it with --webhook-allow)");
            None
        }
    };
    Subscriber {
        subscription: Subscription {
            id: stored.id,
            url: stored.url,
            events,
            created_ms: stored.created_ms,
            queued: 0,
            dropped: 0,
        },
        queue,
        worker,
    }
}

/// The body of a delivery.
#[derive(Serialize)]
struct DeliveryBody {
    event: &'static str,
    data: serde_json::Value,
    /// When the node saw the event (ms since the Unix epoch).
    timestamp: u64,
}

/// The event name and `data` of a chain event.
fn describe(event: &ChainEvent) -> (WebhookEvent, serde_json::Value) {
    match event {
        ChainEvent::NewTip { hash, height } => (
            WebhookEvent::NewBlock,
            serde_json::json!({ "hash": hash.to_string(), "height": height }),
        ),
        ChainEvent::NewTransaction { txid } => (
            WebhookEvent::NewTransaction,
            serde_json::json!({ "txid": txid.to_string() }),
        ),
        ChainEvent::Reorg {
            old_tip,
            new_tip,
            fork_height,
            height,
        } => (
            WebhookEvent::Reorg,
            serde_json::json!({
                "old_tip": old_tip.to_string(),
                "new_tip": new_tip.to_string(),
                "fork_height": fork_height,
                "height": height,
            }),
        ),
    }
}

/// A delivery read back from the outbox; None (and a warning) when its
/// event name is unknown.
fn outbox_delivery(entry: &OutboxEntry) -> Option<Arc<Delivery>> {
    match entry.event.parse() {
        Ok(event) => Some(Arc::new(Delivery {
            id: entry.delivery_id.clone(),
            seq: entry.seq,
            event,
            body: Bytes::from(entry.body.clone()),
        })),
        Err(error) => {
            tracing::warn!(webhook = %entry.webhook_id, delivery = %entry.delivery_id, %error, "outbox entry names an unknown event; skipping it");
            None
        }
    }
}

/// Removes a delivery a full queue dropped from the outbox.
async fn forget(storage: &Arc<dyn Storage>, webhook_id: &str, dropped: &Delivery) {
    if let Err(error) = storage.remove_outbox(webhook_id, &dropped.id).await {
        tracing::warn!(webhook = %webhook_id, delivery = %dropped.id, %error, "could not remove a dropped delivery from the outbox");
    }
}

/// Turns chain events into deliveries: written to the outbox, then put on
/// the queues of their subscribers.
async fn dispatch(
    mut events: Receiver<ChainEvent>,
    subscribers: Subscribers,
    storage: Arc<dyn Storage>,
    mut next_seq: u64,
) {
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "webhooks fell behind the chain's events; some were not delivered"
                );
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let (kind, data) = describe(&event);
        let mut id = [0u8; 16];
        getrandom::fill(&mut id).expect("the operating system's random source works");
        let body = serde_json::to_vec(&DeliveryBody {
            event: kind.as_str(),
            data,
            timestamp: now_ms(),
        })
        .expect("a delivery body serializes");
        let delivery = Arc::new(Delivery {
            id: hex::encode(id),
            seq: next_seq,
            event: kind,
            body: Bytes::from(body),
        });
        next_seq += 1;
        let targets: Vec<String> = subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter(|subscriber| {
                subscriber.worker.is_some() && subscriber.subscription.events.contains(&kind)
            })
            .map(|subscriber| subscriber.subscription.id.clone())
            .collect();
        if targets.is_empty() {
            continue;
        }
        let text = String::from_utf8_lossy(&delivery.body).into_owned();
        let entries: Vec<OutboxEntry> = targets
            .iter()
            .map(|webhook_id| OutboxEntry {
                webhook_id: webhook_id.clone(),
                delivery_id: delivery.id.clone(),
                seq: delivery.seq,
                event: kind.as_str().to_owned(),
                body: text.clone(),
            })
            .collect();
        // Persisted before it is queued: from here on, a stop loses nothing.
        // Should the write fail (a subscription deleted meanwhile, a broken
        // database), the delivery is still sent while the node runs.
        if let Err(error) = storage.add_outbox(&entries).await {
            tracing::warn!(delivery = %delivery.id, %error, "could not write deliveries to the webhook outbox");
        }
        let mut dropped = Vec::new();
        {
            let subscribers = subscribers.lock().unwrap_or_else(PoisonError::into_inner);
            for webhook_id in &targets {
                if let Some(subscriber) = subscribers.get(webhook_id)
                    && let Some(oldest) = subscriber.queue.push(Arc::clone(&delivery))
                {
                    dropped.push((webhook_id.clone(), oldest));
                }
            }
        }
        for (webhook_id, oldest) in dropped {
            forget(&storage, &webhook_id, &oldest).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_round_trip() {
        for event in WebhookEvent::ALL {
            assert_eq!(event.as_str().parse::<WebhookEvent>(), Ok(event));
        }
        assert_eq!(
            "NEW_BLOCK".parse::<WebhookEvent>(),
            Err(UnknownEventError("NEW_BLOCK".into()))
        );
    }

    #[test]
    fn chain_events_become_documented_payloads() {
        use blockchain_core::{BlockHash, Txid};
        let (kind, data) = describe(&ChainEvent::NewTip {
            hash: BlockHash([0xab; 32]),
            height: 7,
        });
        assert_eq!(kind, WebhookEvent::NewBlock);
        assert_eq!(
            data,
            serde_json::json!({ "hash": "ab".repeat(32), "height": 7 })
        );
        let (kind, data) = describe(&ChainEvent::NewTransaction {
            txid: Txid([1; 32]),
        });
        assert_eq!(kind, WebhookEvent::NewTransaction);
        assert_eq!(data, serde_json::json!({ "txid": "01".repeat(32) }));
        let (kind, data) = describe(&ChainEvent::Reorg {
            old_tip: BlockHash([1; 32]),
            new_tip: BlockHash([2; 32]),
            fork_height: 3,
            height: 5,
        });
        assert_eq!(kind, WebhookEvent::Reorg);
        assert_eq!(
            data,
            serde_json::json!({
                "old_tip": "01".repeat(32),
                "new_tip": "02".repeat(32),
                "fork_height": 3,
                "height": 5,
            })
        );
    }
}
