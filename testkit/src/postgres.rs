//! A throwaway database on the tests' PostgreSQL server, created through
//! the admin URL of `BLOCKCHAIN_TEST_POSTGRES` (default [`DEFAULT_ADMIN_URL`])
//! and dropped at the end.

use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// The variable naming the admin URL.
pub const ADMIN_URL_VAR: &str = "BLOCKCHAIN_TEST_POSTGRES";

/// The admin URL without [`ADMIN_URL_VAR`]: the server `cargo xtask test`
/// makes sure of (trust authentication, database `test`).
pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The URL the tests connect to in order to create and drop their databases.
pub fn admin_url() -> String {
    std::env::var(ADMIN_URL_VAR).unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned())
}

/// Why PostgreSQL cannot be used, if it cannot: skipped in this build
/// ([`SKIP_POSTGRES`](crate::SKIP_POSTGRES)) or no server answering at the
/// admin URL. For benchmarks, which leave PostgreSQL out rather than fail;
/// tests use [`on_postgres!`](crate::on_postgres) instead.
pub fn unavailable() -> Option<String> {
    if crate::SKIP_POSTGRES {
        return Some("BLOCKCHAIN_SKIP_POSTGRES=1 at build time".to_owned());
    }
    let admin = admin_url();
    on_own_runtime(move || async move {
        let connecting = PgConnection::connect(&admin);
        match tokio::time::timeout(std::time::Duration::from_secs(5), connecting).await {
            Ok(Ok(connection)) => {
                connection.close().await.ok();
                None
            }
            Ok(Err(error)) => Some(format!("no PostgreSQL at {admin} ({error})")),
            Err(_) => Some(format!("no answer from PostgreSQL at {admin} within 5 s")),
        }
    })
}

/// An empty database `bc_test_<random>`, dropped (connections and all) with
/// this value.
#[derive(Debug)]
pub struct PostgresDatabase {
    name: String,
    url: String,
}

impl PostgresDatabase {
    /// Creates the database; panics with what to do when the server does not
    /// answer. Callable from sync code and from inside a tokio runtime alike.
    pub fn create() -> PostgresDatabase {
        let name = format!("bc_test_{:016x}", rand::random::<u64>());
        let admin = admin_url();
        let created = on_own_runtime({
            let (admin, sql) = (admin.clone(), format!("CREATE DATABASE {name}"));
            move || async move {
                let mut connection = PgConnection::connect(&admin)
                    .await
                    .map_err(|error| format!("PostgreSQL is not reachable at {admin} ({error})"))?;
                sqlx::raw_sql(AssertSqlSafe(sql))
                    .execute(&mut connection)
                    .await
                    .map_err(|error| format!("CREATE DATABASE failed: {error}"))?;
                connection.close().await.ok();
                Ok::<(), String>(())
            }
        });
        if let Err(problem) = created {
            panic!(
                "{problem}; start it, point {ADMIN_URL_VAR} at another admin URL, \
                 or build the tests with BLOCKCHAIN_SKIP_POSTGRES=1 to skip them"
            );
        }
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(base, _)| base);
        PostgresDatabase {
            url: format!("{base}/{name}"),
            name,
        }
    }

    /// Its URL, as the node's `--db` takes it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops every table (the node's migrations included), so the node
    /// starts over on it as on a new database, without creating one.
    pub async fn empty(&self) {
        let mut connection = PgConnection::connect(&self.url)
            .await
            .unwrap_or_else(|error| panic!("{} accepts connections: {error}", self.name));
        sqlx::raw_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
            .execute(&mut connection)
            .await
            .expect("emptying the test database");
        connection.close().await.ok();
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        let (admin, sql) = (
            admin_url(),
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
        let dropped = on_own_runtime(move || async move {
            let mut connection = PgConnection::connect(&admin).await.ok()?;
            sqlx::raw_sql(AssertSqlSafe(sql))
                .execute(&mut connection)
                .await
                .ok()
        });
        if dropped.is_none() {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

/// Runs a future to completion on a runtime of its own, on a thread of its
/// own: drop cannot await, and a runtime cannot block inside another.
fn on_own_runtime<F, Fut, T>(make: F) -> T
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime")
            .block_on(make())
    })
    .join()
    .expect("the database thread does not panic")
}
