//! Test helpers that need the node's own types, for its unit tests and
//! (with the `testing` feature) the integration tests; the rest of the
//! test support, which does not, is the `blockchain-testkit` crate.

use std::path::Path;

use blockchain_core::{Params, Transaction};
use blockchain_testkit::Backend;
use blockchain_testkit::postgres::PostgresDatabase;

use crate::api::json::SubmitTransaction;
use crate::storage::sqlite_url_for;

/// An empty database for one test, with a temporary directory that lives
/// as long as it: a SQLite file in that directory, or a fresh PostgreSQL
/// database (see [`blockchain_testkit::postgres`]). Removed when dropped.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    directory: tempfile::TempDir,
    /// The PostgreSQL database, if on PostgreSQL.
    _postgres: Option<PostgresDatabase>,
}

impl TestDatabase {
    /// An empty database on `backend`.
    pub fn new(backend: Backend) -> TestDatabase {
        match backend {
            Backend::Sqlite => TestDatabase::sqlite(),
            Backend::Postgres => TestDatabase::postgres(),
        }
    }

    /// A SQLite file in a missing subdirectory of a temporary directory, so
    /// that opening it also checks that the directory is created.
    pub fn sqlite() -> TestDatabase {
        let directory = tempfile::tempdir().expect("a temporary directory");
        TestDatabase {
            url: sqlite_url_for(&directory.path().join("data")),
            directory,
            _postgres: None,
        }
    }

    /// A fresh PostgreSQL database.
    pub fn postgres() -> TestDatabase {
        let database = PostgresDatabase::create();
        TestDatabase {
            url: database.url().to_owned(),
            directory: tempfile::tempdir().expect("a temporary directory"),
            _postgres: Some(database),
        }
    }

    /// [`TestDatabase::new`] as the `open` of
    /// [`on_both_backends!`](blockchain_testkit::on_both_backends).
    pub async fn open(backend: Backend) -> TestDatabase {
        TestDatabase::new(backend)
    }

    /// The database URL, as `--db` takes it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A temporary directory that lives as long as the database.
    pub fn directory(&self) -> &Path {
        self.directory.path()
    }
}

/// The JSON body of `POST /api/v1/transactions` for `transaction` on `params`'s network.
pub fn transaction_json(params: &Params, transaction: &Transaction) -> serde_json::Value {
    serde_json::to_value(SubmitTransaction::of(params, transaction))
        .expect("a transaction body serializes")
}
