//! A header chain for light clients: verifies batches of headers, keeps every
//! valid branch, follows the one with the most work, and produces block
//! locators.

use alloc::vec::Vec;
use core::fmt;

use hashbrown::HashMap;

use crate::hash::BlockHash;
use crate::header::{
    Header, HeaderError, MEDIAN_TIME_SPAN, ParentInfo, check_header,
    check_header_time_against_clock, median_time_past,
};
use crate::params::Params;
use crate::pow::Work;

#[derive(Clone, Debug)]
struct Entry {
    header: Header,
    hash: BlockHash,
    parent: Option<usize>,
    chain_work: Work,
    median_time_past: u64,
    /// Time of block 1 of this entry's branch (None for genesis).
    anchor_time: Option<u64>,
}

impl Entry {
    fn as_parent(&self) -> ParentInfo {
        ParentInfo {
            hash: self.hash,
            height: self.header.height,
            time: self.header.time,
            median_time_past: self.median_time_past,
            anchor_time: self.anchor_time,
        }
    }
}

/// Verified headers of every known branch, with the most-work tip.
#[derive(Clone, Debug)]
pub struct HeaderChain {
    params: &'static Params,
    entries: Vec<Entry>,
    by_hash: HashMap<BlockHash, usize>,
    /// Entry index of the best chain's block at each height.
    best: Vec<usize>,
}

/// A rejected header in a batch: its position and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderChainError {
    /// Position in the batch.
    pub index: usize,
    /// Hash of the rejected header.
    pub hash: BlockHash,
    /// The broken rule.
    pub error: HeaderError,
}

impl fmt::Display for HeaderChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "header {} ({}) rejected: {}",
            self.index, self.hash, self.error
        )
    }
}

#[cfg(feature = "std")]
impl std::error::Error for HeaderChainError {}

/// How the best chain changed after a batch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TipUpdate {
    /// Headers that were new.
    pub added: usize,
    /// Set when the tip changed: the height of the last block the old and new best chains share.
    pub fork_height: Option<u64>,
    /// True when blocks of the old best chain left it (a reorg).
    pub reorganized: bool,
}

impl HeaderChain {
    /// A chain holding only the network's genesis.
    pub fn new(params: &'static Params) -> Self {
        let header = params.genesis_header();
        let hash = header.hash();
        let work = header
            .bits
            .to_target()
            .map(|target| target.work())
            .unwrap_or_default();
        let genesis = Entry {
            header,
            hash,
            parent: None,
            chain_work: work,
            median_time_past: header.time,
            anchor_time: None,
        };
        let mut by_hash = HashMap::new();
        by_hash.insert(hash, 0);
        Self {
            params,
            entries: alloc::vec![genesis],
            by_hash,
            best: alloc::vec![0],
        }
    }

    /// The network parameters.
    pub fn params(&self) -> &'static Params {
        self.params
    }

    fn tip_entry(&self) -> &Entry {
        &self.entries[*self
            .best
            .last()
            .expect("the best chain always holds genesis")]
    }

    /// The best tip's header.
    pub fn tip(&self) -> &Header {
        &self.tip_entry().header
    }

    /// The best tip's hash.
    pub fn tip_hash(&self) -> BlockHash {
        self.tip_entry().hash
    }

    /// Cumulative work of the best chain.
    pub fn tip_work(&self) -> Work {
        self.tip_entry().chain_work
    }

    /// Height of the best tip.
    pub fn height(&self) -> u64 {
        (self.best.len() - 1) as u64
    }

    /// The best chain's header at `height`.
    pub fn header_at(&self, height: u64) -> Option<&Header> {
        let index = usize::try_from(height).ok()?;
        self.best
            .get(index)
            .map(|&entry| &self.entries[entry].header)
    }

    /// Any known header by hash, on the best chain or not.
    pub fn get(&self, hash: &BlockHash) -> Option<&Header> {
        self.by_hash
            .get(hash)
            .map(|&index| &self.entries[index].header)
    }

    /// True when the header is on the best chain.
    pub fn is_on_best_chain(&self, hash: &BlockHash) -> bool {
        self.by_hash.get(hash).is_some_and(|&index| {
            let height = self.entries[index].header.height as usize;
            self.best.get(height) == Some(&index)
        })
    }

    /// Chain work up to and including a known header.
    pub fn chain_work(&self, hash: &BlockHash) -> Option<Work> {
        self.by_hash
            .get(hash)
            .map(|&index| self.entries[index].chain_work)
    }

    /// What the rules of a child of `hash` need to know about it.
    pub fn parent_info(&self, hash: &BlockHash) -> Option<ParentInfo> {
        self.by_hash
            .get(hash)
            .map(|&index| self.entries[index].as_parent())
    }

    fn median_time_past_ending_at(&self, header: &Header, parent: usize) -> u64 {
        let mut times = [0u64; MEDIAN_TIME_SPAN];
        times[0] = header.time;
        let mut count = 1;
        let mut cursor = Some(parent);
        while count < MEDIAN_TIME_SPAN {
            let Some(index) = cursor else { break };
            times[count] = self.entries[index].header.time;
            count += 1;
            cursor = self.entries[index].parent;
        }
        median_time_past(&times[..count])
    }

    /// Verifies and adds `headers` in order (each one's parent must be known
    /// or earlier in the batch), then moves to the branch with the most work
    /// (ties keep the first seen). Stops at the first invalid header; the
    /// valid ones before it stay.
    pub fn accept_headers(
        &mut self,
        headers: &[Header],
        now_ms: u64,
    ) -> Result<TipUpdate, HeaderChainError> {
        let old_tip = *self.best.last().expect("genesis");
        self.entries.reserve(headers.len());
        self.by_hash.reserve(headers.len());
        let mut update = TipUpdate::default();
        let mut best_candidate = old_tip;
        let mut result = Ok(());
        for (index, header) in headers.iter().enumerate() {
            let hash = header.hash();
            if self.by_hash.contains_key(&hash) {
                continue;
            }
            match self.add_header(header, hash, now_ms) {
                Ok(entry) => {
                    update.added += 1;
                    if self.entries[entry].chain_work > self.entries[best_candidate].chain_work {
                        best_candidate = entry;
                    }
                }
                Err(error) => {
                    result = Err(HeaderChainError { index, hash, error });
                    break;
                }
            }
        }
        if best_candidate != old_tip {
            let (fork_height, reorganized) = self.switch_to(best_candidate);
            update.fork_height = Some(fork_height);
            update.reorganized = reorganized;
        }
        result.map(|()| update)
    }

    fn add_header(
        &mut self,
        header: &Header,
        hash: BlockHash,
        now_ms: u64,
    ) -> Result<usize, HeaderError> {
        if header.height == 0 {
            return Err(HeaderError::BadGenesis { hash });
        }
        let &parent = self
            .by_hash
            .get(&header.prev_hash)
            .ok_or(HeaderError::UnknownParent {
                prev_hash: header.prev_hash,
            })?;
        let parent_info = self
            .parent_info(&header.prev_hash)
            .expect("parent is known");
        let target = check_header(self.params, header, &hash, &parent_info)?;
        check_header_time_against_clock(self.params, header, now_ms)?;
        let entry = Entry {
            header: *header,
            hash,
            parent: Some(parent),
            chain_work: self.entries[parent]
                .chain_work
                .saturating_add(target.work()),
            median_time_past: self.median_time_past_ending_at(header, parent),
            anchor_time: parent_info.child_anchor_time(header.time),
        };
        self.entries.push(entry);
        let index = self.entries.len() - 1;
        self.by_hash.insert(hash, index);
        Ok(index)
    }

    /// Makes `tip` the best tip; returns the fork height and whether blocks left the best chain.
    fn switch_to(&mut self, tip: usize) -> (u64, bool) {
        let mut branch = Vec::new();
        let mut cursor = tip;
        loop {
            let height = self.entries[cursor].header.height as usize;
            if self.best.get(height) == Some(&cursor) {
                break;
            }
            branch.push(cursor);
            cursor = self.entries[cursor]
                .parent
                .expect("only genesis has no parent, and it is on the best chain");
        }
        let fork_height = self.entries[cursor].header.height;
        let reorganized = self.best.len() as u64 > fork_height + 1;
        self.best.truncate(fork_height as usize + 1);
        self.best.extend(branch.into_iter().rev());
        (fork_height, reorganized)
    }

    /// A block locator: hashes of the best chain from the tip back, one
    /// apart for ten, then doubling the step, ending with genesis.
    pub fn locator(&self) -> Vec<BlockHash> {
        let mut hashes = Vec::new();
        let mut height = self.height();
        let mut step = 1u64;
        loop {
            hashes.push(self.entries[self.best[height as usize]].hash);
            if height == 0 {
                break;
            }
            if hashes.len() >= 10 {
                step *= 2;
            }
            height = height.saturating_sub(step);
        }
        hashes
    }

    /// Height of the first locator hash on the best chain (0 if none is:
    /// genesis is shared by every chain of the network).
    pub fn find_fork(&self, locator: &[BlockHash]) -> u64 {
        locator
            .iter()
            .find(|hash| self.is_on_best_chain(hash))
            .and_then(|hash| self.get(hash))
            .map_or(0, |header| header.height)
    }
}
