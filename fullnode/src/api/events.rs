//! `GET /api/v1/events`: the chain's events as server-sent events.
//!
//! Each client gets a task that moves the chain's events into a small queue
//! of its own, which the HTTP connection drains as fast as the client reads.
//! The node never waits for a client: one whose queue is full, or whose task
//! fell behind the chain's broadcast channel, is dropped, and its stream ends
//! after the events already queued. A dropped client reconnects and reads
//! what it missed from the REST API.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::HeaderName;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::ReceiverStream;

use super::AppState;
use super::client_slots::{ClientSlots, Slot, SlotRefusal};
use super::error::{ApiError, ErrorBody};
use super::extract::ClientIp;
use super::rate_limit::ClientGroup;
use crate::chain::ChainEvent;

/// Event streams served at once; one more is refused with 503.
pub(super) const MAX_EVENT_CLIENTS: usize = 256;
/// Event streams served at once to one client (an IPv4 address or an IPv6
/// /64); one more is refused with 429, so one client cannot take every slot.
pub(super) const MAX_EVENT_STREAMS_PER_CLIENT: usize = 8;
/// Events queued for a client that is not reading before it is dropped
/// (on top of what the socket buffers hold).
pub(super) const CLIENT_QUEUE: usize = 64;
/// Longest silence on a stream: a comment line keeps proxies from closing it.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The node's open event streams.
#[derive(Debug)]
pub struct EventStreams {
    /// Streams open, in all and per client.
    slots: Arc<ClientSlots>,
    dropped: AtomicU64,
    closing: watch::Sender<bool>,
}

impl Default for EventStreams {
    fn default() -> Self {
        Self::new(MAX_EVENT_CLIENTS)
    }
}

impl EventStreams {
    /// Room for `max_clients` streams at once.
    pub fn new(max_clients: usize) -> Self {
        Self {
            slots: ClientSlots::new(max_clients, MAX_EVENT_STREAMS_PER_CLIENT),
            dropped: AtomicU64::new(0),
            closing: watch::channel(false).0,
        }
    }

    /// Streams the node is feeding.
    pub fn clients(&self) -> usize {
        self.slots.taken()
    }

    /// Streams ended because their client fell behind, since the start.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Ends every stream, now and from now on: the HTTP server's graceful
    /// shutdown waits for open answers, and these would never finish.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }
}

/// Live chain events
///
/// A `text/event-stream` of `new_block` (`{hash, height}`: the best chain
/// grew), `reorg` (`{old_tip, new_tip, fork_height, height}`: it switched
/// branches) and `new_transaction` (`{txid}`: a transaction entered the
/// mempool) events, each with one line of JSON data, and a `:` comment line
/// after 15 s of silence. The node does not wait for slow clients: one that
/// falls behind is dropped (the stream ends) and should reconnect, then read
/// what it missed from the other routes.
#[utoipa::path(
    get,
    path = "/events",
    tag = "node",
    operation_id = "get_events",
    responses(
        (
            status = 200,
            description = "Server-sent events, e.g. `event: new_block` and `data: {\"hash\":\"…\",\"height\":12}`",
            content_type = "text/event-stream",
            body = String,
        ),
        (status = 429, description = "`TOO_MANY_EVENT_STREAMS`: this client (IPv4 address or IPv6 /64) has 8 event streams open already", body = ErrorBody),
        (status = 503, description = "`TOO_MANY_EVENT_CLIENTS`: the node already serves 256 event streams", body = ErrorBody),
    )
)]
pub(super) async fn events(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
) -> Result<Response, ApiError> {
    let streams = Arc::clone(&state.events);
    let slot = streams
        .slots
        .take(ip.map(ClientGroup::of))
        .map_err(|refusal| match refusal {
            SlotRefusal::ClientFull => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_EVENT_STREAMS",
                format!(
                    "this client has {MAX_EVENT_STREAMS_PER_CLIENT} event streams open \
                     already; close one first"
                ),
            ),
            SlotRefusal::Full => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "TOO_MANY_EVENT_CLIENTS",
                format!(
                    "the node already serves {} event streams; try again later",
                    streams.slots.max_total()
                ),
            ),
        })?;
    // Subscribed before answering: a client that has the answer's head sees
    // every event from then on.
    let events = state.chain.subscribe();
    let (queue, queued) = mpsc::channel(CLIENT_QUEUE);
    tokio::spawn(forward(events, queue, streams, slot));
    let stream = ReceiverStream::new(queued).map(|event| Ok::<_, Infallible>(sse_event(&event)));
    let sse = Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE));
    // Asks nginx-like proxies not to hold events back in their buffers.
    let no_buffering = [(HeaderName::from_static("x-accel-buffering"), "no")];
    Ok((no_buffering, sse).into_response())
}

/// Moves events from the chain to one client's queue until the client goes
/// away, falls behind, or the node stops. Holds the client's slot meanwhile.
async fn forward(
    mut events: broadcast::Receiver<ChainEvent>,
    queue: mpsc::Sender<ChainEvent>,
    streams: Arc<EventStreams>,
    _slot: Slot,
) {
    let mut closing = streams.closing.subscribe();
    let fell_behind = loop {
        tokio::select! {
            received = events.recv() => match received {
                Ok(event) => match queue.try_send(event) {
                    Ok(()) => {}
                    Err(TrySendError::Full(_)) => break true,
                    Err(TrySendError::Closed(_)) => break false,
                },
                Err(RecvError::Lagged(_)) => break true,
                Err(RecvError::Closed) => break false,
            },
            () = queue.closed() => break false,
            _ = closing.wait_for(|closing| *closing) => break false,
        }
    };
    if fell_behind {
        streams.dropped.fetch_add(1, Ordering::Relaxed);
        tracing::info!("dropped an event stream whose client fell behind");
    }
}

/// The server-sent event of a chain event.
fn sse_event(event: &ChainEvent) -> Event {
    let (name, data) = event_name_and_data(event);
    Event::default().event(name).data(data.to_string())
}

/// The name and the JSON data of a chain event's server-sent event.
fn event_name_and_data(event: &ChainEvent) -> (&'static str, Value) {
    match event {
        ChainEvent::NewTip { hash, height } => (
            "new_block",
            json!({ "hash": hash.to_string(), "height": height }),
        ),
        ChainEvent::Reorg {
            old_tip,
            new_tip,
            fork_height,
            height,
        } => (
            "reorg",
            json!({
                "old_tip": old_tip.to_string(),
                "new_tip": new_tip.to_string(),
                "fork_height": fork_height,
                "height": height,
            }),
        ),
        ChainEvent::NewTransaction { txid } => {
            ("new_transaction", json!({ "txid": txid.to_string() }))
        }
    }
}

#[cfg(test)]
mod tests {
    use blockchain_core::{BlockHash, Txid};

    use super::*;

    #[test]
    fn chain_events_have_their_documented_names_and_fields() {
        let (old_tip, new_tip) = (BlockHash([1; 32]), BlockHash([2; 32]));
        let reorg = ChainEvent::Reorg {
            old_tip,
            new_tip,
            fork_height: 3,
            height: 5,
        };
        assert_eq!(
            event_name_and_data(&reorg),
            (
                "reorg",
                json!({
                    "old_tip": "01".repeat(32),
                    "new_tip": "02".repeat(32),
                    "fork_height": 3,
                    "height": 5,
                })
            )
        );
        let tip = ChainEvent::NewTip {
            hash: new_tip,
            height: 5,
        };
        assert_eq!(
            event_name_and_data(&tip),
            ("new_block", json!({ "hash": "02".repeat(32), "height": 5 }))
        );
        let transaction = ChainEvent::NewTransaction {
            txid: Txid([3; 32]),
        };
        assert_eq!(
            event_name_and_data(&transaction),
            ("new_transaction", json!({ "txid": "03".repeat(32) }))
        );
    }
}
