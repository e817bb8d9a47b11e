//! Headers-first sync, as a state machine without I/O, generic over the
//! peer id: the network task (the full node's libp2p swarm, the browser
//! light client's connection) feeds it what peers answered and sends the
//! requests it asks for.
//!
//! 1. Ask every new peer for headers after our locator; verify them with
//!    [`HeaderChain`] (proof of work, ASERT, time rules); keep asking while a
//!    peer sends full batches.
//! 2. Download the bodies along the most-work header chain, in batches of
//!    [`MAX_BLOCKS`], spread over every peer known to have them, a few
//!    requests in flight per peer, inside a window above our tip.
//! 3. Hand blocks to the connector strictly in height order; the chain owner
//!    connects them (and reorganises when a branch has more work).
//!
//! Faults are reported as a [`Misbehaviour`] (and, for refused headers, a
//! [`HeadersError`] that says why); what a fault costs a peer is the
//! caller's policy.

use alloc::vec::Vec;
use core::fmt;

use hashbrown::{HashMap, HashSet};

use crate::block::Block;
use crate::hash::BlockHash;
use crate::header::{Header, HeaderError, check_header, check_header_time_against_clock};
use crate::header_chain::{HeaderChain, HeaderChainError, TipUpdate};
use crate::sync_message::{MAX_BLOCKS, MAX_HEADERS, SyncRequest};

/// Blocks above the connected tip that may be downloading or waiting.
pub const DOWNLOAD_WINDOW: u64 = 1024;
/// Block requests in flight to one peer.
pub const REQUESTS_PER_PEER: usize = 3;
/// Headers off the best header chain (forks) worth keeping: beyond this
/// many ([`SyncManager::fork_headers`]), the caller rebuilds the header
/// chain from its best chain ([`SyncManager::reset_headers`]), so cheap
/// fork headers cannot grow memory without bound (about 300 bytes each).
pub const MAX_FORK_HEADERS: u64 = 10_000;

/// What a peer did wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Misbehaviour {
    /// Bytes that do not decode (gossip or sync).
    Garbage,
    /// A header that breaks a consensus rule.
    InvalidHeader,
    /// A block that breaks a consensus rule.
    InvalidBlock,
    /// A transaction with a bad signature or key.
    InvalidTransaction,
    /// Headers that do not connect or repeat, blocks that were not asked for.
    Unhelpful,
    /// A request that timed out or failed.
    Unresponsive,
}

/// Why an answer to a headers request was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeadersError {
    /// More headers than a request may ask for.
    TooMany {
        /// Headers sent.
        count: usize,
    },
    /// A header that is not the child of the one before it in the batch.
    NotConsecutive {
        /// Its position in the batch.
        index: usize,
    },
    /// A full batch of headers we already had: the peer does not follow our locator.
    NothingNew,
    /// The header chain refused a header.
    Rejected(HeaderChainError),
}

impl HeadersError {
    /// The fault it shows.
    pub fn misbehaviour(&self) -> Misbehaviour {
        match self {
            Self::TooMany { .. } => Misbehaviour::Garbage,
            Self::NotConsecutive { .. } | Self::NothingNew => Misbehaviour::Unhelpful,
            Self::Rejected(HeaderChainError {
                error: HeaderError::UnknownParent { .. },
                ..
            }) => Misbehaviour::Unhelpful,
            Self::Rejected(_) => Misbehaviour::InvalidHeader,
        }
    }
}

impl fmt::Display for HeadersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooMany { count } => {
                write!(f, "{count} headers, over the limit of {MAX_HEADERS}")
            }
            Self::NotConsecutive { index } => {
                write!(f, "header {index} is not the child of the one before it")
            }
            Self::NothingNew => f.write_str("a full batch of headers we already have"),
            Self::Rejected(error) => error.fmt(f),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for HeadersError {}

/// What the chain owner did with a block handed to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connected {
    /// Stored (or already stored).
    Stored,
    /// It breaks a rule.
    Invalid,
    /// Not stored, for another reason.
    NotStored,
}

/// What to do with a block that arrived unrequested (gossip), decided from
/// its header alone, before its body costs anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unrequested {
    /// Its parent's header is unknown: ask the sender for headers (the
    /// block is not kept).
    UnknownParent,
    /// It breaks a header rule against its known parent: wrong height,
    /// time, bits (the ASERT result for the parent) or proof of work.
    Invalid(HeaderError),
    /// Its time is too far ahead of the clock: not a fault; the sender is
    /// asked for headers again when it is due.
    TooFarInFuture,
    /// Valid as far as the header goes, but its branch has no more work
    /// than the chain owner's tip: not processed, not stored, not relayed.
    NotBetter,
    /// Worth checking in full and connecting: it adds work to the best chain.
    Check,
}

/// What one outstanding request asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Asked {
    /// Headers after our locator.
    Headers,
    /// These blocks.
    Blocks(Vec<BlockHash>),
}

#[derive(Debug, Default)]
struct PeerState {
    /// Height of the highest header this peer showed us.
    best_height: u64,
    /// That header's hash: the branch the peer is on, so blocks are asked
    /// only of peers whose branch holds them.
    best_hash: Option<BlockHash>,
    headers_in_flight: bool,
    block_requests: usize,
    /// The peer showed a header too far ahead of our clock: ask it for
    /// headers again at this time (ms), when the header will be acceptable.
    retry_headers_at: Option<u64>,
}

/// The sync state, with peers identified by `P`.
#[derive(Debug)]
pub struct SyncManager<P> {
    headers: HeaderChain,
    peers: HashMap<P, PeerState>,
    /// Blocks requested, by hash → the peer asked.
    in_flight: HashMap<BlockHash, P>,
    /// Blocks downloaded and not yet handed to the connector, with their sender.
    received: HashMap<BlockHash, (Block, P)>,
    /// Blocks with the connector, not yet reported back.
    connecting: HashSet<BlockHash>,
    /// The last block handed to the connector (on the best header chain).
    cursor: Option<(BlockHash, u64)>,
    /// The chain owner's tip.
    chain_tip: (BlockHash, u64),
    /// Blocks that failed validation: not asked for again until the header
    /// chain is rebuilt. Only until then: a peer can forge the body of a
    /// valid block (txids leave the signatures out), so one bad copy does not
    /// make the hash invalid; the chain owner remembers blocks it found
    /// invalid itself.
    invalid: HashSet<BlockHash>,
    /// Headers added since the header chain was set, and its height then:
    /// what was added beyond the best chain's growth is forks.
    added_headers: u64,
    height_at_reset: u64,
}

impl<P: Clone + Eq + core::hash::Hash> SyncManager<P> {
    /// Sync state over `headers` (the chain owner's best chain) with the chain at `chain_tip`.
    pub fn new(headers: HeaderChain, chain_tip: (BlockHash, u64)) -> Self {
        Self {
            height_at_reset: headers.height(),
            added_headers: 0,
            headers,
            peers: HashMap::new(),
            in_flight: HashMap::new(),
            received: HashMap::new(),
            connecting: HashSet::new(),
            cursor: None,
            chain_tip,
            invalid: HashSet::new(),
        }
    }

    /// Replaces the header chain (after a block failed validation, the
    /// branch it was on is dropped by rebuilding from the chain owner).
    pub fn reset_headers(&mut self, headers: HeaderChain, chain_tip: (BlockHash, u64)) {
        self.height_at_reset = headers.height();
        self.added_headers = 0;
        self.headers = headers;
        self.chain_tip = chain_tip;
        self.cursor = None;
        self.received.clear();
        self.invalid.clear();
        for peer in self.peers.values_mut() {
            peer.best_height = 0;
            peer.best_hash = None;
        }
    }

    /// The verified headers.
    pub fn headers(&self) -> &HeaderChain {
        &self.headers
    }

    /// Height of the best verified header.
    pub fn header_height(&self) -> u64 {
        self.headers.height()
    }

    /// Height of the chain owner's tip.
    pub fn chain_height(&self) -> u64 {
        self.chain_tip.1
    }

    /// Whether we are more than a block behind the best header we know.
    pub fn is_catching_up(&self) -> bool {
        self.headers.height() > self.chain_tip.1 + 1
    }

    /// A peer connected (or became able to sync).
    pub fn add_peer(&mut self, peer: P) {
        self.peers.entry(peer).or_default();
    }

    /// A peer left: what it had in flight is asked elsewhere.
    pub fn remove_peer(&mut self, peer: &P) {
        self.peers.remove(peer);
        self.in_flight.retain(|_, asked| asked != peer);
    }

    /// The headers request to send `peer` now, unless one is in flight.
    pub fn headers_request(&mut self, peer: &P) -> Option<SyncRequest> {
        let state = self.peers.get_mut(peer)?;
        if state.headers_in_flight {
            return None;
        }
        state.headers_in_flight = true;
        Some(SyncRequest::GetHeaders {
            locator: self.headers.locator(),
            max: MAX_HEADERS as u32,
        })
    }

    /// Peers to ask for headers (all, when we heard of a block we cannot place).
    pub fn peers(&self) -> Vec<P> {
        self.peers.keys().cloned().collect()
    }

    /// A block header learned outside sync (gossip, our own miner); one
    /// that does not verify is ignored.
    pub fn add_known_header(&mut self, header: &Header, now_ms: u64) {
        if let Ok(update) = self
            .headers
            .accept_headers(core::slice::from_ref(header), now_ms)
        {
            self.added_headers += update.added as u64;
        }
    }

    /// About how many headers off the best header chain are kept: the
    /// headers added since the header chain was set, less the best chain's
    /// growth. See [`MAX_FORK_HEADERS`].
    pub fn fork_headers(&self) -> u64 {
        let growth = self.headers.height().saturating_sub(self.height_at_reset);
        self.added_headers.saturating_sub(growth)
    }

    /// `peer` answered a headers request. Ok(true): it sent a full batch, ask again.
    /// The valid headers before a refused one are kept. A header too far
    /// ahead of `now_ms` is not an error: the ones before it are kept, the
    /// peer is asked again when it is due ([`SyncManager::headers_due`]), and
    /// the answer is Ok(false).
    pub fn on_headers(
        &mut self,
        peer: &P,
        headers: &[Header],
        now_ms: u64,
    ) -> Result<bool, HeadersError> {
        if let Some(state) = self.peers.get_mut(peer) {
            state.headers_in_flight = false;
        }
        if headers.len() > MAX_HEADERS {
            return Err(HeadersError::TooMany {
                count: headers.len(),
            });
        }
        let Some(last) = headers.last() else {
            return Ok(false);
        };
        if let Some(offset) = headers
            .windows(2)
            .position(|pair| pair[1].prev_hash != pair[0].hash())
        {
            return Err(HeadersError::NotConsecutive { index: offset + 1 });
        }
        let result = self.headers.accept_headers(headers, now_ms);
        // The headers before a refused one stay: count them as added (at
        // most that many were new).
        self.added_headers += match &result {
            Ok(update) => update.added,
            Err(error) => error.index,
        } as u64;
        let (update, last) = match result {
            Ok(update) => (update, Some(last)),
            // Too far ahead of our clock is not a fault: the peer's clock may
            // run ahead of ours (Bitcoin Core does not punish it either). Keep
            // the headers before it and ask again when it is due.
            Err(HeaderChainError {
                index,
                error: HeaderError::TimeTooFarInFuture { time, .. },
                ..
            }) => {
                self.headers_ahead_of_clock(peer, time);
                let accepted = index.checked_sub(1).map(|before| &headers[before]);
                (TipUpdate::default(), accepted)
            }
            Err(error) => return Err(HeadersError::Rejected(error)),
        };
        if let (Some(state), Some(last)) = (self.peers.get_mut(peer), last)
            && (state.best_hash.is_none() || last.height >= state.best_height)
        {
            state.best_height = last.height;
            state.best_hash = Some(last.hash());
        }
        if last != headers.last() {
            return Ok(false);
        }
        if update.added == 0 && headers.len() == MAX_HEADERS {
            return Err(HeadersError::NothingNew);
        }
        Ok(headers.len() == MAX_HEADERS)
    }

    /// `peer` showed a header (in a headers answer, or a gossiped block)
    /// whose time, `header_time_ms`, is too far ahead of our clock: it is
    /// asked for headers again once that time is within the allowed drift
    /// (see [`SyncManager::headers_due`]). Never a fault.
    pub fn headers_ahead_of_clock(&mut self, peer: &P, header_time_ms: u64) {
        let due = header_time_ms.saturating_sub(self.headers.params().max_future_drift_ms);
        if let Some(state) = self.peers.get_mut(peer) {
            state.retry_headers_at = Some(state.retry_headers_at.map_or(due, |at| at.min(due)));
        }
    }

    /// Peers whose headers too far ahead of the clock are due at `now_ms`:
    /// ask them for headers again now.
    pub fn headers_due(&mut self, now_ms: u64) -> Vec<P> {
        let mut due = Vec::new();
        for (peer, state) in &mut self.peers {
            if state.retry_headers_at.is_some_and(|at| at <= now_ms) {
                state.retry_headers_at = None;
                due.push(peer.clone());
            }
        }
        due
    }

    /// Judges the header of a block `peer` sent unrequested (gossip), with
    /// the cheap checks only: parent known, then the header rules against
    /// it (proof of work against the ASERT bits the parent calls for), then
    /// the clock, then whether it adds work to the chain owner's tip.
    /// Signatures and the rest of the body are the chain owner's, for a
    /// block that passes.
    pub fn check_unrequested(&mut self, peer: &P, header: &Header, now_ms: u64) -> Unrequested {
        let Some(parent) = self.headers.parent_info(&header.prev_hash) else {
            return Unrequested::UnknownParent;
        };
        let params = self.headers.params();
        if let Err(error) = check_header(params, header, &header.hash(), &parent) {
            return Unrequested::Invalid(error);
        }
        if check_header_time_against_clock(params, header, now_ms).is_err() {
            self.headers_ahead_of_clock(peer, header.time);
            return Unrequested::TooFarInFuture;
        }
        let tip_work = self.headers.chain_work(&self.chain_tip.0);
        let work = self
            .headers
            .chain_work(&header.prev_hash)
            .and_then(|parent| {
                let target = header.bits.to_target().ok()?;
                Some(parent.saturating_add(target.work()))
            });
        match (work, tip_work) {
            (Some(work), Some(tip_work)) if work <= tip_work => Unrequested::NotBetter,
            _ => Unrequested::Check,
        }
    }

    /// A headers request failed (timeout, closed): it may be sent again.
    pub fn headers_failed(&mut self, peer: &P) {
        if let Some(state) = self.peers.get_mut(peer) {
            state.headers_in_flight = false;
        }
    }

    /// Height of the last block the best header chain shares with the chain owner's tip.
    fn fork_height(&self) -> u64 {
        let (hash, height) = self.chain_tip;
        if self.headers.is_on_best_chain(&hash) {
            return height;
        }
        self.shared_height(hash)
    }

    /// Height of the last header the branch ending at `hash` shares with
    /// the best header chain (0 when `hash` is not a known header).
    fn shared_height(&self, mut hash: BlockHash) -> u64 {
        while let Some(header) = self.headers.get(&hash) {
            if self.headers.is_on_best_chain(&hash) {
                return header.height;
            }
            hash = header.prev_hash;
        }
        0
    }

    /// Where handing blocks to the connector continues from.
    fn cursor(&mut self) -> (BlockHash, u64) {
        match self.cursor {
            Some((hash, height)) if self.headers.is_on_best_chain(&hash) => (hash, height),
            _ => {
                let height = self.fork_height();
                let hash = self
                    .headers
                    .header_at(height)
                    .map_or(self.chain_tip.0, Header::hash);
                self.cursor = Some((hash, height));
                (hash, height)
            }
        }
    }

    /// Block requests to send now: (peer, request, the hashes asked).
    pub fn block_requests(&mut self) -> Vec<(P, SyncRequest, Vec<BlockHash>)> {
        let (_, from) = self.cursor();
        let top = self
            .headers
            .height()
            .min(self.chain_tip.1.max(from) + DOWNLOAD_WINDOW);
        let mut wanted: Vec<(u64, BlockHash)> = Vec::new();
        for height in (from + 1)..=top {
            let Some(header) = self.headers.header_at(height) else {
                break;
            };
            let hash = header.hash();
            if self.invalid.contains(&hash) {
                break;
            }
            if self.in_flight.contains_key(&hash)
                || self.received.contains_key(&hash)
                || self.connecting.contains(&hash)
            {
                continue;
            }
            wanted.push((height, hash));
        }
        let mut requests = Vec::new();
        let mut wanted = wanted.into_iter().peekable();
        // Each peer with what it can serve: the best header chain up to
        // where the peer's branch leaves it. Least busy peers first, to
        // spread the batches.
        let mut peers: Vec<(P, u64, usize)> = self
            .peers
            .iter()
            .map(|(peer, state)| {
                (
                    peer.clone(),
                    self.servable_height(state),
                    state.block_requests,
                )
            })
            .collect();
        peers.sort_by_key(|&(_, _, busy)| busy);
        'batches: while wanted.peek().is_some() {
            let mut assigned = false;
            for (peer, servable, _) in &peers {
                let Some(&(first_height, _)) = wanted.peek() else {
                    break 'batches;
                };
                let Some(state) = self.peers.get_mut(peer) else {
                    continue;
                };
                if state.block_requests >= REQUESTS_PER_PEER || *servable < first_height {
                    continue;
                }
                let mut hashes = Vec::new();
                while hashes.len() < MAX_BLOCKS {
                    match wanted.peek() {
                        Some(&(height, hash)) if height <= *servable => {
                            hashes.push(hash);
                            wanted.next();
                        }
                        _ => break,
                    }
                }
                state.block_requests += 1;
                for hash in &hashes {
                    self.in_flight.insert(*hash, peer.clone());
                }
                requests.push((
                    peer.clone(),
                    SyncRequest::GetBlocks {
                        hashes: hashes.clone(),
                    },
                    hashes,
                ));
                assigned = true;
            }
            if !assigned {
                break;
            }
        }
        requests
    }

    /// The height up to which a peer in `state` has the blocks of the best
    /// header chain: where its branch leaves it (its best header's height
    /// when that is on it; 0 while it has shown no header).
    fn servable_height(&self, state: &PeerState) -> u64 {
        state.best_hash.map_or(0, |hash| self.shared_height(hash))
    }

    /// `peer` answered a blocks request for `asked`. Blocks not asked for
    /// are dropped, and make the answer [`Misbehaviour::Unhelpful`].
    pub fn on_blocks(
        &mut self,
        peer: &P,
        asked: &[BlockHash],
        blocks: Vec<Block>,
    ) -> Result<(), Misbehaviour> {
        self.request_done(peer, asked);
        let asked: HashSet<&BlockHash> = asked.iter().collect();
        let mut fault = Ok(());
        for block in blocks {
            let hash = block.hash();
            if !asked.contains(&hash) {
                fault = Err(Misbehaviour::Unhelpful);
                continue;
            }
            if self.connecting.contains(&hash) {
                continue;
            }
            self.received.insert(hash, (block, peer.clone()));
        }
        fault
    }

    /// A blocks request ended without blocks (timeout, refused).
    pub fn blocks_failed(&mut self, peer: &P, asked: &[BlockHash]) {
        self.request_done(peer, asked);
    }

    fn request_done(&mut self, peer: &P, asked: &[BlockHash]) {
        if let Some(state) = self.peers.get_mut(peer) {
            state.block_requests = state.block_requests.saturating_sub(1);
        }
        for hash in asked {
            if self.in_flight.get(hash) == Some(peer) {
                self.in_flight.remove(hash);
            }
        }
    }

    /// Downloaded blocks that are next in height order, to connect now, with
    /// their senders: as many as fit in `room` bytes (encoded), so the
    /// connector's queue stays bounded; the rest wait here.
    pub fn ready_to_connect(&mut self, mut room: usize) -> Vec<(Block, P)> {
        let (_, mut height) = self.cursor();
        let mut ready = Vec::new();
        while let Some(header) = self.headers.header_at(height + 1) {
            let hash = header.hash();
            let size = match self.received.get(&hash) {
                Some((block, _)) => block.encoded_len(),
                None => break,
            };
            if size > room {
                break;
            }
            room -= size;
            let Some(entry) = self.received.remove(&hash) else {
                break;
            };
            self.connecting.insert(hash);
            height += 1;
            self.cursor = Some((hash, height));
            ready.push(entry);
        }
        ready
    }

    /// The connector finished a block.
    pub fn on_connected(&mut self, hash: &BlockHash, result: Connected) {
        self.connecting.remove(hash);
        match result {
            Connected::Stored => {}
            Connected::Invalid => {
                self.invalid.insert(*hash);
                self.cursor = None;
                self.received.clear();
            }
            // Not stored (database trouble, a parent missing): continue from
            // the chain owner's tip; what was handed on is fetched again.
            Connected::NotStored => self.cursor = None,
        }
    }

    /// The chain owner's tip moved.
    pub fn set_chain_tip(&mut self, hash: BlockHash, height: u64) {
        self.chain_tip = (hash, height);
    }

    /// Blocks downloaded or in flight (for progress logs).
    pub fn pending_blocks(&self) -> usize {
        self.in_flight.len() + self.received.len() + self.connecting.len()
    }
}

#[cfg(test)]
mod tests;
