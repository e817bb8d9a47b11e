//! Through a real socket: `node::start` on 127.0.0.1:0, plain HTTP/1.1 over
//! a TCP stream (the minimal client of `blockchain_testkit::http`, so the
//! suite needs no HTTP client crate), then `RunningNode::stop`.

use std::net::SocketAddr;
use std::time::Duration;

use blockchain_testkit::http::{Response, send_async};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use super::harness::{test_config, vector_key, www_dir};
use crate::api::BODY_LIMIT;
use crate::api::server::ServerLimits;
use crate::node::{self, RunningNode};
use crate::testing::TestDatabase;

/// One request on a fresh connection, read to the end (the shared test
/// client); panics when the connection fails.
pub(super) async fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    send_async(address, method, path, headers, body)
        .await
        .unwrap_or_else(|error| panic!("{method} {path}: {error}"))
}

/// The API's error shape, on answers read through a real socket.
trait ApiErrorShape {
    /// Checks the API's error shape and code.
    fn assert_error(&self, status: u16, code: &str);
}

impl ApiErrorShape for Response {
    #[track_caller]
    fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.header("content-type"), Some("application/json"));
        let body = self.json();
        assert_eq!(body["error"], true, "{body}");
        assert_eq!(body["code"], code, "{body}");
        assert!(body["message"].is_string(), "{body}");
        assert!(body.get("details").is_some(), "{body}");
    }
}

async fn start(database: &TestDatabase) -> RunningNode {
    node::start(test_config(database))
        .await
        .expect("the node starts")
}

pub(super) async fn started_node_serves_the_api_and_web_app_and_stops(database: TestDatabase) {
    let node = start(&database).await;
    let address = node.http_addr;
    assert!(address.ip().is_loopback());
    assert_ne!(address.port(), 0, "port 0 became a real port");

    let status = http(address, "GET", "/api/v1/status", &[], b"").await;
    assert_eq!(status.status, 200);
    assert_eq!(status.header("content-type"), Some("application/json"));
    let body = status.json();
    assert_eq!(body["network"], "regtest");
    assert_eq!(body["height"], 0);
    assert_eq!(body["http_addr"], address.to_string());

    let index = http(address, "GET", "/", &[], b"").await;
    assert_eq!(index.status, 200);
    assert_eq!(
        index.raw,
        std::fs::read(www_dir().join("index.html")).expect("www/index.html")
    );

    node.stop().await.expect("a clean stop");
    assert!(
        TcpStream::connect(address).await.is_err(),
        "nothing listens after the stop"
    );

    // The data outlives the node: a restart on the same database finds genesis only.
    let again = start(&database).await;
    let status = http(again.http_addr, "GET", "/api/v1/status", &[], b"").await;
    assert_eq!(status.json()["height"], 0);
    again.stop().await.expect("a clean stop");
}

/// This run's API cookie: its token, after checking the file's mode.
fn read_cookie(node: &RunningNode) -> String {
    let path = node.cookie().path();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .expect("the cookie is written at start")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only the node's user reads the cookie");
        let parent = path.parent().expect("the data dir");
        let dir_mode = std::fs::metadata(parent)
            .expect("the data dir")
            .permissions()
            .mode();
        assert_eq!(
            dir_mode & 0o777,
            0o700,
            "a data dir the node made is its user's"
        );
    }
    let text = std::fs::read_to_string(path).expect("the cookie reads");
    assert_eq!(text.trim(), node.cookie().token());
    text.trim().to_owned()
}

pub(super) async fn the_api_cookie_opens_protected_routes_and_changes_at_restart(
    database: TestDatabase,
) {
    let node = start(&database).await;
    let address = node.http_addr;
    let miner = vector_key(0).address;
    let body = json!({ "miner_address": miner, "count": 2 }).to_string();
    let mine = |token: Option<String>| {
        let body = body.clone();
        async move {
            let authorization = token.map(|token| format!("Bearer {token}"));
            let mut headers = vec![("Content-Type", "application/json")];
            if let Some(authorization) = &authorization {
                headers.push(("Authorization", authorization.as_str()));
            }
            http(
                address,
                "POST",
                "/api/v1/mining/blocks",
                &headers,
                body.as_bytes(),
            )
            .await
        }
    };
    // A loopback caller without the cookie's token is refused.
    let refused = mine(None).await;
    assert_eq!(
        refused.status,
        401,
        "{}",
        String::from_utf8_lossy(&refused.raw)
    );
    // The real connection's address reaches the rate limiter: loopback is
    // counted like any client.
    assert_eq!(refused.header("x-ratelimit-limit"), Some("1200"));
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("1199"));
    assert!(refused.header("x-ratelimit-reset").is_some());
    let token = read_cookie(&node);
    let mined = mine(Some(token.clone())).await;
    assert_eq!(mined.status, 201, "{}", String::from_utf8_lossy(&mined.raw));
    assert_eq!(mined.json()["count"], 2);
    // The cookie's holder is the operator, whom the rate limit spares.
    assert_eq!(mined.header("x-ratelimit-limit"), None);

    let status = http(address, "GET", "/api/v1/status", &[], b"").await;
    assert_eq!(status.json()["height"], 2);
    assert_eq!(node.chain.status().header.height, 2);
    let cookie_path = node.cookie().path().to_owned();
    node.stop().await.expect("a clean stop");
    assert!(!cookie_path.exists(), "a clean stop removes the cookie");

    // Restarted: a new token; the old one opens nothing. The node serves
    // what it mined.
    let again = start(&database).await;
    let new_token = read_cookie(&again);
    assert_ne!(new_token, token);
    let address = again.http_addr;
    let stale = http(
        address,
        "POST",
        "/api/v1/mining/stop",
        &[("Authorization", &format!("Bearer {token}"))],
        b"",
    )
    .await;
    assert_eq!(stale.status, 403);
    let block = http(address, "GET", "/api/v1/blocks/2", &[], b"").await;
    assert_eq!(block.status, 200);
    assert_eq!(block.json()["transactions"][0]["recipient"], miner.as_str());
    again.stop().await.expect("a clean stop");
}

pub(super) async fn socket_errors_are_json_and_the_node_keeps_answering(database: TestDatabase) {
    let node = start(&database).await;
    let address = node.http_addr;

    let oversized = vec![b'x'; BODY_LIMIT + 1];
    http(
        address,
        "POST",
        "/api/v1/transactions",
        &[("Content-Type", "application/json")],
        &oversized,
    )
    .await
    .assert_error(413, "PAYLOAD_TOO_LARGE");
    http(
        address,
        "POST",
        "/api/v1/transactions",
        &[("Content-Type", "application/json")],
        b"{\"version\": 1,",
    )
    .await
    .assert_error(400, "MALFORMED_JSON");
    http(
        address,
        "POST",
        "/api/v1/transactions",
        &[("Content-Type", "text/plain")],
        b"{}",
    )
    .await
    .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    http(address, "GET", "/api/v1/nowhere", &[], b"")
        .await
        .assert_error(404, "NOT_FOUND");
    http(address, "GET", "/api/v1/blocks/%FF", &[], b"")
        .await
        .assert_error(400, "INVALID_PATH");

    let status = http(address, "GET", "/api/v1/status", &[], b"").await;
    assert_eq!(status.status, 200);
    node.stop().await.expect("a clean stop");
}

/// A client that sends request heads a byte at a time ("slowloris") from
/// one address holds at most its share of connections, and each for at most
/// the header-read timeout, while other clients are answered throughout.
pub(super) async fn a_slowloris_client_does_not_block_others(database: TestDatabase) {
    let mut config = test_config(&database);
    config.server = ServerLimits {
        max_connections: 64,
        max_connections_per_client: 16,
        header_read_timeout: Duration::from_secs(2),
    };
    let node = node::start(config).await.expect("the node starts");
    let address = node.http_addr;

    // 40 connections from 127.0.0.2, each with an unfinished request head.
    let mut attackers = Vec::new();
    for _ in 0..40 {
        let socket = TcpSocket::new_v4().expect("a socket");
        socket
            .bind(SocketAddr::from(([127, 0, 0, 2], 0)))
            .expect("127.0.0.2 is loopback");
        let mut stream = socket.connect(address).await.expect("the kernel accepts");
        // A refused connection may already be closed: writing can fail.
        let _ = stream
            .write_all(b"GET /api/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            .await;
        attackers.push(stream);
    }
    // Each keeps dribbling a byte; the loop notes when its connection ends.
    let dribbling: Vec<_> = attackers
        .into_iter()
        .map(|mut stream| {
            tokio::spawn(async move {
                let started = tokio::time::Instant::now();
                let mut buffer = [0u8; 256];
                loop {
                    if stream.write_all(b"a").await.is_err() {
                        return;
                    }
                    let read = stream.read(&mut buffer);
                    match tokio::time::timeout(Duration::from_millis(200), read).await {
                        // Closed by the server (an answer, e.g. 408, ends it too).
                        Ok(_) => return,
                        Err(_) if started.elapsed() > Duration::from_secs(30) => {
                            panic!("a slowloris connection was held for 30 s")
                        }
                        Err(_) => {}
                    }
                }
            })
        })
        .collect();

    // Meanwhile an honest client is answered, again and again.
    for _ in 0..10 {
        let status = http(address, "GET", "/api/v1/status", &[], b"").await;
        assert_eq!(status.status, 200);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every attacking connection ends (within 30 s, or its dribbler
    // panics): those over the per-client cap at once, the others at the
    // header-read timeout.
    for connection in dribbling {
        connection.await.expect("no slowloris connection is held");
    }
    let status = http(address, "GET", "/api/v1/status", &[], b"").await;
    assert_eq!(status.status, 200);
    node.stop().await.expect("a clean stop");
}
