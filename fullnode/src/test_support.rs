//! A database per test, shared by the storage and API suites: a SQLite file
//! in a temporary directory, or a fresh PostgreSQL database on
//! 127.0.0.1:5432 dropped at the end. Without that server the PostgreSQL
//! tests fail, unless `BLOCKCHAIN_SKIP_POSTGRES=1` is set.

use std::path::Path;

use sqlx::{AssertSqlSafe, Connection};

use crate::storage::sqlite_url_for;

/// The PostgreSQL database the tests connect to in order to create theirs.
const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const SKIP_POSTGRES_VAR: &str = "BLOCKCHAIN_SKIP_POSTGRES";

/// An empty database for one test, removed when dropped.
#[derive(Debug)]
pub(crate) struct TestDatabase {
    url: String,
    /// Temporary directory: the SQLite file, or room for a node's data dir.
    directory: tempfile::TempDir,
    /// The PostgreSQL database to drop, if any.
    postgres_name: Option<String>,
}

impl TestDatabase {
    /// A SQLite file in a missing subdirectory of a temporary directory, so
    /// that opening it also checks that the directory is created.
    pub(crate) fn sqlite() -> TestDatabase {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let url = sqlite_url_for(&directory.path().join("data"));
        TestDatabase {
            url,
            directory,
            postgres_name: None,
        }
    }

    /// A fresh PostgreSQL database; None when PostgreSQL tests are skipped on purpose.
    pub(crate) async fn postgres() -> Option<TestDatabase> {
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
        Some(TestDatabase {
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
            directory: tempfile::tempdir().expect("a temporary directory"),
            postgres_name: Some(name),
        })
    }

    /// The database URL, as `--db` takes it.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// A temporary directory that lives as long as the database.
    pub(crate) fn directory(&self) -> &Path {
        self.directory.path()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
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
