//! A database per test (see [`TestDatabase`]), opened as a [`SqlStorage`].

use blockchain_testkit::Backend;

use crate::storage::{SqlStorage, Storage};
use crate::testing::TestDatabase;

/// A database for one test, removed when dropped.
pub(super) struct TestDb {
    pub(super) url: String,
    pub(super) storage: SqlStorage,
    _database: TestDatabase,
}

impl TestDb {
    /// An empty database on `backend`, opened.
    pub(super) async fn open(backend: Backend) -> TestDb {
        let database = TestDatabase::new(backend);
        let url = database.url().to_owned();
        let storage = SqlStorage::connect(&url)
            .await
            .unwrap_or_else(|error| panic!("{url} opens: {error}"));
        TestDb {
            url,
            storage,
            _database: database,
        }
    }

    /// Closes the storage and opens the same database again.
    pub(super) async fn reopen(&mut self) {
        self.storage.close().await;
        self.storage = SqlStorage::connect(&self.url).await.expect("reopens");
    }

    /// Runs `sql` with `value` and `key` bound, outside the trait, to damage stored bytes.
    pub(super) async fn corrupt<V, K>(&self, sql: &'static str, value: V, key: K)
    where
        V: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any>,
        K: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any>,
    {
        sqlx::query(sql)
            .bind(value)
            .bind(key)
            .execute(self.storage.pool())
            .await
            .expect("the damaging statement runs");
    }
}
