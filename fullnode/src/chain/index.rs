//! The node's block index: every stored header, its chain work, and the
//! best chain by height.

use std::collections::HashMap;

use blockchain_core::header::{MEDIAN_TIME_SPAN, ParentInfo, median_time_past};
use blockchain_core::{BlockHash, Header, Work};

/// One known block.
#[derive(Clone, Debug)]
pub struct IndexEntry {
    /// Its header.
    pub header: Header,
    /// Its hash.
    pub hash: BlockHash,
    /// Cumulative work.
    pub chain_work: Work,
    /// Median time past ending at this block (for its children's rules).
    pub median_time_past: u64,
    /// Time of block 1 of this block's branch, ASERT's anchor (None for
    /// genesis). Not stored: derived from the parent when the block is
    /// inserted, so loading the index at startup rebuilds it.
    pub anchor_time: Option<u64>,
    /// Failed validation.
    pub invalid: bool,
}

impl IndexEntry {
    /// What a child's rules need.
    pub fn as_parent(&self) -> ParentInfo {
        ParentInfo {
            hash: self.hash,
            height: self.header.height,
            time: self.header.time,
            median_time_past: self.median_time_past,
            anchor_time: self.anchor_time,
        }
    }
}

/// All known blocks and the best chain.
#[derive(Clone, Debug)]
pub struct BlockIndex {
    entries: HashMap<BlockHash, IndexEntry>,
    best: Vec<BlockHash>,
}

impl BlockIndex {
    /// An index holding genesis.
    pub fn new(genesis: Header) -> Self {
        let hash = genesis.hash();
        let work = genesis
            .bits
            .to_target()
            .map(|target| target.work())
            .unwrap_or_default();
        let entry = IndexEntry {
            header: genesis,
            hash,
            chain_work: work,
            median_time_past: genesis.time,
            anchor_time: None,
            invalid: false,
        };
        Self {
            entries: HashMap::from([(hash, entry)]),
            best: vec![hash],
        }
    }

    /// A known block.
    pub fn get(&self, hash: &BlockHash) -> Option<&IndexEntry> {
        self.entries.get(hash)
    }

    /// True when known.
    pub fn contains(&self, hash: &BlockHash) -> bool {
        self.entries.contains_key(hash)
    }

    /// The best tip.
    pub fn tip(&self) -> &IndexEntry {
        &self.entries[self.best.last().expect("the best chain holds genesis")]
    }

    /// Height of the best tip.
    pub fn height(&self) -> u64 {
        (self.best.len() - 1) as u64
    }

    /// Best-chain hash at `height`.
    pub fn hash_at(&self, height: u64) -> Option<BlockHash> {
        usize::try_from(height)
            .ok()
            .and_then(|height| self.best.get(height))
            .copied()
    }

    /// Median time past ending at a new child of `parent` (the child's own entry).
    fn median_time_past_with(&self, header: &Header) -> u64 {
        let mut times = Vec::with_capacity(MEDIAN_TIME_SPAN);
        times.push(header.time);
        let mut cursor = self.entries.get(&header.prev_hash);
        while let Some(entry) = cursor {
            if times.len() == MEDIAN_TIME_SPAN {
                break;
            }
            times.push(entry.header.time);
            cursor = if entry.header.height == 0 {
                None
            } else {
                self.entries.get(&entry.header.prev_hash)
            };
        }
        median_time_past(&times)
    }

    /// Adds a block whose parent is known.
    pub fn insert(&mut self, header: Header, chain_work: Work, invalid: bool) -> &IndexEntry {
        let hash = header.hash();
        let median_time_past = self.median_time_past_with(&header);
        let anchor_time = self
            .entries
            .get(&header.prev_hash)
            .and_then(|parent| parent.as_parent().child_anchor_time(header.time));
        self.entries.entry(hash).or_insert(IndexEntry {
            header,
            hash,
            chain_work,
            median_time_past,
            anchor_time,
            invalid,
        })
    }

    /// Marks a block and every known descendant invalid.
    pub fn mark_invalid(&mut self, hash: &BlockHash) {
        if let Some(entry) = self.entries.get_mut(hash) {
            entry.invalid = true;
        }
        let mut changed = true;
        while changed {
            changed = false;
            let invalid_children: Vec<BlockHash> = self
                .entries
                .values()
                .filter(|entry| !entry.invalid && entry.header.height > 0)
                .filter(|entry| {
                    self.entries
                        .get(&entry.header.prev_hash)
                        .is_some_and(|parent| parent.invalid)
                })
                .map(|entry| entry.hash)
                .collect();
            for child in invalid_children {
                changed = true;
                if let Some(entry) = self.entries.get_mut(&child) {
                    entry.invalid = true;
                }
            }
        }
    }

    /// What moving the best chain to `tip` takes: the height of the last
    /// block both chains share, and the blocks to connect after it, in order.
    pub fn path_to(&self, tip: &BlockHash) -> (u64, Vec<BlockHash>) {
        let mut branch = Vec::new();
        let mut cursor = *tip;
        loop {
            let entry = &self.entries[&cursor];
            if self.hash_at(entry.header.height) == Some(cursor) {
                branch.reverse();
                return (entry.header.height, branch);
            }
            branch.push(cursor);
            cursor = entry.header.prev_hash;
        }
    }

    /// Makes `tip` the best tip (its whole path must be known).
    pub fn set_best(&mut self, tip: &BlockHash) {
        let (fork, branch) = self.path_to(tip);
        self.best.truncate(fork as usize + 1);
        self.best.extend(branch);
    }
}

#[cfg(test)]
mod tests {
    use blockchain_core::params::DEVNET;
    use blockchain_core::{CompactBits, MerkleHash};

    use super::*;

    fn child(parent: &Header, time: u64, salt: u8) -> Header {
        Header {
            version: Header::VERSION,
            height: parent.height + 1,
            prev_hash: parent.hash(),
            merkle_root: MerkleHash([salt; 32]),
            state_root: MerkleHash::ZERO,
            time,
            bits: CompactBits(0x1e00_8000),
            nonce: 0,
        }
    }

    #[test]
    fn every_entry_carries_block_one_of_its_branch_as_anchor() {
        let genesis = DEVNET.genesis_header();
        let mut index = BlockIndex::new(genesis);
        let one = child(&genesis, genesis.time + 1_000_000, 1);
        let two = child(&one, one.time + 10_000, 1);
        let three = child(&two, two.time + 10_000, 1);
        let other_one = child(&genesis, genesis.time + 5_000_000, 2);
        let other_two = child(&other_one, other_one.time + 10_000, 2);
        // Height order with the branches interleaved, as loading from storage does.
        for header in [one, other_one, two, other_two, three] {
            index.insert(header, Work::default(), false);
        }
        let anchor = |header: &Header| index.get(&header.hash()).expect("inserted").anchor_time;
        assert_eq!(anchor(&genesis), None);
        for header in [one, two, three] {
            assert_eq!(anchor(&header), Some(one.time));
        }
        for header in [other_one, other_two] {
            assert_eq!(anchor(&header), Some(other_one.time));
        }
        let parent = index.get(&three.hash()).expect("inserted").as_parent();
        assert_eq!(parent.anchor_time, Some(one.time));
        assert_eq!(parent.child_anchor_time(three.time + 1), Some(one.time));
    }
}
