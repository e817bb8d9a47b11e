//! Sync amplification (docs/SECURITY.md): a small GetBlocks request cannot
//! make the node send much. The harness peer asks a real node.

use blockchain_core::sync_message::{SyncRequest, SyncResponse};
use blockchain_core::{Block, BlockHash};
use libp2p::Multiaddr;

use super::{headers, honest_node, peer_id, wait_until};
use crate::support::evil_peer::{EvilPeer, Lie};

fn blocks(answer: Option<SyncResponse>) -> Vec<Block> {
    match answer {
        Some(SyncResponse::Blocks(blocks)) => blocks,
        other => panic!("not blocks: {other:?}"),
    }
}

/// A request for one block sixteen times gets it once; unknown hashes get
/// nothing; the best-chain blocks come in the order asked.
#[test]
fn a_block_asked_for_sixteen_times_is_sent_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node = honest_node(&dir.path().join("node"), 3);
    let node_id = peer_id(&node);
    let chain = headers(&node, 3);
    let asker = EvilPeer::start(Lie::Chain(Vec::new()));
    let addr: Multiaddr = node.listen_addr("/tcp/").parse().expect("multiaddr");
    asker.dial(addr);
    wait_until("the asker to connect", &[&node], || {
        asker.seen(&node_id).open >= 1
    });

    let one = chain[0].hash();
    let sent = blocks(asker.ask(
        node_id,
        SyncRequest::GetBlocks {
            hashes: vec![one; 16],
        },
    ));
    assert_eq!(sent.len(), 1, "one block, not sixteen copies");
    assert_eq!(sent[0].hash(), one);

    let asked = vec![chain[2].hash(), BlockHash([7; 32]), one, chain[2].hash()];
    let sent: Vec<BlockHash> = blocks(asker.ask(node_id, SyncRequest::GetBlocks { hashes: asked }))
        .iter()
        .map(Block::hash)
        .collect();
    assert_eq!(sent, vec![chain[2].hash(), one]);
}
