//! Test support for the whole workspace, in one place: a throwaway
//! PostgreSQL database ([`postgres`]) under one environment convention,
//! [`on_both_backends!`] and [`on_postgres!`], the RSA vector keys
//! ([`vectors`]), a minimal HTTP/1.1 client ([`http`]) and polling
//! ([`wait`]). Used as a dev-dependency by blockchain-node (its unit tests
//! and benchmarks) and by blockchain-tests.
//!
//! Why a crate of its own *and* a `testing` feature in blockchain-node:
//! this crate must not depend on blockchain-node. If it did, the node's own
//! unit tests (compiled as a second crate from the same sources) would link
//! another copy of blockchain-node whose `Storage`, `Chain` or `Config` are
//! different types from theirs. So everything here stands on
//! blockchain-core, sqlx and tokio alone; the helpers that need the node's
//! types (a SQLite-or-PostgreSQL `TestDatabase` with a data directory, the
//! JSON of `POST /transactions`) live in `blockchain_node::testing`, built
//! for the node's unit tests and, with the `testing` feature, for the
//! integration tests.
//!
//! # Environment
//!
//! - `BLOCKCHAIN_TEST_POSTGRES`: the admin URL the tests create their
//!   databases through (default `postgres://postgres@127.0.0.1:5432/test`).
//! - `BLOCKCHAIN_SKIP_POSTGRES=1` at build time: every PostgreSQL test is
//!   compiled `#[ignore]` and reported as ignored (see [`SKIP_POSTGRES`]).

pub mod backends;
pub mod http;
pub mod postgres;
pub mod vectors;
pub mod wait;

pub use backends::{Backend, SKIP_POSTGRES};
