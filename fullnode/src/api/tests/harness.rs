//! A node without a socket: a real chain on a test database behind
//! [`app`], called with `oneshot` from a mocked client address; requests,
//! answers and signed transactions (the vector keys, the transaction JSON
//! and polling come from the shared test support, re-exported here).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use blockchain_core::params::REGTEST;
use blockchain_core::{Address, Amount, Network, Transaction};
pub(super) use blockchain_testkit::vectors::{VectorKey, rsa_vectors, vector_key};
pub(super) use blockchain_testkit::wait::wait_until_async;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::api::{AppState, app};
use crate::auth::AdminAuth;
use crate::chain::Chain;
use crate::clock::now_ms;
use crate::config::Config;
use crate::mining::MiningControl;
use crate::storage;
use crate::testing::TestDatabase;
pub(super) use crate::testing::transaction_json;
use crate::webhooks::Webhooks;

/// A caller on this machine.
pub(super) const LOOPBACK: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40_000);
/// A caller elsewhere (TEST-NET-3).
pub(super) const REMOTE: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9)), 40_000);

/// The web app of this checkout.
pub(super) fn www_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../www")
}

/// A regtest configuration on `database`, with the defaults of a real node
/// except one miner thread and no peer-to-peer listeners.
pub(super) fn test_config(database: &TestDatabase) -> Config {
    Config {
        network: Network::Regtest,
        data_dir: database.directory().join("node"),
        db_url: database.url().to_owned(),
        http: "127.0.0.1:0".into(),
        listen: Vec::new(),
        bootstrap: Vec::new(),
        max_inbound_per_ip: crate::p2p::behaviour::DEFAULT_MAX_INBOUND_PER_IP,
        mine: false,
        miner_address: None,
        threads: 1,
        api_token: None,
        www: www_dir(),
        mempool_max: 10_000,
        min_relay_fee: crate::mempool::DEFAULT_MIN_RELAY_FEE,
        rate_limit: 1200,
        server: crate::api::server::ServerLimits::default(),
        admin_addresses: Vec::new(),
        allowed_hosts: Vec::new(),
        webhook_allow: Vec::new(),
        webhook_ca: None,
        jwt_ttl: crate::config::DEFAULT_JWT_TTL,
    }
}

/// A node's API state on its own database, without a socket.
#[derive(Debug)]
pub(super) struct TestNode {
    pub(super) state: AppState,
    // Declared last: the database outlives the state that uses it.
    _database: TestDatabase,
}

impl TestNode {
    /// A node with [`test_config`].
    pub(super) async fn start(database: TestDatabase) -> TestNode {
        Self::with_config(database, |_| {}).await
    }

    /// A node with [`test_config`] changed by `adjust`.
    pub(super) async fn with_config(
        database: TestDatabase,
        adjust: impl FnOnce(&mut Config),
    ) -> TestNode {
        let mut config = test_config(&database);
        adjust(&mut config);
        let storage = storage::open(&config.db_url)
            .await
            .unwrap_or_else(|error| panic!("{} opens: {error}", config.db_url));
        let chain = Chain::open(config.params(), storage, config.mempool_max)
            .await
            .expect("a new chain opens");
        let mining = MiningControl::spawn(Arc::clone(&chain), config.threads, config.miner_address);
        std::fs::create_dir_all(&config.data_dir).expect("the data dir is made");
        let auth = Arc::new(AdminAuth::open(&config).expect("the JWT key is made"));
        let webhooks = Webhooks::start(&chain, &config)
            .await
            .expect("webhooks start");
        TestNode {
            state: AppState::new(chain, mining, Arc::new(config), auth, webhooks)
                .with_cookie_token(TEST_COOKIE),
            _database: database,
        }
    }

    /// Sends `request` from a loopback caller holding the API cookie (the
    /// operator's tools): `Authorization: Bearer <cookie>` unless the
    /// request names a token of its own.
    pub(super) async fn send(&self, request: Request<Body>) -> Reply {
        self.send_from(LOOPBACK, with_cookie(request)).await
    }

    /// Sends `request` from `client`.
    pub(super) async fn send_from(&self, client: SocketAddr, request: Request<Body>) -> Reply {
        send_to(self.state.clone(), client, request).await
    }

    /// GET `path` under /api/v1 from loopback.
    pub(super) async fn get(&self, path: &str) -> Reply {
        self.send(get(&api(path))).await
    }

    /// POST `body` as JSON to `path` under /api/v1 from loopback.
    pub(super) async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(post_json(&api(path), body)).await
    }

    /// Mines `count` blocks paying `miner` through the API; returns them.
    pub(super) async fn mine(&self, miner: &str, count: u32) -> Vec<Value> {
        let mined = self
            .post(
                "/mining/blocks",
                &json!({ "miner_address": miner, "count": count }),
            )
            .await
            .expect(StatusCode::CREATED);
        let blocks = mined["blocks"].as_array().expect("blocks").clone();
        assert_eq!(blocks.len(), count as usize, "{mined}");
        blocks
    }

    /// Submits a signed transaction through the API.
    pub(super) async fn submit(&self, transaction: &Transaction) -> Reply {
        self.post("/transactions", &transaction_json(&REGTEST, transaction))
            .await
    }

    /// GET /wallet/{address}/balance, which must succeed.
    pub(super) async fn balance(&self, address: &str) -> Value {
        self.get(&format!("/wallet/{address}/balance"))
            .await
            .expect(StatusCode::OK)
    }

    /// The best height as GET /status reports it.
    pub(super) async fn height(&self) -> u64 {
        self.get("/status").await.expect(StatusCode::OK)["height"]
            .as_u64()
            .expect("height is a number")
    }
}

/// Sends `request` from `client` to a router on `state` (a `'static`
/// future, for requests sent from tasks of their own).
pub(super) async fn send_to(state: AppState, client: SocketAddr, request: Request<Body>) -> Reply {
    let response = app(state)
        .layer(MockConnectInfo(client))
        .oneshot(request)
        .await
        .expect("the router's error type is Infallible");
    let (parts, body) = response.into_parts();
    // An event stream never ends: its body is left unread (and dropped,
    // which disconnects the client).
    let is_event_stream = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/event-stream"));
    let body = if is_event_stream {
        Bytes::new()
    } else {
        axum::body::to_bytes(body, usize::MAX)
            .await
            .expect("the answer's body reads")
    };
    Reply {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// The API cookie token of every test node.
macro_rules! test_cookie {
    () => {
        "test-cookie-token"
    };
}
pub(super) const TEST_COOKIE: &str = test_cookie!();
/// The `Authorization` header value carrying [`TEST_COOKIE`].
pub(super) const TEST_BEARER: &str = concat!("Bearer ", test_cookie!());

/// `request` with `Authorization: Bearer <TEST_COOKIE>` unless it names a
/// token of its own.
pub(super) fn with_cookie(mut request: Request<Body>) -> Request<Body> {
    if !request.headers().contains_key(header::AUTHORIZATION) {
        request.headers_mut().insert(
            header::AUTHORIZATION,
            header::HeaderValue::from_static(TEST_BEARER),
        );
    }
    request
}

/// `path` under /api/v1.
pub(super) fn api(path: &str) -> String {
    format!("/api/v1{path}")
}

/// A GET request for the full `uri`.
pub(super) fn get(uri: &str) -> Request<Body> {
    request(Method::GET, uri, None, Body::empty())
}

/// A POST of `body` as JSON to the full `uri`.
pub(super) fn post_json(uri: &str, body: &Value) -> Request<Body> {
    request(
        Method::POST,
        uri,
        Some("application/json"),
        Body::from(body.to_string()),
    )
}

/// A request with an optional content type.
pub(super) fn request(
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    body: Body,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    builder.body(body).expect("a valid request")
}

/// An answer, read in full.
#[derive(Debug)]
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Bytes,
}

impl Reply {
    /// The body as text, for messages.
    pub(super) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value as text.
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|value| value.to_str().expect("header values are ASCII"))
    }

    /// The body as JSON.
    pub(super) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.text()))
    }

    /// Checks the status; returns the JSON body.
    #[track_caller]
    pub(super) fn expect(self, status: StatusCode) -> Value {
        assert_eq!(self.status, status, "answer: {}", self.text());
        self.json()
    }

    /// Checks that this is the API's error answer with `status` and `code`:
    /// `{"error": true, "code", "message", "details"}`, details null or
    /// `{"field", "reason"}`. Returns the details.
    #[track_caller]
    pub(super) fn error(self, status: StatusCode, code: &str) -> Value {
        assert_eq!(self.status, status, "answer: {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "answer: {}",
            self.text()
        );
        let body = self.json();
        let object = body.as_object().expect("an error is a JSON object");
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["code", "details", "error", "message"], "{body}");
        assert_eq!(body["error"], true, "{body}");
        assert_eq!(body["code"], code, "{body}");
        let message = body["message"].as_str().expect("message is a string");
        assert!(!message.is_empty(), "{body}");
        let details = body["details"].clone();
        if !details.is_null() {
            assert!(details["field"].is_string(), "{body}");
            assert!(details["reason"].is_string(), "{body}");
        }
        details
    }

    /// Like [`Reply::error`], and the details name `field`.
    #[track_caller]
    pub(super) fn field_error(self, status: StatusCode, code: &str, field: &str) -> Value {
        let details = self.error(status, code);
        assert_eq!(details["field"], field, "details: {details}");
        details
    }
}

/// A regtest address string as bytes.
pub(super) fn parse_address(text: &str) -> Address {
    Address::from_bech32m(text, REGTEST.address_prefix).expect("a regtest address")
}

/// A regtest address nobody holds a key for.
pub(super) fn unused_address(byte: u8) -> String {
    Address([byte; 20]).to_bech32m(REGTEST.address_prefix)
}

/// A transaction from `from` to `to`, signed for regtest, timed now.
pub(super) fn sign(from: &VectorKey, to: &str, amount: u64, fee: u64, nonce: u64) -> Transaction {
    Transaction::new_signed(
        &REGTEST,
        &from.key,
        parse_address(to),
        Amount(amount),
        Amount(fee),
        nonce,
        now_ms(),
        &mut rand::rngs::SysRng,
    )
    .expect("signing works")
}
