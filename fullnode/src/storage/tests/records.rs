//! Wallets, peers, damaged bytes and reopening.

use blockchain_core::Amount;
use blockchain_core::state::{Account, BlockUndo};

use super::fixtures::*;
use super::harness::TestDb;
use crate::storage::{ChainUpdate, Storage, StorageError, StoredPeer};

pub(super) async fn wallets_are_stored_and_replaced(db: TestDb) {
    let storage = &db.storage;
    let owner = address(4);
    assert_eq!(storage.wallet(&owner).await.expect("wallet"), None);
    storage
        .save_wallet(&owner, r#"{"version":1,"é":"first"}"#, START_MS)
        .await
        .expect("save");
    storage
        .save_wallet(&address(5), r#"{"version":1}"#, START_MS)
        .await
        .expect("save other");
    assert_eq!(
        storage.wallet(&owner).await.expect("wallet").as_deref(),
        Some(r#"{"version":1,"é":"first"}"#)
    );
    storage
        .save_wallet(&owner, r#"{"version":1,"password":"new"}"#, START_MS + 1)
        .await
        .expect("save again");
    assert_eq!(
        storage.wallet(&owner).await.expect("wallet").as_deref(),
        Some(r#"{"version":1,"password":"new"}"#)
    );
}

pub(super) async fn peers_are_upserted_and_most_recent_first(db: TestDb) {
    let storage = &db.storage;
    let peer = |id: &str, addrs: &[&str], last_seen_ms: u64| StoredPeer {
        peer_id: id.to_owned(),
        addrs: addrs.iter().map(|addr| (*addr).to_owned()).collect(),
        last_seen_ms,
    };
    storage
        .save_peer(&peer("12D3KooWA", &["/ip4/10.0.0.1/tcp/4001"], 100))
        .await
        .expect("a");
    storage
        .save_peer(&peer("12D3KooWB", &[], 300))
        .await
        .expect("b");
    storage
        .save_peer(&peer("12D3KooWC", &["/ip4/10.0.0.3/tcp/4001"], 200))
        .await
        .expect("c");
    let updated = peer(
        "12D3KooWA",
        &["/ip4/10.0.0.1/tcp/4001", "/ip4/10.0.0.1/udp/4001/quic-v1"],
        400,
    );
    storage.save_peer(&updated).await.expect("a again");

    let peers = storage.peers(10).await.expect("peers");
    assert_eq!(
        peers
            .iter()
            .map(|peer| peer.peer_id.as_str())
            .collect::<Vec<_>>(),
        vec!["12D3KooWA", "12D3KooWB", "12D3KooWC"]
    );
    assert_eq!(peers[0], updated);
    assert_eq!(peers[1].addrs, Vec::<String>::new());
    assert_eq!(storage.peers(2).await.expect("peers").len(), 2);
}

pub(super) async fn corrupt_bytes_are_reported_not_panicked(db: TestDb) {
    let pay = payment(1, address(2), 1, 1, 0);
    let blocks = [
        block(None, address(1), Vec::new(), 0),
        block(None, address(1), Vec::new(), 1),
    ];
    connect_chain(&db.storage, &blocks[..1]).await;
    db.storage
        .store_block(&blocks[1], work(1))
        .await
        .expect("store");
    db.storage
        .add_pending(&[pending_write(&pay, START_MS, &[])])
        .await
        .expect("pending");
    db.storage
        .save_peer(&StoredPeer {
            peer_id: "p".to_owned(),
            addrs: Vec::new(),
            last_seen_ms: 1,
        })
        .await
        .expect("peer");
    let main = blocks[0].hash();
    let side = blocks[1].hash();

    let main_key = main.0.to_vec();
    db.corrupt(
        "UPDATE blocks SET raw = $1 WHERE hash = $2",
        vec![1u8, 0],
        main_key.clone(),
    )
    .await;
    db.corrupt(
        "UPDATE blocks SET undo = $1 WHERE hash = $2",
        vec![0xffu8; 5],
        main_key,
    )
    .await;
    db.corrupt(
        "UPDATE blocks SET header = $1 WHERE hash = $2",
        vec![0xeeu8; 128],
        side.0.to_vec(),
    )
    .await;
    db.corrupt(
        "UPDATE chain_meta SET value = $1 WHERE key = $2",
        vec![1u8, 2, 3],
        "tip".to_owned(),
    )
    .await;
    db.corrupt(
        "UPDATE pending_transactions SET raw = $1 WHERE txid = $2",
        vec![0u8; 10],
        pay.txid().0.to_vec(),
    )
    .await;
    db.corrupt(
        "UPDATE peers SET addrs = $1 WHERE peer_id = $2",
        "not json".to_owned(),
        "p".to_owned(),
    )
    .await;

    let storage = &db.storage;
    let is_corrupt = |result: Result<(), StorageError>, what: &str| match result {
        Err(StorageError::Corrupt { what: found, .. }) => assert_eq!(found, what),
        other => panic!("expected corrupt {what}, got {other:?}"),
    };
    is_corrupt(storage.block_by_hash(&main).await.map(drop), "block");
    is_corrupt(storage.block_by_height(0).await.map(drop), "block");
    is_corrupt(
        storage.latest_blocks(1, usize::MAX).await.map(drop),
        "block",
    );
    is_corrupt(storage.block_undo(&main).await.map(drop), "block undo");
    is_corrupt(storage.load_block_index().await.map(drop), "block header");
    is_corrupt(storage.tip().await.map(drop), "tip hash");
    is_corrupt(
        storage.load_mempool().await.map(drop),
        "pending transaction",
    );
    is_corrupt(storage.peers(10).await.map(drop), "peer addresses");
}

pub(super) async fn reopening_keeps_everything(mut db: TestDb) {
    let alice = sender_of(0xa1);
    let pay = payment(0xa1, address(2), 5, 1, 0);
    let pending = payment(0xa1, address(2), 6, 1, 1);
    let genesis = block(None, address(1), Vec::new(), 0);
    let first = block(Some(&genesis), alice, vec![pay.clone()], 0);
    let undo = BlockUndo {
        previous: vec![(alice, None)],
    };
    store_all(&db.storage, &[genesis.clone(), first.clone()]).await;
    let account = Account {
        balance: Amount(123),
        nonce: 1,
    };
    let update = ChainUpdate {
        connected: vec![
            connected(&genesis, BlockUndo::default()),
            connected(&first, undo.clone()),
        ],
        accounts: vec![(alice, Some(account))],
        new_tip: first.hash(),
        ..ChainUpdate::default()
    };
    db.storage
        .apply_chain_update(&update)
        .await
        .expect("update");
    db.storage
        .add_pending(&[pending_write(&pending, START_MS, &[])])
        .await
        .expect("pending");
    db.storage
        .save_wallet(&alice, "{}", START_MS)
        .await
        .expect("wallet");
    let peer = StoredPeer {
        peer_id: "peer".to_owned(),
        addrs: vec!["/ip4/127.0.0.1/tcp/1".to_owned()],
        last_seen_ms: 9,
    };
    db.storage.save_peer(&peer).await.expect("peer");
    let index = db.storage.load_block_index().await.expect("index");

    db.reopen().await;

    let storage = &db.storage;
    assert_eq!(storage.tip().await.expect("tip"), Some(first.hash()));
    assert_eq!(storage.load_block_index().await.expect("index"), index);
    assert_eq!(
        storage.load_accounts().await.expect("accounts"),
        vec![(alice, account)]
    );
    assert_eq!(
        storage.load_mempool().await.expect("mempool"),
        vec![(pending, START_MS)]
    );
    assert_eq!(
        storage.block_undo(&first.hash()).await.expect("undo"),
        Some(undo)
    );
    assert_eq!(
        txids(
            &storage
                .address_transactions(&alice, 10, 0)
                .await
                .expect("history")
        ),
        vec![pay.txid(), first.transactions[0].txid()]
    );
    assert_eq!(
        storage.wallet(&alice).await.expect("wallet").as_deref(),
        Some("{}")
    );
    assert_eq!(storage.peers(10).await.expect("peers"), vec![peer]);
}

pub(super) async fn the_peer_table_keeps_the_most_recent_peers(db: TestDb) {
    let storage = &db.storage;
    let count = crate::storage::MAX_STORED_PEERS as u64 + 5;
    for n in 0..count {
        storage
            .save_peer(&StoredPeer {
                peer_id: format!("12D3KooW{n:05}"),
                addrs: vec![format!("/ip4/10.0.0.1/tcp/{}", 1000 + n)],
                last_seen_ms: 1_000 + n,
            })
            .await
            .expect("saved");
    }
    let peers = storage.peers(u32::MAX).await.expect("peers");
    assert_eq!(peers.len(), crate::storage::MAX_STORED_PEERS as usize);
    assert_eq!(peers[0].last_seen_ms, 1_000 + count - 1, "the newest stay");
    assert!(
        peers.iter().all(|peer| peer.last_seen_ms >= 1_005),
        "the oldest go"
    );
}
