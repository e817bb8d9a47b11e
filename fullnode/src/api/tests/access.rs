//! Who may call what: protected routes (loopback, or the API token), and the
//! per-client rate limit with its headers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use super::harness::{LOOPBACK, REMOTE, Reply, TestNode, api, get, unused_address, vector_key};
use crate::test_support::TestDatabase;

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

pub(super) async fn protected_routes_are_open_to_loopback_callers(database: TestDatabase) {
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
    for client in loopbacks {
        for (route, uri, body, expected) in protected_requests() {
            let reply = node.send_from(client, post_with(&uri, &body, None)).await;
            assert_let_in(&reply, &format!("{route} from {client}"), expected);
        }
    }
    assert!(node.height().await >= 4);
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
        config.rate_limit_loopback = true;
    })
    .await;
    let answers = [
        node.get("/status").await,
        node.get("/no/such/route").await,
        node.get("/blocks/abc").await,
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

    let refused = node.get("/status").await;
    let (limit, left, reset) = rate_headers(&refused);
    assert_eq!((limit, left), (3, 0));
    assert!((1..=60).contains(&reset), "reset in {reset} s");
    refused.error(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    node.send(get("/"))
        .await
        .error(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    node.post("/mining/stop", &json!({}))
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

pub(super) async fn rate_limit_spares_loopback_unless_configured(database: TestDatabase) {
    let node = TestNode::with_config(database, |config| {
        config.rate_limit = 2;
    })
    .await;
    for _ in 0..5 {
        let reply = node.get("/status").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("x-ratelimit-limit"), None);
    }
    for remaining in [1, 0] {
        let reply = node.send_from(REMOTE, get(&api("/status"))).await;
        assert_eq!(reply.status, StatusCode::OK);
        let (limit, left, _) = rate_headers(&reply);
        assert_eq!((limit, left), (2, remaining));
    }
    node.send_from(REMOTE, get(&api("/status")))
        .await
        .error(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    // Loopback is still served.
    node.get("/status").await.expect(StatusCode::OK);
}
