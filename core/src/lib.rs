//! Consensus types and rules of BlockChain, shared by the full node and the
//! browser light client.
//!
//! `no_std` + `alloc`, and sans-io: no clock, no randomness, no I/O. Callers
//! pass the time (`now_ms`) and a random number generator in.
//!
//! Where each rule lives:
//! - [`encode`]: consensus encoding primitives; [`header`], [`transaction`],
//!   [`block`]: the types and their byte layouts;
//! - [`pow`]: compact bits, targets, chain work; [`difficulty`]: ASERT;
//! - [`crypto`]: RSA-3072 keys and PSS signatures; [`address`]: bech32m;
//! - [`merkle`]: RFC 6962 transaction tree; [`state`]: account tree, proofs,
//!   apply and undo;
//! - [`validation`]: full block validation; [`header_chain`]: light-client
//!   header chain; [`keystore`]: the wallet file; [`params`]: networks;
//! - [`sync_message`]: the peer-to-peer sync protocol's requests and answers;
//!   [`sync`]: headers-first sync as a state machine, generic over the peer id;
//! - [`light`]: light-client checks of blocks, transaction proofs and account
//!   proofs against verified headers.

#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod address;
pub mod amount;
pub mod block;
pub mod crypto;
pub mod difficulty;
pub mod encode;
pub mod hash;
pub mod header;
pub mod header_chain;
pub mod keystore;
pub mod light;
pub mod merkle;
pub mod params;
pub mod pow;
pub mod state;
pub mod sync;
pub mod sync_message;
pub mod transaction;
pub mod validation;

pub use address::Address;
pub use amount::Amount;
pub use block::Block;
pub use encode::{Decode, DecodeError, Encode};
pub use hash::{BlockHash, MerkleHash, Txid};
pub use header::Header;
pub use params::{Network, Params};
pub use pow::{CompactBits, Target, Work};
pub use transaction::Transaction;
