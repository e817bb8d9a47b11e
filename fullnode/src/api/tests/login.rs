//! Administrator login: a signed challenge for a token, the token opening
//! protected routes to remote callers, and every refusal with its code.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::harness::{
    REMOTE, Reply, TestNode, VectorKey, api, parse_address, post_json, vector_key,
};
use crate::auth::jwt::{JwtKey, KEY_LEN};
use crate::auth::{AdminAuth, CHALLENGE_TTL};
use crate::clock::now_ms;
use crate::testing::TestDatabase;

/// A node whose one administrator is vector key 0.
async fn node_with_admin(database: TestDatabase) -> TestNode {
    TestNode::with_config(database, |config| {
        config.admin_addresses = vec![parse_address(&vector_key(0).address)];
        config.api_token = Some("static-api-token".into());
    })
    .await
}

fn sign(key: &VectorKey, text: &str) -> String {
    hex::encode(
        key.key
            .sign_pss(&mut rand::rngs::SysRng, text.as_bytes())
            .expect("signing works"),
    )
}

/// A fresh challenge, asked for by a remote caller (the route is public).
async fn challenge(node: &TestNode) -> String {
    let answer = node
        .send_from(REMOTE, post_json(&api("/auth/challenge"), &json!({})))
        .await
        .expect(StatusCode::OK);
    answer["challenge"]
        .as_str()
        .expect("a challenge string")
        .to_owned()
}

async fn login(node: &TestNode, body: &Value) -> Reply {
    node.send_from(REMOTE, post_json(&api("/auth/login"), body))
        .await
}

fn login_body(challenge: &str, key: &VectorKey, signature: &str) -> Value {
    json!({ "challenge": challenge, "public_key": key.spki, "signature": signature })
}

/// GET /webhooks (protected) from a remote caller with `authorization`.
async fn protected_get(node: &TestNode, authorization: &str) -> Reply {
    let request = Request::get(api("/webhooks"))
        .header(header::AUTHORIZATION, authorization)
        .body(Body::empty())
        .expect("a valid request");
    node.send_from(REMOTE, request).await
}

pub(super) async fn admin_logs_in_and_reaches_protected_routes_remotely(database: TestDatabase) {
    let node = node_with_admin(database).await;
    let admin = vector_key(0);
    let before = now_ms();
    let answer = node
        .send_from(REMOTE, post_json(&api("/auth/challenge"), &json!({})))
        .await
        .expect(StatusCode::OK);
    let text = answer["challenge"].as_str().expect("a challenge");
    assert!(text.starts_with("blockchain-login:regtest:"), "{answer}");
    let expires_at = answer["expires_at"].as_u64().expect("expires_at");
    assert!(
        (before + CHALLENGE_TTL.as_millis() as u64..=now_ms() + CHALLENGE_TTL.as_millis() as u64)
            .contains(&expires_at),
        "{answer}"
    );
    assert!(text.ends_with(&format!(":{expires_at}")), "{answer}");

    let token = login(&node, &login_body(text, &admin, &sign(&admin, text)))
        .await
        .expect(StatusCode::OK);
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["address"], admin.address.as_str());
    let expires_at = token["expires_at"].as_u64().expect("expires_at");
    let hour = 3_600_000;
    assert!(
        expires_at > before + hour - 1000 && expires_at <= now_ms() + hour,
        "{token}"
    );
    // The JWT names the administrator and its times in seconds.
    let jwt = token["token"].as_str().expect("a token");
    let claims: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(1).expect("claims"))
            .expect("base64url"),
    )
    .expect("JSON claims");
    assert_eq!(claims["sub"], admin.address.as_str());
    assert_eq!(claims["iss"], "blockchain-node/regtest");
    assert_eq!(claims["exp"].as_u64(), Some(expires_at / 1000));
    assert!(
        claims["iat"]
            .as_u64()
            .is_some_and(|iat| iat * 1000 <= now_ms())
    );

    // Without the token a remote caller is refused; with it, let in.
    node.send_from(REMOTE, super::harness::get(&api("/webhooks")))
        .await
        .error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    protected_get(&node, &format!("Bearer {jwt}"))
        .await
        .expect(StatusCode::OK);
    let mined = node
        .send_from(
            REMOTE,
            Request::post(api("/mining/blocks"))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {jwt}"))
                .body(Body::from(
                    json!({ "miner_address": admin.address, "count": 1 }).to_string(),
                ))
                .expect("a valid request"),
        )
        .await
        .expect(StatusCode::CREATED);
    assert_eq!(mined["count"], 1);
    // The static API token still works beside login tokens.
    protected_get(&node, "Bearer static-api-token")
        .await
        .expect(StatusCode::OK);
}

pub(super) async fn each_login_refusal_has_its_status_and_code(database: TestDatabase) {
    let node = node_with_admin(database).await;
    let (admin, other) = (vector_key(0), vector_key(1));

    // A used challenge.
    let text = challenge(&node).await;
    let signed = login_body(&text, &admin, &sign(&admin, &text));
    login(&node, &signed).await.expect(StatusCode::OK);
    login(&node, &signed).await.field_error(
        StatusCode::UNAUTHORIZED,
        "CHALLENGE_UNKNOWN_OR_USED",
        "challenge",
    );

    // A challenge the node never issued.
    let made_up = format!(
        "blockchain-login:regtest:{}:{}",
        "ab".repeat(32),
        now_ms() + 60_000
    );
    login(
        &node,
        &login_body(&made_up, &admin, &sign(&admin, &made_up)),
    )
    .await
    .field_error(
        StatusCode::UNAUTHORIZED,
        "CHALLENGE_UNKNOWN_OR_USED",
        "challenge",
    );

    // An expired challenge: issued one lifetime ago.
    let expired = node
        .state
        .auth
        .issue_challenge(now_ms() - CHALLENGE_TTL.as_millis() as u64 - 1)
        .text;
    login(
        &node,
        &login_body(&expired, &admin, &sign(&admin, &expired)),
    )
    .await
    .field_error(StatusCode::UNAUTHORIZED, "CHALLENGE_EXPIRED", "challenge");

    // A wrong signature: another key's, or over other text. The attempt
    // uses the challenge up, so the right signature comes too late.
    let text = challenge(&node).await;
    login(&node, &login_body(&text, &admin, &sign(&other, &text)))
        .await
        .field_error(StatusCode::UNAUTHORIZED, "INVALID_SIGNATURE", "signature");
    login(&node, &login_body(&text, &admin, &sign(&admin, &text)))
        .await
        .field_error(
            StatusCode::UNAUTHORIZED,
            "CHALLENGE_UNKNOWN_OR_USED",
            "challenge",
        );
    let text = challenge(&node).await;
    login(
        &node,
        &login_body(&text, &admin, &sign(&admin, &format!("{text} "))),
    )
    .await
    .field_error(StatusCode::UNAUTHORIZED, "INVALID_SIGNATURE", "signature");

    // A valid signature by a key that is not an administrator's.
    let text = challenge(&node).await;
    login(&node, &login_body(&text, &other, &sign(&other, &text)))
        .await
        .field_error(StatusCode::FORBIDDEN, "NOT_ADMIN", "public_key");

    // Malformed requests.
    let text = challenge(&node).await;
    let signature = sign(&admin, &text);
    let mut body = login_body(&text, &admin, &signature);
    body["signature"] = json!("zz");
    login(&node, &body)
        .await
        .field_error(StatusCode::BAD_REQUEST, "INVALID_HEX", "signature");
    let mut body = login_body(&text, &admin, &signature);
    body["public_key"] = json!("00".repeat(2000));
    login(&node, &body)
        .await
        .field_error(StatusCode::BAD_REQUEST, "INVALID_HEX", "public_key");
    let mut body = login_body(&text, &admin, &signature);
    body["extra"] = json!(1);
    login(&node, &body)
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
    login(&node, &json!({ "challenge": text }))
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
    // Malformed requests leave the challenge unused; a bad key uses it up.
    let mut body = login_body(&text, &admin, &signature);
    body["public_key"] = json!("3082");
    login(&node, &body).await.field_error(
        StatusCode::BAD_REQUEST,
        "INVALID_PUBLIC_KEY",
        "public_key",
    );
    login(&node, &login_body(&text, &admin, &signature))
        .await
        .error(StatusCode::UNAUTHORIZED, "CHALLENGE_UNKNOWN_OR_USED");
}

pub(super) async fn bad_tokens_are_refused_with_their_codes(database: TestDatabase) {
    let node = node_with_admin(database).await;
    let (admin, other) = (vector_key(0), vector_key(1));
    let auth = &node.state.auth;
    let admin_address = parse_address(&admin.address);
    let valid = auth.issue_token(admin_address, now_ms()).token;
    protected_get(&node, &format!("Bearer {valid}"))
        .await
        .expect(StatusCode::OK);

    // Expired: issued two hours ago with a one-hour lifetime.
    let expired = auth
        .issue_token(admin_address, now_ms() - 2 * 3_600_000)
        .token;
    protected_get(&node, &format!("Bearer {expired}"))
        .await
        .error(StatusCode::UNAUTHORIZED, "TOKEN_EXPIRED");

    // Tampered: the claims changed (another subject, a later expiry) under
    // the original signature, or the signature changed.
    let parts: Vec<&str> = valid.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url"))
            .expect("JSON");
    for (field, value) in [("sub", json!(other.address)), ("exp", json!(u64::MAX / 2))] {
        let original = claims[field].clone();
        claims[field] = value;
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            parts[2]
        );
        claims[field] = original;
        protected_get(&node, &format!("Bearer {forged}"))
            .await
            .error(StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
    }
    let mut signature = URL_SAFE_NO_PAD.decode(parts[2]).expect("base64url");
    signature[0] ^= 1;
    let resigned = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        URL_SAFE_NO_PAD.encode(signature)
    );
    protected_get(&node, &format!("Bearer {resigned}"))
        .await
        .error(StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
    // `alg: none`, and a token of another node's key.
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    protected_get(&node, &format!("Bearer {none}"))
        .await
        .error(StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
    let foreign = AdminAuth::new(&node.state.config, JwtKey::new([3; KEY_LEN]))
        .issue_token(admin_address, now_ms())
        .token;
    protected_get(&node, &format!("Bearer {foreign}"))
        .await
        .error(StatusCode::UNAUTHORIZED, "INVALID_TOKEN");

    // Signed by this node, for an address that is not an administrator.
    let demoted = auth
        .issue_token(parse_address(&other.address), now_ms())
        .token;
    protected_get(&node, &format!("Bearer {demoted}"))
        .await
        .error(StatusCode::FORBIDDEN, "NOT_ADMIN");

    // Not a JWT and not the API token.
    protected_get(&node, "Bearer wrong-static-token")
        .await
        .error(StatusCode::FORBIDDEN, "FORBIDDEN");
}
