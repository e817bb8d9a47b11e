//! Running real `blockchain-node` processes and peers to test them with;
//! the support every suite shares (throwaway PostgreSQL databases, the HTTP
//! client, the vector keys, polling) is the `blockchain-testkit` crate.

pub(crate) mod blocks;
pub(crate) mod evil_peer;
pub(crate) mod node;
pub(crate) mod sybils;
