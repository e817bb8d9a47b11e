//! Best-chain block, header and address-history queries.

use blockchain_core::{BlockHash, Encode};

use super::fixtures::*;
use super::harness::TestDb;
use crate::storage::{Storage, StoredBlock};

pub(super) async fn block_queries_see_only_the_best_chain(db: TestDb) {
    let storage = &db.storage;
    let main = chain(5, address(1));
    connect_chain(storage, &main).await;
    let side = block(Some(&main[2]), address(2), Vec::new(), 3);
    storage.store_block(&side, work(4)).await.expect("side");

    for (height, expected) in main.iter().enumerate() {
        let stored = storage
            .block_by_height(height as u64)
            .await
            .expect("by height")
            .expect("present");
        assert_eq!(&stored.block, expected);
        assert!(stored.on_main);
        assert_eq!(stored.chain_work, work(height as u8 + 1));
    }
    assert_eq!(storage.block_by_height(5).await.expect("height"), None);
    assert_eq!(
        storage.block_by_height(u64::MAX).await.expect("height"),
        None
    );

    let side_stored = storage
        .block_by_hash(&side.hash())
        .await
        .expect("by hash")
        .expect("present");
    assert_eq!(side_stored.block, side);
    assert!(!side_stored.on_main);
    assert_eq!(
        storage
            .block_by_hash(&BlockHash([7; 32]))
            .await
            .expect("hash"),
        None
    );

    let latest = storage.latest_blocks(3, usize::MAX).await.expect("latest");
    assert_eq!(
        latest
            .iter()
            .map(|stored| stored.block.hash())
            .collect::<Vec<_>>(),
        vec![main[4].hash(), main[3].hash(), main[2].hash()]
    );
    let all = storage
        .latest_blocks(100, usize::MAX)
        .await
        .expect("latest");
    assert_eq!(all.len(), 5);
    assert!(
        storage
            .latest_blocks(0, usize::MAX)
            .await
            .expect("latest")
            .is_empty()
    );
    // The byte bound: blocks are read until their encodings reach it, the
    // first one always.
    let size = |stored: &StoredBlock| Encode::encode(&stored.block).len();
    let two = size(&all[0]) + size(&all[1]);
    let bounded = storage.latest_blocks(100, two).await.expect("latest");
    assert_eq!(bounded.len(), 2, "stops once two blocks reach the bound");
    let bounded = storage.latest_blocks(100, two + 1).await.expect("latest");
    assert_eq!(bounded.len(), 3, "one more while under the bound");
    let one = storage.latest_blocks(100, 1).await.expect("latest");
    assert_eq!(one.len(), 1, "the newest block always comes");

    assert_eq!(
        storage.headers(1, 2).await.expect("headers"),
        vec![main[1].header, main[2].header]
    );
    assert_eq!(
        storage.headers(3, 2000).await.expect("headers"),
        vec![main[3].header, main[4].header]
    );
    assert!(storage.headers(5, 10).await.expect("headers").is_empty());
    assert!(
        storage
            .headers(u64::MAX, 10)
            .await
            .expect("headers")
            .is_empty()
    );
    assert!(storage.headers(0, 0).await.expect("headers").is_empty());
}

pub(super) async fn address_history_is_newest_first_and_paged(db: TestDb) {
    let storage = &db.storage;
    let alice = sender_of(0xa1);
    let bob = address(0xb0);
    let genesis = block(None, bob, Vec::new(), 0);
    // Alice mines block 1, pays Bob twice in block 2, pays herself in block 3.
    let first = block(Some(&genesis), alice, Vec::new(), 0);
    let to_bob_0 = payment(0xa1, bob, 10, 1, 0);
    let to_bob_1 = payment(0xa1, bob, 20, 1, 1);
    let second = block(
        Some(&first),
        address(3),
        vec![to_bob_0.clone(), to_bob_1.clone()],
        0,
    );
    let to_self = payment(0xa1, alice, 5, 1, 2);
    let third = block(Some(&second), address(3), vec![to_self.clone()], 0);
    connect_chain(storage, &[genesis, first.clone(), second, third]).await;

    let newest_first = vec![
        to_self.txid(),
        to_bob_1.txid(),
        to_bob_0.txid(),
        first.transactions[0].txid(),
    ];
    assert_eq!(
        txids(
            &storage
                .address_transactions(&alice, 10, 0)
                .await
                .expect("all")
        ),
        newest_first
    );
    assert_eq!(
        txids(
            &storage
                .address_transactions(&alice, 2, 1)
                .await
                .expect("page")
        ),
        newest_first[1..3].to_vec()
    );
    assert!(
        storage
            .address_transactions(&alice, 10, 4)
            .await
            .expect("past the end")
            .is_empty()
    );
    assert!(
        storage
            .address_transactions(&alice, 10, u64::MAX)
            .await
            .expect("huge offset")
            .is_empty()
    );
    assert_eq!(
        storage
            .address_transaction_count(&alice)
            .await
            .expect("count"),
        4
    );
    assert_eq!(
        storage
            .address_transaction_count(&bob)
            .await
            .expect("count"),
        2
    );
    assert_eq!(
        storage
            .address_transaction_count(&address(0xee))
            .await
            .expect("count"),
        0
    );
    let bob_history = storage
        .address_transactions(&bob, 10, 0)
        .await
        .expect("bob");
    assert_eq!(txids(&bob_history), vec![to_bob_1.txid(), to_bob_0.txid()]);
    assert_eq!(bob_history[0].height, 2);
    assert_eq!(bob_history[0].position, 2);
}
