//! RFC 6962 (Certificate Transparency) Merkle tree over txids: root,
//! inclusion proofs (audit paths) and their verification.
//!
//! leaf = SHA-256(0x00 || txid), node = SHA-256(0x01 || left || right), the
//! empty tree hashes to SHA-256(""). The last element is never duplicated.

use alloc::vec::Vec;
use core::fmt;

use crate::encode::{Decode, DecodeError, Encode, Reader, put_length, put_u32};
use crate::hash::{MerkleHash, Txid, sha256, sha256_parts};

/// Most hashes an audit path can hold (a tree of up to 2^32 leaves).
pub const MAX_PATH_LEN: usize = 32;

fn leaf_hash(txid: &Txid) -> MerkleHash {
    MerkleHash(sha256_parts(&[&[0x00], &txid.0]))
}

fn node_hash(left: &MerkleHash, right: &MerkleHash) -> MerkleHash {
    MerkleHash(sha256_parts(&[&[0x01], &left.0, &right.0]))
}

/// Root of the tree over `txids`.
pub fn merkle_root(txids: &[Txid]) -> MerkleHash {
    if txids.is_empty() {
        return MerkleHash(sha256(b""));
    }
    // Pairing level by level and lifting an odd last node unchanged gives
    // exactly RFC 6962's split at the largest power of two below n.
    let mut level: Vec<MerkleHash> = txids.iter().map(leaf_hash).collect();
    while level.len() > 1 {
        let next: Vec<MerkleHash> = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => node_hash(left, right),
                [single] => *single,
                _ => unreachable!("chunks(2) yields one or two items"),
            })
            .collect();
        level = next;
    }
    level[0]
}

/// An inclusion proof: the RFC 6962 audit path of leaf `index` in a tree of `tree_size` leaves.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct MerkleProof {
    /// Position of the leaf.
    pub index: u32,
    /// Number of leaves.
    pub tree_size: u32,
    /// Sibling hashes from the leaf upward.
    pub path: Vec<MerkleHash>,
}

/// Why an inclusion proof does not prove inclusion.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MerkleProofError {
    /// The index is not below the tree size.
    IndexOutOfRange { index: u32, tree_size: u32 },
    /// The path has the wrong number of hashes for this index and size.
    WrongPathLength,
    /// The path leads to another root.
    RootMismatch {
        computed: MerkleHash,
        expected: MerkleHash,
    },
}

impl fmt::Display for MerkleProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IndexOutOfRange { index, tree_size } => {
                write!(f, "leaf {index} is outside a tree of {tree_size}")
            }
            Self::WrongPathLength => f.write_str("audit path has the wrong length"),
            Self::RootMismatch { computed, expected } => {
                write!(f, "proof gives root {computed}, expected {expected}")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for MerkleProofError {}

fn subtree_root(leaves: &[MerkleHash]) -> MerkleHash {
    match leaves {
        [] => MerkleHash(sha256(b"")),
        [single] => *single,
        _ => {
            let split = largest_power_of_two_below(leaves.len());
            node_hash(
                &subtree_root(&leaves[..split]),
                &subtree_root(&leaves[split..]),
            )
        }
    }
}

fn largest_power_of_two_below(n: usize) -> usize {
    debug_assert!(n > 1);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

fn audit_path(index: usize, leaves: &[MerkleHash], path: &mut Vec<MerkleHash>) {
    if leaves.len() <= 1 {
        return;
    }
    let split = largest_power_of_two_below(leaves.len());
    if index < split {
        audit_path(index, &leaves[..split], path);
        path.push(subtree_root(&leaves[split..]));
    } else {
        audit_path(index - split, &leaves[split..], path);
        path.push(subtree_root(&leaves[..split]));
    }
}

impl MerkleProof {
    /// The proof for `txids[index]`, or None when out of range.
    pub fn new(txids: &[Txid], index: usize) -> Option<MerkleProof> {
        if index >= txids.len() {
            return None;
        }
        let leaves: Vec<MerkleHash> = txids.iter().map(leaf_hash).collect();
        let mut path = Vec::new();
        audit_path(index, &leaves, &mut path);
        Some(MerkleProof {
            index: u32::try_from(index).ok()?,
            tree_size: u32::try_from(txids.len()).ok()?,
            path,
        })
    }

    /// Checks that `txid` is leaf `index` of the tree with root `root`
    /// (RFC 9162, section 2.1.3.2).
    pub fn verify(&self, txid: &Txid, root: &MerkleHash) -> Result<(), MerkleProofError> {
        if self.index >= self.tree_size {
            return Err(MerkleProofError::IndexOutOfRange {
                index: self.index,
                tree_size: self.tree_size,
            });
        }
        let mut fnode = self.index;
        let mut snode = self.tree_size - 1;
        let mut hash = leaf_hash(txid);
        for sibling in &self.path {
            if snode == 0 {
                return Err(MerkleProofError::WrongPathLength);
            }
            if fnode & 1 == 1 || fnode == snode {
                hash = node_hash(sibling, &hash);
                if fnode & 1 == 0 {
                    while fnode & 1 == 0 && fnode != 0 {
                        fnode >>= 1;
                        snode >>= 1;
                    }
                }
            } else {
                hash = node_hash(&hash, sibling);
            }
            fnode >>= 1;
            snode >>= 1;
        }
        if snode != 0 {
            return Err(MerkleProofError::WrongPathLength);
        }
        if hash != *root {
            return Err(MerkleProofError::RootMismatch {
                computed: hash,
                expected: *root,
            });
        }
        Ok(())
    }
}

impl Encode for MerkleProof {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_u32(out, self.index);
        put_u32(out, self.tree_size);
        put_length(out, self.path.len());
        for hash in &self.path {
            out.extend_from_slice(&hash.0);
        }
    }
}

impl Decode for MerkleProof {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let index = reader.u32()?;
        let tree_size = reader.u32()?;
        let count = reader.length("merkle path", MAX_PATH_LEN)?;
        let mut path = Vec::with_capacity(count);
        for _ in 0..count {
            path.push(MerkleHash(reader.array()?));
        }
        Ok(MerkleProof {
            index,
            tree_size,
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn txids(count: u8) -> Vec<Txid> {
        (0..count).map(|i| Txid([i; 32])).collect()
    }

    #[test]
    fn root_matches_the_recursive_definition() {
        for count in 0..40u8 {
            let ids = txids(count);
            let leaves: Vec<MerkleHash> = ids.iter().map(leaf_hash).collect();
            assert_eq!(merkle_root(&ids), subtree_root(&leaves), "{count} leaves");
        }
    }

    #[test]
    fn every_proof_verifies_and_a_wrong_txid_does_not() {
        for count in 1..20u8 {
            let ids = txids(count);
            let root = merkle_root(&ids);
            for index in 0..ids.len() {
                let proof = MerkleProof::new(&ids, index).expect("in range");
                assert_eq!(proof.verify(&ids[index], &root), Ok(()));
                assert_eq!(MerkleProof::decode(&proof.encode()), Ok(proof.clone()));
                assert!(proof.verify(&Txid([0xee; 32]), &root).is_err());
            }
        }
    }

    #[test]
    fn duplicated_last_leaf_changes_the_root() {
        // CVE-2012-2459: [a, b, c] and [a, b, c, c] must not share a root.
        let three = txids(3);
        let mut four = three.clone();
        four.push(three[2]);
        assert_ne!(merkle_root(&three), merkle_root(&four));
    }

    #[test]
    fn truncated_or_padded_paths_are_rejected() {
        let ids = txids(5);
        let root = merkle_root(&ids);
        let mut proof = MerkleProof::new(&ids, 1).expect("in range");
        proof.path.pop();
        assert_eq!(
            proof.verify(&ids[1], &root),
            Err(MerkleProofError::WrongPathLength)
        );
        let mut proof = MerkleProof::new(&ids, 1).expect("in range");
        proof.path.push(MerkleHash::ZERO);
        assert_eq!(
            proof.verify(&ids[1], &root),
            Err(MerkleProofError::WrongPathLength)
        );
        let out_of_range = MerkleProof {
            index: 5,
            tree_size: 5,
            path: Vec::new(),
        };
        assert_eq!(
            out_of_range.verify(&ids[0], &root),
            Err(MerkleProofError::IndexOutOfRange {
                index: 5,
                tree_size: 5
            })
        );
    }
}
