//! Running one test suite on SQLite and on PostgreSQL.

/// Whether this build skips PostgreSQL (`BLOCKCHAIN_SKIP_POSTGRES=1` when
/// this crate was built); PostgreSQL tests are then marked `#[ignore]` by
/// [`on_postgres!`](crate::on_postgres) and benchmarks leave PostgreSQL out.
pub const SKIP_POSTGRES: bool = cfg!(skip_postgres);

/// Which database a test of [`on_both_backends!`](crate::on_both_backends) runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Marks a test (its test attribute first, then the function) `#[ignore]`
/// when PostgreSQL is skipped, so a run without it reports the test as
/// ignored rather than passed.
///
/// ```no_run
/// blockchain_testkit::on_postgres! {
///     #[test]
///     fn stores_on_postgres() {
///         let database = blockchain_testkit::postgres::PostgresDatabase::create();
///         assert!(database.url().starts_with("postgres"));
///     }
/// }
/// ```
#[cfg(not(skip_postgres))]
#[macro_export]
macro_rules! on_postgres {
    (#[$test:meta] $($item:tt)*) => {
        #[$test]
        $($item)*
    };
}

/// Marks a test (its test attribute first, then the function) `#[ignore]`
/// when PostgreSQL is skipped, so a run without it reports the test as
/// ignored rather than passed.
#[cfg(skip_postgres)]
#[macro_export]
macro_rules! on_postgres {
    (#[$test:meta] $($item:tt)*) => {
        #[$test]
        #[ignore = "BLOCKCHAIN_SKIP_POSTGRES=1 at build time"]
        $($item)*
    };
}

/// Runs each test function of a suite on both backends: modules `sqlite`
/// and `postgres` with one test per function, each opening its database
/// with `open(Backend)` (an async function, named as in the invoking
/// module) and passing it to the test.
///
/// ```no_run
/// use blockchain_testkit::Backend;
///
/// /// What a suite's test runs on (a database, a storage opened on it…).
/// async fn open(backend: Backend) -> Backend {
///     backend
/// }
///
/// mod queries {
///     pub(super) async fn answers_on_every_backend(backend: blockchain_testkit::Backend) {
///         assert!(matches!(backend, blockchain_testkit::Backend::Sqlite | blockchain_testkit::Backend::Postgres));
///     }
/// }
///
/// blockchain_testkit::on_both_backends! {
///     // The test attribute, e.g. `#[tokio::test]`; here only compiled.
///     #[allow(dead_code, reason = "a documentation example")]
///     open: open;
///     queries: [answers_on_every_backend],
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! on_both_backends {
    (
        #[$test:meta]
        open: $open:path;
        $($module:ident: [$($function:ident),* $(,)?]),* $(,)?
    ) => {
        mod sqlite {
            #[allow(unused_imports, reason = "the `open` path may name anything of the suite's module")]
            use super::*;
            $($(
                #[$test]
                async fn $function() {
                    let database = $open($crate::Backend::Sqlite).await;
                    super::$module::$function(database).await;
                }
            )*)*
        }
        mod postgres {
            #[allow(unused_imports, reason = "the `open` path may name anything of the suite's module")]
            use super::*;
            $($(
                $crate::on_postgres! {
                    #[$test]
                    async fn $function() {
                        let database = $open($crate::Backend::Postgres).await;
                        super::$module::$function(database).await;
                    }
                }
            )*)*
        }
    };
}
