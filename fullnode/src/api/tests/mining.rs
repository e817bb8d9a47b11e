//! Mining: N blocks on request, continuous mining started and stopped, status.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use serde_json::json;

use super::harness::{
    LOOPBACK, TestNode, api, post_json, request, send_to, vector_key, wait_until_async, with_cookie,
};
use crate::testing::TestDatabase;

pub(super) async fn mining_blocks_on_request_returns_them(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let miner = vector_key(0).address;
    let answer = node
        .post(
            "/mining/blocks",
            &json!({ "miner_address": miner, "count": 3 }),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(answer["count"], 3);
    let blocks = answer["blocks"].as_array().expect("blocks");
    for (block, height) in blocks.iter().zip(1u64..) {
        assert_eq!(block["index"], height);
        assert_eq!(block["transactions"][0]["recipient"], miner.as_str());
        // The answer shows each block as GET /blocks/{height} does, but for
        // its confirmations, which count the blocks mined after it.
        let mut stored = node
            .get(&format!("/blocks/{height}"))
            .await
            .expect(StatusCode::OK);
        assert_eq!(stored["confirmations"], 4 - height);
        stored["confirmations"] = block["confirmations"].clone();
        assert_eq!(*block, stored, "block {height}");
    }
    assert_eq!(node.height().await, 3);

    // One block by default.
    let one = node
        .post("/mining/blocks", &json!({ "miner_address": miner }))
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(one["count"], 1);
    assert_eq!(one["blocks"][0]["index"], 4);
    assert_eq!(node.balance(&miner).await["balance"], 4 * 5_000_000_000u64);
}

pub(super) async fn concurrent_mining_requests_each_get_best_chain_blocks(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let miners: Vec<String> = (0..3).map(|index| vector_key(index).address).collect();
    let mut requests = tokio::task::JoinSet::new();
    for miner in &miners {
        let request = post_json(
            &api("/mining/blocks"),
            &json!({ "miner_address": miner, "count": 4 }),
        );
        requests.spawn(send_to(node.state.clone(), LOOPBACK, with_cookie(request)));
    }
    let mut heights = Vec::new();
    while let Some(reply) = requests.join_next().await {
        let answer = reply
            .expect("the request task does not panic")
            .expect(StatusCode::CREATED);
        let blocks = answer["blocks"].as_array().expect("blocks");
        assert_eq!(blocks.len(), 4);
        let miner = &blocks[0]["transactions"][0]["recipient"];
        for block in blocks {
            assert_eq!(block["transactions"][0]["recipient"], *miner);
            let stored = node
                .get(&format!("/blocks/{}", block["index"]))
                .await
                .expect(StatusCode::OK);
            assert_eq!(
                stored["hash"], block["hash"],
                "returned blocks are on the best chain"
            );
            heights.push(block["index"].as_u64().expect("index"));
        }
    }
    heights.sort_unstable();
    assert_eq!(heights, (1..=12).collect::<Vec<_>>());
    assert_eq!(node.height().await, 12);
    for miner in &miners {
        assert_eq!(node.balance(miner).await["balance"], 4 * 5_000_000_000u64);
    }
}

pub(super) async fn mining_blocks_request_is_checked(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let miner = vector_key(0).address;
    for count in [0, 1001] {
        node.post(
            "/mining/blocks",
            &json!({ "miner_address": miner, "count": count }),
        )
        .await
        .field_error(StatusCode::BAD_REQUEST, "INVALID_COUNT", "count");
    }
    node.post("/mining/blocks", &json!({ "count": 1 }))
        .await
        .field_error(
            StatusCode::BAD_REQUEST,
            "MINER_ADDRESS_REQUIRED",
            "miner_address",
        );
    node.post(
        "/mining/blocks",
        &json!({ "miner_address": miner, "count": -1 }),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
    node.post(
        "/mining/blocks",
        &json!({ "miner_address": miner, "blocks": 1 }),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
    assert_eq!(node.height().await, 0, "nothing was mined");
}

pub(super) async fn continuous_mining_starts_and_stops(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let miner = vector_key(0).address;
    let idle = node.get("/mining/status").await.expect(StatusCode::OK);
    assert_eq!(idle["is_mining"], false);
    assert_eq!(idle["hash_rate"], 0.0);
    assert_eq!(idle["threads"], 1);
    assert_eq!(idle["miner_address"], serde_json::Value::Null);
    assert_eq!(idle["pending_transactions"], 0);
    assert_eq!(idle["height"], 0);
    let difficulty = idle["current_difficulty"].as_f64().expect("difficulty");
    assert!((difficulty - 1.0).abs() < 1e-6, "{difficulty}");

    // No address configured and none given.
    node.send(request(
        Method::POST,
        &api("/mining/start"),
        None,
        Body::empty(),
    ))
    .await
    .field_error(
        StatusCode::BAD_REQUEST,
        "MINER_ADDRESS_REQUIRED",
        "miner_address",
    );
    node.post("/mining/start", &json!({ "miner_address": "rblk1nope" }))
        .await
        .field_error(StatusCode::BAD_REQUEST, "INVALID_ADDRESS", "miner_address");
    node.post("/mining/start", &json!({ "address": miner }))
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
    node.send(request(
        Method::POST,
        &api("/mining/start"),
        Some("application/json"),
        Body::from("{"),
    ))
    .await
    .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
    assert_eq!(node.get("/mining/status").await.json()["is_mining"], false);

    let started = node
        .post("/mining/start", &json!({ "miner_address": miner }))
        .await
        .expect(StatusCode::OK);
    assert_eq!(started["is_mining"], true);
    assert_eq!(started["miner_address"], miner.as_str());
    wait_until_async("three mined blocks", Duration::from_secs(30), || async {
        node.height().await >= 3
    })
    .await;
    let status = node.get("/status").await.expect(StatusCode::OK);
    assert_eq!(status["is_mining"], true);

    let stopped = node
        .post("/mining/stop", &json!({}))
        .await
        .expect(StatusCode::OK);
    assert_eq!(stopped["is_mining"], false);
    assert_eq!(stopped["hash_rate"], 0.0);
    // A block found just before the stop may still land; after that, nothing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let height = node.height().await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(node.height().await, height, "no blocks after the stop");
    let status = node.get("/mining/status").await.expect(StatusCode::OK);
    assert_eq!(status["is_mining"], false);
    assert_eq!(status["height"], height);
    assert_eq!(
        node.balance(&miner).await["balance"],
        height * 5_000_000_000,
        "every block paid the miner"
    );

    // Restart with the remembered address and an empty body.
    node.send(request(
        Method::POST,
        &api("/mining/start"),
        None,
        Body::empty(),
    ))
    .await
    .expect(StatusCode::OK);
    wait_until_async("one more block", Duration::from_secs(30), || async {
        node.height().await > height
    })
    .await;
    node.send(request(
        Method::POST,
        &api("/mining/stop"),
        None,
        Body::empty(),
    ))
    .await
    .expect(StatusCode::OK);
}
