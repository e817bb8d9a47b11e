//! Tasks that call into the chain owner for the network task, so the swarm
//! never waits on the chain lock or the database: connecting blocks (in
//! order, one at a time), submitting gossiped transactions, answering sync
//! requests, and publishing what the chain accepted.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use blockchain_core::header_chain::HeaderChain;
use blockchain_core::sync_message::{SyncRequest, SyncResponse};
use blockchain_core::validation::CheckedBlock;
use blockchain_core::{Address, Block, BlockHash, Encode, Header, Transaction};
use libp2p::PeerId;
use libp2p::gossipsub::MessageId;
use libp2p::request_response::ResponseChannel;
use tokio::sync::{Semaphore, mpsc};

use crate::chain::{BlockOutcome, Chain, ChainEvent, SubmitBlockError, SubmitTxError};
use crate::clock::now_ms;
use crate::mempool::MempoolError;

/// Where a block or transaction came from.
#[derive(Clone, Debug)]
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
    /// It, or its parent, breaks a rule.
    Invalid(String),
    /// Our side failed (database).
    Failed(String),
}

/// What became of a gossiped transaction.
#[derive(Debug)]
pub(super) enum TxVerdict {
    Accepted,
    /// Bad signature or key: the sender forwarded garbage.
    Invalid(String),
    /// Valid but not wanted now (duplicate, nonce, balance, full mempool).
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
    Respond {
        channel: ResponseChannel<SyncResponse>,
        response: SyncResponse,
    },
    HeadersRebuilt(Box<HeaderChain>, (BlockHash, u64)),
}

/// Blocks checked ahead of the one being connected.
const CHECKED_AHEAD: usize = 2;

/// Starts the connector: blocks sent to it are submitted in order, in two
/// stages: one task checks each block (signatures on every core, no chain
/// lock) while the next connects the block before it, so during sync the
/// checks of block N + 1 overlap the state update and database commit of
/// block N.
pub(super) fn spawn_connector(
    chain: Arc<Chain>,
    reports: mpsc::UnboundedSender<Report>,
) -> mpsc::Sender<(Block, Source)> {
    let (sender, mut blocks) = mpsc::channel::<(Block, Source)>(4096);
    let (checked_sender, mut checked) = mpsc::channel::<Checked>(CHECKED_AHEAD);
    let checker_chain = Arc::clone(&chain);
    tokio::spawn(async move {
        while let Some((block, source)) = blocks.recv().await {
            let hash = block.hash();
            let header = block.header;
            let result = checker_chain.check_block(block, now_ms()).await;
            let next = Checked {
                hash,
                header,
                source,
                result,
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
        }) = checked.recv().await
        {
            let outcome = match result {
                Ok(block) => chain.submit_checked_block(block).await,
                Err(error) => Err(error),
            };
            let verdict = match outcome {
                Ok(outcome) => BlockVerdict::Accepted(outcome),
                Err(SubmitBlockError::Duplicate(_)) => BlockVerdict::Duplicate,
                Err(SubmitBlockError::UnknownParent(_)) => BlockVerdict::UnknownParent,
                Err(
                    error @ (SubmitBlockError::Invalid(_) | SubmitBlockError::InvalidParent(_)),
                ) => BlockVerdict::Invalid(error.to_string()),
                Err(error @ SubmitBlockError::Storage(_)) => {
                    BlockVerdict::Failed(error.to_string())
                }
            };
            let report = Report::Block {
                hash,
                header,
                source,
                verdict,
            };
            if reports.send(report).is_err() {
                break;
            }
        }
    });
    sender
}

/// A block through the connector's first stage.
struct Checked {
    hash: BlockHash,
    header: Header,
    source: Source,
    result: Result<CheckedBlock, SubmitBlockError>,
}

/// Transactions checked at once (signature checks run on the blocking pool).
const TRANSACTION_WORKERS: usize = 64;
/// Sync requests answered at once; more are refused as busy.
const REQUEST_WORKERS: usize = 32;

/// Submits gossiped transactions, a bounded number at a time.
#[derive(Debug, Clone)]
pub(super) struct TransactionWorkers {
    chain: Arc<Chain>,
    reports: mpsc::UnboundedSender<Report>,
    permits: Arc<Semaphore>,
}

impl TransactionWorkers {
    pub(super) fn new(chain: Arc<Chain>, reports: mpsc::UnboundedSender<Report>) -> Self {
        Self {
            chain,
            reports,
            permits: Arc::new(Semaphore::new(TRANSACTION_WORKERS)),
        }
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
                Err(SubmitTxError::Invalid(error)) => TxVerdict::Invalid(error.to_string()),
                Err(SubmitTxError::Rejected(MempoolError::NonceGap { .. })) => TxVerdict::Gap {
                    transaction: Box::new(held),
                    since_ms,
                },
                Err(SubmitTxError::Rejected(_) | SubmitTxError::Storage(_)) => TxVerdict::Ignored,
            };
            drop(permit);
            let _ = reports.send(Report::Transaction { source, verdict });
        });
        Ok(())
    }
}

/// Answers sync requests from the chain, a bounded number at a time.
#[derive(Debug, Clone)]
pub(super) struct RequestWorkers {
    chain: Arc<Chain>,
    reports: mpsc::UnboundedSender<Report>,
    permits: Arc<Semaphore>,
}

impl RequestWorkers {
    pub(super) fn new(chain: Arc<Chain>, reports: mpsc::UnboundedSender<Report>) -> Self {
        Self {
            chain,
            reports,
            permits: Arc::new(Semaphore::new(REQUEST_WORKERS)),
        }
    }

    /// Answers `request` on `channel` (at once with an error when busy).
    pub(super) fn answer(
        &self,
        request: SyncRequest,
        channel: ResponseChannel<SyncResponse>,
    ) -> Option<(ResponseChannel<SyncResponse>, SyncResponse)> {
        let Ok(permit) = Arc::clone(&self.permits).try_acquire_owned() else {
            return Some((channel, SyncResponse::Error("busy".into())));
        };
        let chain = Arc::clone(&self.chain);
        let reports = self.reports.clone();
        tokio::spawn(async move {
            let response = answer(&chain, request).await;
            drop(permit);
            let _ = reports.send(Report::Respond { channel, response });
        });
        None
    }
}

/// The chain's answer to one sync request.
pub(super) async fn answer(chain: &Chain, request: SyncRequest) -> SyncResponse {
    match request {
        SyncRequest::GetHeaders { locator, max } => {
            SyncResponse::Headers(chain.headers_after_locator(&locator, max as usize).await)
        }
        SyncRequest::GetBlocks { hashes } => match chain.blocks_by_hash(&hashes).await {
            Ok(blocks) => SyncResponse::Blocks(blocks),
            Err(error) => SyncResponse::Error(format!("storage: {error}")),
        },
        SyncRequest::GetTransactionProof { txid } => match chain.transaction_proof(&txid).await {
            Ok(proof) => SyncResponse::TransactionProof(proof),
            Err(error) => SyncResponse::Error(format!("storage: {error}")),
        },
        SyncRequest::GetAccountProof { address } => {
            let (proof, header, _) = chain.prove_account(&address).await;
            SyncResponse::AccountProof { header, proof }
        }
    }
}

/// Publishes blocks that became the tip and transactions that entered the
/// mempool — except while `catching_up` (a syncing node re-announcing old
/// blocks helps no one).
pub(super) fn spawn_publisher(
    chain: Arc<Chain>,
    catching_up: Arc<AtomicBool>,
    reports: mpsc::UnboundedSender<Report>,
) {
    let mut events = chain.subscribe();
    tokio::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
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
            if reports.send(report).is_err() {
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
pub(super) fn rebuild_headers(chain: Arc<Chain>, reports: mpsc::UnboundedSender<Report>) {
    tokio::spawn(async move {
        match load_header_chain(&chain).await {
            Ok((headers, tip)) => {
                let _ = reports.send(Report::HeadersRebuilt(Box::new(headers), tip));
            }
            Err(error) => tracing::warn!(%error, "cannot reload headers for sync"),
        }
    });
}
