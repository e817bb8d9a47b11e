//! Light-client checks: what a peer sends a client that keeps only verified
//! headers (a [`HeaderChain`](crate::header_chain::HeaderChain)) — a full
//! block, a transaction's inclusion proof, an account's state proof — is
//! checked against those headers. Pure functions: any input, however forged,
//! gets an answer, never a panic.
//!
//! Which headers count is the caller's decision, passed as `is_trusted`:
//! usually `|hash| chain.is_on_best_chain(hash)`, or
//! `|hash| *hash == chain.tip_hash()` to take account proofs only at the tip.
//! A header's hash covers every field, so a header whose hash is trusted is
//! the trusted header.

use core::fmt;

use crate::address::Address;
use crate::block::Block;
use crate::crypto::SignatureVerifier;
use crate::hash::{BlockHash, MerkleHash, Txid};
use crate::header::Header;
use crate::merkle::MerkleProofError;
use crate::params::Params;
use crate::state::{Account, StateProof, StateProofError};
use crate::sync_message::TransactionProof;
use crate::transaction::Transaction;
use crate::validation::{BlockError, check_block_with, check_signed_at};

/// Why a block or a proof does not prove what it claims.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofError {
    /// The block's header is not the expected header.
    HeaderMismatch {
        /// The hash asked for.
        expected: BlockHash,
        /// The hash of the block's header.
        got: BlockHash,
    },
    /// The block's transactions are not the ones its header commits to.
    MerkleRootMismatch {
        /// The header's merkle root.
        header: MerkleHash,
        /// The root of the transactions.
        computed: MerkleHash,
    },
    /// The block breaks a rule that needs no state (size, coinbase, a signature).
    InvalidBlock(BlockError),
    /// The proof is for another transaction.
    WrongTransaction {
        /// The txid asked for.
        expected: Txid,
        /// The txid of the proof's transaction.
        got: Txid,
    },
    /// The header is not one of the verified headers the caller trusts.
    UntrustedHeader {
        /// Its hash.
        hash: BlockHash,
    },
    /// The inclusion proof does not lead to the header's merkle root.
    BadInclusionProof(MerkleProofError),
    /// The state proof ends in another account, off the address's path.
    WrongAccount,
    /// The state proof is malformed or does not lead to the header's state
    /// root (a forged balance or nonce).
    BadStateProof(StateProofError),
}

impl fmt::Display for ProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HeaderMismatch { expected, got } => {
                write!(f, "block {got} is not the expected block {expected}")
            }
            Self::MerkleRootMismatch { header, computed } => write!(
                f,
                "the transactions have merkle root {computed}, the header commits to {header}"
            ),
            Self::InvalidBlock(error) => write!(f, "invalid block: {error}"),
            Self::WrongTransaction { expected, got } => {
                write!(f, "proof is for transaction {got}, not {expected}")
            }
            Self::UntrustedHeader { hash } => {
                write!(
                    f,
                    "header {hash} is not a verified header of the best chain"
                )
            }
            Self::BadInclusionProof(error) => write!(f, "inclusion proof: {error}"),
            Self::WrongAccount => f.write_str("state proof is for another account"),
            Self::BadStateProof(error) => error.fmt(f),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ProofError {}

/// Checks that `block` is the block of the header hashing to `header_hash`:
/// the header is that header, the transactions hash to its merkle root, and
/// the block follows the rules that need no state (size, the coinbase first
/// and only there, fees that add up). Signatures are not checked (see
/// [`check_block_and_signatures_against_header`]): a txid leaves the
/// signature out, so they do not change which transactions the block holds.
pub fn check_block_against_header(
    params: &Params,
    block: &Block,
    header_hash: &BlockHash,
) -> Result<(), ProofError> {
    check_block(params, block, header_hash, |_| Ok(()))
}

/// [`check_block_against_header`], and every signed transaction's key,
/// amount and signature, verified with `verifier`.
pub fn check_block_and_signatures_against_header(
    params: &Params,
    block: &Block,
    header_hash: &BlockHash,
    verifier: &dyn SignatureVerifier,
) -> Result<(), ProofError> {
    check_block(params, block, header_hash, |signed| {
        signed
            .iter()
            .enumerate()
            .try_for_each(|(offset, transaction)| {
                check_signed_at(params, verifier, offset + 1, transaction)
            })
    })
}

fn check_block<F>(
    params: &Params,
    block: &Block,
    header_hash: &BlockHash,
    check_signed: F,
) -> Result<(), ProofError>
where
    F: FnOnce(&[Transaction]) -> Result<(), BlockError>,
{
    let hash = block.hash();
    if hash != *header_hash {
        return Err(ProofError::HeaderMismatch {
            expected: *header_hash,
            got: hash,
        });
    }
    // First whether these are the header's transactions at all, before the
    // rules about them.
    let computed = block.compute_merkle_root();
    if computed != block.header.merkle_root {
        return Err(ProofError::MerkleRootMismatch {
            header: block.header.merkle_root,
            computed,
        });
    }
    if hash == params.genesis_hash() {
        // The network's own block: no transactions, so no coinbase.
        return Ok(());
    }
    check_block_with(params, block.clone(), check_signed)
        .map(drop)
        .map_err(|error| match error {
            BlockError::BadMerkleRoot { expected, got } => ProofError::MerkleRootMismatch {
                header: got,
                computed: expected,
            },
            other => ProofError::InvalidBlock(other),
        })
}

/// Checks a transaction's inclusion proof: the proof's transaction is
/// `txid`, its header is trusted (`is_trusted` of the header's hash, e.g. on
/// the verified best chain), and the audit path leads from `txid` to the
/// header's merkle root.
///
/// The signature is not checked: the txid leaves it out, so every field of
/// the transaction but the signature is proven.
pub fn check_transaction_proof(
    proof: &TransactionProof,
    txid: &Txid,
    is_trusted: impl Fn(&BlockHash) -> bool,
) -> Result<(), ProofError> {
    let got = proof.transaction.txid();
    if got != *txid {
        return Err(ProofError::WrongTransaction {
            expected: *txid,
            got,
        });
    }
    check_trusted(&proof.header, is_trusted)?;
    proof
        .proof
        .verify(txid, &proof.header.merkle_root)
        .map_err(ProofError::BadInclusionProof)
}

/// Checks an account's state proof at `header`: the header is trusted
/// (`is_trusted` of its hash, e.g. the verified best tip) and the proof
/// leads from `address`'s account, or from its absence, to the header's
/// state root. Some(account) when the account exists, None when the proof
/// shows it absent.
pub fn check_account_proof(
    header: &Header,
    proof: &StateProof,
    address: &Address,
    is_trusted: impl Fn(&BlockHash) -> bool,
) -> Result<Option<Account>, ProofError> {
    check_trusted(header, is_trusted)?;
    proof
        .verify(address, &header.state_root)
        .map_err(|error| match error {
            StateProofError::LeafOffPath => ProofError::WrongAccount,
            other => ProofError::BadStateProof(other),
        })
}

fn check_trusted(
    header: &Header,
    is_trusted: impl Fn(&BlockHash) -> bool,
) -> Result<(), ProofError> {
    let hash = header.hash();
    if is_trusted(&hash) {
        Ok(())
    } else {
        Err(ProofError::UntrustedHeader { hash })
    }
}
