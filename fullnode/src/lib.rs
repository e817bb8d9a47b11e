//! The BlockChain full node as a library: the binary in `main.rs` parses the
//! command line and calls [`node::run`]; tests start nodes the same way.
//! `bin/blockchain-cli.rs` is the command-line client ([`cli`]).

pub mod api;
pub mod auth;
pub mod chain;
pub mod cli;
pub mod clock;
pub mod config;
pub mod mempool;
pub mod metrics;
pub mod miner;
pub mod mining;
pub mod node;
pub mod p2p;
pub mod storage;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod webhooks;
