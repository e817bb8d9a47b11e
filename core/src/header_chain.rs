//! A header chain for light clients: verifies batches of headers, keeps every
//! valid branch, follows the one with the most work, and produces block
//! locators.
//!
//! A light client keeps only a window of recent headers in memory
//! ([`HeaderChain::with_window`]) and resumes from headers it verified
//! before ([`HeaderChain::from_checkpoint`]); the rest stay in its storage.

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
    /// Entry index of the best chain's block at each height from `base`.
    best: Vec<usize>,
    /// Height of `best[0]`: 0, or the lowest height still in memory.
    base: u64,
    /// Most best-chain headers kept in memory (None: all).
    window: Option<u64>,
}

/// Why stored headers cannot be resumed from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// No headers.
    Empty,
    /// A header is not the child of the one before it.
    NotConsecutive {
        /// Its height.
        height: u64,
    },
    /// The first header is at height 0 but is not this network's genesis.
    WrongGenesis,
    /// The chain starts above block 1 and no block 1 was given (or it is not at height 1).
    MissingAnchor,
    /// The tip's chain work is less than the work of the headers themselves.
    BadWork,
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("no headers to resume from"),
            Self::NotConsecutive { height } => {
                write!(f, "header {height} is not the child of the one before it")
            }
            Self::WrongGenesis => f.write_str("the first header is not this network's genesis"),
            Self::MissingAnchor => f.write_str("block 1 (the difficulty anchor) is missing"),
            Self::BadWork => f.write_str("the chain work does not cover the headers"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CheckpointError {}

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
            base: 0,
            window: None,
        }
    }

    /// Resumes from best-chain headers verified before (a light client's
    /// storage): `headers` are consecutive and end at the tip whose
    /// cumulative work is `tip_work`; `block_one` is block 1 (the ASERT
    /// anchor) when `headers` start above it. They are trusted: only their
    /// linkage is checked. Headers after them are verified as usual; a
    /// branch may fork from them only once its parent has the median-time
    /// window (11 headers) behind it in memory.
    pub fn from_checkpoint(
        params: &'static Params,
        block_one: Option<&Header>,
        headers: &[Header],
        tip_work: Work,
    ) -> Result<Self, CheckpointError> {
        let first = headers.first().ok_or(CheckpointError::Empty)?;
        if first.height == 0 && first.hash() != params.genesis_hash() {
            return Err(CheckpointError::WrongGenesis);
        }
        let anchor_time = match headers.iter().find(|header| header.height == 1) {
            Some(header) => Some(header.time),
            None if first.height == 0 => None,
            None => match block_one {
                Some(header) if header.height == 1 => Some(header.time),
                _ => return Err(CheckpointError::MissingAnchor),
            },
        };
        let mut hashes = Vec::with_capacity(headers.len());
        for (index, header) in headers.iter().enumerate() {
            let hash = header.hash();
            if index > 0
                && (header.prev_hash != hashes[index - 1]
                    || header.height != headers[index - 1].height + 1)
            {
                return Err(CheckpointError::NotConsecutive {
                    height: header.height,
                });
            }
            hashes.push(hash);
        }
        // Chain work of each header, from the tip's backwards.
        let mut works = alloc::vec![Work::default(); headers.len()];
        let mut work = tip_work;
        for index in (0..headers.len()).rev() {
            works[index] = work;
            let own = headers[index]
                .bits
                .to_target()
                .map(|target| target.work())
                .unwrap_or_default();
            work = Work(work.0.checked_sub(own.0).ok_or(CheckpointError::BadWork)?);
        }
        let mut chain = Self {
            params,
            entries: Vec::with_capacity(headers.len()),
            by_hash: HashMap::with_capacity(headers.len()),
            best: Vec::with_capacity(headers.len()),
            base: first.height,
            window: None,
        };
        for (index, header) in headers.iter().enumerate() {
            let parent = index.checked_sub(1);
            let median_time_past = match parent {
                Some(parent) => chain.median_time_past_ending_at(header, parent),
                None => header.time,
            };
            chain.entries.push(Entry {
                header: *header,
                hash: hashes[index],
                parent,
                chain_work: works[index],
                median_time_past,
                anchor_time: if header.height == 0 {
                    None
                } else {
                    anchor_time
                },
            });
            chain.by_hash.insert(hashes[index], index);
            chain.best.push(index);
        }
        Ok(chain)
    }

    /// Keeps at most about `headers` best-chain headers in memory (and the
    /// side branches above them): older ones are dropped as the chain grows.
    pub fn with_window(mut self, headers: u64) -> Self {
        self.window = Some(headers.max(2 * MEDIAN_TIME_SPAN as u64));
        self.prune();
        self
    }

    /// Height of the lowest best-chain header in memory.
    pub fn lowest_height(&self) -> u64 {
        self.base
    }

    /// Drops best-chain headers below the window (and branches forking
    /// below it) once the chain holds a quarter more than the window, so
    /// the rebuild costs O(1) per header on average.
    fn prune(&mut self) {
        let Some(window) = self.window else { return };
        let len = self.best.len() as u64;
        if len <= window + window / 4 {
            return;
        }
        let new_base = self.base + (len - window);
        let mut kept: Vec<Option<usize>> = alloc::vec![None; self.entries.len()];
        let mut entries = Vec::with_capacity(self.entries.len());
        for (old, entry) in self.entries.iter().enumerate() {
            let height = entry.header.height;
            let is_root =
                height == new_base && self.best.get((height - self.base) as usize) == Some(&old);
            let parent = entry.parent.and_then(|parent| kept[parent]);
            if !is_root && parent.is_none() {
                continue;
            }
            let mut entry = entry.clone();
            entry.parent = if is_root { None } else { parent };
            kept[old] = Some(entries.len());
            entries.push(entry);
        }
        self.best = self.best[(new_base - self.base) as usize..]
            .iter()
            .map(|&old| kept[old].expect("best-chain entries above the base are kept"))
            .collect();
        self.by_hash = entries
            .iter()
            .enumerate()
            .map(|(index, entry)| (entry.hash, index))
            .collect();
        self.entries = entries;
        self.base = new_base;
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
        self.base + (self.best.len() - 1) as u64
    }

    /// Index into `best` of `height`, if it is in memory.
    fn best_index(&self, height: u64) -> Option<usize> {
        usize::try_from(height.checked_sub(self.base)?).ok()
    }

    /// The best chain's header at `height` (None above the tip, and below
    /// [`HeaderChain::lowest_height`]).
    pub fn header_at(&self, height: u64) -> Option<&Header> {
        self.best
            .get(self.best_index(height)?)
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
            self.best_index(self.entries[index].header.height)
                .is_some_and(|position| self.best.get(position) == Some(&index))
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
        self.prune();
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
        // A parent without its median-time window in memory (at the bottom
        // of a pruned or resumed chain) cannot be extended: treat it as unknown.
        let parent_height = self.entries[parent].header.height;
        if self.base > 0 && parent_height < self.base + MEDIAN_TIME_SPAN as u64 {
            return Err(HeaderError::UnknownParent {
                prev_hash: header.prev_hash,
            });
        }
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
            let height = self.entries[cursor].header.height;
            if self
                .best_index(height)
                .is_some_and(|position| self.best.get(position) == Some(&cursor))
            {
                break;
            }
            branch.push(cursor);
            cursor = self.entries[cursor]
                .parent
                .expect("only the lowest best-chain header has no parent");
        }
        let fork_height = self.entries[cursor].header.height;
        let reorganized = self.height() > fork_height;
        self.best.truncate((fork_height - self.base) as usize + 1);
        self.best.extend(branch.into_iter().rev());
        (fork_height, reorganized)
    }

    /// A block locator: hashes of the best chain from the tip back, one
    /// apart for ten, then doubling the step, ending with genesis (below
    /// the window in memory: its lowest header, then genesis).
    pub fn locator(&self) -> Vec<BlockHash> {
        let mut hashes = Vec::new();
        let mut height = self.height();
        let mut step = 1u64;
        loop {
            hashes.push(self.entries[self.best[(height - self.base) as usize]].hash);
            if height == self.base {
                break;
            }
            if hashes.len() >= 10 {
                step *= 2;
            }
            height = height.saturating_sub(step).max(self.base);
        }
        if self.base > 0 {
            hashes.push(self.params.genesis_hash());
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
