//! Blocks: a header and its transactions.
//!
//! Encoding: header (128 bytes) || tx_count u32 || each transaction's full encoding.

use alloc::vec::Vec;

use crate::encode::{Decode, DecodeError, Encode, Reader, put_length};
use crate::hash::{BlockHash, MerkleHash, Txid};
use crate::header::Header;
use crate::merkle::merkle_root;
use crate::transaction::Transaction;

/// Largest block any network allows; the decoder's bound before network rules apply.
pub const MAX_BLOCK_SIZE: usize = 1_000_000;

/// Smallest encoded transaction (a coinbase): bounds tx_count before allocation.
const MIN_TRANSACTION_SIZE: usize = 4 + 4 + 20 + 8 * 4 + 4;

/// A block.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Block {
    /// The header.
    pub header: Header,
    /// Transactions; the first is the coinbase (except in genesis, which has none).
    pub transactions: Vec<Transaction>,
}

impl Block {
    /// The block hash (its header's).
    pub fn hash(&self) -> BlockHash {
        self.header.hash()
    }

    /// Txids in block order.
    pub fn txids(&self) -> Vec<Txid> {
        self.transactions.iter().map(Transaction::txid).collect()
    }

    /// Merkle root of the transactions as they are (not the header's claim).
    pub fn compute_merkle_root(&self) -> MerkleHash {
        merkle_root(&self.txids())
    }

    /// Encoded size in bytes.
    pub fn encoded_len(&self) -> usize {
        Header::SIZE
            + 4
            + self
                .transactions
                .iter()
                .map(Transaction::encoded_len)
                .sum::<usize>()
    }
}

impl Encode for Block {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        put_length(out, self.transactions.len());
        for transaction in &self.transactions {
            transaction.encode_to(out);
        }
    }
}

impl Decode for Block {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if reader.remaining() > MAX_BLOCK_SIZE {
            return Err(DecodeError::LengthOverLimit {
                field: "block",
                length: reader.remaining() as u64,
                limit: MAX_BLOCK_SIZE as u64,
            });
        }
        let header = Header::decode_from(reader)?;
        let count = reader.length("transaction count", MAX_BLOCK_SIZE / MIN_TRANSACTION_SIZE)?;
        let mut transactions =
            Vec::with_capacity(count.min(reader.remaining() / MIN_TRANSACTION_SIZE));
        for _ in 0..count {
            transactions.push(Transaction::decode_from(reader)?);
        }
        Ok(Block {
            header,
            transactions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::DEVNET;

    #[test]
    fn genesis_round_trips() {
        let genesis = DEVNET.genesis_block();
        let bytes = genesis.encode();
        assert_eq!(bytes.len(), 132);
        assert_eq!(bytes.len(), genesis.encoded_len());
        assert_eq!(Block::decode(&bytes), Ok(genesis));
    }

    #[test]
    fn oversized_input_is_rejected_before_parsing() {
        let bytes = alloc::vec![0u8; MAX_BLOCK_SIZE + 1];
        assert!(matches!(
            Block::decode(&bytes),
            Err(DecodeError::LengthOverLimit { field: "block", .. })
        ));
    }
}
