//! A binary sparse Merkle tree over key = SHA-256(address), 256 bits from the
//! most significant.
//!
//! leaf = SHA-256(0x00 || key || balance u64 || nonce u64); an empty subtree
//! hashes to 32 zero bytes; a subtree with exactly one account hashes to that
//! account's leaf hash at any depth; any other subtree hashes to
//! SHA-256(0x01 || left || right).
//!
//! Stored as a compressed (Patricia) trie: a branch exists only where two
//! keys part, and keeps its hash until an update below it clears it, so an
//! update costs O(depth) hashes, not O(accounts).

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::address::Address;
use crate::amount::Amount;
use crate::hash::{MerkleHash, sha256, sha256_parts};

/// An account's state.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Account {
    /// Spendable balance.
    pub balance: Amount,
    /// Number of transactions sent; the next one must carry this nonce.
    pub nonce: u64,
}

/// The tree key of an address.
pub fn state_key(address: &Address) -> [u8; 32] {
    sha256(&address.0)
}

/// Bit `index` of `key`, counting from the most significant bit of byte 0.
pub(crate) fn key_bit(key: &[u8; 32], index: usize) -> bool {
    key[index / 8] & (0x80 >> (index % 8)) != 0
}

fn first_different_bit(a: &[u8; 32], b: &[u8; 32]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .map(|byte| byte * 8 + (a[byte] ^ b[byte]).leading_zeros() as usize)
}

pub(crate) fn leaf_hash(key: &[u8; 32], account: &Account) -> MerkleHash {
    MerkleHash(sha256_parts(&[
        &[0x00],
        key,
        &account.balance.0.to_le_bytes(),
        &account.nonce.to_le_bytes(),
    ]))
}

pub(crate) fn branch_hash(left: &MerkleHash, right: &MerkleHash) -> MerkleHash {
    MerkleHash(sha256_parts(&[&[0x01], &left.0, &right.0]))
}

/// Lifts the hash of a multi-account subtree rooted at depth `from` up to
/// depth `to` (< `from`): each level in between has an empty sibling.
pub(crate) fn lift(mut hash: MerkleHash, key: &[u8; 32], from: usize, to: usize) -> MerkleHash {
    for level in (to..from).rev() {
        hash = if key_bit(key, level) {
            branch_hash(&MerkleHash::ZERO, &hash)
        } else {
            branch_hash(&hash, &MerkleHash::ZERO)
        };
    }
    hash
}

#[derive(Clone, Debug)]
pub(crate) struct Leaf {
    pub(crate) key: [u8; 32],
    pub(crate) address: Address,
    pub(crate) account: Account,
}

#[derive(Clone, Debug)]
pub(crate) struct Branch {
    /// Depth at which the two children part; all keys below share bits 0..depth.
    pub(crate) depth: usize,
    /// Any key below, for the shared prefix.
    pub(crate) some_key: [u8; 32],
    pub(crate) children: [Node; 2],
    /// Hash of this subtree at its own depth; None after a change below.
    hash: Option<MerkleHash>,
}

#[derive(Clone, Debug, Default)]
pub(crate) enum Node {
    #[default]
    Empty,
    Leaf(Box<Leaf>),
    Branch(Box<Branch>),
}

impl Node {
    /// Hash of this subtree seen from depth `depth` (its slot in the parent).
    pub(crate) fn hash_at(&mut self, depth: usize) -> MerkleHash {
        match self {
            Node::Empty => MerkleHash::ZERO,
            Node::Leaf(leaf) => leaf_hash(&leaf.key, &leaf.account),
            Node::Branch(branch) => {
                let own = match branch.hash {
                    Some(hash) => hash,
                    None => {
                        let child_depth = branch.depth + 1;
                        let [left, right] = &mut branch.children;
                        let hash =
                            branch_hash(&left.hash_at(child_depth), &right.hash_at(child_depth));
                        branch.hash = Some(hash);
                        hash
                    }
                };
                lift(own, &branch.some_key, branch.depth, depth)
            }
        }
    }

    /// [`Node::hash_at`] without caching: uses the hashes already cached and
    /// computes (without storing) any that are not.
    pub(crate) fn cached_hash_at(&self, depth: usize) -> MerkleHash {
        match self {
            Node::Empty => MerkleHash::ZERO,
            Node::Leaf(leaf) => leaf_hash(&leaf.key, &leaf.account),
            Node::Branch(branch) => {
                let own = branch.hash.unwrap_or_else(|| {
                    let child_depth = branch.depth + 1;
                    branch_hash(
                        &branch.children[0].cached_hash_at(child_depth),
                        &branch.children[1].cached_hash_at(child_depth),
                    )
                });
                lift(own, &branch.some_key, branch.depth, depth)
            }
        }
    }

    fn get(&self, key: &[u8; 32]) -> Option<&Leaf> {
        let mut node = self;
        loop {
            match node {
                Node::Empty => return None,
                Node::Leaf(leaf) => return (leaf.key == *key).then_some(&**leaf),
                Node::Branch(branch) => {
                    node = &branch.children[usize::from(key_bit(key, branch.depth))]
                }
            }
        }
    }

    fn insert(&mut self, leaf: Leaf) -> Option<Account> {
        match self {
            Node::Empty => {
                *self = Node::Leaf(Box::new(leaf));
                None
            }
            Node::Leaf(existing) => match first_different_bit(&existing.key, &leaf.key) {
                None => Some(core::mem::replace(&mut existing.account, leaf.account)),
                Some(depth) => {
                    let old = core::mem::take(self);
                    *self = Node::split(depth, old, leaf.key, Node::Leaf(Box::new(leaf)));
                    None
                }
            },
            Node::Branch(branch) => match first_different_bit(&branch.some_key, &leaf.key) {
                Some(depth) if depth < branch.depth => {
                    let old = core::mem::take(self);
                    *self = Node::split(depth, old, leaf.key, Node::Leaf(Box::new(leaf)));
                    None
                }
                _ => {
                    branch.hash = None;
                    branch.children[usize::from(key_bit(&leaf.key, branch.depth))].insert(leaf)
                }
            },
        }
    }

    /// A branch at `depth` holding `old` and `new` (whose key is `new_key`).
    fn split(depth: usize, old: Node, new_key: [u8; 32], new: Node) -> Node {
        let children = if key_bit(&new_key, depth) {
            [old, new]
        } else {
            [new, old]
        };
        Node::Branch(Box::new(Branch {
            depth,
            some_key: new_key,
            children,
            hash: None,
        }))
    }

    fn remove(&mut self, key: &[u8; 32]) -> Option<Account> {
        match self {
            Node::Empty => None,
            Node::Leaf(leaf) => {
                if leaf.key != *key {
                    return None;
                }
                let account = leaf.account;
                *self = Node::Empty;
                Some(account)
            }
            Node::Branch(branch) => {
                let side = usize::from(key_bit(key, branch.depth));
                let removed = branch.children[side].remove(key)?;
                branch.hash = None;
                if matches!(branch.children[side], Node::Empty) {
                    let survivor = core::mem::take(&mut branch.children[1 - side]);
                    *self = survivor;
                } else if let Some(any) = branch.children[side].any_key() {
                    // The key we kept as a prefix witness may be the removed one.
                    branch.some_key = any;
                }
                Some(removed)
            }
        }
    }

    fn any_key(&self) -> Option<[u8; 32]> {
        match self {
            Node::Empty => None,
            Node::Leaf(leaf) => Some(leaf.key),
            Node::Branch(branch) => Some(branch.some_key),
        }
    }

    fn collect<'a>(&'a self, out: &mut Vec<(&'a Address, &'a Account)>) {
        match self {
            Node::Empty => {}
            Node::Leaf(leaf) => out.push((&leaf.address, &leaf.account)),
            Node::Branch(branch) => {
                branch.children[0].collect(out);
                branch.children[1].collect(out);
            }
        }
    }
}

/// The account state with its Merkle root.
#[derive(Clone, Debug, Default)]
pub struct StateTree {
    pub(crate) root: Node,
    len: usize,
}

impl StateTree {
    /// An empty state (genesis).
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no account exists.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The account at `address`, if it exists.
    pub fn get(&self, address: &Address) -> Option<Account> {
        self.root.get(&state_key(address)).map(|leaf| leaf.account)
    }

    /// Sets an account, returning its previous state.
    pub fn insert(&mut self, address: Address, account: Account) -> Option<Account> {
        let previous = self.root.insert(Leaf {
            key: state_key(&address),
            address,
            account,
        });
        if previous.is_none() {
            self.len += 1;
        }
        previous
    }

    /// Removes an account (only undo does this), returning it.
    pub fn remove(&mut self, address: &Address) -> Option<Account> {
        let removed = self.root.remove(&state_key(address));
        if removed.is_some() {
            self.len -= 1;
        }
        removed
    }

    /// The Merkle root; recomputes only what changed since the last call.
    pub fn root(&mut self) -> MerkleHash {
        self.root.hash_at(0)
    }

    /// Every account, in key order.
    pub fn accounts(&self) -> Vec<(&Address, &Account)> {
        let mut out = Vec::with_capacity(self.len);
        self.root.collect(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, straight: recursive over sorted keys.
    fn reference_root(accounts: &[(Address, Account)]) -> MerkleHash {
        fn subtree(entries: &[([u8; 32], Account)], depth: usize) -> MerkleHash {
            match entries {
                [] => MerkleHash::ZERO,
                [(key, account)] => leaf_hash(key, account),
                _ => {
                    let split = entries.partition_point(|(key, _)| !key_bit(key, depth));
                    branch_hash(
                        &subtree(&entries[..split], depth + 1),
                        &subtree(&entries[split..], depth + 1),
                    )
                }
            }
        }
        let mut entries: Vec<([u8; 32], Account)> = accounts
            .iter()
            .map(|(address, account)| (state_key(address), *account))
            .collect();
        entries.sort_by_key(|(key, _)| *key);
        subtree(&entries, 0)
    }

    fn account(i: u64) -> Account {
        Account {
            balance: Amount(i * 1000),
            nonce: i,
        }
    }

    #[test]
    fn empty_and_single_account_roots() {
        let mut tree = StateTree::new();
        assert_eq!(tree.root(), MerkleHash::ZERO);
        let address = Address([1; 20]);
        tree.insert(address, account(1));
        assert_eq!(tree.root(), leaf_hash(&state_key(&address), &account(1)));
    }

    #[test]
    fn incremental_root_matches_the_definition_through_inserts_updates_and_removals() {
        let mut tree = StateTree::new();
        let mut entries = Vec::new();
        for i in 0..200u64 {
            let address = Address([
                (i % 256) as u8,
                (i / 256) as u8,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                7,
                9,
            ]);
            tree.insert(address, account(i));
            entries.push((address, account(i)));
            if i % 17 == 0 {
                assert_eq!(tree.root(), reference_root(&entries));
            }
        }
        for (index, (address, _)) in entries.clone().iter().enumerate().step_by(3) {
            tree.insert(*address, account(index as u64 + 5000));
            entries[index].1 = account(index as u64 + 5000);
        }
        assert_eq!(tree.root(), reference_root(&entries));
        while entries.len() > 3 {
            let (address, _) = entries.remove(entries.len() / 2);
            assert!(tree.remove(&address).is_some());
            assert_eq!(
                tree.root(),
                reference_root(&entries),
                "{} accounts",
                entries.len()
            );
        }
        assert_eq!(tree.len(), 3);
    }
}
