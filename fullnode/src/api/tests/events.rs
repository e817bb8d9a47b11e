//! GET /api/v1/events: through a real socket, a client sees mined blocks and
//! new transactions, and its stream ends when the node stops; a client that
//! never reads is dropped while the node keeps answering; streams beyond
//! the limit are refused.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::MockConnectInfo;
use axum::http::{StatusCode, header};
use blockchain_core::params::REGTEST;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tower::ServiceExt;

use super::harness::{
    LOOPBACK, REMOTE, TEST_BEARER, TEST_COOKIE, TestNode, api, get, sign, test_config,
    transaction_json, vector_key, wait_until_async,
};
use super::metrics::Scrape;
use super::socket::http;
use crate::api::app;
use crate::api::events::{CLIENT_QUEUE, EventStreams, MAX_EVENT_STREAMS_PER_CLIENT};
use crate::node::{self, RunningNode};
use crate::testing::TestDatabase;

/// Longest wait for anything the node should do at once.
const PATIENCE: Duration = Duration::from_secs(30);
/// Blocks mined per request while a client is not reading.
const BATCH: u64 = 50;

/// One server-sent event.
#[derive(Debug)]
struct ServerEvent {
    name: String,
    data: Value,
}

/// A client of GET /api/v1/events over its own TCP connection: reads the
/// chunked body as it arrives and splits it into events.
#[derive(Debug)]
struct EventClient {
    stream: TcpStream,
    /// Received bytes of the body not yet de-chunked.
    raw: Vec<u8>,
    /// De-chunked text not yet split into events.
    text: String,
}

impl EventClient {
    /// Opens a stream; returns once the answer's head is read (the node
    /// has subscribed the client by then).
    async fn connect(address: SocketAddr) -> EventClient {
        let stream = TcpStream::connect(address).await.expect("the node accepts");
        Self::open(stream, address).await
    }

    async fn open(mut stream: TcpStream, address: SocketAddr) -> EventClient {
        let request = format!(
            "GET /api/v1/events HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .expect("write the request");
        let mut raw = Vec::new();
        let head_end = loop {
            if let Some(end) = find(&raw, b"\r\n\r\n") {
                break end;
            }
            assert!(read_more(&mut stream, &mut raw).await, "no answer head");
        };
        let head = String::from_utf8_lossy(&raw[..head_end]).to_lowercase();
        assert!(head.starts_with("http/1.1 200 "), "{head}");
        assert!(
            head.contains("\r\ncontent-type: text/event-stream"),
            "{head}"
        );
        assert!(head.contains("\r\ntransfer-encoding: chunked"), "{head}");
        raw.drain(..head_end + 4);
        EventClient {
            stream,
            raw,
            text: String::new(),
        }
    }

    /// The next event (keep-alive comments skipped); None once the stream ended.
    async fn next_event(&mut self) -> Option<ServerEvent> {
        loop {
            if let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                let mut name = None;
                let mut data = None;
                for line in block.lines().filter(|line| !line.is_empty()) {
                    if let Some(value) = line.strip_prefix("event: ") {
                        name = Some(value.to_owned());
                    } else if let Some(value) = line.strip_prefix("data: ") {
                        data = Some(serde_json::from_str(value).expect("event data is JSON"));
                    } else {
                        assert!(line.starts_with(':'), "unexpected line {line:?}");
                    }
                }
                match (name, data) {
                    (Some(name), Some(data)) => return Some(ServerEvent { name, data }),
                    (None, None) => continue,
                    other => panic!("an event needs a name and data: {other:?}"),
                }
            }
            if !self.read_chunk().await {
                return None;
            }
        }
    }

    /// The next event named `name`, skipping others.
    async fn next_named(&mut self, name: &str) -> Value {
        loop {
            let event = self
                .next_event()
                .await
                .unwrap_or_else(|| panic!("the stream ended before a {name} event"));
            if event.name == name {
                return event.data;
            }
        }
    }

    /// Moves one chunk of the body into `text`; false at the body's end.
    async fn read_chunk(&mut self) -> bool {
        loop {
            if let Some(line_end) = find(&self.raw, b"\r\n") {
                let size_text = std::str::from_utf8(&self.raw[..line_end]).expect("chunk size");
                let size = usize::from_str_radix(size_text.trim(), 16).expect("chunk size is hex");
                if size == 0 {
                    return false;
                }
                let start = line_end + 2;
                if self.raw.len() >= start + size + 2 {
                    let chunk = std::str::from_utf8(&self.raw[start..start + size])
                        .expect("events are text");
                    self.text.push_str(chunk);
                    self.raw.drain(..start + size + 2);
                    return true;
                }
            }
            if !read_more(&mut self.stream, &mut self.raw).await {
                return false;
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// Reads what arrives into `raw`; false at the end of the connection.
async fn read_more(stream: &mut TcpStream, raw: &mut Vec<u8>) -> bool {
    let read = tokio::time::timeout(PATIENCE, stream.read_buf(raw))
        .await
        .expect("the node sends within the patience")
        .expect("reading the socket works");
    read > 0
}

async fn start(database: &TestDatabase) -> RunningNode {
    let mut config = test_config(database);
    // Protected routes open with this token as with the run's cookie.
    config.api_token = Some(TEST_COOKIE.into());
    node::start(config).await.expect("the node starts")
}

async fn post(address: SocketAddr, path: &str, body: &Value) -> Value {
    let reply = http(
        address,
        "POST",
        &api(path),
        &[
            ("Content-Type", "application/json"),
            ("Authorization", TEST_BEARER),
        ],
        body.to_string().as_bytes(),
    )
    .await;
    assert!(
        (200..300).contains(&reply.status),
        "POST {path}: {} {}",
        reply.status,
        String::from_utf8_lossy(&reply.raw)
    );
    reply.json()
}

pub(super) async fn event_stream_announces_blocks_and_transactions_and_ends_at_stop(
    database: TestDatabase,
) {
    let node = start(&database).await;
    let address = node.http_addr;
    let (alice, bob) = (vector_key(0), vector_key(1));
    let mut client = EventClient::connect(address).await;

    let mined = post(
        address,
        "/mining/blocks",
        &json!({ "miner_address": alice.address, "count": 1 }),
    )
    .await;
    let block = client.next_named("new_block").await;
    assert_eq!(
        block,
        json!({ "hash": mined["blocks"][0]["hash"], "height": 1 })
    );

    let transaction = sign(&alice, &bob.address, 150_000_000, 1_000, 0);
    let accepted = post(
        address,
        "/transactions",
        &transaction_json(&REGTEST, &transaction),
    )
    .await;
    let announced = client.next_named("new_transaction").await;
    assert_eq!(announced, json!({ "txid": transaction.txid().to_string() }));
    assert_eq!(announced["txid"], accepted["txid"]);

    // Stopping does not wait for the open stream: it ends it.
    tokio::time::timeout(PATIENCE, node.stop())
        .await
        .expect("the node stops with a stream open")
        .expect("a clean stop");
    assert!(client.next_event().await.is_none(), "the stream ended");
}

/// A client socket that holds little: the smallest receive buffer, and a
/// small segment size, which keeps the node's send buffer for it small too
/// (the kernel sizes it in segments).
fn cramped_socket() -> TcpSocket {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("a socket");
    socket
        .set_recv_buffer_size(1024)
        .expect("a small receive buffer");
    socket.set_tcp_mss(536).expect("a small segment size");
    socket.set_nonblocking(true).expect("a non-blocking socket");
    TcpSocket::from_std_stream(socket.into())
}

pub(super) async fn slow_event_client_is_dropped_while_the_node_keeps_answering(
    database: TestDatabase,
) {
    let node = start(&database).await;
    let address = node.http_addr;
    let miner = vector_key(0).address;

    // A client that stops reading once subscribed, and one that keeps up.
    let stream = cramped_socket()
        .connect(address)
        .await
        .expect("the node accepts");
    let mut slow = EventClient::open(stream, address).await;
    let mut healthy = EventClient::connect(address).await;
    let scrape = Scrape::of(address).await;
    assert_eq!(scrape.value("blockchain_event_clients", &[]), 2.0);

    // Events until the slow client's socket buffers and queue are full.
    let mut height = 0;
    loop {
        let scrape = Scrape::of(address).await;
        if scrape.value("blockchain_event_clients_dropped_total", &[]) > 0.0 {
            assert_eq!(
                scrape.value("blockchain_event_clients_dropped_total", &[]),
                1.0
            );
            assert_eq!(scrape.value("blockchain_event_clients", &[]), 1.0);
            break;
        }
        assert!(height < 5_000, "the slow client was never dropped");
        // The node answers at once, whatever the slow client does.
        let mined = tokio::time::timeout(
            PATIENCE,
            post(
                address,
                "/mining/blocks",
                &json!({ "miner_address": miner, "count": BATCH }),
            ),
        )
        .await
        .expect("mining does not wait for event clients");
        assert_eq!(mined["count"], BATCH);
        height += BATCH;
        while healthy.next_named("new_block").await["height"] != height {}
    }
    let status = http(address, "GET", &api("/status"), &[], b"").await;
    assert_eq!(status.status, 200);
    assert_eq!(status.json()["height"], height);

    // Reading at last, the slow client finds the events that were buffered
    // or queued before it was dropped, in order, then the end of its stream.
    let mut seen = 0;
    while let Some(event) = slow.next_event().await {
        assert_eq!(event.name, "new_block");
        seen += 1;
        assert_eq!(event.data["height"], seen);
    }
    assert!(
        seen >= CLIENT_QUEUE as u64 && seen < height,
        "{seen} of {height} blocks"
    );
    // The healthy client is still served.
    post(
        address,
        "/mining/blocks",
        &json!({ "miner_address": miner, "count": 1 }),
    )
    .await;
    assert_eq!(healthy.next_named("new_block").await["height"], height + 1);
    node.stop().await.expect("a clean stop");
}

pub(super) async fn event_streams_beyond_the_limit_are_refused(database: TestDatabase) {
    let mut node = TestNode::start(database).await;
    node.state = node.state.with_events(Arc::new(EventStreams::new(1)));

    let open = app(node.state.clone())
        .layer(MockConnectInfo(LOOPBACK))
        .oneshot(get(&api("/events")))
        .await
        .expect("the router's error type is Infallible");
    assert_eq!(open.status(), StatusCode::OK);
    assert_eq!(
        open.headers()[header::CONTENT_TYPE],
        "text/event-stream",
        "{:?}",
        open.headers()
    );
    assert_eq!(node.state.events.clients(), 1);

    node.get("/events")
        .await
        .error(StatusCode::SERVICE_UNAVAILABLE, "TOO_MANY_EVENT_CLIENTS");

    // A client that goes away frees its slot.
    drop(open);
    wait_until_async("the slot to be freed", Duration::from_secs(10), || async {
        node.state.events.clients() == 0
    })
    .await;
    let again = node.get("/events").await;
    assert_eq!(again.status, StatusCode::OK);
}

pub(super) async fn one_client_cannot_hold_every_event_stream(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let open_from = |client| {
        app(node.state.clone())
            .layer(MockConnectInfo(client))
            .oneshot(get(&api("/events")))
    };
    let mut open = Vec::new();
    for _ in 0..MAX_EVENT_STREAMS_PER_CLIENT {
        let stream = open_from(LOOPBACK).await.expect("infallible");
        assert_eq!(stream.status(), StatusCode::OK);
        open.push(stream);
    }
    node.get("/events")
        .await
        .error(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_EVENT_STREAMS");
    // Another client still gets one.
    let other = open_from(REMOTE).await.expect("infallible");
    assert_eq!(other.status(), StatusCode::OK);
    // A stream that ends gives its client's place back.
    open.pop();
    wait_until_async(
        "the client's place to be freed",
        Duration::from_secs(10),
        || async { open_from(LOOPBACK).await.expect("infallible").status() == StatusCode::OK },
    )
    .await;
    drop(other);
}
