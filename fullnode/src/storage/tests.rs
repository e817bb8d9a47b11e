//! One suite, run against both backends: SQLite in a temporary directory and
//! the PostgreSQL server at 127.0.0.1:5432 (a fresh database per test).
//! Without that server the PostgreSQL tests fail, unless
//! `BLOCKCHAIN_SKIP_POSTGRES=1` is set at build time, which reports them
//! as ignored (see the `blockchain-testkit` crate).

mod chain_updates;
mod fixtures;
mod harness;
mod queries;
mod records;
mod webhooks;

use std::path::PathBuf;

use self::harness::TestDb;
use super::*;

// Each test function takes the [`TestDb`] it runs on.
blockchain_testkit::on_both_backends! {
    #[tokio::test]
    open: TestDb::open;
    chain_updates: [
        block_index_is_ordered_by_height_then_arrival,
        connect_then_disconnect_moves_rows_accounts_and_tip,
        failed_chain_update_leaves_nothing,
        mempool_add_replace_remove_and_load,
        pending_batches_apply_in_order_across_statements,
        large_updates_span_several_statements,
    ],
    queries: [
        block_queries_see_only_the_best_chain,
        address_history_is_newest_first_and_paged,
    ],
    records: [
        wallets_are_stored_and_replaced,
        peers_are_upserted_and_most_recent_first,
        the_peer_table_keeps_the_most_recent_peers,
        corrupt_bytes_are_reported_not_panicked,
        reopening_keeps_everything,
    ],
    webhooks: [
        webhooks_are_added_listed_and_deleted,
        corrupt_webhook_events_are_reported,
        the_outbox_keeps_deliveries_in_order_until_removed,
    ],
}

// Backend-specific.

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_full_sync() {
    let db = TestDb::open(blockchain_testkit::Backend::Sqlite).await;
    let mut connection = db.storage.pool().acquire().await.expect("connection");
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *connection)
        .await
        .expect("journal_mode");
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&mut *connection)
        .await
        .expect("synchronous");
    let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&mut *connection)
        .await
        .expect("foreign_keys");
    assert_eq!(journal, "wal");
    assert_eq!(synchronous, 1, "synchronous = NORMAL");
    assert_eq!(foreign_keys, 1);
}

#[tokio::test]
async fn open_creates_the_sqlite_file_and_its_directory() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let data_dir: PathBuf = directory.path().join("nested").join("devnet");
    let storage = open(&sqlite_url_for(&data_dir)).await.expect("open");
    assert_eq!(storage.backend(), Backend::Sqlite);
    storage.close().await;
    assert!(data_dir.join(SQLITE_FILE_NAME).is_file());
}

/// The database holds node-side keystores: its files are the node user's
/// alone, whether new or left readable by an earlier version.
#[cfg(unix)]
#[tokio::test]
async fn sqlite_files_are_readable_by_the_node_user_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let directory = tempfile::tempdir().expect("temporary directory");
    let file = directory.path().join(SQLITE_FILE_NAME);
    let url = sqlite_url_for(directory.path());
    let storage = open(&url).await.expect("open");
    // The write-ahead log and its index exist while the database is open.
    for path in [
        file.clone(),
        file.with_extension("db-wal"),
        file.with_extension("db-shm"),
    ] {
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    storage.close().await;

    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let storage = open(&url).await.expect("open again");
    assert_eq!(mode(&file), 0o600, "an existing file is tightened");
    storage.close().await;
}

#[test]
fn database_passwords_never_reach_logs_or_errors() {
    for (url, shown) in [
        (
            "postgres://node:s3cret@db.example:5432/chain",
            "postgres://node:***@db.example:5432/chain",
        ),
        (
            "postgresql://db.example/chain?user=node&password=s3cret&sslmode=require",
            "postgresql://db.example/chain?user=node&password=***&sslmode=require",
        ),
        (
            "postgres://node@db.example/chain",
            "postgres://node@db.example/chain",
        ),
        (
            "sqlite:///var/lib/node/blockchain.db?mode=rwc",
            "sqlite:///var/lib/node/blockchain.db?mode=rwc",
        ),
    ] {
        assert_eq!(redact_url(url), shown);
    }
    let refused = Backend::from_url("mysql://root:s3cret@db/chain")
        .expect_err("not a supported backend")
        .to_string();
    assert!(!refused.contains("s3cret"), "{refused}");
}

#[tokio::test]
async fn unsupported_urls_are_refused() {
    assert!(matches!(
        open("mysql://localhost/db").await,
        Err(StorageError::UnsupportedUrl(_))
    ));
    assert_eq!(
        Backend::from_url("postgresql://h/db").ok(),
        Some(Backend::Postgres)
    );
    assert_eq!(
        Backend::from_url("sqlite::memory:").ok(),
        Some(Backend::Sqlite)
    );
}
