//! The block index, chain updates and the mempool.

use blockchain_core::state::{Account, BlockUndo};
use blockchain_core::{Address, Amount, BlockHash, Transaction};

use super::fixtures::*;
use super::harness::TestDb;
use crate::storage::{Backend, ChainUpdate, Storage, StorageError, StoredTransaction};

pub(super) async fn block_index_is_ordered_by_height_then_arrival(db: TestDb) {
    let storage = &db.storage;
    assert_eq!(storage.tip().await.expect("tip"), None);
    assert!(storage.load_block_index().await.expect("index").is_empty());

    let main = chain(3, address(1));
    let fork = block(Some(&main[0]), address(2), Vec::new(), 7);
    // Arrival order: the fork's block at height 1 comes after main[2].
    store_all(storage, &main).await;
    storage.store_block(&fork, work(9)).await.expect("fork");
    // Storing again changes nothing, not even the arrival order.
    storage
        .store_block(&main[1], work(99))
        .await
        .expect("again");
    storage
        .mark_invalid(&fork.hash())
        .await
        .expect("mark_invalid");

    let index = storage.load_block_index().await.expect("index");
    let hashes: Vec<BlockHash> = index.iter().map(|stored| stored.header.hash()).collect();
    assert_eq!(
        hashes,
        vec![main[0].hash(), main[1].hash(), fork.hash(), main[2].hash()]
    );
    assert_eq!(index[1].header, main[1].header);
    assert_eq!(index[1].chain_work, work(2));
    assert_eq!(index[2].chain_work, work(9));
    assert!(index.iter().all(|stored| !stored.on_main));
    assert_eq!(
        index
            .iter()
            .map(|stored| stored.invalid)
            .collect::<Vec<_>>(),
        vec![false, false, true, false]
    );
    assert_eq!(storage.backend(), Backend::from_url(&db.url).expect("url"));
}

pub(super) async fn connect_then_disconnect_moves_rows_accounts_and_tip(db: TestDb) {
    let storage = &db.storage;
    let miner = address(1);
    let alice = sender_of(0xa1);
    let bob = address(0xb0);
    let genesis = block(None, miner, Vec::new(), 0);
    let pay = payment(0xa1, bob, 300, 10, 0);
    let first = block(Some(&genesis), miner, vec![pay.clone()], 0);
    store_all(storage, &[genesis.clone(), first.clone()]).await;
    storage
        .add_pending(&[pending_write(&pay, START_MS, &[])])
        .await
        .expect("add_pending");

    let undo = BlockUndo {
        previous: vec![
            (miner, None),
            (
                alice,
                Some(Account {
                    balance: Amount(1000),
                    nonce: 0,
                }),
            ),
            (bob, None),
        ],
    };
    let connect = ChainUpdate {
        connected: vec![
            connected(&genesis, BlockUndo::default()),
            connected(&first, undo.clone()),
        ],
        accounts: vec![
            (
                miner,
                Some(Account {
                    balance: Amount(5_000_000_010),
                    nonce: 0,
                }),
            ),
            (
                alice,
                Some(Account {
                    balance: Amount(690),
                    nonce: 1,
                }),
            ),
            (
                bob,
                Some(Account {
                    balance: Amount(300),
                    nonce: 0,
                }),
            ),
        ],
        mempool_removed: vec![pay.txid()],
        new_tip: first.hash(),
        ..ChainUpdate::default()
    };
    storage.apply_chain_update(&connect).await.expect("connect");

    assert_eq!(storage.tip().await.expect("tip"), Some(first.hash()));
    assert!(storage.load_mempool().await.expect("mempool").is_empty());
    assert_eq!(
        storage.block_undo(&first.hash()).await.expect("undo"),
        Some(undo)
    );
    let accounts = storage.load_accounts().await.expect("accounts");
    let mut expected: Vec<(Address, Account)> = connect
        .accounts
        .iter()
        .map(|(address, account)| (*address, account.expect("set")))
        .collect();
    expected.sort_by_key(|(address, _)| *address);
    assert_eq!(accounts, expected, "ordered by address");
    let stored = storage
        .transaction(&pay.txid())
        .await
        .expect("transaction")
        .expect("confirmed");
    assert_eq!(
        stored,
        StoredTransaction {
            transaction: pay.clone(),
            txid: pay.txid(),
            block_hash: first.hash(),
            height: 1,
            position: 1,
        }
    );
    let coinbase = storage
        .transaction(&first.transactions[0].txid())
        .await
        .expect("transaction")
        .expect("coinbase confirmed");
    assert_eq!(coinbase.position, 0);
    assert_eq!(
        txids(
            &storage
                .address_transactions(&alice, 10, 0)
                .await
                .expect("history")
        ),
        vec![pay.txid()]
    );
    let index = storage.load_block_index().await.expect("index");
    assert!(index.iter().all(|stored| stored.on_main));

    // Disconnect `first`: the state goes back to the undo record.
    let disconnect = ChainUpdate {
        disconnected: vec![first.hash()],
        accounts: vec![
            (miner, None),
            (
                alice,
                Some(Account {
                    balance: Amount(1000),
                    nonce: 0,
                }),
            ),
            (bob, None),
        ],
        mempool_added: vec![(pay.clone(), START_MS + 5)],
        new_tip: genesis.hash(),
        ..ChainUpdate::default()
    };
    storage
        .apply_chain_update(&disconnect)
        .await
        .expect("disconnect");

    assert_eq!(storage.tip().await.expect("tip"), Some(genesis.hash()));
    assert_eq!(storage.transaction(&pay.txid()).await.expect("tx"), None);
    assert_eq!(
        storage
            .transaction(&first.transactions[0].txid())
            .await
            .expect("tx"),
        None
    );
    assert_eq!(
        storage
            .address_transaction_count(&alice)
            .await
            .expect("count"),
        0
    );
    assert_eq!(
        storage.load_accounts().await.expect("accounts"),
        vec![(
            alice,
            Account {
                balance: Amount(1000),
                nonce: 0
            }
        )]
    );
    assert_eq!(
        mempool_txids(storage).await,
        vec![(pay.txid(), START_MS + 5)]
    );
    // Off the best chain: no undo served, no height lookup, still stored by hash.
    assert_eq!(storage.block_undo(&first.hash()).await.expect("undo"), None);
    assert_eq!(storage.block_by_height(1).await.expect("height"), None);
    let by_hash = storage
        .block_by_hash(&first.hash())
        .await
        .expect("hash")
        .expect("stored");
    assert!(!by_hash.on_main);
    assert_eq!(by_hash.block, first);
    let index = storage.load_block_index().await.expect("index");
    assert_eq!(
        index
            .iter()
            .map(|stored| stored.on_main)
            .collect::<Vec<_>>(),
        vec![true, false]
    );
}

pub(super) async fn failed_chain_update_leaves_nothing(db: TestDb) {
    let storage = &db.storage;
    let blocks = chain(2, address(1));
    connect_chain(storage, &blocks[..1]).await;
    storage
        .store_block(&blocks[1], work(2))
        .await
        .expect("store");
    let never_stored = block(Some(&blocks[1]), address(1), Vec::new(), 0);
    let update = ChainUpdate {
        connected: vec![
            connected(&blocks[1], BlockUndo::default()),
            connected(&never_stored, BlockUndo::default()),
        ],
        accounts: vec![(
            address(1),
            Some(Account {
                balance: Amount(1),
                nonce: 0,
            }),
        )],
        new_tip: never_stored.hash(),
        ..ChainUpdate::default()
    };
    assert!(matches!(
        storage.apply_chain_update(&update).await,
        Err(StorageError::Database(sqlx::Error::RowNotFound))
    ));
    assert_eq!(storage.tip().await.expect("tip"), Some(blocks[0].hash()));
    assert_eq!(storage.block_by_height(1).await.expect("height"), None);
    assert_eq!(
        storage
            .transaction(&blocks[1].transactions[0].txid())
            .await
            .expect("tx"),
        None
    );
    assert!(storage.load_accounts().await.expect("accounts").is_empty());
}

pub(super) async fn mempool_add_replace_remove_and_load(db: TestDb) {
    let storage = &db.storage;
    let first = payment(1, address(9), 100, 1, 0);
    let second = payment(2, address(9), 100, 2, 0);
    let replacement = payment(1, address(9), 100, 50, 0);
    storage
        .add_pending(&[pending_write(&first, START_MS, &[])])
        .await
        .expect("first");
    storage
        .add_pending(&[pending_write(&second, START_MS + 1, &[])])
        .await
        .expect("second");
    // Adding again is harmless and keeps the first acceptance time.
    storage
        .add_pending(&[pending_write(&second, START_MS + 2, &[])])
        .await
        .expect("again");
    assert_eq!(
        mempool_txids(storage).await,
        sorted(vec![
            (first.txid(), START_MS),
            (second.txid(), START_MS + 1)
        ])
    );

    storage
        .add_pending(&[pending_write(&replacement, START_MS + 3, &[first.txid()])])
        .await
        .expect("replace");
    assert_eq!(
        mempool_txids(storage).await,
        sorted(vec![
            (second.txid(), START_MS + 1),
            (replacement.txid(), START_MS + 3)
        ])
    );
    let loaded = storage.load_mempool().await.expect("load");
    assert!(loaded.contains(&(replacement.clone(), START_MS + 3)));

    let genesis = chain(1, address(1));
    store_all(storage, &genesis).await;
    let returned = payment(3, address(9), 7, 3, 0);
    let update = ChainUpdate {
        connected: vec![connected(&genesis[0], BlockUndo::default())],
        mempool_removed: vec![second.txid()],
        mempool_added: vec![(returned.clone(), START_MS + 4)],
        new_tip: genesis[0].hash(),
        ..ChainUpdate::default()
    };
    storage.apply_chain_update(&update).await.expect("update");
    assert_eq!(
        mempool_txids(storage).await,
        sorted(vec![
            (replacement.txid(), START_MS + 3),
            (returned.txid(), START_MS + 4)
        ])
    );
}

pub(super) async fn pending_batches_apply_in_order_across_statements(db: TestDb) {
    let storage = &db.storage;
    // 150 writes, inserted in multi-row runs of up to 64; the write that
    // displaces `evicted` cuts the runs, and `evicted` comes back at the end.
    let evicted = payment(1, address(9), 100, 1, 0);
    let displacing = payment(2, address(9), 100, 5, 0);
    let mut writes = vec![pending_write(&evicted, START_MS, &[])];
    let mut expected = Vec::new();
    for nonce in 0..70 {
        let transaction = payment(3, address(9), 100, 2, nonce);
        writes.push(pending_write(&transaction, START_MS + 1, &[]));
        expected.push((transaction.txid(), START_MS + 1));
    }
    writes.push(pending_write(&displacing, START_MS + 2, &[evicted.txid()]));
    expected.push((displacing.txid(), START_MS + 2));
    for nonce in 0..77 {
        let transaction = payment(4, address(9), 100, 2, nonce);
        writes.push(pending_write(&transaction, START_MS + 3, &[]));
        expected.push((transaction.txid(), START_MS + 3));
    }
    writes.push(pending_write(&evicted, START_MS + 4, &[]));
    expected.push((evicted.txid(), START_MS + 4));
    assert_eq!(writes.len(), 150);
    storage.add_pending(&writes).await.expect("batch");
    assert_eq!(mempool_txids(storage).await, sorted(expected));
    let loaded = storage.load_mempool().await.expect("load");
    assert!(loaded.contains(&(displacing.clone(), START_MS + 2)));
    // An empty batch writes nothing.
    storage.add_pending(&[]).await.expect("empty batch");
    assert_eq!(mempool_txids(storage).await.len(), 149);
}

/// A chain update larger than one statement: 131 transaction rows (runs of
/// 64, 64, 2 and 1), 100 account upserts beside 3 deletions, 70 pending
/// transactions back in the mempool; every row lands with its values.
pub(super) async fn large_updates_span_several_statements(db: TestDb) {
    let storage = &db.storage;
    let miner = address(1);
    let genesis = block(None, miner, Vec::new(), 0);
    let payments: Vec<Transaction> = (0..130)
        .map(|nonce| payment(0xa1, address(0xb0), 1_000 + nonce, nonce % 7, nonce))
        .collect();
    let full = block(Some(&genesis), miner, payments, 0);
    store_all(storage, std::slice::from_ref(&genesis)).await;
    let gone: Vec<Address> = (0..3).map(|byte| address(0xd0 + byte)).collect();
    let before = ChainUpdate {
        connected: vec![connected(&genesis, BlockUndo::default())],
        accounts: gone
            .iter()
            .map(|address| {
                let account = Account {
                    balance: Amount(5),
                    nonce: 0,
                };
                (*address, Some(account))
            })
            .collect(),
        new_tip: genesis.hash(),
        ..ChainUpdate::default()
    };
    storage.apply_chain_update(&before).await.expect("genesis");

    storage
        .store_block(&full, work(2))
        .await
        .expect("store_block");
    let mut accounts: Vec<(Address, Option<Account>)> = (0..100u64)
        .map(|index| {
            let mut bytes = [0x40; 20];
            bytes[..8].copy_from_slice(&index.to_le_bytes());
            let account = Account {
                balance: Amount(index * 3),
                nonce: index,
            };
            (Address(bytes), Some(account))
        })
        .collect();
    accounts.extend(gone.iter().map(|address| (*address, None)));
    let returned: Vec<(Transaction, u64)> = (0..70)
        .map(|nonce| (payment(0xc1, address(9), 50, 1, nonce), START_MS + nonce))
        .collect();
    let update = ChainUpdate {
        connected: vec![connected(&full, BlockUndo::default())],
        accounts: accounts.clone(),
        mempool_added: returned.clone(),
        new_tip: full.hash(),
        ..ChainUpdate::default()
    };
    storage.apply_chain_update(&update).await.expect("update");

    for (position, transaction) in full.transactions.iter().enumerate() {
        let stored = storage
            .transaction(&transaction.txid())
            .await
            .expect("transaction")
            .expect("confirmed");
        assert_eq!(stored.transaction, *transaction);
        assert_eq!(
            (stored.block_hash, stored.height, stored.position as usize),
            (full.hash(), 1, position)
        );
    }
    let mut expected: Vec<(Address, Account)> = accounts
        .iter()
        .filter_map(|(address, account)| Some((*address, (*account)?)))
        .collect();
    expected.sort_by_key(|(address, _)| *address);
    assert_eq!(storage.load_accounts().await.expect("accounts"), expected);
    let mut pending = storage.load_mempool().await.expect("mempool");
    pending.sort_by_key(|(transaction, _)| transaction.nonce);
    assert_eq!(pending, returned);
}
