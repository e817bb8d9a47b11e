//! Messages of the request-response protocol `/blockchain/<network>/sync/1`
//! (docs/PROTOCOL.md, "Sync protocol"): headers from a block locator, blocks
//! by hash, a transaction's inclusion proof and an account's state proof.
//!
//! One message per stream direction, the whole stream: a tag byte, then the
//! fields in the consensus encoding. Decoding is as strict as for blocks:
//! every count has a limit, trailing bytes are an error.

use alloc::string::String;
use alloc::vec::Vec;

use crate::address::Address;
use crate::block::{Block, MAX_BLOCK_SIZE};
use crate::encode::{Decode, DecodeError, Encode, Reader, put_length, put_u32};
use crate::hash::{BlockHash, Txid};
use crate::header::Header;
use crate::merkle::MerkleProof;
use crate::state::StateProof;
use crate::transaction::Transaction;

/// Most hashes in a block locator.
pub const MAX_LOCATOR: usize = 101;
/// Most headers asked for or sent at once.
pub const MAX_HEADERS: usize = 2000;
/// Most blocks asked for or sent at once.
pub const MAX_BLOCKS: usize = 16;
/// Longest error text.
pub const MAX_ERROR_TEXT: usize = 256;
/// Largest request on the wire.
pub const MAX_REQUEST_SIZE: usize = 1 + 4 + MAX_LOCATOR * 32 + 4;
/// Largest response on the wire: a full batch of maximal blocks.
pub const MAX_RESPONSE_SIZE: usize = 1 + 4 + MAX_BLOCKS * (4 + MAX_BLOCK_SIZE);

const GET_HEADERS: u8 = 1;
const GET_BLOCKS: u8 = 2;
const GET_TRANSACTION_PROOF: u8 = 3;
const GET_ACCOUNT_PROOF: u8 = 4;
const ERROR: u8 = 0xff;

/// A request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncRequest {
    /// Headers of the responder's best chain after the first locator hash it
    /// has on that chain (genesis if none), at most `max`.
    GetHeaders {
        /// Hashes from the requester's tip back to genesis.
        locator: Vec<BlockHash>,
        /// 1..=[`MAX_HEADERS`].
        max: u32,
    },
    /// Full blocks, by hash; unknown ones are left out of the answer.
    GetBlocks {
        /// 1..=[`MAX_BLOCKS`] hashes.
        hashes: Vec<BlockHash>,
    },
    /// The inclusion proof of a confirmed transaction on the best chain.
    GetTransactionProof {
        /// The transaction.
        txid: Txid,
    },
    /// The state proof of an account (or of its absence) at the best tip.
    GetAccountProof {
        /// The account.
        address: Address,
    },
}

/// A transaction with its inclusion proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionProof {
    /// The transaction.
    pub transaction: Transaction,
    /// Header of the best-chain block holding it.
    pub header: Header,
    /// Proof of its txid against `header.merkle_root`.
    pub proof: MerkleProof,
}

/// A response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncResponse {
    /// Consecutive headers of the best chain, at most [`MAX_HEADERS`].
    Headers(Vec<Header>),
    /// Blocks asked for that the responder has, in request order.
    Blocks(Vec<Block>),
    /// The proof, or `None` when the transaction is not in a best-chain block.
    TransactionProof(Option<TransactionProof>),
    /// The best tip's header and the account's proof against its state root.
    AccountProof {
        /// The tip the proof is against.
        header: Header,
        /// The proof.
        proof: StateProof,
    },
    /// The request could not be answered (bad request, busy).
    Error(String),
}

fn put_hashes(out: &mut Vec<u8>, hashes: impl ExactSizeIterator<Item = [u8; 32]>) {
    put_length(out, hashes.len());
    for hash in hashes {
        out.extend_from_slice(&hash);
    }
}

fn read_hashes(
    reader: &mut Reader<'_>,
    field: &'static str,
    min: usize,
    limit: usize,
) -> Result<Vec<BlockHash>, DecodeError> {
    let count = reader.length(field, limit)?;
    if count < min {
        return Err(DecodeError::NonCanonical {
            field,
            value: count as u64,
        });
    }
    let mut hashes = Vec::with_capacity(count);
    for _ in 0..count {
        hashes.push(BlockHash(reader.array()?));
    }
    Ok(hashes)
}

impl Encode for SyncRequest {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Self::GetHeaders { locator, max } => {
                out.push(GET_HEADERS);
                put_hashes(out, locator.iter().map(|hash| hash.0));
                put_u32(out, *max);
            }
            Self::GetBlocks { hashes } => {
                out.push(GET_BLOCKS);
                put_hashes(out, hashes.iter().map(|hash| hash.0));
            }
            Self::GetTransactionProof { txid } => {
                out.push(GET_TRANSACTION_PROOF);
                out.extend_from_slice(&txid.0);
            }
            Self::GetAccountProof { address } => {
                out.push(GET_ACCOUNT_PROOF);
                out.extend_from_slice(&address.0);
            }
        }
    }
}

impl Decode for SyncRequest {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let [tag] = reader.array()?;
        match tag {
            GET_HEADERS => {
                let locator = read_hashes(reader, "locator", 1, MAX_LOCATOR)?;
                let max = reader.u32()?;
                if max == 0 || max as usize > MAX_HEADERS {
                    return Err(DecodeError::LengthOverLimit {
                        field: "max headers",
                        length: u64::from(max),
                        limit: MAX_HEADERS as u64,
                    });
                }
                Ok(Self::GetHeaders { locator, max })
            }
            GET_BLOCKS => Ok(Self::GetBlocks {
                hashes: read_hashes(reader, "block hashes", 1, MAX_BLOCKS)?,
            }),
            GET_TRANSACTION_PROOF => Ok(Self::GetTransactionProof {
                txid: Txid(reader.array()?),
            }),
            GET_ACCOUNT_PROOF => Ok(Self::GetAccountProof {
                address: Address(reader.array()?),
            }),
            other => Err(DecodeError::UnknownVersion {
                field: "sync request",
                version: u32::from(other),
            }),
        }
    }
}

impl Encode for SyncResponse {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Self::Headers(headers) => {
                out.push(GET_HEADERS);
                put_length(out, headers.len());
                for header in headers {
                    header.encode_to(out);
                }
            }
            Self::Blocks(blocks) => {
                out.push(GET_BLOCKS);
                put_length(out, blocks.len());
                for block in blocks {
                    put_length(out, block.encoded_len());
                    block.encode_to(out);
                }
            }
            Self::TransactionProof(proof) => {
                out.push(GET_TRANSACTION_PROOF);
                match proof {
                    None => out.push(0),
                    Some(proof) => {
                        out.push(1);
                        put_length(out, proof.transaction.encoded_len());
                        proof.transaction.encode_to(out);
                        proof.header.encode_to(out);
                        proof.proof.encode_to(out);
                    }
                }
            }
            Self::AccountProof { header, proof } => {
                out.push(GET_ACCOUNT_PROOF);
                header.encode_to(out);
                proof.encode_to(out);
            }
            Self::Error(text) => {
                out.push(ERROR);
                let text = truncate(text, MAX_ERROR_TEXT);
                put_length(out, text.len());
                out.extend_from_slice(text.as_bytes());
            }
        }
    }
}

/// `text` cut to at most `limit` bytes on a character boundary.
fn truncate(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Reads a u32-length-prefixed value decoded with `decode` from exactly those bytes.
fn read_framed<T: Decode>(
    reader: &mut Reader<'_>,
    field: &'static str,
    limit: usize,
) -> Result<T, DecodeError> {
    let length = reader.length(field, limit)?;
    T::decode(reader.take(length)?)
}

impl Decode for SyncResponse {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let [tag] = reader.array()?;
        match tag {
            GET_HEADERS => {
                let count = reader.length("header count", MAX_HEADERS)?;
                let mut headers = Vec::with_capacity(count.min(reader.remaining() / Header::SIZE));
                for _ in 0..count {
                    headers.push(Header::decode_from(reader)?);
                }
                Ok(Self::Headers(headers))
            }
            GET_BLOCKS => {
                let count = reader.length("block count", MAX_BLOCKS)?;
                let mut blocks = Vec::with_capacity(count);
                for _ in 0..count {
                    blocks.push(read_framed(reader, "block", MAX_BLOCK_SIZE)?);
                }
                Ok(Self::Blocks(blocks))
            }
            GET_TRANSACTION_PROOF => {
                let [present] = reader.array()?;
                match present {
                    0 => Ok(Self::TransactionProof(None)),
                    1 => {
                        let transaction = read_framed(reader, "transaction", MAX_BLOCK_SIZE)?;
                        let header = Header::decode_from(reader)?;
                        let proof = MerkleProof::decode_from(reader)?;
                        Ok(Self::TransactionProof(Some(TransactionProof {
                            transaction,
                            header,
                            proof,
                        })))
                    }
                    other => Err(DecodeError::NonCanonical {
                        field: "proof present flag",
                        value: u64::from(other),
                    }),
                }
            }
            GET_ACCOUNT_PROOF => {
                let header = Header::decode_from(reader)?;
                let proof = StateProof::decode_from(reader)?;
                Ok(Self::AccountProof { header, proof })
            }
            ERROR => {
                let length = reader.length("error text", MAX_ERROR_TEXT)?;
                let text = core::str::from_utf8(reader.take(length)?).map_err(|_| {
                    DecodeError::NonCanonical {
                        field: "error text (not UTF-8)",
                        value: length as u64,
                    }
                })?;
                Ok(Self::Error(String::from(text)))
            }
            other => Err(DecodeError::UnknownVersion {
                field: "sync response",
                version: u32::from(other),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::REGTEST;

    #[test]
    fn requests_round_trip() {
        let hash = REGTEST.genesis_hash();
        for request in [
            SyncRequest::GetHeaders {
                locator: alloc::vec![hash, hash],
                max: 2000,
            },
            SyncRequest::GetBlocks {
                hashes: alloc::vec![hash],
            },
            SyncRequest::GetTransactionProof {
                txid: Txid([7; 32]),
            },
            SyncRequest::GetAccountProof {
                address: Address([9; 20]),
            },
        ] {
            let bytes = request.encode();
            assert!(bytes.len() <= MAX_REQUEST_SIZE);
            assert_eq!(SyncRequest::decode(&bytes), Ok(request));
        }
    }

    #[test]
    fn responses_round_trip() {
        let genesis = REGTEST.genesis_block();
        for response in [
            SyncResponse::Headers(alloc::vec![genesis.header; 3]),
            SyncResponse::Blocks(alloc::vec![genesis.clone(), genesis.clone()]),
            SyncResponse::TransactionProof(None),
            SyncResponse::Error(String::from("busy")),
        ] {
            assert_eq!(SyncResponse::decode(&response.encode()), Ok(response));
        }
    }

    #[test]
    fn limits_are_enforced() {
        let too_many = SyncRequest::GetBlocks {
            hashes: alloc::vec![BlockHash([0; 32]); MAX_BLOCKS + 1],
        };
        assert!(matches!(
            SyncRequest::decode(&too_many.encode()),
            Err(DecodeError::LengthOverLimit { .. })
        ));
        let zero_max = SyncRequest::GetHeaders {
            locator: alloc::vec![BlockHash([0; 32])],
            max: 0,
        };
        assert!(SyncRequest::decode(&zero_max.encode()).is_err());
        let empty_locator = SyncRequest::GetHeaders {
            locator: alloc::vec![],
            max: 1,
        };
        assert!(SyncRequest::decode(&empty_locator.encode()).is_err());
        assert!(SyncRequest::decode(&[9]).is_err());
        assert!(SyncResponse::decode(&[]).is_err());
    }

    #[test]
    fn long_error_text_is_cut_on_a_character_boundary() {
        let text = "é".repeat(200);
        let bytes = SyncResponse::Error(text).encode();
        let SyncResponse::Error(decoded) = SyncResponse::decode(&bytes).expect("decodes") else {
            panic!("an error response")
        };
        assert!(decoded.len() <= MAX_ERROR_TEXT);
        assert!(decoded.chars().all(|c| c == 'é'));
    }
}
