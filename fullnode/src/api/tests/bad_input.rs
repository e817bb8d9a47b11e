//! Bad input: each gets the fitting 4xx with its code in the API's error
//! shape, and the node keeps answering.

use axum::body::Body;
use axum::http::{Method, StatusCode};
use blockchain_core::params::{DEVNET, REGTEST};
use blockchain_core::{Amount, Transaction};
use serde_json::{Value, json};

use super::harness::{
    TestNode, api, parse_address, post_json, request, rsa_vectors, sign, transaction_json,
    vector_key,
};
use crate::api::BODY_LIMIT;
use crate::clock::now_ms;
use crate::testing::TestDatabase;

/// A valid signed transaction's JSON from a funded key, and the node.
async fn funded_node(database: TestDatabase) -> (TestNode, Value) {
    let node = TestNode::start(database).await;
    let (alice, bob) = (vector_key(0), vector_key(1));
    node.mine(&alice.address, 1).await;
    let valid = transaction_json(&REGTEST, &sign(&alice, &bob.address, 1_000, 10, 0));
    (node, valid)
}

/// `base` with `field` set to `value`.
fn with(base: &Value, field: &str, value: Value) -> Value {
    let mut changed = base.clone();
    changed[field] = value;
    changed
}

/// `base` without `field`.
fn without(base: &Value, field: &str) -> Value {
    let mut changed = base.clone();
    changed
        .as_object_mut()
        .expect("an object")
        .remove(field)
        .expect("the field was there");
    changed
}

async fn still_answers(node: &TestNode) {
    node.get("/status").await.expect(StatusCode::OK);
}

async fn post_text(node: &TestNode, path: &str, text: &str) -> super::harness::Reply {
    node.send(request(
        Method::POST,
        &api(path),
        Some("application/json"),
        Body::from(text.to_owned()),
    ))
    .await
}

pub(super) async fn malformed_transaction_bodies_are_400s(database: TestDatabase) {
    let (node, valid) = funded_node(database).await;

    for text in ["{\"version\": 1,", "not json", "", "{\"version\": 1 2}"] {
        post_text(&node, "/transactions", text)
            .await
            .error(StatusCode::BAD_REQUEST, "MALFORMED_JSON");
    }
    for body in [
        json!([]),
        json!(null),
        json!("a string"),
        with(&valid, "amount", json!("1000")),
        with(&valid, "amount", json!(-1)),
        with(&valid, "amount", json!(1.5)),
        with(&valid, "fee", json!(null)),
        with(&valid, "nonce", json!(true)),
        with(&valid, "sender", json!(42)),
        without(&valid, "signature"),
        without(&valid, "recipient"),
        with(&valid, "extra", json!("field")),
    ] {
        node.post("/transactions", &body)
            .await
            .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
    }
    // 2^64 does not fit an amount.
    post_text(
        &node,
        "/transactions",
        &valid
            .to_string()
            .replace("\"amount\":1000", "\"amount\":18446744073709551616"),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");

    node.post("/transactions", &with(&valid, "sender", json!("zz")))
        .await
        .field_error(StatusCode::BAD_REQUEST, "INVALID_HEX", "sender");
    node.post("/transactions", &with(&valid, "sender", json!("abc")))
        .await
        .field_error(StatusCode::BAD_REQUEST, "INVALID_HEX", "sender");
    node.post(
        "/transactions",
        &with(&valid, "sender", json!("ab".repeat(5000))),
    )
    .await
    .field_error(StatusCode::BAD_REQUEST, "INVALID_HEX", "sender");
    node.post("/transactions", &with(&valid, "sender", json!("")))
        .await
        .field_error(StatusCode::BAD_REQUEST, "INVALID_SENDER", "sender");
    let signature = valid["signature"].as_str().expect("signature").to_owned();
    let not_hex = format!("{}xy", &signature[2..]);
    node.post("/transactions", &with(&valid, "signature", json!(not_hex)))
        .await
        .field_error(StatusCode::BAD_REQUEST, "INVALID_HEX", "signature");
    node.post(
        "/transactions",
        &with(&valid, "signature", json!(&signature[2..])),
    )
    .await
    .field_error(StatusCode::BAD_REQUEST, "INVALID_SIGNATURE", "signature");
    node.post("/transactions", &with(&valid, "signature", json!("")))
        .await
        .field_error(StatusCode::BAD_REQUEST, "INVALID_SIGNATURE", "signature");
    node.post(
        "/transactions",
        &with(&valid, "signature", json!(format!("{signature}00"))),
    )
    .await
    .field_error(StatusCode::BAD_REQUEST, "INVALID_SIGNATURE", "signature");
    node.post("/transactions", &with(&valid, "version", json!(2)))
        .await
        .field_error(StatusCode::BAD_REQUEST, "UNSUPPORTED_VERSION", "version");

    still_answers(&node).await;
    node.post("/transactions", &valid)
        .await
        .expect(StatusCode::ACCEPTED);
}

pub(super) async fn invalid_transactions_are_422s_naming_the_field(database: TestDatabase) {
    let (node, valid) = funded_node(database).await;
    let (alice, bob) = (vector_key(0), vector_key(1));

    let signature = valid["signature"].as_str().expect("signature");
    let flipped = format!(
        "{}{}",
        if signature.starts_with('0') { "1" } else { "0" },
        &signature[1..]
    );
    node.post("/transactions", &with(&valid, "signature", json!(flipped)))
        .await
        .field_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "TRANSACTION_VALIDATION_FAILED",
            "signature",
        );
    // Signed for another amount: the signature does not cover this one.
    node.post("/transactions", &with(&valid, "amount", json!(999)))
        .await
        .field_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "TRANSACTION_VALIDATION_FAILED",
            "signature",
        );
    node.post(
        "/transactions",
        &with(&valid, "sender", json!("30".repeat(100))),
    )
    .await
    .field_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "TRANSACTION_VALIDATION_FAILED",
        "sender",
    );
    // Keys that break a key rule (not 3072 bits, exponent not 65537), from
    // core/tests/data/rsa.json.
    for bad_key in rsa_vectors()["bad_keys"].as_array().expect("bad keys") {
        let spki = bad_key["spki"].as_str().expect("spki");
        node.post("/transactions", &with(&valid, "sender", json!(spki)))
            .await
            .field_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "TRANSACTION_VALIDATION_FAILED",
                "sender",
            );
    }

    // Signed for devnet: the signature covers another network's magic.
    let devnet = Transaction::new_signed(
        &DEVNET,
        &alice.key,
        parse_address(&bob.address),
        Amount(1_000),
        Amount(10),
        0,
        now_ms(),
        &mut rand::rngs::SysRng,
    )
    .expect("signing works");
    node.submit(&devnet).await.field_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "TRANSACTION_VALIDATION_FAILED",
        "signature",
    );

    let zero = sign(&alice, &bob.address, 0, 10, 0);
    node.submit(&zero).await.field_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "TRANSACTION_VALIDATION_FAILED",
        "amount",
    );
    let overflowing = sign(&alice, &bob.address, u64::MAX, 1, 0);
    node.submit(&overflowing).await.field_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "TRANSACTION_VALIDATION_FAILED",
        "amount",
    );
    let overspend = sign(&alice, &bob.address, 5_000_000_000, 1, 0);
    node.submit(&overspend).await.field_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "INSUFFICIENT_FUNDS",
        "amount",
    );
    let unfunded = sign(&bob, &alice.address, 1, 0, 0);
    node.submit(&unfunded).await.field_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "INSUFFICIENT_FUNDS",
        "amount",
    );
    let gap = sign(&alice, &bob.address, 1_000, 10, 5);
    node.submit(&gap).await.field_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "TRANSACTION_VALIDATION_FAILED",
        "nonce",
    );

    // Once nonce 0 is mined, nonce 0 is too low.
    node.post("/transactions", &valid)
        .await
        .expect(StatusCode::ACCEPTED);
    node.mine(&bob.address, 1).await;
    let reused = sign(&alice, &bob.address, 7, 10, 0);
    node.submit(&reused).await.field_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "TRANSACTION_VALIDATION_FAILED",
        "nonce",
    );
    node.post("/transactions", &valid).await.error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "TRANSACTION_VALIDATION_FAILED",
    );

    let pending = node
        .get("/transactions/pending")
        .await
        .expect(StatusCode::OK);
    assert_eq!(pending["count"], 0, "nothing invalid got in: {pending}");
    still_answers(&node).await;
}

pub(super) async fn wrong_addresses_are_400s(database: TestDatabase) {
    let (node, valid) = funded_node(database).await;
    let bob = vector_key(1);
    let mut mistyped = bob.address.clone();
    let last = mistyped.pop().expect("an address has characters");
    mistyped.push(if last == 'q' { 'p' } else { 'q' });

    for recipient in [
        json!(mistyped),
        json!(bob.devnet_address),
        json!("blk1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq"),
        json!(""),
        json!("rblk1"),
        json!(bob.address.to_uppercase() + "X"),
    ] {
        node.post("/transactions", &with(&valid, "recipient", recipient))
            .await
            .field_error(StatusCode::BAD_REQUEST, "INVALID_ADDRESS", "recipient");
    }
    for address in [mistyped.as_str(), bob.devnet_address.as_str(), "nonsense"] {
        node.get(&format!("/wallet/{address}/balance"))
            .await
            .field_error(StatusCode::BAD_REQUEST, "INVALID_ADDRESS", "address");
        node.get(&format!("/wallet/{address}/transactions"))
            .await
            .field_error(StatusCode::BAD_REQUEST, "INVALID_ADDRESS", "address");
        node.get(&format!("/wallet/{address}/proof"))
            .await
            .field_error(StatusCode::BAD_REQUEST, "INVALID_ADDRESS", "address");
        node.post("/mining/blocks", &json!({ "miner_address": address }))
            .await
            .field_error(StatusCode::BAD_REQUEST, "INVALID_ADDRESS", "miner_address");
    }
    still_answers(&node).await;
}

pub(super) async fn oversized_bodies_are_413s(database: TestDatabase) {
    let (node, valid) = funded_node(database).await;
    let padded = with(&valid, "padding", json!("x".repeat(BODY_LIMIT)));

    // Streamed, without Content-Length: the limit stops the read.
    node.post("/transactions", &padded)
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");
    node.post("/mining/start", &padded)
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");
    // With Content-Length: refused before the read.
    let text = padded.to_string();
    let mut declared = post_json(&api("/transactions"), &padded);
    declared.headers_mut().insert(
        axum::http::header::CONTENT_LENGTH,
        text.len().to_string().parse().expect("a header value"),
    );
    node.send(declared)
        .await
        .error(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE");

    // Just under the limit is read, and judged on its content.
    let mut under = with(&valid, "padding", json!(""));
    let room = BODY_LIMIT - under.to_string().len();
    under["padding"] = json!("x".repeat(room));
    assert_eq!(under.to_string().len(), BODY_LIMIT);
    node.post("/transactions", &under)
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
    still_answers(&node).await;
}

pub(super) async fn wrong_content_type_is_415(database: TestDatabase) {
    let (node, valid) = funded_node(database).await;
    let body = valid.to_string();
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        node.send(request(
            Method::POST,
            &api("/transactions"),
            content_type,
            Body::from(body.clone()),
        ))
        .await
        .error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE");
    }
    node.send(request(
        Method::POST,
        &api("/wallet"),
        Some("text/plain"),
        Body::from("{\"password\": \"long enough\"}"),
    ))
    .await
    .error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE");
    node.send(request(
        Method::POST,
        &api("/transactions"),
        Some("application/json; charset=utf-8"),
        Body::from(body),
    ))
    .await
    .expect(StatusCode::ACCEPTED);
}

pub(super) async fn bad_paths_and_queries_are_400s_and_unknown_things_404s(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let unknown_hash = "ab".repeat(32);

    for height in ["abc", "-1", "1.0", "0x10", "%20"] {
        node.get(&format!("/blocks/{height}")).await.field_error(
            StatusCode::BAD_REQUEST,
            "INVALID_HEIGHT",
            "height",
        );
    }
    node.get("/blocks/99")
        .await
        .error(StatusCode::NOT_FOUND, "BLOCK_NOT_FOUND");
    for hash in ["xyz", "ab", &"zz".repeat(32), &"ab".repeat(33)] {
        node.get(&format!("/blocks/hash/{hash}")).await.field_error(
            StatusCode::BAD_REQUEST,
            "INVALID_HASH",
            "hash",
        );
    }
    node.get(&format!("/blocks/hash/{unknown_hash}"))
        .await
        .error(StatusCode::NOT_FOUND, "BLOCK_NOT_FOUND");

    for txid in ["xyz", "00", &"g0".repeat(32)] {
        node.get(&format!("/transactions/{txid}"))
            .await
            .field_error(StatusCode::BAD_REQUEST, "INVALID_TXID", "txid");
        node.get(&format!("/transactions/{txid}/proof"))
            .await
            .field_error(StatusCode::BAD_REQUEST, "INVALID_TXID", "txid");
    }
    node.get(&format!("/transactions/{unknown_hash}"))
        .await
        .error(StatusCode::NOT_FOUND, "TRANSACTION_NOT_FOUND");
    node.get(&format!("/transactions/{unknown_hash}/proof"))
        .await
        .error(StatusCode::NOT_FOUND, "TRANSACTION_NOT_FOUND");
    node.get("/transactions/pending?limit=x")
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_QUERY");

    // Percent-encoded bytes that are not UTF-8 in a path parameter.
    node.get("/blocks/%FF")
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_PATH");
    node.get("/transactions/%C3%28")
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_PATH");
    node.get("/wallet/%FF/balance")
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_PATH");
    node.post("/wallet/%FF/send", &json!({}))
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_PATH");
    still_answers(&node).await;
}

pub(super) async fn extreme_numbers_in_paths_and_queries_are_not_500s(database: TestDatabase) {
    let node = TestNode::start(database).await;
    node.mine(&vector_key(0).address, 1).await;
    let address = vector_key(0).address;

    // The largest documented value (2^53 − 1) is answered; one past it,
    // and the numbers that overflow 63 or 64 bits, are refused with the
    // field named.
    let max = 9_007_199_254_740_991u64;
    node.get(&format!("/blocks/{max}"))
        .await
        .error(StatusCode::NOT_FOUND, "BLOCK_NOT_FOUND");
    let headers = node
        .get(&format!("/headers?from={max}&count=10"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(headers["count"], 0);
    let history = node
        .get(&format!("/wallet/{address}/transactions?offset={max}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(history["count"], 0);
    let pending = node
        .get(&format!("/transactions/pending?offset={max}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(pending["count"], 0);
    for number in [
        (max + 1).to_string(),
        u64::MAX.to_string(),
        (1u64 << 63).to_string(),
        i64::MAX.to_string(),
        "18446744073709551616".to_string(),
    ] {
        node.get(&format!("/blocks/{number}")).await.field_error(
            StatusCode::BAD_REQUEST,
            "INVALID_HEIGHT",
            "height",
        );
        for (path, field) in [
            (format!("/headers?from={number}"), "from"),
            (
                format!("/wallet/{address}/transactions?offset={number}"),
                "offset",
            ),
            (format!("/transactions/pending?offset={number}"), "offset"),
        ] {
            let answer = node.get(&path).await;
            answer.field_error(StatusCode::BAD_REQUEST, "INVALID_QUERY", field);
        }
    }
    for path in [
        format!("/wallet/{address}/transactions?limit=4294967295"),
        "/blocks/latest?limit=4294967295".to_string(),
        "/transactions/pending?limit=4294967295".to_string(),
    ] {
        node.get(&path)
            .await
            .field_error(StatusCode::BAD_REQUEST, "INVALID_QUERY", "limit");
    }
    still_answers(&node).await;
}
