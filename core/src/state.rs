//! The account state: a sparse Merkle tree of (balance, nonce) per address,
//! its proofs, and applying and undoing a block's transactions.

pub mod apply;
pub mod proof;
pub mod tree;

pub use apply::{BlockUndo, apply_transactions, undo_block};
pub use proof::{StateProof, StateProofError};
pub use tree::{Account, StateTree, state_key};
