//! Read-only routes: status, blocks, headers, the web app, unknown routes, CORS.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use blockchain_core::hash::sha256;
use blockchain_core::merkle::merkle_root;
use blockchain_core::params::REGTEST;
use blockchain_core::{Decode, Header, Txid};
use serde_json::{Value, json};

use super::harness::{TestNode, api, get, request, sign, vector_key};
use crate::testing::TestDatabase;

const ZERO_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn heights(blocks: &Value) -> Vec<u64> {
    blocks
        .as_array()
        .expect("an array of blocks")
        .iter()
        .map(|block| block["index"].as_u64().expect("index"))
        .collect()
}

pub(super) async fn status_describes_a_fresh_regtest_node(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let status = node.get("/status").await.expect(StatusCode::OK);
    assert_eq!(status["network"], "regtest");
    assert_eq!(status["height"], 0);
    assert_eq!(
        status["blocks_count"], 1,
        "the seed API's count: genesis included"
    );
    let mining = node.get("/mining/status").await.expect(StatusCode::OK);
    assert_eq!(status["current_difficulty"], mining["current_difficulty"]);
    assert_eq!(status["tip_hash"], REGTEST.genesis_hash().to_string());
    assert_eq!(status["bits"], 0x207f_ffff);
    let difficulty = status["difficulty"].as_f64().expect("difficulty");
    assert!((difficulty - 1.0).abs() < 1e-6, "{difficulty}");
    assert_eq!(status["chain_work"].as_str().map(str::len), Some(64));
    assert_eq!(status["last_block_time"], REGTEST.genesis_time_ms);
    assert_eq!(status["average_block_time"], 0.0);
    assert_eq!(status["mempool_size"], 0);
    assert_eq!(status["peers_count"], 0);
    assert!(status["listen_addrs"].is_array(), "{status}");
    assert!(status.get("peer_id").is_some(), "{status}");
    assert_eq!(status["is_mining"], false);
    assert_eq!(status["hash_rate"], 0.0);

    let key = vector_key(0);
    node.mine(&key.address, 2).await;
    let status = node.get("/status").await.expect(StatusCode::OK);
    assert_eq!(status["height"], 2);
    let tip = node.get("/blocks/2").await.expect(StatusCode::OK);
    assert_eq!(status["tip_hash"], tip["hash"]);
    assert_eq!(status["last_block_time"], tip["timestamp"]);
    assert_eq!(status["chain_work"], tip["chain_work"]);
    // Between blocks 1 and 2 only: the genesis time (fixed, long ago) is left out.
    let first = node.get("/blocks/1").await.expect(StatusCode::OK);
    let between = (tip["timestamp"].as_u64().expect("ms")
        - first["timestamp"].as_u64().expect("ms")) as f64
        / 1000.0;
    assert_eq!(status["average_block_time"].as_f64(), Some(between));
}

pub(super) async fn latest_blocks_are_newest_first_within_the_limit_bounds(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let genesis_only = node.get("/blocks/latest").await.expect(StatusCode::OK);
    assert_eq!(heights(&genesis_only["blocks"]), [0]);
    assert_eq!(genesis_only["total_blocks"], 1);

    node.mine(&vector_key(0).address, 12).await;
    let latest = node.get("/blocks/latest").await.expect(StatusCode::OK);
    assert_eq!(
        heights(&latest["blocks"]),
        (3..=12).rev().collect::<Vec<_>>()
    );
    assert_eq!(latest["count"], 10, "default limit");
    assert_eq!(latest["total_blocks"], 13);

    let two = node
        .get("/blocks/latest?limit=2")
        .await
        .expect(StatusCode::OK);
    assert_eq!(heights(&two["blocks"]), [12, 11]);
    assert_eq!(two["count"], 2);
    let all = node
        .get("/blocks/latest?limit=100")
        .await
        .expect(StatusCode::OK);
    assert_eq!(heights(&all["blocks"]), (0..=12).rev().collect::<Vec<_>>());
    for out_of_range in ["0", "101", "100000", "2147483648"] {
        node.get(&format!("/blocks/latest?limit={out_of_range}"))
            .await
            .field_error(StatusCode::BAD_REQUEST, "INVALID_QUERY", "limit");
    }

    for bad in ["abc", "-1", "1.5", "99999999999"] {
        node.get(&format!("/blocks/latest?limit={bad}"))
            .await
            .error(StatusCode::BAD_REQUEST, "INVALID_QUERY");
    }
}

pub(super) async fn blocks_by_height_and_by_hash_agree(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let miner = vector_key(0).address;
    node.mine(&miner, 2).await;

    let genesis = node.get("/blocks/0").await.expect(StatusCode::OK);
    assert_eq!(genesis["index"], 0);
    assert_eq!(genesis["hash"], REGTEST.genesis_hash().to_string());
    assert_eq!(genesis["previous_hash"], ZERO_HASH);
    assert_eq!(genesis["state_root"], ZERO_HASH);
    assert_eq!(genesis["merkle_root"], hex::encode(sha256(b"")));
    assert_eq!(genesis["transactions"], json!([]));
    assert_eq!(genesis["confirmations"], 3);

    let first = node.get("/blocks/1").await.expect(StatusCode::OK);
    assert_eq!(first["index"], 1);
    assert_eq!(first["previous_hash"], genesis["hash"]);
    assert_eq!(first["bits"], 0x207f_ffff);
    assert_eq!(first["confirmations"], 2);
    let coinbase = &first["transactions"][0];
    assert_eq!(first["transactions"].as_array().map(Vec::len), Some(1));
    assert_eq!(coinbase["sender"], "");
    assert_eq!(coinbase["sender_address"], Value::Null);
    assert_eq!(coinbase["signature"], "");
    assert_eq!(coinbase["recipient"], miner.as_str());
    assert_eq!(coinbase["amount"], 5_000_000_000u64);
    assert_eq!(coinbase["fee"], 0);
    assert_eq!(coinbase["nonce"], 1);
    assert_eq!(coinbase["timestamp"], first["timestamp"]);
    let txid: Txid = coinbase["txid"]
        .as_str()
        .and_then(|text| text.parse().ok())
        .expect("a txid");
    assert_eq!(first["merkle_root"], merkle_root(&[txid]).to_string());

    let hash = first["hash"].as_str().expect("hash");
    let by_hash = node
        .get(&format!("/blocks/hash/{hash}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(by_hash, first);
    let second = node.get("/blocks/2").await.expect(StatusCode::OK);
    assert_eq!(second["previous_hash"], first["hash"]);
    assert_eq!(second["confirmations"], 1);
}

pub(super) async fn headers_come_as_fields_and_raw_bytes(database: TestDatabase) {
    let node = TestNode::start(database).await;
    node.mine(&vector_key(0).address, 3).await;

    let headers = node
        .get("/headers?from=1&count=2")
        .await
        .expect(StatusCode::OK);
    assert_eq!(headers["count"], 2);
    assert_eq!(heights(&headers["headers"]), [1, 2]);
    for json in headers["headers"].as_array().expect("headers") {
        let raw = hex::decode(json["raw"].as_str().expect("raw")).expect("raw is hex");
        assert_eq!(raw.len(), Header::SIZE);
        let header = Header::decode(&raw).expect("raw decodes");
        assert_eq!(json["hash"], header.hash().to_string());
        assert_eq!(json["index"], header.height);
        assert_eq!(json["previous_hash"], header.prev_hash.to_string());
        assert_eq!(json["merkle_root"], header.merkle_root.to_string());
        assert_eq!(json["state_root"], header.state_root.to_string());
        assert_eq!(json["timestamp"], header.time);
        assert_eq!(json["bits"], header.bits.0);
        assert_eq!(json["nonce"], header.nonce);
        let block = node
            .get(&format!("/blocks/{}", header.height))
            .await
            .expect(StatusCode::OK);
        assert_eq!(block["hash"], json["hash"]);
    }

    let all = node.get("/headers").await.expect(StatusCode::OK);
    assert_eq!(heights(&all["headers"]), [0, 1, 2, 3]);
    let most = node
        .get("/headers?from=0&count=2000")
        .await
        .expect(StatusCode::OK);
    assert_eq!(most["count"], 4);
    let beyond = node
        .get("/headers?from=10&count=5")
        .await
        .expect(StatusCode::OK);
    assert_eq!(beyond["count"], 0);
    assert_eq!(beyond["headers"], json!([]));

    node.get("/headers?from=0&count=2001").await.field_error(
        StatusCode::BAD_REQUEST,
        "INVALID_QUERY",
        "count",
    );
    node.get("/headers?from=x")
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_QUERY");
    node.get("/headers?count=-5")
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_QUERY");
}

pub(super) async fn unknown_routes_and_methods_answer_json_errors(database: TestDatabase) {
    let node = TestNode::start(database).await;
    node.get("/no/such/route")
        .await
        .error(StatusCode::NOT_FOUND, "NOT_FOUND");
    node.get("/blocks/1/extra")
        .await
        .error(StatusCode::NOT_FOUND, "NOT_FOUND");
    node.send(request(
        Method::DELETE,
        &api("/status"),
        None,
        Body::empty(),
    ))
    .await
    .error(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
    node.send(request(
        Method::GET,
        &api("/mining/blocks"),
        None,
        Body::empty(),
    ))
    .await
    .error(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED");
    node.get("/status").await.expect(StatusCode::OK);
}

pub(super) async fn web_app_is_served_at_the_root(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let www = super::harness::www_dir();

    let index = node.send(get("/")).await;
    assert_eq!(index.status, StatusCode::OK);
    assert!(
        index
            .header("content-type")
            .is_some_and(|kind| kind.starts_with("text/html")),
        "{:?}",
        index.headers
    );
    let expected = std::fs::read(www.join("index.html")).expect("www/index.html");
    assert_eq!(index.body, expected);
    assert_eq!(index.header("x-content-type-options"), Some("nosniff"));

    let explorer = node.send(get("/explorer")).await;
    assert_eq!(explorer.status, StatusCode::OK);
    let expected = std::fs::read(www.join("explorer.html")).expect("www/explorer.html");
    assert_eq!(explorer.body, expected);

    let css = node.send(get("/style.css")).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.header("content-type")
            .is_some_and(|kind| kind.starts_with("text/css"))
    );
}

pub(super) async fn web_pages_have_their_routes_and_security_headers(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let www = super::harness::www_dir();
    let page = |name: &str| std::fs::read(www.join(name)).expect("a page of www/");
    let txid = "ab".repeat(32);
    let routes = [
        ("/", "index.html", StatusCode::OK),
        ("/explorer", "explorer.html", StatusCode::OK),
        ("/explorer/block/3", "explorer.html", StatusCode::OK),
        (
            "/explorer/block/9905d57ec9df37be3a708609bbadb74d00eaf7aa813d7e1dfd98794a39c26c6f",
            "explorer.html",
            StatusCode::OK,
        ),
        (
            &*format!("/explorer/tx/{txid}"),
            "explorer.html",
            StatusCode::OK,
        ),
        (
            "/explorer/address/rblk1xr4pffaxzd3t27mzjfuf7zvs67l2yc7v860qaa",
            "explorer.html",
            StatusCode::OK,
        ),
        ("/explorer/mempool", "explorer.html", StatusCode::OK),
        ("/explorer/", "explorer.html", StatusCode::OK),
        ("/node", "node.html", StatusCode::OK),
        ("/node/", "node.html", StatusCode::OK),
        ("/js/wallet-page.js", "js/wallet-page.js", StatusCode::OK),
        ("/style.css", "style.css", StatusCode::OK),
        ("/no/such/file", "index.html", StatusCode::NOT_FOUND),
    ];
    for (path, file, status) in routes {
        let answer = node.send(get(path)).await;
        assert_eq!(answer.status, status, "{path}");
        assert_eq!(answer.body, page(file), "{path} serves www/{file}");
        let policy = answer
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no Content-Security-Policy"));
        assert_eq!(policy, crate::api::CONTENT_SECURITY_POLICY, "{path}");
        assert_eq!(answer.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            answer.header("referrer-policy"),
            Some("no-referrer"),
            "{path}"
        );
        assert_eq!(
            answer.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }

    // The policy allows exactly what the app needs: its own scripts and
    // WebAssembly, WebSocket peers; nothing inline, no eval, no framing.
    let directives: std::collections::BTreeMap<&str, &str> = crate::api::CONTENT_SECURITY_POLICY
        .split(';')
        .map(|directive| {
            directive
                .trim()
                .split_once(' ')
                .expect("a directive and its sources")
        })
        .collect();
    assert_eq!(directives["default-src"], "'self'");
    assert_eq!(directives["script-src"], "'self' 'wasm-unsafe-eval'");
    assert_eq!(directives["connect-src"], "'self' ws: wss:");
    assert_eq!(directives["img-src"], "'self' data:");
    assert_eq!(directives["style-src"], "'self'");
    assert_eq!(directives["object-src"], "'none'");
    assert_eq!(directives["base-uri"], "'none'");
    assert_eq!(directives["frame-ancestors"], "'none'");
    assert!(!crate::api::CONTENT_SECURITY_POLICY.contains("unsafe-inline"));
    assert!(!crate::api::CONTENT_SECURITY_POLICY.contains("'unsafe-eval'"));

    // The API answers JSON, not pages: no page policy there.
    let status = node.send(get(&api("/status"))).await;
    assert_eq!(status.status, StatusCode::OK);
    assert_eq!(status.header("content-security-policy"), None);
}

pub(super) async fn cors_preflight_is_answered(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri(api("/transactions"))
        .header(header::ORIGIN, "http://wallet.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
        .body(Body::empty())
        .expect("a valid request");
    let answer = node.send(preflight).await;
    assert!(answer.status.is_success(), "{answer:?}");
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    let methods = answer
        .header("access-control-allow-methods")
        .expect("allowed methods");
    assert!(methods.contains("POST"), "{methods}");
    let headers = answer
        .header("access-control-allow-headers")
        .expect("allowed headers")
        .to_ascii_lowercase();
    assert!(headers.contains("content-type"), "{headers}");

    let simple = Request::builder()
        .uri(api("/status"))
        .header(header::ORIGIN, "http://wallet.example")
        .body(Body::empty())
        .expect("a valid request");
    let answer = node.send(simple).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("access-control-allow-origin"), Some("*"));
    let exposed = answer
        .header("access-control-expose-headers")
        .expect("exposed headers")
        .to_ascii_lowercase();
    assert!(exposed.contains("x-ratelimit-remaining"), "{exposed}");
}

pub(super) async fn health_says_live_and_ready_when_the_database_answers(database: TestDatabase) {
    let node = TestNode::start(database).await;
    node.mine(&vector_key(0).address, 2).await;
    let health = node.get("/health").await.expect(StatusCode::OK);
    assert_eq!(
        health,
        json!({
            "status": "ready",
            "live": true,
            "ready": true,
            "database": true,
            "syncing": false,
            "height": 2,
            "header_height": 2,
        })
    );
    // A database that no longer answers: alive, not ready.
    node.state.chain.storage().close().await;
    let health = node
        .get("/health")
        .await
        .expect(StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health["status"], "not_ready");
    assert_eq!(health["live"], true);
    assert_eq!(health["database"], false);
}

pub(super) async fn latest_blocks_count_their_transactions(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let alice = vector_key(0);
    node.mine(&alice.address, 1).await;
    node.submit(&sign(&alice, &vector_key(1).address, 1_000, 1_000, 0))
        .await
        .expect(StatusCode::ACCEPTED);
    node.mine(&alice.address, 1).await;
    let latest = node
        .get("/blocks/latest?limit=3")
        .await
        .expect(StatusCode::OK);
    let counts: Vec<u64> = latest["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .map(|block| {
            let count = block["transactions_count"].as_u64().expect("a count");
            assert_eq!(
                Some(count as usize),
                block["transactions"].as_array().map(Vec::len)
            );
            count
        })
        .collect();
    assert_eq!(counts, [2, 1, 0], "coinbase and payment, coinbase, genesis");
}
