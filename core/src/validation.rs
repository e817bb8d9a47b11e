//! Full block validation: context-free checks, then connecting to a parent
//! and the account state.
//!
//! [`check_block`] turns a [`Block`] into a [`CheckedBlock`] (structure,
//! size, coinbase shape, signatures, merkle root, proof of work); only a
//! checked block can be connected with [`connect_block`], which applies the
//! header rules against the parent and the transactions against the state.

use alloc::vec::Vec;
use core::fmt;

use crate::amount::Amount;
use crate::block::Block;
use crate::crypto::SignatureVerifier;
use crate::encode::Encode;
use crate::hash::{BlockHash, MerkleHash, Txid};
use crate::header::{HeaderError, ParentInfo, check_header, check_proof_of_work};
use crate::merkle::merkle_root;
use crate::params::Params;
use crate::state::{BlockUndo, StateTree, apply_transactions, undo_block};
use crate::transaction::{Transaction, TxError};

/// Why a block is invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlockError {
    /// The header breaks a rule.
    Header(HeaderError),
    /// The encoded block is over the network's size limit.
    TooLarge { size: usize, max: usize },
    /// The first transaction is not a coinbase (or there is none).
    MissingCoinbase,
    /// A coinbase after the first transaction.
    ExtraCoinbase { index: usize },
    /// The coinbase's version, fee, nonce (= height) or time (= block time) is wrong.
    BadCoinbaseFields,
    /// The coinbase does not pay exactly reward + fees.
    WrongCoinbaseAmount { expected: Amount, got: Amount },
    /// The sum of the fees overflows.
    FeesOverflow,
    /// The header's merkle root is not the root of the transactions.
    BadMerkleRoot {
        expected: MerkleHash,
        got: MerkleHash,
    },
    /// The header's state root is not the state after the block.
    BadStateRoot {
        expected: MerkleHash,
        got: MerkleHash,
    },
    /// A transaction is invalid.
    Transaction {
        index: usize,
        txid: Txid,
        error: TxError,
    },
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Header(error) => write!(f, "header: {error}"),
            Self::TooLarge { size, max } => {
                write!(f, "block is {size} bytes, over the limit of {max}")
            }
            Self::MissingCoinbase => f.write_str("the first transaction is not a coinbase"),
            Self::ExtraCoinbase { index } => write!(f, "transaction {index} is a second coinbase"),
            Self::BadCoinbaseFields => f.write_str(
                "coinbase must have version 1, fee 0, nonce = height, time = block time",
            ),
            Self::WrongCoinbaseAmount { expected, got } => {
                write!(
                    f,
                    "coinbase pays {} units, expected reward + fees = {}",
                    got.0, expected.0
                )
            }
            Self::FeesOverflow => f.write_str("the block's fees overflow"),
            Self::BadMerkleRoot { expected, got } => {
                write!(f, "merkle root {got} should be {expected}")
            }
            Self::BadStateRoot { expected, got } => {
                write!(f, "state root {got} should be {expected}")
            }
            Self::Transaction { index, txid, error } => {
                write!(f, "transaction {index} ({txid}): {error}")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for BlockError {}

/// A block that passed every context-free check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedBlock {
    block: Block,
    hash: BlockHash,
    txids: Vec<Txid>,
    fees: Amount,
}

impl CheckedBlock {
    /// The block.
    pub fn block(&self) -> &Block {
        &self.block
    }

    /// Gives the block back.
    pub fn into_block(self) -> Block {
        self.block
    }

    /// Its hash.
    pub fn hash(&self) -> BlockHash {
        self.hash
    }

    /// Txids in block order.
    pub fn txids(&self) -> &[Txid] {
        &self.txids
    }

    /// Sum of the fees of its signed transactions.
    pub fn fees(&self) -> Amount {
        self.fees
    }
}

/// Context-free checks of a non-genesis block, cheapest first: proof of
/// work, size, one coinbase and only first, the fee sum, the merkle root,
/// then every signed transaction's key, amount and signature.
pub fn check_block(
    params: &Params,
    block: Block,
    verifier: &dyn SignatureVerifier,
) -> Result<CheckedBlock, BlockError> {
    check_block_with(params, block, |transactions| {
        transactions
            .iter()
            .enumerate()
            .try_for_each(|(offset, transaction)| {
                check_signed_at(params, verifier, offset + 1, transaction)
            })
    })
}

/// [`check_block`] with the signed transactions (all but the coinbase)
/// checked by `check_signed`, so a caller can spread them over threads.
/// `check_signed` must call [`check_signed_at`] for every transaction it is given.
pub fn check_block_with<F>(
    params: &Params,
    block: Block,
    check_signed: F,
) -> Result<CheckedBlock, BlockError>
where
    F: FnOnce(&[Transaction]) -> Result<(), BlockError>,
{
    let hash = block.hash();
    check_proof_of_work(params, &hash, block.header.bits).map_err(BlockError::Header)?;
    let size = block.encoded_len();
    if size > params.max_block_size {
        return Err(BlockError::TooLarge {
            size,
            max: params.max_block_size,
        });
    }
    let Some((coinbase, signed)) = block.transactions.split_first() else {
        return Err(BlockError::MissingCoinbase);
    };
    if !coinbase.is_coinbase() {
        return Err(BlockError::MissingCoinbase);
    }
    if let Some(offset) = signed.iter().position(Transaction::is_coinbase) {
        return Err(BlockError::ExtraCoinbase { index: offset + 1 });
    }
    let mut fees = Amount::ZERO;
    for transaction in signed {
        fees = fees
            .checked_add(transaction.fee)
            .ok_or(BlockError::FeesOverflow)?;
    }
    // The merkle root (a hash per transaction) before the signatures (an
    // RSA verification each): a body that is not the header's costs little.
    let txids = block.txids();
    let root = merkle_root(&txids);
    if root != block.header.merkle_root {
        return Err(BlockError::BadMerkleRoot {
            expected: root,
            got: block.header.merkle_root,
        });
    }
    check_signed(signed)?;
    debug_assert_eq!(block.encode().len(), size);
    Ok(CheckedBlock {
        block,
        hash,
        txids,
        fees,
    })
}

/// The context-free rules of the signed transaction at `index` in its block.
pub fn check_signed_at(
    params: &Params,
    verifier: &dyn SignatureVerifier,
    index: usize,
    transaction: &Transaction,
) -> Result<(), BlockError> {
    transaction
        .check_signed(params, verifier)
        .map(drop)
        .map_err(|error| BlockError::Transaction {
            index,
            txid: transaction.txid(),
            error,
        })
}

/// Connects a checked block to its parent and to `state` (the state after
/// the parent): header rules, coinbase fields and amount, every transaction
/// against the accounts, and the state root. On success `state` is the
/// state after the block and the undo record is returned; on error `state`
/// is unchanged.
pub fn connect_block(
    params: &Params,
    state: &mut StateTree,
    block: &CheckedBlock,
    parent: &ParentInfo,
) -> Result<BlockUndo, BlockError> {
    let header = &block.block.header;
    check_header(params, header, &block.hash, parent).map_err(BlockError::Header)?;
    let coinbase = &block.block.transactions[0];
    if coinbase.version != Transaction::VERSION
        || coinbase.fee != Amount::ZERO
        || coinbase.nonce != header.height
        || coinbase.time != header.time
    {
        return Err(BlockError::BadCoinbaseFields);
    }
    let expected = params
        .block_reward(header.height)
        .checked_add(block.fees)
        .ok_or(BlockError::FeesOverflow)?;
    if coinbase.amount != expected {
        return Err(BlockError::WrongCoinbaseAmount {
            expected,
            got: coinbase.amount,
        });
    }
    let undo = apply_transactions(state, &block.block.transactions).map_err(|(index, error)| {
        BlockError::Transaction {
            index,
            txid: block.txids[index],
            error,
        }
    })?;
    let root = state.root();
    if root != header.state_root {
        undo_block(state, &undo);
        return Err(BlockError::BadStateRoot {
            expected: root,
            got: header.state_root,
        });
    }
    Ok(undo)
}
