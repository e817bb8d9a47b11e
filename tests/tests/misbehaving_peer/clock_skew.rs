//! Honest peers whose clocks run ahead of the node's (docs/SECURITY.md,
//! "Clock skew"): a block only too far in the future is not invalid. The
//! node never bans for it; it asks again once the block is due.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use blockchain_core::params::DEVNET;
use blockchain_core::{Address, Block};
use libp2p::Multiaddr;

use super::{ban_reason, peer_id, wait_until};
use crate::p2p::tip;
use crate::support::blocks::ChainBuilder;
use crate::support::evil_peer::{EvilPeer, Lie};
use crate::support::node::{NodeOptions, NodeProcess};

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// Devnet allows 60 s of drift. Three peers share devnet blocks 1 and 2;
/// then one mines block 3 with a clock 59 s ahead, one a rival block 3
/// with a clock 5 minutes ahead, and one block 4 on the first block 3 with
/// a clock 70 s ahead. None is banned; block 3 is taken at once, block 4
/// once it is within the drift.
#[test]
fn peers_whose_clocks_run_ahead_are_not_banned() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut options = NodeOptions::regtest(&dir.path().join("node"));
    options.network = "devnet";
    // Started first: the blocks' times count from when it runs.
    let node = NodeProcess::start(&options);
    let node_id = peer_id(&node);

    let mut builder = ChainBuilder::new(&DEVNET);
    let [one, two] = builder.devnet_start();
    let now = now_ms();
    let ahead_59_s = builder.build(&two.hash(), now + 59_000, Address([0x59; 20]), &[], 0);
    let ahead_5_min = builder.build(&two.hash(), now + 300_000, Address([0x05; 20]), &[], 0);
    let ahead_70_s = builder.build(
        &ahead_59_s.hash(),
        now + 70_000,
        Address([0x70; 20]),
        &[],
        0,
    );
    let chain = |tail: &[&Block]| -> Vec<Block> {
        [&one, &two]
            .into_iter()
            .chain(tail.iter().copied())
            .cloned()
            .collect()
    };
    let peers = [
        EvilPeer::start_on(&DEVNET, Lie::Chain(chain(&[&ahead_59_s]))),
        EvilPeer::start_on(&DEVNET, Lie::Chain(chain(&[&ahead_5_min]))),
        EvilPeer::start_on(&DEVNET, Lie::Chain(chain(&[&ahead_59_s, &ahead_70_s]))),
    ];
    let addr: Multiaddr = node.listen_addr("/tcp/").parse().expect("multiaddr");
    for peer in &peers {
        peer.dial(addr.clone());
    }

    wait_until("block 3, 59 s ahead, to be the tip", &[&node], || {
        tip(&node) == (3, ahead_59_s.hash().to_string())
    });
    wait_until(
        "every peer to have shown the node its chain",
        &[&node],
        || {
            peers
                .iter()
                .all(|peer| peer.seen(&node_id).headers_answered >= 1)
        },
    );
    // Block 4 is 70 s ahead: 10 s past the drift when it was made.
    wait_until(
        "block 4, 70 s ahead, to be the tip once due",
        &[&node],
        || tip(&node) == (4, ahead_70_s.hash().to_string()),
    );
    assert!(
        now_ms() >= ahead_70_s.header.time - DEVNET.max_future_drift_ms,
        "not taken before it was due"
    );
    std::thread::sleep(Duration::from_secs(1));
    let connected = node.connected_peers();
    for peer in &peers {
        assert_eq!(ban_reason(&node, &peer.peer_id), None, "{}", peer.peer_id);
        assert!(
            connected.contains(&peer.peer_id.to_string()),
            "{} stays connected",
            peer.peer_id
        );
        assert_eq!(peer.seen(&node_id).closed, 0, "{}", peer.peer_id);
    }
}
