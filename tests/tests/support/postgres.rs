//! A throwaway database on the machine's PostgreSQL (127.0.0.1:5432).

use sqlx::Connection;

/// Where the admin connection goes; BLOCKCHAIN_TEST_POSTGRES overrides it.
fn admin_url() -> String {
    std::env::var("BLOCKCHAIN_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// A fresh database, dropped when this is dropped.
#[derive(Debug)]
pub(crate) struct TestDatabase {
    name: String,
    pub(crate) url: String,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

impl TestDatabase {
    /// Creates `bc_it_<random>`; panics with a clear message when PostgreSQL is not reachable.
    pub(crate) fn create() -> TestDatabase {
        let name = format!("bc_it_{:016x}", rand::random::<u64>());
        let admin = admin_url();
        runtime().block_on(async {
            let mut connection = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|error| {
                panic!("PostgreSQL is needed at {admin} (set BLOCKCHAIN_TEST_POSTGRES to another admin URL): {error}")
            });
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut connection).await.expect("CREATE DATABASE");
        });
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(base, _)| base)
            .to_string();
        TestDatabase {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin = admin_url();
        let name = self.name.clone();
        runtime().block_on(async move {
            if let Ok(mut connection) = sqlx::PgConnection::connect(&admin).await {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut connection)
                .await;
            }
        });
    }
}
