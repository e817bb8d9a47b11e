//! Tasks that call into the chain owner for the network task, so the swarm
//! never waits on the chain lock or the database: connecting blocks (in
//! order, one at a time), submitting gossiped transactions, answering sync
//! requests, and publishing what the chain accepted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use blockchain_core::header_chain::HeaderChain;
use blockchain_core::sync::{Connected, Misbehaviour};
use blockchain_core::sync_message::{SyncRequest, SyncResponse};
use blockchain_core::transaction::TxError;
use blockchain_core::validation::CheckedBlock;
use blockchain_core::{Address, Block, BlockHash, Encode, Header, Transaction};
use libp2p::PeerId;
use libp2p::gossipsub::{MessageAcceptance, MessageId};
use libp2p::request_response::{InboundRequestId, ResponseChannel};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use crate::chain::{Arrival, BlockOutcome, Chain, ChainEvent, SubmitBlockError, SubmitTxError};
use crate::clock::now_ms;
use crate::mempool::MempoolError;
use crate::storage::StorageError;

/// Where a block or transaction came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Source {
    /// Downloaded by sync from this peer.
    Sync(PeerId),
    /// Received by gossip, forwarded by `peer`; validation is reported under `message_id`.
    Gossip { peer: PeerId, message_id: MessageId },
}

impl Source {
    pub(super) fn peer(&self) -> PeerId {
        match self {
            Self::Sync(peer) | Self::Gossip { peer, .. } => *peer,
        }
    }

    /// Whether the node asked for what came from here.
    pub(super) fn arrival(&self) -> Arrival {
        match self {
            Self::Sync(_) => Arrival::Requested,
            Self::Gossip { .. } => Arrival::Unrequested,
        }
    }
}

/// What became of a block.
#[derive(Debug)]
pub(super) enum BlockVerdict {
    /// Stored (new tip or side branch).
    Accepted(BlockOutcome),
    /// Already stored.
    Duplicate,
    /// Its parent is not stored: the sender knows blocks we lack.
    UnknownParent,
    /// Unrequested, and no more work than our tip: not stored, not relayed.
    NotBetter,
    /// Its time (ms) is too far ahead of our clock: not a fault, asked
    /// again when it is due.
    TooFarInFuture(u64),
    /// It, or its parent, breaks a rule.
    Invalid(SubmitBlockError),
    /// Our side failed (database).
    Failed(StorageError),
}

impl BlockVerdict {
    /// What the sender of a block with this verdict did wrong, if anything.
    pub(super) fn fault(&self) -> Option<Misbehaviour> {
        match self {
            Self::Invalid(_) => Some(Misbehaviour::InvalidBlock),
            Self::Accepted(_)
            | Self::Duplicate
            | Self::UnknownParent
            | Self::NotBetter
            | Self::TooFarInFuture(_)
            | Self::Failed(_) => None,
        }
    }

    /// The verdict on the gossip message that carried the block: only what
    /// became our tip is forwarded, only what breaks a rule is rejected.
    pub(super) fn gossip_acceptance(&self) -> MessageAcceptance {
        match self {
            Self::Accepted(BlockOutcome::NewTip) => MessageAcceptance::Accept,
            Self::Invalid(_) => MessageAcceptance::Reject,
            Self::Accepted(BlockOutcome::SideBranch)
            | Self::Duplicate
            | Self::UnknownParent
            | Self::NotBetter
            | Self::TooFarInFuture(_)
            | Self::Failed(_) => MessageAcceptance::Ignore,
        }
    }

    /// What the sync state machine is told of a block it handed on.
    pub(super) fn connected(&self) -> Connected {
        match self {
            Self::Accepted(_) | Self::Duplicate => Connected::Stored,
            Self::Invalid(_) => Connected::Invalid,
            Self::UnknownParent | Self::NotBetter | Self::TooFarInFuture(_) | Self::Failed(_) => {
                Connected::NotStored
            }
        }
    }
}

/// What became of a gossiped transaction.
#[derive(Debug)]
pub(super) enum TxVerdict {
    Accepted,
    /// Bad signature or key: the sender forwarded garbage.
    Invalid(TxError),
    /// Refused by the state or the mempool (nonce used, funds, fee, full):
    /// not a fault, but not worth checking again before the chain moves.
    Refused,
    /// Not wanted now (already pending; our storage failed).
    Ignored,
    /// Its nonce leaves a gap: its predecessor may still be on its way.
    /// `since_ms`: when the node first received it.
    Gap {
        transaction: Box<Transaction>,
        since_ms: u64,
    },
}

/// Reports from the workers to the network task.
#[derive(Debug)]
pub(super) enum Report {
    Block {
        hash: BlockHash,
        header: Header,
        source: Source,
        verdict: BlockVerdict,
    },
    Transaction {
        source: Source,
        verdict: TxVerdict,
    },
    Publish {
        block: bool,
        bytes: Vec<u8>,
        header: Option<Header>,
        /// For a transaction that entered the mempool: its sender and nonce.
        admitted: Option<(Address, u64)>,
    },
    Respond(Box<Answer>),
    HeadersRebuilt(Box<HeaderChain>, (BlockHash, u64)),
}

/// Blocks checked ahead of the one being connected.
const CHECKED_AHEAD: usize = 2;
/// Most blocks in the connector at once (queued, being checked or connected).
const CONNECTOR_BLOCKS: usize = 1024;
/// Most bytes of blocks in the connector at once: full blocks are 1 MB.
pub(super) const CONNECTOR_BYTES: usize = 32 << 20;
/// The connector's room is counted in units of this many bytes.
const ROOM_UNIT: usize = 1024;

/// The way into the connector: bounded in blocks and in bytes. A block
/// holds its share of the room until the chain owner is done with it.
#[derive(Debug, Clone)]
pub(super) struct Connector {
    blocks: mpsc::Sender<Queued>,
    room: Arc<Semaphore>,
}

/// A block in the connector, with the room it takes.
struct Queued {
    block: Block,
    source: Source,
    _room: OwnedSemaphorePermit,
}

impl Connector {
    /// Bytes of room left.
    pub(super) fn room(&self) -> usize {
        self.room.available_permits() * ROOM_UNIT
    }

    /// Queues `block`; gives it back when the connector is full, or when
    /// that would leave less than `keep` bytes of room (room kept for sync).
    pub(super) fn try_send(
        &self,
        block: Block,
        source: Source,
        keep: usize,
    ) -> Result<(), Box<(Block, Source)>> {
        let units = block.encoded_len().div_ceil(ROOM_UNIT).max(1);
        if self.room().saturating_sub(units * ROOM_UNIT) < keep {
            return Err(Box::new((block, source)));
        }
        let Ok(room) = Arc::clone(&self.room).try_acquire_many_owned(units as u32) else {
            return Err(Box::new((block, source)));
        };
        self.blocks
            .try_send(Queued {
                block,
                source,
                _room: room,
            })
            .map_err(|error| {
                let Queued { block, source, .. } = error.into_inner();
                Box::new((block, source))
            })
    }
}

/// Starts the connector: blocks sent to it are submitted in order, in two
/// stages: one task checks each block (cheap checks against the parent
/// under the lock, then signatures on every core without it) while the
/// next connects the block before it, so during sync the checks of block
/// N + 1 overlap the state update and database commit of block N.
pub(super) fn spawn_connector(chain: Arc<Chain>, reports: mpsc::Sender<Report>) -> Connector {
    let (sender, mut blocks) = mpsc::channel::<Queued>(CONNECTOR_BLOCKS);
    let (checked_sender, mut checked) = mpsc::channel::<Checked>(CHECKED_AHEAD);
    let checker_chain = Arc::clone(&chain);
    tokio::spawn(async move {
        while let Some(Queued {
            block,
            source,
            _room: room,
        }) = blocks.recv().await
        {
            let hash = block.hash();
            let header = block.header;
            let result = checker_chain
                .check_block(block, now_ms(), source.arrival())
                .await;
            let next = Checked {
                hash,
                header,
                source,
                result,
                _room: room,
            };
            if checked_sender.send(next).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move {
        while let Some(Checked {
            hash,
            header,
            source,
            result,
            _room: room,
        }) = checked.recv().await
        {
            let outcome = match result {
                Ok(block) => chain.submit_checked_block(block, source.arrival()).await,
                Err(error) => Err(error),
            };
            drop(room);
            let verdict = match outcome {
                Ok(outcome) => BlockVerdict::Accepted(outcome),
                Err(SubmitBlockError::Duplicate(_)) => BlockVerdict::Duplicate,
                Err(SubmitBlockError::UnknownParent(_)) => BlockVerdict::UnknownParent,
                Err(SubmitBlockError::NotBetter(_)) => BlockVerdict::NotBetter,
                Err(SubmitBlockError::TooFarInFuture { time }) => {
                    BlockVerdict::TooFarInFuture(time)
                }
                Err(
                    error @ (SubmitBlockError::Invalid(_) | SubmitBlockError::InvalidParent(_)),
                ) => BlockVerdict::Invalid(error),
                Err(SubmitBlockError::Storage(error)) => BlockVerdict::Failed(error),
            };
            let report = Report::Block {
                hash,
                header,
                source,
                verdict,
            };
            if reports.send(report).await.is_err() {
                break;
            }
        }
    });
    Connector {
        blocks: sender,
        room: Arc::new(Semaphore::new(CONNECTOR_BYTES / ROOM_UNIT)),
    }
}

/// A block through the connector's first stage.
struct Checked {
    hash: BlockHash,
    header: Header,
    source: Source,
    result: Result<CheckedBlock, SubmitBlockError>,
    _room: OwnedSemaphorePermit,
}

/// Transactions checked at once (signature checks run on the blocking pool).
const TRANSACTION_WORKERS: usize = 64;
/// Sync requests answered at once; more are refused as busy.
const REQUEST_WORKERS: usize = 32;

/// Submits gossiped transactions, a bounded number at a time.
#[derive(Debug, Clone)]
pub(super) struct TransactionWorkers {
    chain: Arc<Chain>,
    reports: mpsc::Sender<Report>,
    permits: Arc<Semaphore>,
}

impl TransactionWorkers {
    pub(super) fn new(chain: Arc<Chain>, reports: mpsc::Sender<Report>) -> Self {
        Self {
            chain,
            reports,
            permits: Arc::new(Semaphore::new(TRANSACTION_WORKERS)),
        }
    }

    /// Whether a worker is free.
    pub(super) fn idle(&self) -> bool {
        self.permits.available_permits() > 0
    }

    /// Submits `transaction`, first received at `since_ms`; gives it back
    /// when every worker is busy.
    pub(super) fn submit(
        &self,
        transaction: Transaction,
        source: Source,
        since_ms: u64,
    ) -> Result<(), Box<Transaction>> {
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
            return Err(Box::new(transaction));
        };
        let chain = Arc::clone(&self.chain);
        let reports = self.reports.clone();
        tokio::spawn(async move {
            let held = transaction.clone();
            let verdict = match chain.submit_transaction(transaction, now_ms()).await {
                Ok(_) => TxVerdict::Accepted,
                Err(SubmitTxError::Invalid(error)) => TxVerdict::Invalid(error),
                Err(SubmitTxError::Rejected(MempoolError::NonceGap { .. })) => TxVerdict::Gap {
                    transaction: Box::new(held),
                    since_ms,
                },
                Err(
                    SubmitTxError::Rejected(MempoolError::AlreadyKnown(_))
                    | SubmitTxError::Storage(_),
                ) => TxVerdict::Ignored,
                Err(SubmitTxError::Rejected(_)) => TxVerdict::Refused,
            };
            drop(permit);
            let _ = reports.send(Report::Transaction { source, verdict }).await;
        });
        Ok(())
    }
}

/// Answers sync requests from the chain, a bounded number at a time.
#[derive(Debug, Clone)]
pub(super) struct RequestWorkers {
    chain: Arc<Chain>,
    reports: mpsc::Sender<Report>,
    permits: Arc<Semaphore>,
}

impl RequestWorkers {
    pub(super) fn new(chain: Arc<Chain>, reports: mpsc::Sender<Report>) -> Self {
        Self {
            chain,
            reports,
            permits: Arc::new(Semaphore::new(REQUEST_WORKERS)),
        }
    }

    /// Answers `request` of `peer` on `channel`, with at most `max_bytes`
    /// of blocks; gives the channel back when every worker is busy. The answer comes back as [`Report::Respond`] with the worker's
    /// permit, to be held until the answer is written.
    pub(super) fn answer(
        &self,
        peer: PeerId,
        id: InboundRequestId,
        request: SyncRequest,
        channel: ResponseChannel<SyncResponse>,
        max_bytes: usize,
    ) -> Result<(), ResponseChannel<SyncResponse>> {
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
            return Err(channel);
        };
        let chain = Arc::clone(&self.chain);
        let reports = self.reports.clone();
        tokio::spawn(async move {
            let (response, used) = answer(&chain, request, max_bytes).await;
            let _ = reports
                .send(Report::Respond(Box::new(Answer {
                    peer,
                    id,
                    channel,
                    response,
                    unused_bytes: max_bytes.saturating_sub(used),
                    permit,
                })))
                .await;
        });
        Ok(())
    }
}

/// A computed answer to a sync request, on its way to be written.
#[derive(Debug)]
pub(super) struct Answer {
    pub(super) peer: PeerId,
    pub(super) id: InboundRequestId,
    pub(super) channel: ResponseChannel<SyncResponse>,
    pub(super) response: SyncResponse,
    /// What the answer's block allowance left unused.
    pub(super) unused_bytes: usize,
    /// The worker's permit: held until the answer is written.
    pub(super) permit: OwnedSemaphorePermit,
}

/// The chain's answer to one sync request, with at most `max_bytes` of
/// blocks, and the block bytes it holds.
pub(super) async fn answer(
    chain: &Chain,
    request: SyncRequest,
    max_bytes: usize,
) -> (SyncResponse, usize) {
    let response = match request {
        SyncRequest::GetHeaders { locator, max } => {
            SyncResponse::Headers(chain.headers_after_locator(&locator, max as usize).await)
        }
        SyncRequest::GetBlocks { hashes } => {
            match chain.best_chain_blocks(&hashes, max_bytes).await {
                Ok(blocks) if blocks.is_empty() && max_bytes == 0 => {
                    SyncResponse::Error("busy: over the upload budget".into())
                }
                Ok(blocks) => {
                    let used = blocks.iter().map(Block::encoded_len).sum();
                    return (SyncResponse::Blocks(blocks), used);
                }
                Err(error) => SyncResponse::Error(format!("storage: {error}")),
            }
        }
        SyncRequest::GetTransactionProof { txid } => match chain.transaction_proof(&txid).await {
            Ok(proof) => SyncResponse::TransactionProof(proof),
            Err(error) => SyncResponse::Error(format!("storage: {error}")),
        },
        SyncRequest::GetAccountProof { address } => {
            let (proof, header, _) = chain.prove_account(&address).await;
            SyncResponse::AccountProof { header, proof }
        }
    };
    (response, 0)
}

/// Publishes blocks that became the tip and transactions that entered the
/// mempool — except while `catching_up` (a syncing node re-announcing old
/// blocks helps no one).
pub(super) fn spawn_publisher(
    chain: Arc<Chain>,
    catching_up: Arc<AtomicBool>,
    reports: mpsc::Sender<Report>,
) {
    let mut events = chain.subscribe();
    tokio::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    // The network task was slow to take reports (the report
                    // channel is bounded) while the chain moved on: the
                    // missed tips come down to the current one. Missed
                    // transactions stay unannounced by us; held orphans are
                    // tried again at the next tick anyway.
                    tracing::debug!(
                        missed,
                        "publisher fell behind the chain: publishing the tip"
                    );
                    let tip = chain.status();
                    ChainEvent::NewTip {
                        hash: tip.hash,
                        height: tip.header.height,
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            };
            let report = match event {
                ChainEvent::NewTip { hash, .. } | ChainEvent::Reorg { new_tip: hash, .. } => {
                    if catching_up.load(Ordering::Relaxed) {
                        continue;
                    }
                    match chain.storage().block_by_hash(&hash).await {
                        Ok(Some(stored)) => Report::Publish {
                            block: true,
                            bytes: stored.block.encode(),
                            header: Some(stored.block.header),
                            admitted: None,
                        },
                        _ => continue,
                    }
                }
                ChainEvent::NewTransaction { txid } => match chain.pending_transaction(&txid).await
                {
                    Some(pending) => Report::Publish {
                        block: false,
                        bytes: pending.transaction.encode(),
                        header: None,
                        admitted: Some((pending.sender, pending.transaction.nonce)),
                    },
                    None => continue,
                },
            };
            if reports.send(report).await.is_err() {
                break;
            }
        }
    });
}

/// The chain owner's best chain as a verified header chain (for sync),
/// with the tip it ends at.
pub(super) async fn load_header_chain(
    chain: &Chain,
) -> Result<(HeaderChain, (BlockHash, u64)), crate::storage::StorageError> {
    let mut headers = HeaderChain::new(chain.params());
    let now = now_ms();
    let mut from = 1;
    loop {
        let page = chain.storage().headers(from, 2000).await?;
        let Some(last) = page.last() else { break };
        from = last.height + 1;
        if let Err(error) = headers.accept_headers(&page, now) {
            // Our own stored chain always verifies; stop at the first surprise.
            tracing::warn!(%error, "stored header refused by the header chain");
            break;
        }
    }
    let tip = (headers.tip_hash(), headers.height());
    Ok((headers, tip))
}

/// Rebuilds the header chain from the chain owner in the background.
pub(super) fn rebuild_headers(chain: Arc<Chain>, reports: mpsc::Sender<Report>) {
    tokio::spawn(async move {
        match load_header_chain(&chain).await {
            Ok((headers, tip)) => {
                let _ = reports
                    .send(Report::HeadersRebuilt(Box::new(headers), tip))
                    .await;
            }
            Err(error) => tracing::warn!(%error, "cannot reload headers for sync"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_of(bytes: usize) -> Block {
        let mut block = blockchain_core::params::REGTEST.genesis_block();
        let coinbase = Transaction::coinbase(Address([1; 20]), Default::default(), 1, 0);
        let padding = Transaction {
            from: vec![7; 1000],
            signature: vec![7; 384],
            ..coinbase.clone()
        };
        block.transactions.push(coinbase);
        while block.encoded_len() + padding.encoded_len() <= bytes {
            block.transactions.push(padding.clone());
        }
        block
    }

    /// The connector's queue is bounded in bytes, not only in blocks: big
    /// blocks fill it long before the count does, and room comes back as
    /// they leave it; gossip may only take what leaves room for sync.
    #[test]
    fn the_connector_is_bounded_in_bytes() {
        let (blocks, mut queue) = mpsc::channel(CONNECTOR_BLOCKS);
        let connector = Connector {
            blocks,
            room: Arc::new(Semaphore::new(CONNECTOR_BYTES / ROOM_UNIT)),
        };
        let source = || Source::Sync(PeerId::random());
        let big = block_of(1_000_000);
        let mut queued = 0;
        while connector.try_send(big.clone(), source(), 0).is_ok() {
            queued += 1;
        }
        let units = big.encoded_len().div_ceil(ROOM_UNIT);
        assert_eq!(
            queued,
            CONNECTOR_BYTES / ROOM_UNIT / units,
            "blocks of 1 MB"
        );
        assert!(queued < CONNECTOR_BLOCKS);
        assert!(connector.room() < 1_000_000);
        let small = block_of(300);
        assert!(connector.try_send(small.clone(), source(), 0).is_ok());
        drop(queue.try_recv().expect("queued"));
        assert!(connector.room() >= 1_000_000, "room is given back");
        assert!(
            connector
                .try_send(big.clone(), source(), CONNECTOR_BYTES / 2)
                .is_err(),
            "gossip leaves room for sync"
        );
        assert!(connector.try_send(big, source(), 0).is_ok());
    }

    /// A block only too far ahead of our clock comes from an honest peer
    /// whose clock runs ahead: no score lost, not forwarded, fetched again.
    #[test]
    fn a_block_too_far_in_the_future_costs_its_sender_nothing() {
        let verdict = BlockVerdict::TooFarInFuture(1_764_000_300_000);
        assert_eq!(verdict.fault(), None);
        assert_eq!(verdict.gossip_acceptance(), MessageAcceptance::Ignore);
        assert_eq!(verdict.connected(), Connected::NotStored);

        let invalid = BlockVerdict::Invalid(SubmitBlockError::InvalidParent(BlockHash([1; 32])));
        assert_eq!(invalid.fault(), Some(Misbehaviour::InvalidBlock));
        assert_eq!(invalid.gossip_acceptance(), MessageAcceptance::Reject);
        assert_eq!(invalid.connected(), Connected::Invalid);
    }

    /// Only what became the tip is relayed: a side branch, even one we
    /// asked for, and an unrequested block that adds no work are not.
    #[test]
    fn only_blocks_that_became_the_tip_are_relayed() {
        let tip = BlockVerdict::Accepted(BlockOutcome::NewTip);
        assert_eq!(tip.gossip_acceptance(), MessageAcceptance::Accept);
        for verdict in [
            BlockVerdict::Accepted(BlockOutcome::SideBranch),
            BlockVerdict::NotBetter,
        ] {
            assert_eq!(verdict.gossip_acceptance(), MessageAcceptance::Ignore);
            assert_eq!(verdict.fault(), None);
        }
        assert_eq!(BlockVerdict::NotBetter.connected(), Connected::NotStored);
    }
}
