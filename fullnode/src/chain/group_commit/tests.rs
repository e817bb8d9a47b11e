//! The group-commit writer on a real SQLite database: concurrent submitters
//! are all stored, a sender's transactions keep their nonce order, and a
//! batch whose commit fails is refused and leaves the mempool (a trigger
//! makes the database refuse it; a held write lock keeps commits waiting
//! while later transactions are admitted).

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use blockchain_core::crypto::SigningKey;
use blockchain_core::params::REGTEST;
use blockchain_core::{Address, Amount, Transaction, Txid};
use blockchain_testkit::vectors::vector_signing_keys;
use rand::SeedableRng;
use sqlx::pool::PoolConnection;

use crate::chain::{Chain, SubmitTxError};
use crate::clock::now_ms;
use crate::storage::{self, SqlStorage, StorageError};
use crate::testing::TestDatabase;

const MEMPOOL_MAX: usize = 1_000;

fn address_of(key: &SigningKey) -> Address {
    key.public_key().address()
}

/// A payment from `key` signed for regtest; `salt` tells apart payments
/// with the same nonce.
fn payment(key: &SigningKey, nonce: u64, fee: u64, salt: u8) -> Transaction {
    let mut rng = rand::rngs::StdRng::seed_from_u64(nonce ^ (u64::from(salt) << 32));
    Transaction::new_signed(
        &REGTEST,
        key,
        Address([salt; 20]),
        Amount(1_000),
        Amount(fee),
        nonce,
        now_ms(),
        &mut rng,
    )
    .expect("the vector keys sign")
}

/// A chain on `database` with one mined block paying each of `keys`.
async fn funded_chain(database: &TestDatabase, keys: &[SigningKey]) -> Arc<Chain> {
    let chain = open_chain(database).await;
    for key in keys {
        let template = chain.template(address_of(key), now_ms()).await;
        let block = crate::miner::search(&template, 0, 1, &AtomicU64::new(0), || true)
            .expect("a search without a stop finds a block");
        chain
            .submit_block(block, now_ms())
            .await
            .expect("a mined template is valid");
    }
    chain
}

/// The chain stored in `database`, as a restarted node opens it.
async fn open_chain(database: &TestDatabase) -> Arc<Chain> {
    let storage = storage::open(database.url())
        .await
        .expect("the database opens");
    Chain::open(&REGTEST, storage, MEMPOOL_MAX)
        .await
        .expect("the stored chain opens")
}

/// A connection of its own to `database`, outside the chain's pool.
async fn side_connection(database: &TestDatabase) -> PoolConnection<sqlx::Any> {
    let storage = SqlStorage::connect(database.url())
        .await
        .expect("the database opens");
    storage.pool().acquire().await.expect("a connection")
}

async fn run(connection: &mut PoolConnection<sqlx::Any>, sql: &'static str) {
    sqlx::raw_sql(sql)
        .execute(&mut **connection)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

/// Makes every insert of a pending transaction fail.
const REFUSE_PENDING: &str = "CREATE TRIGGER refuse_pending BEFORE INSERT ON pending_transactions \
     BEGIN SELECT RAISE(ABORT, 'injected failure'); END";

/// Waits until `txid` has entered the mempool (admitted, maybe not yet stored).
async fn until_admitted(chain: &Chain, txid: &Txid) {
    while chain.pending_transaction(txid).await.is_none() {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
}

/// Submits `transaction` on a task of its own.
fn spawn_submit(
    chain: &Arc<Chain>,
    transaction: Transaction,
) -> tokio::task::JoinHandle<Result<Txid, SubmitTxError>> {
    let chain = Arc::clone(chain);
    tokio::spawn(async move { chain.submit_transaction(transaction, now_ms()).await })
}

async fn stored_txids(database: &TestDatabase) -> Vec<Txid> {
    let storage = storage::open(database.url())
        .await
        .expect("the database opens");
    let mut txids: Vec<Txid> = storage
        .load_mempool()
        .await
        .expect("the mempool loads")
        .iter()
        .map(|(transaction, _)| transaction.txid())
        .collect();
    storage.close().await;
    txids.sort();
    txids
}

fn refused(result: Result<Txid, SubmitTxError>) -> bool {
    matches!(
        result,
        Err(SubmitTxError::Storage(StorageError::BatchFailed(_)))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submitters_are_all_stored_before_their_answer() {
    let database = TestDatabase::sqlite();
    let keys = vector_signing_keys();
    let chain = funded_chain(&database, &keys).await;
    let per_sender = 8;
    let senders: Vec<_> = keys
        .iter()
        .map(|key| {
            let transactions: Vec<Transaction> = (0..per_sender)
                .map(|nonce| payment(key, nonce, 10, 1))
                .collect();
            let chain = Arc::clone(&chain);
            tokio::spawn(async move {
                let mut accepted = Vec::new();
                for transaction in transactions {
                    accepted.push(
                        chain
                            .submit_transaction(transaction, now_ms())
                            .await
                            .expect("valid in sequence"),
                    );
                }
                accepted
            })
        })
        .collect();
    let mut accepted = Vec::new();
    for sender in senders {
        accepted.extend(sender.await.expect("a sender task does not panic"));
    }
    accepted.sort();
    assert_eq!(accepted.len(), keys.len() * per_sender as usize);
    // Every answered transaction is in the database already, and a chain
    // opened from it now (a restart) admits them all again.
    assert_eq!(stored_txids(&database).await, accepted);
    let restarted = open_chain(&database).await;
    assert_eq!(restarted.status().mempool_size, accepted.len());
    for txid in &accepted {
        assert!(restarted.pending_transaction(txid).await.is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_senders_transactions_admitted_before_the_commit_keep_their_order() {
    let database = TestDatabase::sqlite();
    let keys = vector_signing_keys();
    let chain = funded_chain(&database, &keys[..1]).await;
    // Commits wait behind this write lock, while admissions go on.
    let mut blocker = side_connection(&database).await;
    run(&mut blocker, "BEGIN IMMEDIATE").await;
    let mut submitted = Vec::new();
    for nonce in 0..6 {
        let transaction = payment(&keys[0], nonce, 10, 2);
        let txid = transaction.txid();
        submitted.push(spawn_submit(&chain, transaction));
        // The next nonce is admitted on top of this one, before it is stored.
        until_admitted(&chain, &txid).await;
    }
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pending_transactions")
        .fetch_one(&mut *blocker)
        .await
        .expect("a count");
    assert_eq!(stored, 0, "nothing is committed while the lock is held");
    run(&mut blocker, "COMMIT").await;
    let mut accepted = Vec::new();
    for submit in submitted {
        accepted.push(submit.await.expect("no panic").expect("stored"));
    }
    accepted.sort();
    assert_eq!(stored_txids(&database).await, accepted);
    let restarted = open_chain(&database).await;
    let sender = address_of(&keys[0]);
    assert_eq!(restarted.account(&sender).await.next_nonce, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_batch_is_refused_with_its_senders_later_transactions() {
    let database = TestDatabase::sqlite();
    let keys = vector_signing_keys();
    let chain = funded_chain(&database, &keys).await;
    let mut blocker = side_connection(&database).await;
    run(&mut blocker, "BEGIN IMMEDIATE").await;
    run(&mut blocker, REFUSE_PENDING).await;
    // Admitted while the first commit waits: the sender's next nonce, and
    // another sender's transaction.
    let first = payment(&keys[0], 0, 10, 3);
    let next = payment(&keys[0], 1, 10, 3);
    let other = payment(&keys[1], 0, 10, 3);
    let mut submitted = Vec::new();
    for transaction in [&first, &next, &other] {
        submitted.push(spawn_submit(&chain, transaction.clone()));
        until_admitted(&chain, &transaction.txid()).await;
    }
    run(&mut blocker, "COMMIT").await;
    let results: Vec<_> = {
        let mut results = Vec::new();
        for submit in submitted {
            results.push(submit.await.expect("no panic"));
        }
        results
    };
    for (result, transaction) in results.into_iter().zip([&first, &next, &other]) {
        assert!(refused(result), "every insert fails");
        assert!(
            chain
                .pending_transaction(&transaction.txid())
                .await
                .is_none()
        );
    }
    assert_eq!(chain.status().mempool_size, 0);
    let sender = address_of(&keys[0]);
    assert_eq!(chain.account(&sender).await.next_nonce, 0);
    assert!(stored_txids(&database).await.is_empty());

    // Once the database takes writes again, the same transactions go in.
    run(&mut blocker, "DROP TRIGGER refuse_pending").await;
    for transaction in [first, next, other] {
        chain
            .submit_transaction(transaction, now_ms())
            .await
            .expect("stored now");
    }
    assert_eq!(stored_txids(&database).await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_replacement_gives_the_replaced_transaction_back() {
    let database = TestDatabase::sqlite();
    let keys = vector_signing_keys();
    let chain = funded_chain(&database, &keys[..1]).await;
    let original = payment(&keys[0], 0, 10, 4);
    let later = payment(&keys[0], 1, 10, 4);
    for transaction in [&original, &later] {
        chain
            .submit_transaction(transaction.clone(), now_ms())
            .await
            .expect("stored");
    }
    let mut side = side_connection(&database).await;
    run(&mut side, REFUSE_PENDING).await;
    let replacement = payment(&keys[0], 0, 50, 5);
    let result = chain
        .submit_transaction(replacement.clone(), now_ms())
        .await;
    assert!(refused(result));
    assert!(
        chain
            .pending_transaction(&replacement.txid())
            .await
            .is_none()
    );
    // The replaced transaction and the one after it are pending again.
    for transaction in [&original, &later] {
        assert!(
            chain
                .pending_transaction(&transaction.txid())
                .await
                .is_some()
        );
    }
    let mut expected = vec![original.txid(), later.txid()];
    expected.sort();
    assert_eq!(stored_txids(&database).await, expected);
}
