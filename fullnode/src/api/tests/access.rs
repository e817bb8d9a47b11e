//! Who may call what: protected routes (a token: the API cookie, the API
//! token or a login; never a page of another origin), the host names the
//! node answers for, JSON bodies only, and the per-client rate limit with
//! its headers.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use super::harness::{
    LOOPBACK, REMOTE, Reply, TEST_COOKIE, TestNode, api, get, post_json, unused_address, vector_key,
};
use crate::testing::TestDatabase;

const TOKEN: &str = "s3cret-api-token";

/// The protected routes, each with a cheap body: what it answers once let in.
fn protected_requests() -> Vec<(&'static str, String, Value, StatusCode)> {
    let miner = vector_key(0).address;
    let nobody = unused_address(5);
    vec![
        // A short password is refused before any key is generated.
        (
            "POST /wallet",
            api("/wallet"),
            json!({ "password": "short" }),
            StatusCode::BAD_REQUEST,
        ),
        (
            "POST /wallet/{address}/send",
            api(&format!("/wallet/{nobody}/send")),
            json!({ "password": "whatever1", "recipient": miner, "amount": 1 }),
            StatusCode::NOT_FOUND,
        ),
        (
            "POST /mining/start",
            api("/mining/start"),
            json!({ "miner_address": miner }),
            StatusCode::OK,
        ),
        (
            "POST /mining/stop",
            api("/mining/stop"),
            json!({}),
            StatusCode::OK,
        ),
        (
            "POST /mining/blocks",
            api("/mining/blocks"),
            json!({ "miner_address": miner, "count": 1 }),
            StatusCode::CREATED,
        ),
        (
            "POST /network/peers",
            api("/network/peers"),
            json!({ "multiaddr": "/ip4/10.1.2.3/tcp/4001/p2p/12D3KooWGzRBn6Dbd4mmyCfYuwxPjP3Vk3nqwm4PxtGDrfBZnvrz" }),
            StatusCode::ACCEPTED,
        ),
    ]
}

fn post_with(uri: &str, body: &Value, authorization: Option<&str>) -> Request<Body> {
    let mut builder = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(authorization) = authorization {
        builder = builder.header(header::AUTHORIZATION, authorization);
    }
    builder
        .body(Body::from(body.to_string()))
        .expect("a valid request")
}

#[track_caller]
fn assert_let_in(reply: &Reply, route: &str, expected: StatusCode) {
    assert_eq!(reply.status, expected, "{route}: {}", reply.text());
}

pub(super) async fn protected_routes_need_a_token_from_remote_clients(database: TestDatabase) {
    let node = TestNode::with_config(database, |config| {
        config.api_token = Some(TOKEN.into());
    })
    .await;
    for (route, uri, body, expected) in protected_requests() {
        node.send_from(REMOTE, post_with(&uri, &body, None))
            .await
            .error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
        node.send_from(REMOTE, post_with(&uri, &body, Some("Basic czNjcmV0")))
            .await
            .error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
        node.send_from(REMOTE, post_with(&uri, &body, Some("Bearer wrong-token")))
            .await
            .error(StatusCode::FORBIDDEN, "FORBIDDEN");
        node.send_from(
            REMOTE,
            post_with(&uri, &body, Some(&format!("Bearer {TOKEN}x"))),
        )
        .await
        .error(StatusCode::FORBIDDEN, "FORBIDDEN");
        let reply = node
            .send_from(
                REMOTE,
                post_with(&uri, &body, Some(&format!("Bearer {TOKEN}"))),
            )
            .await;
        assert_let_in(&reply, route, expected);
    }
    // Refused requests changed nothing; the let-in ones did (continuous
    // mining ran between start and stop, so at least one block).
    assert!(node.height().await >= 1);
    assert_eq!(node.get("/network/peers").await.json()["count"], 1);

    // An IPv6 caller elsewhere is remote too.
    let remote_v6 = SocketAddr::new(
        IpAddr::V6("2001:db8::7".parse().expect("an IPv6 address")),
        1,
    );
    node.send_from(remote_v6, post_with(&api("/mining/stop"), &json!({}), None))
        .await
        .error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
}

pub(super) async fn loopback_callers_need_a_token_and_the_cookie_opens_protected_routes(
    database: TestDatabase,
) {
    let node = TestNode::with_config(database, |config| {
        config.api_token = Some(TOKEN.into());
    })
    .await;
    let loopbacks = [
        LOOPBACK,
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), 1),
        SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 1),
        // A loopback caller on a dual-stack socket.
        SocketAddr::new(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()), 1),
    ];
    let cookie = format!("Bearer {TEST_COOKIE}");
    for client in loopbacks {
        for (route, uri, body, expected) in protected_requests() {
            // Any web page the operator opens reaches loopback: not a credential.
            node.send_from(client, post_with(&uri, &body, None))
                .await
                .error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
            let reply = node
                .send_from(client, post_with(&uri, &body, Some(&cookie)))
                .await;
            assert_let_in(&reply, &format!("{route} from {client}"), expected);
        }
    }
    assert!(node.height().await >= 4);
}

/// A POST as a browser sends it from a page of `origin` to `host`.
fn browser_post(uri: &str, body: &Value, host: &str, origin: &str, token: &str) -> Request<Body> {
    Request::post(uri)
        .header(header::HOST, host)
        .header(header::ORIGIN, origin)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body.to_string()))
        .expect("a valid request")
}

pub(super) async fn pages_of_other_origins_reach_public_routes_only(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let host = "127.0.0.1:8080";
    // Even holding the token, another origin's page gets no protected route,
    // and the refusal carries no CORS headers (the page cannot read it).
    for origin in ["http://evil.example", "null", "http://127.0.0.1:9999"] {
        let reply = node
            .send(browser_post(
                &api("/mining/stop"),
                &json!({}),
                host,
                origin,
                TEST_COOKIE,
            ))
            .await;
        assert_eq!(reply.header("access-control-allow-origin"), None);
        reply.error(StatusCode::FORBIDDEN, "CROSS_ORIGIN");
    }
    // The node's own pages may (the node page logs in, then mines).
    let own = node
        .send(browser_post(
            &api("/mining/stop"),
            &json!({}),
            host,
            "http://127.0.0.1:8080",
            TEST_COOKIE,
        ))
        .await;
    assert_eq!(own.header("access-control-allow-origin"), None);
    own.expect(StatusCode::OK);
    // Public routes keep CORS for every origin.
    let status = node
        .send(
            Request::get(api("/status"))
                .header(header::HOST, host)
                .header(header::ORIGIN, "http://evil.example")
                .body(Body::empty())
                .expect("a valid request"),
        )
        .await;
    assert_eq!(status.header("access-control-allow-origin"), Some("*"));
    status.expect(StatusCode::OK);
}

/// A GET of `uri` naming `host`.
fn get_for_host(uri: &str, host: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::HOST, host)
        .body(Body::empty())
        .expect("a valid request")
}

pub(super) async fn host_names_the_node_does_not_answer_for_are_refused(database: TestDatabase) {
    let node = TestNode::with_config(database, |config| {
        config.allowed_hosts = vec!["wallet.example".into()];
    })
    .await;
    // DNS rebinding: a page of attacker.example whose name now points at
    // 127.0.0.1 sends `Host: attacker.example`.
    for host in [
        "attacker.example",
        "attacker.example:8080",
        "127.0.0.1.nip.io",
        "",
    ] {
        for uri in [api("/status"), "/".to_owned(), api("/wallet")] {
            node.send(get_for_host(&uri, host))
                .await
                .error(StatusCode::FORBIDDEN, "HOST_NOT_ALLOWED");
        }
    }
    for host in [
        "127.0.0.1:8080",
        "127.0.0.1",
        "[::1]:8080",
        "192.168.1.20:8080",
        "localhost:8080",
        "LocalHost",
        "node.localhost:8080",
        "wallet.example",
        "Wallet.Example:443",
    ] {
        node.send(get_for_host(&api("/status"), host))
            .await
            .expect(StatusCode::OK);
    }
}

pub(super) async fn request_bodies_must_be_json(database: TestDatabase) {
    let node = TestNode::start(database).await;
    // What a cross-site form or a `no-cors` fetch can send without a
    // preflight: refused before any route, protected or not.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        for uri in [
            api("/mining/start"),
            api("/transactions"),
            api("/auth/login"),
        ] {
            node.send(super::harness::request(
                axum::http::Method::POST,
                &uri,
                content_type,
                Body::from("{\"miner_address\": \"x\"}"),
            ))
            .await
            .error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE");
        }
    }
    // A POST with no body needs no content type.
    node.send(super::harness::request(
        axum::http::Method::POST,
        &api("/mining/stop"),
        None,
        Body::empty(),
    ))
    .await
    .expect(StatusCode::OK);
}

pub(super) async fn without_a_configured_token_remote_callers_stay_out(database: TestDatabase) {
    let open = TestNode::start(database).await;
    open.send_from(REMOTE, post_with(&api("/mining/stop"), &json!({}), None))
        .await
        .error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    open.send_from(
        REMOTE,
        post_with(&api("/mining/stop"), &json!({}), Some("Bearer anything")),
    )
    .await
    .error(StatusCode::FORBIDDEN, "FORBIDDEN");
    open.send_from(
        REMOTE,
        post_with(&api("/mining/stop"), &json!({}), Some("Bearer ")),
    )
    .await
    .error(StatusCode::FORBIDDEN, "FORBIDDEN");
}

pub(super) async fn public_routes_need_no_token(database: TestDatabase) {
    let node = TestNode::with_config(database, |config| {
        config.api_token = Some(TOKEN.into());
    })
    .await;
    let address = vector_key(0).address;
    for path in [
        "/status".to_owned(),
        "/blocks/latest".to_owned(),
        "/blocks/0".to_owned(),
        "/headers".to_owned(),
        "/transactions/pending".to_owned(),
        format!("/wallet/{address}/balance"),
        format!("/wallet/{address}/transactions"),
        format!("/wallet/{address}/proof"),
        "/mining/status".to_owned(),
        "/network/peers".to_owned(),
    ] {
        let reply = node.send_from(REMOTE, get(&api(&path))).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {}", reply.text());
    }
    let reply = node.send_from(REMOTE, get("/")).await;
    assert_eq!(reply.status, StatusCode::OK);
    // Submitting a transaction is public: it is signed.
    node.send_from(REMOTE, post_with(&api("/transactions"), &json!({}), None))
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
}

fn rate_headers(reply: &Reply) -> (u32, u32, u64) {
    let number = |name: &str| -> u64 {
        reply
            .header(name)
            .unwrap_or_else(|| panic!("{name} on {} {}", reply.status, reply.text()))
            .parse()
            .unwrap_or_else(|error| panic!("{name}: {error}"))
    };
    (
        number("x-ratelimit-limit") as u32,
        number("x-ratelimit-remaining") as u32,
        number("x-ratelimit-reset"),
    )
}

pub(super) async fn rate_limit_refuses_after_the_limit_with_headers(database: TestDatabase) {
    let node = TestNode::with_config(database, |config| {
        config.rate_limit = 3;
    })
    .await;
    // Without a token: a loopback caller is counted like anyone.
    let anonymous = |request| node.send_from(LOOPBACK, request);
    let answers = [
        anonymous(get(&api("/status"))).await,
        anonymous(get(&api("/no/such/route"))).await,
        anonymous(get(&api("/blocks/abc"))).await,
    ];
    let statuses: Vec<StatusCode> = answers.iter().map(|reply| reply.status).collect();
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::NOT_FOUND,
            StatusCode::BAD_REQUEST
        ]
    );
    for (reply, remaining) in answers.iter().zip([2, 1, 0]) {
        let (limit, left, reset) = rate_headers(reply);
        assert_eq!((limit, left), (3, remaining));
        assert!((1..=60).contains(&reset), "reset in {reset} s");
    }

    let refused = anonymous(get(&api("/status"))).await;
    let (limit, left, reset) = rate_headers(&refused);
    assert_eq!((limit, left), (3, 0));
    assert!((1..=60).contains(&reset), "reset in {reset} s");
    refused.error(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    anonymous(get("/"))
        .await
        .error(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    anonymous(post_json(&api("/mining/stop"), &json!({})))
        .await
        .error(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");

    // Other clients have their own windows.
    let reply = node.send_from(REMOTE, get(&api("/status"))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(rate_headers(&reply).1, 2);
    // The same client over IPv6-mapped IPv4 is the same client.
    let mapped = SocketAddr::new(IpAddr::V6(Ipv4Addr::LOCALHOST.to_ipv6_mapped()), 2);
    node.send_from(mapped, get(&api("/status")))
        .await
        .error(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
}

pub(super) async fn rate_limit_spares_the_operator_not_loopback(database: TestDatabase) {
    let node = TestNode::with_config(database, |config| {
        config.rate_limit = 2;
    })
    .await;
    for remaining in [1, 0] {
        let reply = node.send_from(LOOPBACK, get(&api("/status"))).await;
        assert_eq!(reply.status, StatusCode::OK);
        let (limit, left, _) = rate_headers(&reply);
        assert_eq!((limit, left), (2, remaining));
    }
    node.send_from(LOOPBACK, get(&api("/status")))
        .await
        .error(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    // The holder of the cookie's token (`send` adds it) is the operator:
    // never limited, on public and protected routes alike.
    for _ in 0..5 {
        let reply = node.get("/status").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("x-ratelimit-limit"), None);
    }
    node.post("/mining/stop", &json!({}))
        .await
        .expect(StatusCode::OK);
    // A wrong token is no one's: limited like the address it comes from.
    let mut wrong = get(&api("/status"));
    wrong.headers_mut().insert(
        header::AUTHORIZATION,
        header::HeaderValue::from_static("Bearer not-the-cookie"),
    );
    node.send_from(LOOPBACK, wrong)
        .await
        .error(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
}

pub(super) async fn a_thousand_clients_of_one_ipv6_64_share_one_limit(database: TestDatabase) {
    let node = TestNode::with_config(database, |config| {
        config.rate_limit = 100;
    })
    .await;
    let client = |network: u128, host: u128| {
        SocketAddr::new(IpAddr::V6((network << 64 | host).into()), 40_000)
    };
    let mut statuses = BTreeMap::new();
    for host in 0..1000 {
        let reply = node
            .send_from(client(0x2001_0db8_0000_0001, host), get(&api("/status")))
            .await;
        *statuses.entry(reply.status.as_u16()).or_insert(0) += 1;
    }
    assert_eq!(statuses, BTreeMap::from([(200, 100), (429, 900)]));
    // The next /64 is another client.
    node.send_from(client(0x2001_0db8_0000_0002, 1), get(&api("/status")))
        .await
        .expect(StatusCode::OK);
}
