//! A database per test: a SQLite file in a temporary directory, or a fresh
//! PostgreSQL database dropped at the end.

use sqlx::{AssertSqlSafe, Connection};

use crate::storage::{SqlStorage, Storage, sqlite_url_for};

/// The PostgreSQL database the tests connect to in order to create theirs.
const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const SKIP_POSTGRES_VAR: &str = "BLOCKCHAIN_SKIP_POSTGRES";

/// A database for one test, removed when dropped.
pub(super) struct TestDb {
    pub(super) url: String,
    pub(super) storage: SqlStorage,
    place: Place,
}

enum Place {
    /// Held so that the directory is deleted on drop.
    Sqlite {
        _directory: tempfile::TempDir,
    },
    Postgres {
        name: String,
    },
}

impl TestDb {
    pub(super) async fn sqlite() -> TestDb {
        let directory = tempfile::tempdir().expect("a temporary directory");
        // A missing subdirectory, to check that it is created.
        let url = sqlite_url_for(&directory.path().join("data"));
        let storage = SqlStorage::connect(&url).await.expect("SQLite opens");
        TestDb {
            url,
            storage,
            place: Place::Sqlite {
                _directory: directory,
            },
        }
    }

    /// None when PostgreSQL tests are skipped on purpose.
    pub(super) async fn postgres() -> Option<TestDb> {
        if std::env::var(SKIP_POSTGRES_VAR).is_ok_and(|value| value == "1") {
            eprintln!("{SKIP_POSTGRES_VAR}=1: PostgreSQL test skipped");
            return None;
        }
        let mut admin = match sqlx::PgConnection::connect(POSTGRES_ADMIN_URL).await {
            Ok(admin) => admin,
            Err(error) => panic!(
                "PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({error}); start it, \
                 or set {SKIP_POSTGRES_VAR}=1 to skip the PostgreSQL tests"
            ),
        };
        let name = format!("bc_test_{:016x}", rand::random::<u64>());
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("CREATE DATABASE");
        admin.close().await.ok();
        let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
        let storage = SqlStorage::connect(&url).await.expect("PostgreSQL opens");
        Some(TestDb {
            url,
            storage,
            place: Place::Postgres { name },
        })
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

impl Drop for TestDb {
    fn drop(&mut self) {
        let Place::Postgres { name } = &self.place else {
            return;
        };
        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
        // Best effort, on a thread of its own: drop cannot await.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(POSTGRES_ADMIN_URL).await.ok()?;
                sqlx::raw_sql(AssertSqlSafe(sql))
                    .execute(&mut admin)
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("could not drop test database {name}");
        }
    }
}
