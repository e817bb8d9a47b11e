//! Node-side wallets: POST /wallet makes and stores a keystore, POST
//! /wallet/{address}/send spends from it with its password.

use axum::http::StatusCode;
use blockchain_core::keystore::{DEFAULT_ITERATIONS, Keystore};
use blockchain_core::{Address, Network};
use serde_json::json;

use super::harness::{
    LOOPBACK, REMOTE, TestNode, api, post_json, send_to, unused_address, vector_key, with_cookie,
};
use crate::testing::TestDatabase;

const PASSWORD: &str = "correct horse battery staple";

pub(super) async fn node_side_wallet_is_created_funded_and_spends(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let created = node
        .post("/wallet", &json!({ "password": PASSWORD }))
        .await
        .expect(StatusCode::CREATED);
    let address = created["address"].as_str().expect("address").to_owned();
    assert!(address.starts_with("rblk1"), "{address}");
    let keystore: Keystore =
        serde_json::from_value(created["keystore"].clone()).expect("a keystore in the answer");
    assert_eq!(keystore.version, 1);
    assert_eq!(keystore.network, "regtest");
    assert_eq!(keystore.network().ok(), Some(Network::Regtest));
    assert_eq!(keystore.address, address);
    assert_eq!(keystore.encrypted_private_key.kdf, "pbkdf2-hmac-sha256");
    assert_eq!(keystore.encrypted_private_key.cipher, "aes-256-gcm");
    assert_eq!(
        keystore.encrypted_private_key.iterations,
        DEFAULT_ITERATIONS
    );
    assert!(
        keystore
            .public_key
            .starts_with("-----BEGIN PUBLIC KEY-----")
    );
    // The keystore opens with any implementation of the format: here, the core's.
    let opened = tokio::task::spawn_blocking(move || keystore.decrypt(PASSWORD))
        .await
        .expect("decrypting does not panic")
        .expect("the password opens the keystore");
    assert_eq!(
        Address::from_spki_der(&opened.public_key().to_spki_der()).to_bech32m("rblk"),
        address
    );

    let bob = vector_key(1);
    node.post(
        &format!("/wallet/{address}/send"),
        &json!({ "password": PASSWORD, "recipient": bob.address, "amount": 1_000, "fee": 10 }),
    )
    .await
    .field_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "INSUFFICIENT_FUNDS",
        "amount",
    );

    node.mine(&address, 1).await;
    node.post(
        &format!("/wallet/{address}/send"),
        &json!({ "password": "wrong password", "recipient": bob.address, "amount": 1_000, "fee": 10 }),
    )
    .await
    .field_error(StatusCode::UNAUTHORIZED, "WRONG_PASSWORD", "password");
    assert_eq!(node.get("/transactions/pending").await.json()["count"], 0);

    let sent = node
        .post(
            &format!("/wallet/{address}/send"),
            &json!({ "password": PASSWORD, "recipient": bob.address, "amount": 1_000, "fee": 10 }),
        )
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(sent["status"], "pending");
    assert_eq!(sent["nonce"], 0);
    let txid = sent["txid"].as_str().expect("txid").to_owned();
    let pending = node
        .get(&format!("/transactions/{txid}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(pending["status"], "pending");
    assert_eq!(pending["sender_address"], address.as_str());
    assert_eq!(pending["recipient"], bob.address.as_str());

    // Fee defaults to zero; the nonce follows the pending one.
    let second = node
        .post(
            &format!("/wallet/{address}/send"),
            &json!({ "password": PASSWORD, "recipient": bob.address, "amount": 500 }),
        )
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(second["nonce"], 1);

    node.mine(&vector_key(2).address, 1).await;
    let confirmed = node
        .get(&format!("/transactions/{txid}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(node.balance(&bob.address).await["balance"], 1_500);
    let wallet = node.balance(&address).await;
    assert_eq!(wallet["balance"], 5_000_000_000u64 - 1_500 - 10);
    assert_eq!(wallet["nonce"], 2);
}

pub(super) async fn concurrent_sends_from_one_wallet_all_confirm(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let created = node
        .post("/wallet", &json!({ "password": PASSWORD }))
        .await
        .expect(StatusCode::CREATED);
    let address = created["address"].as_str().expect("address").to_owned();
    node.mine(&address, 1).await;
    let bob = vector_key(1).address;

    let mut sends = tokio::task::JoinSet::new();
    for fee in [10, 20, 30] {
        let request = post_json(
            &api(&format!("/wallet/{address}/send")),
            &json!({ "password": PASSWORD, "recipient": bob, "amount": 1_000, "fee": fee }),
        );
        sends.spawn(send_to(node.state.clone(), LOOPBACK, with_cookie(request)));
    }
    let mut nonces = Vec::new();
    while let Some(reply) = sends.join_next().await {
        let sent = reply
            .expect("the request task does not panic")
            .expect(StatusCode::ACCEPTED);
        nonces.push(sent["nonce"].as_u64().expect("nonce"));
    }
    nonces.sort_unstable();
    assert_eq!(nonces, [0, 1, 2], "each send takes the next nonce");
    assert_eq!(node.get("/transactions/pending").await.json()["count"], 3);
    node.mine(&vector_key(2).address, 1).await;
    assert_eq!(node.balance(&bob).await["balance"], 3_000);
}

pub(super) async fn wallet_requests_are_checked_before_any_key_work(database: TestDatabase) {
    let node = TestNode::start(database).await;
    node.post("/wallet", &json!({ "password": "short" }))
        .await
        .field_error(StatusCode::BAD_REQUEST, "WEAK_PASSWORD", "password");
    node.post("/wallet", &json!({}))
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
    node.post("/wallet", &json!({ "password": PASSWORD, "name": "x" }))
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
    node.post("/wallet", &json!({ "password": 12345678 }))
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");

    let nobody = unused_address(3);
    let bob = vector_key(1).address;
    node.post(
        &format!("/wallet/{nobody}/send"),
        &json!({ "password": PASSWORD, "recipient": bob, "amount": 1 }),
    )
    .await
    .error(StatusCode::NOT_FOUND, "WALLET_NOT_FOUND");
    node.post(
        &format!("/wallet/{nobody}/send"),
        &json!({ "password": PASSWORD, "recipient": "rblk1nope", "amount": 1 }),
    )
    .await
    .field_error(StatusCode::BAD_REQUEST, "INVALID_ADDRESS", "recipient");
    node.post(
        &format!("/wallet/{nobody}/send"),
        &json!({ "password": PASSWORD, "recipient": bob, "amount": "1" }),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
    node.post(
        &format!("/wallet/{nobody}/send"),
        &json!({ "password": PASSWORD, "recipient": bob }),
    )
    .await
    .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
    node.post(
        "/wallet/rblk1nope/send",
        &json!({ "password": PASSWORD, "recipient": bob, "amount": 1 }),
    )
    .await
    .field_error(StatusCode::BAD_REQUEST, "INVALID_ADDRESS", "address");
    node.get("/status").await.expect(StatusCode::OK);
}

pub(super) async fn wrong_wallet_passwords_are_limited_per_wallet_and_per_client(
    database: TestDatabase,
) {
    let node = TestNode::start(database).await;
    let mut wallets = Vec::new();
    for _ in 0..2 {
        let created = node
            .post("/wallet", &json!({ "password": PASSWORD }))
            .await
            .expect(StatusCode::CREATED);
        wallets.push(created["address"].as_str().expect("address").to_owned());
    }
    let bob = vector_key(1).address;
    let send = |password: &str| json!({ "password": password, "recipient": bob, "amount": 1_000, "fee": 1_000 });
    let path = |wallet: &str| api(&format!("/wallet/{wallet}/send"));
    for _ in 0..crate::api::password_limit::MAX_WRONG {
        node.send(post_json(&path(&wallets[0]), &send("a wrong guess")))
            .await
            .field_error(StatusCode::UNAUTHORIZED, "WRONG_PASSWORD", "password");
    }
    // Locked out for the minute, even with the right password, before any
    // key work; the answer says when to come back.
    let locked = node
        .send(post_json(&path(&wallets[0]), &send(PASSWORD)))
        .await;
    let wait: u64 = locked
        .header("retry-after")
        .and_then(|value| value.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    locked.error(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_WRONG_PASSWORDS");
    // The wallet is locked from every client, and the guessing client on
    // every wallet.
    node.send_from(
        REMOTE,
        with_cookie(post_json(&path(&wallets[0]), &send(PASSWORD))),
    )
    .await
    .error(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_WRONG_PASSWORDS");
    node.send(post_json(&path(&wallets[1]), &send(PASSWORD)))
        .await
        .error(StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_WRONG_PASSWORDS");
    // Another wallet from another client is tried: the password is right
    // (the wallet is empty).
    node.send_from(
        REMOTE,
        with_cookie(post_json(&path(&wallets[1]), &send(PASSWORD))),
    )
    .await
    .field_error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "INSUFFICIENT_FUNDS",
        "amount",
    );
}
