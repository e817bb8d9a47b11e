//! Eclipse attempts (docs/SECURITY.md, "Eclipse"): inbound connections
//! cannot take every slot, one address cannot take every inbound one, and
//! an outbound peer that drops is dialled again.

use std::time::Duration;

use libp2p::Multiaddr;

use super::{ban_reason, peer_id, wait_until};
use crate::p2p::{node_with, tip};
use crate::support::sybils::Sybils;
use blockchain_testkit::vectors::vector_address;

/// The default `--max-inbound-per-ip`.
const MAX_INBOUND_PER_IP: usize = 16;

/// A TCP port free on 127.0.0.1 now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// 100 peers with identities of their own, all from 127.0.0.1, connect to
/// a node: at most 16 get in, and the node keeps its outbound peer. When
/// that peer restarts, the node dials it again (bootstrap peers used to be
/// dialled only at start, so a node could be cut off for good) and follows
/// its chain.
#[test]
fn a_node_with_100_inbound_sybils_from_one_address_keeps_and_regains_its_outbound_peer() {
    let dir = tempfile::tempdir().expect("temp dir");
    let listen = format!("/ip4/127.0.0.1/tcp/{}", free_port());
    let honest_args = ["--listen".to_owned(), listen];
    let honest_dir = dir.path().join("honest");
    let honest = node_with(&honest_dir, &honest_args);
    let honest_id = peer_id(&honest);
    let node = node_with(
        &dir.path().join("node"),
        &["--bootstrap".to_owned(), honest.listen_addr("/tcp/")],
    );
    wait_until("the node to dial its bootstrap peer", &[&node], || {
        node.connected_peers().contains(&honest_id.to_string())
    });

    let target: Multiaddr = node.listen_addr("/tcp/").parse().expect("multiaddr");
    let sybils = Sybils::connect(100, &target);
    wait_until("every Sybil to be let in or refused", &[&node], || {
        sybils.settled()
    });
    std::thread::sleep(Duration::from_secs(1));
    let admitted = sybils.open();
    eprintln!("{admitted} of 100 Sybil connections from 127.0.0.1 admitted");
    assert!(
        (1..=MAX_INBOUND_PER_IP).contains(&admitted),
        "{admitted} Sybil connections"
    );
    assert!(node.connected_peers().contains(&honest_id.to_string()));

    // The outbound peer restarts (same identity, same address).
    assert_eq!(honest.terminate(), Some(0));
    wait_until("the node to see its peer go", &[&node], || {
        !node.connected_peers().contains(&honest_id.to_string())
    });
    let honest = node_with(&honest_dir, &honest_args);
    wait_until("the node to dial its peer again", &[&honest, &node], || {
        node.connected_peers().contains(&honest_id.to_string())
    });
    honest.mine(&vector_address(1), 3);
    let target = tip(&honest);
    wait_until(
        "the node to follow its peer's chain",
        &[&honest, &node],
        || tip(&node) == target,
    );
    assert!(sybils.open() <= MAX_INBOUND_PER_IP);
    assert_eq!(ban_reason(&node, &honest_id), None);
}
