//! Webhooks end to end: a real HTTP receiver on 127.0.0.1 gets signed
//! deliveries of mined blocks and new transactions, gets them late when it
//! was down or failing, and keeps getting them across a node restart;
//! an https receiver gets them when its certificate is trusted, and only
//! then; URLs outside the policy are refused.

use std::fmt::Debug;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::PrivateKeyDer;

use super::harness::{
    REMOTE, TEST_BEARER, TEST_COOKIE, TestNode, post_json, sign, test_config, vector_key,
    wait_until_async,
};
use super::socket::http;
use crate::node;
use crate::testing::TestDatabase;
use crate::webhooks::{MAX_WEBHOOKS, signature};

const SECRET: &str = "a webhook secret of some length";

/// A request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .expect("ASCII")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// Checks the signature with `secret`; returns the body.
    #[track_caller]
    fn verified(&self, secret: &str) -> Value {
        assert_eq!(self.header("content-type"), "application/json");
        let expected = signature(secret, &self.body);
        assert_eq!(self.header("x-signature"), expected, "signature");
        // And independently of the node's code.
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("a key");
        mac.update(&self.body);
        mac.verify_slice(&hex::decode(self.header("x-signature")).expect("hex"))
            .expect("the HMAC-SHA256 of the body");
        let body = self.json();
        assert_eq!(self.header("x-webhook-event"), body["event"]);
        body
    }
}

#[derive(Debug, Default)]
struct Inbox {
    received: Mutex<Vec<Received>>,
    /// Requests still to answer 503.
    failures_left: AtomicUsize,
}

/// A small HTTP server that records every request and answers 200.
#[derive(Debug)]
struct Receiver {
    address: SocketAddr,
    /// `https` (at `localhost`) for a TLS receiver, else `http`.
    tls: bool,
    inbox: Arc<Inbox>,
    /// TLS handshakes begun (failed ones included).
    handshakes: Arc<AtomicUsize>,
    stop: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

/// A self-signed certificate (no CA) for `localhost` and 127.0.0.1, made
/// now, with `name` as its subject (and so its issuer).
fn self_signed(name: &str) -> rcgen::CertifiedKey<rcgen::KeyPair> {
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("valid names");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let signing_key = rcgen::KeyPair::generate().expect("a key");
    let cert = params.self_signed(&signing_key).expect("a certificate");
    rcgen::CertifiedKey { cert, signing_key }
}

/// Accepts TLS connections: the handshake is done (one at a time) before a
/// connection is handed to the server; failed handshakes are counted and
/// skipped.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: Arc<AtomicUsize>,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, address)) = self.tcp.accept().await else {
                continue;
            };
            self.handshakes.fetch_add(1, Ordering::SeqCst);
            let handshake =
                tokio::time::timeout(Duration::from_secs(5), self.acceptor.accept(stream)).await;
            match handshake {
                Ok(Ok(stream)) => return (stream, address),
                Ok(Err(error)) => eprintln!("TLS handshake from {address} failed: {error}"),
                Err(_) => eprintln!("TLS handshake from {address} timed out"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Serves `record` on `listener` until the returned sender fires.
fn serve<L>(listener: L, inbox: &Arc<Inbox>) -> (oneshot::Sender<()>, JoinHandle<()>)
where
    L: axum::serve::Listener,
    L::Addr: Debug,
{
    let (stop, stopped) = oneshot::channel::<()>();
    let router = Router::new().fallback(record).with_state(Arc::clone(inbox));
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
            .expect("the receiver serves");
    });
    (stop, server)
}

async fn record(
    State(inbox): State<Arc<Inbox>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    inbox.received.lock().expect("not poisoned").push(Received {
        path: uri.path().to_owned(),
        headers,
        body,
    });
    let failing = inbox
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(1)
        })
        .is_ok();
    if failing {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}

impl Receiver {
    /// Listens on 127.0.0.1:`port` (0: any free port), sharing `inbox`.
    async fn start(port: u16, inbox: Arc<Inbox>) -> Receiver {
        // The port was just released: give the OS a moment if it is slow to let go.
        let mut tries = 0;
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", port)).await {
                Ok(listener) => break listener,
                Err(error) if tries < 50 => {
                    tries += 1;
                    eprintln!("binding 127.0.0.1:{port}: {error}; retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("cannot bind 127.0.0.1:{port}: {error}"),
            }
        };
        let address = listener.local_addr().expect("a local address");
        let (stop, server) = serve(listener, &inbox);
        Receiver {
            address,
            tls: false,
            inbox,
            handshakes: Arc::default(),
            stop,
            server,
        }
    }

    /// An https receiver on 127.0.0.1 (any free port) presenting `certificate`.
    async fn start_tls(certificate: &rcgen::CertifiedKey<rcgen::KeyPair>) -> Receiver {
        let key = PrivateKeyDer::Pkcs8(certificate.signing_key.serialize_der().into());
        let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![certificate.cert.der().clone()], key)
            .expect("a usable certificate and key");
        let tcp = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let address = tcp.local_addr().expect("a local address");
        let handshakes = Arc::new(AtomicUsize::new(0));
        let listener = TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(Arc::new(config)),
            handshakes: Arc::clone(&handshakes),
        };
        let inbox = Arc::<Inbox>::default();
        let (stop, server) = serve(listener, &inbox);
        Receiver {
            address,
            tls: true,
            inbox,
            handshakes,
            stop,
            server,
        }
    }

    fn url(&self, path: &str) -> String {
        if self.tls {
            // By name, so the certificate's DNS name is what is checked.
            format!("https://localhost:{}{path}", self.address.port())
        } else {
            format!("http://{}{path}", self.address)
        }
    }

    fn handshakes(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }

    fn received(&self) -> Vec<Received> {
        self.inbox.received.lock().expect("not poisoned").clone()
    }

    /// Stops listening: connections are refused from then on.
    async fn stop(self) -> Arc<Inbox> {
        let _ = self.stop.send(());
        self.server.await.expect("the receiver stops");
        self.inbox
    }
}

async fn register(node: &TestNode, url: &str, events: &[&str]) -> Value {
    node.post(
        "/webhooks",
        &json!({ "url": url, "events": events, "secret": SECRET }),
    )
    .await
    .expect(StatusCode::CREATED)
}

/// The heights of `new_block` deliveries, in arrival order, each checked.
fn delivered_heights(received: &[Received]) -> Vec<u64> {
    received
        .iter()
        .map(|delivery| {
            let body = delivery.verified(SECRET);
            assert_eq!(body["event"], "new_block", "{body}");
            body["data"]["height"].as_u64().expect("a height")
        })
        .collect()
}

pub(super) async fn mined_blocks_and_transactions_are_delivered_signed(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let receiver = Receiver::start(0, Arc::default()).await;
    let blocks_hook = register(&node, &receiver.url("/blocks?from=node"), &["new_block"]).await;
    let tx_hook = register(&node, &receiver.url("/tx"), &["new_transaction", "reorg"]).await;
    assert_eq!(blocks_hook["events"], json!(["new_block"]));
    assert_eq!(tx_hook["events"], json!(["new_transaction", "reorg"]));
    assert!(blocks_hook.get("secret").is_none(), "{blocks_hook}");

    let (alice, bob) = (vector_key(0), vector_key(1));
    let mined = node.mine(&alice.address, 3).await;
    wait_until_async(
        "three block deliveries",
        Duration::from_secs(20),
        || async { receiver.received().len() >= 3 },
    )
    .await;
    let received = receiver.received();
    assert!(received.iter().all(|delivery| delivery.path == "/blocks"));
    assert_eq!(delivered_heights(&received), vec![1, 2, 3]);
    for (delivery, block) in received.iter().zip(&mined) {
        let body = delivery.json();
        assert_eq!(body["data"]["hash"], block["hash"]);
        assert_eq!(
            delivery.header("x-webhook-id"),
            blocks_hook["id"].as_str().expect("an id")
        );
        assert_eq!(delivery.header("x-webhook-delivery").len(), 32);
        let timestamp = body["timestamp"].as_u64().expect("a timestamp");
        assert!(timestamp >= block["timestamp"].as_u64().expect("a block time") - 60_000);
        let mut keys: Vec<&String> = body.as_object().expect("an object").keys().collect();
        keys.sort();
        assert_eq!(keys, ["data", "event", "timestamp"]);
    }

    let transaction = sign(&alice, &bob.address, 1_000, 10, 0);
    node.submit(&transaction).await.expect(StatusCode::ACCEPTED);
    wait_until_async(
        "the transaction delivery",
        Duration::from_secs(20),
        || async { receiver.received().len() >= 4 },
    )
    .await;
    let delivery = receiver.received()[3].clone();
    assert_eq!(delivery.path, "/tx");
    let body = delivery.verified(SECRET);
    assert_eq!(body["event"], "new_transaction");
    assert_eq!(
        body["data"],
        json!({ "txid": transaction.txid().to_string() })
    );

    // Delivered means dequeued.
    let listed = node.get("/webhooks").await.expect(StatusCode::OK);
    assert_eq!(listed["count"], 2, "{listed}");
    for hook in listed["webhooks"].as_array().expect("a list") {
        assert_eq!(hook["queued"], 0, "{hook}");
        assert_eq!(hook["dropped"], 0, "{hook}");
    }
    receiver.stop().await;
}

pub(super) async fn deliveries_arrive_after_the_receiver_was_down(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let miner = vector_key(0).address;
    let receiver = Receiver::start(0, Arc::default()).await;
    let port = receiver.address.port();
    register(&node, &receiver.url("/hook"), &["new_block"]).await;
    node.mine(&miner, 1).await;
    wait_until_async("the first delivery", Duration::from_secs(20), || async {
        receiver.received().len() == 1
    })
    .await;

    // Down: connections are refused while two blocks are mined.
    let inbox = receiver.stop().await;
    node.mine(&miner, 2).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let listed = node.get("/webhooks").await.expect(StatusCode::OK);
    assert_eq!(listed["webhooks"][0]["queued"], 2, "{listed}");

    // Back, on the same port, but failing once: the same delivery is retried.
    inbox.failures_left.store(1, Ordering::SeqCst);
    let receiver = Receiver::start(port, inbox).await;
    wait_until_async("the late deliveries", Duration::from_secs(40), || async {
        receiver.received().len() >= 4
    })
    .await;
    let received = receiver.received();
    assert_eq!(delivered_heights(&received), vec![1, 2, 2, 3]);
    let delivery_ids: Vec<&str> = received
        .iter()
        .map(|delivery| delivery.header("x-webhook-delivery"))
        .collect();
    assert_eq!(
        delivery_ids[1], delivery_ids[2],
        "a retry repeats its delivery id"
    );
    assert_ne!(delivery_ids[2], delivery_ids[3]);
    wait_until_async("an empty queue", Duration::from_secs(10), || async {
        node.get("/webhooks").await.expect(StatusCode::OK)["webhooks"][0]["queued"] == 0
    })
    .await;
    receiver.stop().await;
}

pub(super) async fn subscriptions_survive_a_node_restart(database: TestDatabase) {
    let receiver = Receiver::start(0, Arc::default()).await;
    let miner = vector_key(0).address;
    let mut config = test_config(&database);
    // Protected routes open with this token as with the run's cookie.
    config.api_token = Some(TEST_COOKIE.into());
    let running = node::start(config.clone()).await.expect("the node starts");
    let post = |address: SocketAddr, path: &'static str, body: Value| async move {
        http(
            address,
            "POST",
            path,
            &[
                ("Content-Type", "application/json"),
                ("Authorization", TEST_BEARER),
            ],
            body.to_string().as_bytes(),
        )
        .await
    };
    let registered = post(
        running.http_addr,
        "/api/v1/webhooks",
        json!({ "url": receiver.url("/hook"), "events": ["new_block"], "secret": SECRET }),
    )
    .await;
    assert_eq!(registered.status, 201, "{}", registered.json());
    let id = registered.json()["id"].clone();
    let mined = post(
        running.http_addr,
        "/api/v1/mining/blocks",
        json!({ "miner_address": miner }),
    )
    .await;
    assert_eq!(mined.status, 201);
    wait_until_async(
        "a delivery before the restart",
        Duration::from_secs(20),
        || async { receiver.received().len() == 1 },
    )
    .await;
    // Acknowledged and out of the outbox (else it is sent again after the
    // restart, as at-least-once allows).
    wait_until_async(
        "the delivery to leave the queue",
        Duration::from_secs(10),
        || async {
            let listed = http(
                running.http_addr,
                "GET",
                "/api/v1/webhooks",
                &[("Authorization", TEST_BEARER)],
                b"",
            )
            .await;
            listed.json()["webhooks"][0]["queued"] == 0
        },
    )
    .await;
    running.stop().await.expect("a clean stop");

    let again = node::start(config).await.expect("the node starts again");
    let listed = http(
        again.http_addr,
        "GET",
        "/api/v1/webhooks",
        &[("Authorization", TEST_BEARER)],
        b"",
    )
    .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["webhooks"][0]["id"], id, "{}", listed.json());
    let mined = post(
        again.http_addr,
        "/api/v1/mining/blocks",
        json!({ "miner_address": miner }),
    )
    .await;
    assert_eq!(mined.status, 201);
    wait_until_async(
        "a delivery after the restart",
        Duration::from_secs(20),
        || async { receiver.received().len() == 2 },
    )
    .await;
    assert_eq!(delivered_heights(&receiver.received()), vec![1, 2]);
    again.stop().await.expect("a clean stop");
    receiver.stop().await;
}

pub(super) async fn webhook_requests_are_checked(database: TestDatabase) {
    let node = TestNode::with_config(database, |config| {
        config.webhook_allow = vec!["http://hooks.example.com/node/".into()];
    })
    .await;
    let request = |url: &str, events: Value, secret: &str| json!({ "url": url, "events": events, "secret": secret });
    let new_block = json!(["new_block"]);
    for url in [
        "http://10.0.0.1/hook",
        "http://hooks.example.com/nodes",
        "http://hooks.example.com.evil.net/node/x",
        "http://hooks.example.com:8080/node/x",
        "https://hooks.example.com/node/x",
    ] {
        node.post("/webhooks", &request(url, new_block.clone(), SECRET))
            .await
            .field_error(StatusCode::FORBIDDEN, "WEBHOOK_URL_NOT_ALLOWED", "url");
    }
    for url in [
        "ftp://127.0.0.1/",
        "ws://127.0.0.1/",
        "not a url",
        "http://user:pw@127.0.0.1/",
        "",
    ] {
        node.post("/webhooks", &request(url, new_block.clone(), SECRET))
            .await
            .field_error(StatusCode::BAD_REQUEST, "INVALID_URL", "url");
    }
    node.post(
        "/webhooks",
        &request("http://127.0.0.1/", json!([]), SECRET),
    )
    .await
    .field_error(StatusCode::BAD_REQUEST, "INVALID_EVENTS", "events");
    node.post(
        "/webhooks",
        &request("http://127.0.0.1/", json!(["new_block", "bogus"]), SECRET),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
    for secret in ["short", &"x".repeat(257)] {
        node.post(
            "/webhooks",
            &request("http://127.0.0.1/", new_block.clone(), secret),
        )
        .await
        .field_error(StatusCode::BAD_REQUEST, "INVALID_SECRET", "secret");
    }
    node.post(
        "/webhooks",
        &json!({ "url": "http://127.0.0.1/", "events": ["new_block"] }),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
    // Remote callers need a token.
    node.send_from(
        REMOTE,
        post_json(
            "/api/v1/webhooks",
            &request("http://127.0.0.1/", new_block.clone(), SECRET),
        ),
    )
    .await
    .error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    assert_eq!(
        node.get("/webhooks").await.expect(StatusCode::OK),
        json!({ "webhooks": [], "count": 0 })
    );

    // Allowed: under the prefix, and loopback, up to the limit.
    let allowed = register(
        &node,
        "http://hooks.example.com/node/blocks",
        &["new_block"],
    )
    .await;
    assert_eq!(allowed["url"], "http://hooks.example.com/node/blocks");
    let https = register(&node, "https://127.0.0.1:9/hook", &["reorg"]).await;
    assert_eq!(https["url"], "https://127.0.0.1:9/hook");
    for index in 2..MAX_WEBHOOKS {
        register(&node, &format!("http://localhost:9/{index}"), &["reorg"]).await;
    }
    node.post(
        "/webhooks",
        &request("http://127.0.0.1/one-too-many", new_block.clone(), SECRET),
    )
    .await
    .error(StatusCode::CONFLICT, "TOO_MANY_WEBHOOKS");
    let listed = node.get("/webhooks").await.expect(StatusCode::OK);
    assert_eq!(listed["count"], MAX_WEBHOOKS);
    assert_eq!(listed["webhooks"][0]["id"], allowed["id"], "oldest first");
    assert!(
        !listed.to_string().contains(SECRET),
        "secrets are never shown"
    );

    // Deleting.
    let id = allowed["id"].as_str().expect("an id");
    let deleted = node
        .send(super::harness::request(
            axum::http::Method::DELETE,
            &format!("/api/v1/webhooks/{id}"),
            None,
            axum::body::Body::empty(),
        ))
        .await
        .expect(StatusCode::OK);
    assert_eq!(deleted["id"], id);
    for unknown in [id, "nope", "%C3%A9"] {
        node.send(super::harness::request(
            axum::http::Method::DELETE,
            &format!("/api/v1/webhooks/{unknown}"),
            None,
            axum::body::Body::empty(),
        ))
        .await
        .field_error(StatusCode::NOT_FOUND, "WEBHOOK_NOT_FOUND", "id");
    }
    assert_eq!(
        node.get("/webhooks").await.expect(StatusCode::OK)["count"],
        MAX_WEBHOOKS - 1
    );
}

pub(super) async fn https_deliveries_need_a_trusted_certificate(database: TestDatabase) {
    let (trusted, untrusted) = (self_signed("webhook receiver"), self_signed("impostor"));
    let receiver = Receiver::start_tls(&trusted).await;
    let impostor = Receiver::start_tls(&untrusted).await;
    // The node trusts the first receiver's certificate only.
    let directory = tempfile::tempdir().expect("a temporary directory");
    let ca = directory.path().join("webhook-ca.pem");
    std::fs::write(&ca, trusted.cert.pem()).expect("writes the CA file");
    let node = TestNode::with_config(database, |config| {
        config.webhook_ca = Some(ca);
        config.webhook_allow = vec![receiver.url("/"), impostor.url("/")];
    })
    .await;
    let hook = register(&node, &receiver.url("/blocks"), &["new_block"]).await;
    assert_eq!(hook["url"], receiver.url("/blocks"));
    let impostor_hook = register(&node, &impostor.url("/blocks"), &["new_block"]).await;

    let mined = node.mine(&vector_key(0).address, 1).await;
    wait_until_async("the https delivery", Duration::from_secs(20), || async {
        !receiver.received().is_empty()
    })
    .await;
    let received = receiver.received();
    assert_eq!(delivered_heights(&received), vec![1]);
    assert_eq!(received[0].path, "/blocks");
    assert_eq!(received[0].json()["data"]["hash"], mined[0]["hash"]);
    assert_eq!(
        received[0].header("x-webhook-id"),
        hook["id"].as_str().expect("an id")
    );

    // The untrusted certificate: every attempt fails its handshake and is
    // retried; nothing is delivered and the delivery stays queued.
    wait_until_async("a retried handshake", Duration::from_secs(20), || async {
        impostor.handshakes() >= 2
    })
    .await;
    assert!(impostor.received().is_empty());
    let queued = |listed: &Value, id: &Value| {
        listed["webhooks"]
            .as_array()
            .expect("a list")
            .iter()
            .find(|webhook| webhook["id"] == *id)
            .expect("listed")["queued"]
            .clone()
    };
    wait_until_async(
        "the delivered one dequeued",
        Duration::from_secs(10),
        || async {
            let listed = node.get("/webhooks").await.expect(StatusCode::OK);
            queued(&listed, &hook["id"]) == 0
        },
    )
    .await;
    let listed = node.get("/webhooks").await.expect(StatusCode::OK);
    assert_eq!(queued(&listed, &impostor_hook["id"]), 1, "{listed}");
    assert_eq!(receiver.handshakes(), 1, "one connection per delivery");
    receiver.stop().await;
    impostor.stop().await;
}

/// Deliveries queued while the receiver fails are in the outbox: a stop
/// loses none, and the restarted node sends them, in order, with the same
/// delivery ids.
pub(super) async fn queued_deliveries_survive_a_stop(database: TestDatabase) {
    let inbox = Arc::new(Inbox::default());
    // Every attempt of the first run fails.
    inbox.failures_left.store(usize::MAX, Ordering::SeqCst);
    let receiver = Receiver::start(0, Arc::clone(&inbox)).await;
    let miner = vector_key(0).address;
    let mut config = test_config(&database);
    config.api_token = Some(TEST_COOKIE.into());
    let call = |address: SocketAddr, method: &'static str, path: &'static str, body: Value| async move {
        let reply = http(
            address,
            method,
            path,
            &[
                ("Content-Type", "application/json"),
                ("Authorization", TEST_BEARER),
            ],
            if method == "GET" {
                Vec::new()
            } else {
                body.to_string().into_bytes()
            }
            .as_slice(),
        )
        .await;
        assert!(
            (200..300).contains(&reply.status),
            "{method} {path}: {}",
            reply.status
        );
        reply.json()
    };
    let running = node::start(config.clone()).await.expect("the node starts");
    call(
        running.http_addr,
        "POST",
        "/api/v1/webhooks",
        json!({ "url": receiver.url("/hook"), "events": ["new_block"], "secret": SECRET }),
    )
    .await;
    call(
        running.http_addr,
        "POST",
        "/api/v1/mining/blocks",
        json!({ "miner_address": miner, "count": 3 }),
    )
    .await;
    wait_until_async(
        "a failed first attempt",
        Duration::from_secs(20),
        || async { !receiver.received().is_empty() },
    )
    .await;
    wait_until_async(
        "three queued deliveries",
        Duration::from_secs(20),
        || async {
            let listed = call(running.http_addr, "GET", "/api/v1/webhooks", Value::Null).await;
            listed["webhooks"][0]["queued"] == 3
        },
    )
    .await;
    let first_run_ids: Vec<String> = receiver
        .received()
        .iter()
        .map(|delivery| delivery.header("x-webhook-delivery").to_owned())
        .collect();
    running.stop().await.expect("a clean stop");

    // The receiver recovers; the restarted node sends what was queued.
    let tried = receiver.received().len();
    inbox.failures_left.store(0, Ordering::SeqCst);
    let again = node::start(config).await.expect("the node starts again");
    wait_until_async(
        "the queued deliveries after the restart",
        Duration::from_secs(30),
        || async { receiver.received().len() >= tried + 3 },
    )
    .await;
    let after: Vec<Received> = receiver.received()[tried..].to_vec();
    assert_eq!(delivered_heights(&after), vec![1, 2, 3]);
    assert_eq!(
        after[0].header("x-webhook-delivery"),
        first_run_ids[0],
        "the delivery tried before the stop keeps its id"
    );
    wait_until_async(
        "an empty queue and outbox",
        Duration::from_secs(10),
        || async {
            again
                .chain
                .storage()
                .outbox()
                .await
                .expect("reads")
                .is_empty()
        },
    )
    .await;
    again.stop().await.expect("a clean stop");
    receiver.stop().await;
}
