//! Peers: GET /network/peers lists them, POST /network/peers dials (records) one.

use axum::http::StatusCode;
use serde_json::json;

use super::harness::TestNode;
use crate::testing::TestDatabase;

const PEER_ID: &str = "12D3KooWGzRBn6Dbd4mmyCfYuwxPjP3Vk3nqwm4PxtGDrfBZnvrz";

pub(super) async fn dialled_peers_are_listed(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let empty = node.get("/network/peers").await.expect(StatusCode::OK);
    assert_eq!(empty["count"], 0);
    assert_eq!(empty["peers"], json!([]));

    let multiaddr = format!("/ip4/10.0.0.1/tcp/4001/p2p/{PEER_ID}");
    let dialled = node
        .post("/network/peers", &json!({ "multiaddr": multiaddr }))
        .await
        .expect(StatusCode::ACCEPTED);
    assert_eq!(dialled["peer_id"], PEER_ID);
    assert_eq!(dialled["multiaddr"], multiaddr.as_str());

    let listed = node.get("/network/peers").await.expect(StatusCode::OK);
    assert_eq!(listed["count"], 1);
    let peer = &listed["peers"][0];
    assert_eq!(peer["peer_id"], PEER_ID);
    assert_eq!(peer["multiaddrs"], json!([multiaddr]));
    assert!(
        peer["last_seen"].as_u64().is_some_and(|ms| ms > 0),
        "{peer}"
    );

    // The same peer again, at another address: still one peer.
    let other = format!("/dns4/node.example/tcp/4001/p2p/{PEER_ID}");
    node.post("/network/peers", &json!({ "multiaddr": other }))
        .await
        .expect(StatusCode::ACCEPTED);
    let listed = node.get("/network/peers").await.expect(StatusCode::OK);
    assert_eq!(listed["count"], 1, "{listed}");

    // The transports a browser or another node dials, through a relay too.
    let relay = "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N";
    for multiaddr in [
        format!("/ip6/::1/udp/4001/quic-v1/p2p/{relay}"),
        format!("/ip4/127.0.0.1/tcp/4002/ws/p2p/{relay}"),
        format!(
            "/ip4/127.0.0.1/udp/4003/webrtc-direct/certhash/uEiCxlDkFT7D_XhtQHKxc8CNr28MxjzHRHAkRncNdSNOBEw/p2p/{relay}"
        ),
        format!("/ip4/10.0.0.2/tcp/4001/p2p/{relay}/p2p-circuit/p2p/{PEER_ID}"),
    ] {
        let dialled = node
            .post("/network/peers", &json!({ "multiaddr": multiaddr }))
            .await
            .expect(StatusCode::ACCEPTED);
        assert_eq!(dialled["multiaddr"], multiaddr.as_str());
    }
    let listed = node.get("/network/peers").await.expect(StatusCode::OK);
    assert_eq!(listed["count"], 2, "{listed}");
}

pub(super) async fn invalid_multiaddrs_are_400s(database: TestDatabase) {
    let node = TestNode::start(database).await;
    for multiaddr in [
        "not a multiaddr".to_owned(),
        "/ip4/10.0.0.1/tcp/4001".to_owned(),
        "/ip4/10.0.0.1/tcp/4001/p2p/".to_owned(),
        format!("ip4/10.0.0.1/tcp/4001/p2p/{PEER_ID}"),
        String::new(),
        format!("/ip4/999.0.0.1/tcp/4001/p2p/{PEER_ID}"),
        format!("/ip4/10.0.0.1/tcp/65536/p2p/{PEER_ID}"),
        format!("/ip6/10.0.0.1/tcp/4001/p2p/{PEER_ID}"),
        format!("/garbage/x/p2p/{PEER_ID}"),
        format!("/ip4/10.0.0.1/tcp/4001/p2p/{PEER_ID}/"),
        format!("/ip4/10.0.0.1/tcp/4001/p2p/{PEER_ID}/tcp"),
        format!("/ip4/10.0.0.1//tcp/4001/p2p/{PEER_ID}"),
        "/ip4/10.0.0.1/tcp/4001/p2p/not-a-peer-id".to_owned(),
        "/ip4/10.0.0.1/tcp/4001/p2p/0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl".to_owned(),
    ] {
        node.post("/network/peers", &json!({ "multiaddr": multiaddr }))
            .await
            .field_error(StatusCode::BAD_REQUEST, "INVALID_MULTIADDR", "multiaddr");
    }
    node.post("/network/peers", &json!({}))
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
    node.post("/network/peers", &json!({ "multiaddr": 4001 }))
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_BODY");
    let listed = node.get("/network/peers").await.expect(StatusCode::OK);
    assert_eq!(listed["count"], 0, "nothing invalid was recorded: {listed}");
}
