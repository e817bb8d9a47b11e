//! State proofs: inclusion and non-inclusion of an account against a state root.
//!
//! A proof lists the siblings on the path from the root down to the leaf or
//! empty subtree where the search for the key ends, with a bitmap of which
//! siblings are non-empty (empty ones are not sent).

use alloc::vec::Vec;
use core::fmt;

use super::tree::{Account, Node, StateTree, branch_hash, key_bit, leaf_hash, state_key};
use crate::address::Address;
use crate::amount::Amount;
use crate::encode::{Decode, DecodeError, Encode, Reader, put_u64};
use crate::hash::MerkleHash;

/// Where the path down the tree ends.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProofEnd {
    /// An empty subtree: the key is absent.
    Empty,
    /// A subtree with one account: the key's own (present) or another one
    /// sharing the path (the key is absent).
    Leaf { key: [u8; 32], account: Account },
}

/// Proof of an account's state, or of its absence, under a state root.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct StateProof {
    /// Number of levels walked from the root (0..=256).
    pub depth: u16,
    /// Bit i set when the sibling at level i is non-empty (levels from the root).
    pub bitmap: [u8; 32],
    /// The non-empty siblings, from the root downward.
    pub siblings: Vec<MerkleHash>,
    /// What the path ends in.
    pub end: ProofEnd,
}

/// Why a state proof proves nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateProofError {
    /// The bitmap and the sibling list disagree, or bits are set past the depth.
    Malformed,
    /// The leaf at the end does not share the key's path.
    LeafOffPath,
    /// The proof leads to another root.
    RootMismatch {
        computed: MerkleHash,
        expected: MerkleHash,
    },
}

impl fmt::Display for StateProofError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("state proof is malformed"),
            Self::LeafOffPath => f.write_str("state proof ends in a leaf off the key's path"),
            Self::RootMismatch { computed, expected } => {
                write!(f, "state proof gives root {computed}, expected {expected}")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for StateProofError {}

impl StateTree {
    /// A proof of `address`'s account, or of its absence, under [`StateTree::root`].
    pub fn prove(&mut self, address: &Address) -> StateProof {
        self.root();
        let key = state_key(address);
        let mut bitmap = [0u8; 32];
        let mut siblings = Vec::new();
        let mut level = 0usize;
        let mut node = &self.root;
        let end = loop {
            match node {
                Node::Empty => break ProofEnd::Empty,
                Node::Leaf(leaf) => {
                    break ProofEnd::Leaf {
                        key: leaf.key,
                        account: leaf.account,
                    };
                }
                Node::Branch(branch) => {
                    if level < branch.depth {
                        // One side of this level is empty. If it is the key's side,
                        // the search ends in it, beside the whole branch.
                        if key_bit(&key, level) != key_bit(&branch.some_key, level) {
                            let sibling = node.cached_hash_at(level + 1);
                            bitmap[level / 8] |= 0x80 >> (level % 8);
                            siblings.push(sibling);
                            level += 1;
                            break ProofEnd::Empty;
                        }
                        level += 1;
                        continue;
                    }
                    let side = usize::from(key_bit(&key, level));
                    let sibling = branch.children[1 - side].cached_hash_at(level + 1);
                    // Siblings of a branch's children are never empty.
                    bitmap[level / 8] |= 0x80 >> (level % 8);
                    siblings.push(sibling);
                    level += 1;
                    node = &branch.children[side];
                }
            }
        };
        StateProof {
            depth: u16::try_from(level).expect("depth is at most 256"),
            bitmap,
            siblings,
            end,
        }
    }
}

fn bit_set(bitmap: &[u8; 32], level: usize) -> bool {
    bitmap[level / 8] & (0x80 >> (level % 8)) != 0
}

impl StateProof {
    /// Checks the proof for `address` against `root`: Some(account) if it
    /// exists, None if the proof shows it absent.
    pub fn verify(
        &self,
        address: &Address,
        root: &MerkleHash,
    ) -> Result<Option<Account>, StateProofError> {
        let key = state_key(address);
        let depth = usize::from(self.depth);
        if depth > 256 {
            return Err(StateProofError::Malformed);
        }
        let set_bits = (0..depth)
            .filter(|&level| bit_set(&self.bitmap, level))
            .count();
        let extra_bits = (depth..256).any(|level| bit_set(&self.bitmap, level));
        if set_bits != self.siblings.len() || extra_bits {
            return Err(StateProofError::Malformed);
        }
        let (mut hash, found) = match &self.end {
            ProofEnd::Empty => (MerkleHash::ZERO, None),
            ProofEnd::Leaf {
                key: leaf_key,
                account,
            } => {
                if (0..depth).any(|level| key_bit(leaf_key, level) != key_bit(&key, level)) {
                    return Err(StateProofError::LeafOffPath);
                }
                let found = (*leaf_key == key).then_some(*account);
                (leaf_hash(leaf_key, account), found)
            }
        };
        let mut siblings = self.siblings.iter().rev();
        for level in (0..depth).rev() {
            let sibling = if bit_set(&self.bitmap, level) {
                *siblings.next().expect("count checked above")
            } else {
                MerkleHash::ZERO
            };
            hash = if key_bit(&key, level) {
                branch_hash(&sibling, &hash)
            } else {
                branch_hash(&hash, &sibling)
            };
        }
        if hash != *root {
            return Err(StateProofError::RootMismatch {
                computed: hash,
                expected: *root,
            });
        }
        Ok(found)
    }
}

impl Encode for StateProof {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.depth.to_le_bytes());
        out.extend_from_slice(&self.bitmap);
        for sibling in &self.siblings {
            out.extend_from_slice(&sibling.0);
        }
        match &self.end {
            ProofEnd::Empty => out.push(0),
            ProofEnd::Leaf { key, account } => {
                out.push(1);
                out.extend_from_slice(key);
                put_u64(out, account.balance.0);
                put_u64(out, account.nonce);
            }
        }
    }
}

impl Decode for StateProof {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let depth = u16::from_le_bytes(reader.array()?);
        if depth > 256 {
            return Err(DecodeError::LengthOverLimit {
                field: "state proof depth",
                length: depth.into(),
                limit: 256,
            });
        }
        let bitmap: [u8; 32] = reader.array()?;
        if (usize::from(depth)..256).any(|level| bit_set(&bitmap, level)) {
            return Err(DecodeError::NonCanonical {
                field: "state proof bitmap",
                value: depth.into(),
            });
        }
        let count = bitmap
            .iter()
            .map(|byte| byte.count_ones() as usize)
            .sum::<usize>();
        let mut siblings = Vec::with_capacity(count);
        for _ in 0..count {
            siblings.push(MerkleHash(reader.array()?));
        }
        let end = match reader.array::<1>()?[0] {
            0 => ProofEnd::Empty,
            1 => ProofEnd::Leaf {
                key: reader.array()?,
                account: Account {
                    balance: Amount(reader.u64()?),
                    nonce: reader.u64()?,
                },
            },
            tag => {
                return Err(DecodeError::NonCanonical {
                    field: "state proof end",
                    value: tag.into(),
                });
            }
        };
        Ok(StateProof {
            depth,
            bitmap,
            siblings,
            end,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_with(count: u8) -> (StateTree, Vec<Address>) {
        let mut tree = StateTree::new();
        let addresses: Vec<Address> = (0..count).map(|i| Address([i; 20])).collect();
        for (i, address) in addresses.iter().enumerate() {
            tree.insert(
                *address,
                Account {
                    balance: Amount(i as u64 + 1),
                    nonce: i as u64,
                },
            );
        }
        (tree, addresses)
    }

    #[test]
    fn present_and_absent_accounts_are_proven() {
        for count in [0u8, 1, 2, 3, 10, 60] {
            let (mut tree, addresses) = tree_with(count);
            let root = tree.root();
            for (i, address) in addresses.iter().enumerate() {
                let proof = tree.prove(address);
                let expected = Account {
                    balance: Amount(i as u64 + 1),
                    nonce: i as u64,
                };
                assert_eq!(proof.verify(address, &root), Ok(Some(expected)));
                assert_eq!(StateProof::decode(&proof.encode()), Ok(proof));
            }
            for i in 200..220u8 {
                let absent = Address([i; 20]);
                let proof = tree.prove(&absent);
                assert_eq!(
                    proof.verify(&absent, &root),
                    Ok(None),
                    "{count} accounts, absent {i}"
                );
            }
        }
    }

    #[test]
    fn a_proof_does_not_verify_for_another_root_or_value() {
        let (mut tree, addresses) = tree_with(10);
        let root = tree.root();
        let mut proof = tree.prove(&addresses[3]);
        assert!(matches!(
            proof.verify(&addresses[3], &MerkleHash([1; 32])),
            Err(StateProofError::RootMismatch { .. })
        ));
        if let ProofEnd::Leaf { account, .. } = &mut proof.end {
            account.balance = Amount(1_000_000);
        }
        assert!(matches!(
            proof.verify(&addresses[3], &root),
            Err(StateProofError::RootMismatch { .. })
        ));
    }

    #[test]
    fn an_inclusion_proof_cannot_be_passed_off_for_another_address() {
        let (mut tree, addresses) = tree_with(10);
        let root = tree.root();
        let proof = tree.prove(&addresses[3]);
        // Address 4 is present, so address 3's leaf cannot lie on its path.
        assert!(proof.verify(&addresses[4], &root).is_err());
    }
}
