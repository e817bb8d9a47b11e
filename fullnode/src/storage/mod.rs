//! Persistent storage behind one trait, with SQLite (default, embedded) and
//! PostgreSQL backends through sqlx.
//!
//! The node's chain-state owner is the only writer. Connecting or
//! disconnecting blocks is one database transaction ([`Storage::apply_chain_update`]),
//! so a crash leaves the last committed tip and nothing half-written.

mod sql;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use blockchain_core::state::{Account, BlockUndo};
use blockchain_core::{Address, Block, BlockHash, Header, Transaction, Txid, Work};

pub use sql::SqlStorage;

/// File name of the default SQLite database inside the data directory.
pub const SQLITE_FILE_NAME: &str = "blockchain.db";

/// Opens the database at `url` (`sqlite:…` or `postgres:…`/`postgresql:…`),
/// creating a SQLite file and its directory if missing, and runs the migrations.
pub async fn open(url: &str) -> Result<Arc<dyn Storage>, StorageError> {
    Ok(Arc::new(SqlStorage::connect(url).await?))
}

/// The URL of the default SQLite database in `data_dir`
/// (`sqlite:///absolute/path/blockchain.db?mode=rwc`).
pub fn sqlite_url_for(data_dir: &Path) -> String {
    sql::sqlite_url_for_file(&data_dir.join(SQLITE_FILE_NAME))
}

/// A database URL fit for logs and error messages: the password of its
/// user information (`scheme://user:password@host`) and the value of any
/// `password=` query parameter replaced with `***`.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut redacted = match (base.find("://"), base.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &base[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &base[..scheme + 3], &base[at..]),
                None => base.to_owned(),
            }
        }
        _ => base.to_owned(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&pairs.join("&"));
    }
    redacted
}

/// Which database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (default).
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend a database URL names: `sqlite:` or `postgres:`/`postgresql:`.
    pub fn from_url(url: &str) -> Result<Backend, StorageError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StorageError::UnsupportedUrl(redact_url(url)))
        }
    }
}

/// A storage failure. The message is for logs, never for API clients.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The writer of pending transactions stopped before answering.
    #[error("the pending-transaction writer has stopped")]
    WriterStopped,
    /// The batch of pending transactions a transaction was written with
    /// failed (one error, shared by every transaction of the batch).
    #[error("storing a batch of pending transactions failed: {0}")]
    BatchFailed(Arc<StorageError>),
    /// Migrations failed.
    #[error("migration error: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Stored bytes do not decode: the database is corrupt.
    #[error("corrupt {what} in the database: {reason}")]
    Corrupt { what: &'static str, reason: String },
    /// The URL names no supported backend.
    #[error("unsupported database URL {0:?} (expected sqlite://… or postgres://…)")]
    UnsupportedUrl(String),
}

/// A header known to the node, with its place in the block tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredHeader {
    /// The header.
    pub header: Header,
    /// Cumulative work up to and including it.
    pub chain_work: Work,
    /// On the current best chain.
    pub on_main: bool,
    /// Failed validation: never connect it or its descendants.
    pub invalid: bool,
}

/// A block with where it sits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlock {
    /// The block.
    pub block: Block,
    /// Cumulative work.
    pub chain_work: Work,
    /// On the current best chain.
    pub on_main: bool,
}

/// A transaction confirmed on the best chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredTransaction {
    /// The transaction.
    pub transaction: Transaction,
    /// Its id.
    pub txid: Txid,
    /// The block holding it.
    pub block_hash: BlockHash,
    /// That block's height.
    pub height: u64,
    /// Position in the block (0 = coinbase).
    pub position: u32,
}

/// A block joining the best chain in a [`ChainUpdate`].
#[derive(Clone, Debug)]
pub struct ConnectedBlock {
    /// Its hash (the block itself is already stored by [`Storage::store_block`]).
    pub hash: BlockHash,
    /// Its height.
    pub height: u64,
    /// Undo record to disconnect it later.
    pub undo: BlockUndo,
    /// Its transactions, in block order, with their txids.
    pub transactions: Vec<(Txid, Transaction)>,
}

/// Everything one change of the best chain writes, applied atomically.
#[derive(Clone, Debug, Default)]
pub struct ChainUpdate {
    /// Blocks leaving the best chain, tip first: their transaction rows go.
    pub disconnected: Vec<BlockHash>,
    /// Blocks joining it, in chain order.
    pub connected: Vec<ConnectedBlock>,
    /// Final state of every account the update touched (None: remove it).
    pub accounts: Vec<(Address, Option<Account>)>,
    /// Pending transactions to forget (mined, replaced, evicted, invalid).
    pub mempool_removed: Vec<Txid>,
    /// Pending transactions to remember (returned by a reorg).
    pub mempool_added: Vec<(Transaction, u64)>,
    /// The new best tip.
    pub new_tip: BlockHash,
}

/// A transaction accepted into the mempool, to persist with [`Storage::add_pending`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingWrite {
    /// The transaction.
    pub transaction: Transaction,
    /// Its id.
    pub txid: Txid,
    /// When it was accepted (ms).
    pub accepted_ms: u64,
    /// Pending transactions it displaced (replaced, evicted): forgotten first.
    pub removed: Vec<Txid>,
}

impl PendingWrite {
    /// A write of `transaction`, accepted at `accepted_ms`, displacing `removed`.
    pub fn new(transaction: Transaction, accepted_ms: u64, removed: Vec<Txid>) -> Self {
        Self {
            txid: transaction.txid(),
            transaction,
            accepted_ms,
            removed,
        }
    }
}

/// Known peers kept in storage at most.
pub const MAX_STORED_PEERS: u32 = 1000;

/// A known peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPeer {
    /// libp2p peer id, base58.
    pub peer_id: String,
    /// Multiaddrs it was reached at.
    pub addrs: Vec<String>,
    /// Milliseconds since the Unix epoch.
    pub last_seen_ms: u64,
}

/// A webhook delivery waiting in the outbox for its receiver's 2xx.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The subscription it goes to.
    pub webhook_id: String,
    /// Random, the same for every subscriber and attempt (`X-Webhook-Delivery`).
    pub delivery_id: String,
    /// Queue order, increasing across restarts.
    pub seq: u64,
    /// `new_block`, `new_transaction` or `reorg`.
    pub event: String,
    /// The JSON body, as signed and sent.
    pub body: String,
}

/// A webhook subscription.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredWebhook {
    /// Random id, 32 lowercase hex digits.
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// Event names it receives.
    pub events: Vec<String>,
    /// HMAC-SHA256 key of its deliveries' signatures.
    pub secret: String,
    /// Milliseconds since the Unix epoch.
    pub created_ms: u64,
}

impl std::fmt::Debug for StoredWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret stays out of logs.
        f.debug_struct("StoredWebhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("created_ms", &self.created_ms)
            .finish_non_exhaustive()
    }
}

/// The node's database.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Every stored header, ordered by height (then insertion), with work and flags.
    async fn load_block_index(&self) -> Result<Vec<StoredHeader>, StorageError>;
    /// The tip recorded by the last committed update (None: only genesis).
    async fn tip(&self) -> Result<Option<BlockHash>, StorageError>;
    /// Every account.
    async fn load_accounts(&self) -> Result<Vec<(Address, Account)>, StorageError>;
    /// Every pending transaction, with the time it was accepted (ms).
    async fn load_mempool(&self) -> Result<Vec<(Transaction, u64)>, StorageError>;

    /// Stores a block that passed context-free checks (idempotent), not yet on the best chain.
    async fn store_block(&self, block: &Block, chain_work: Work) -> Result<(), StorageError>;
    /// Marks a stored block invalid.
    async fn mark_invalid(&self, hash: &BlockHash) -> Result<(), StorageError>;
    /// Applies one change of the best chain in one database transaction.
    async fn apply_chain_update(&self, update: &ChainUpdate) -> Result<(), StorageError>;
    /// Persists accepted pending transactions in one database transaction,
    /// in order: each write forgets the transactions it displaced, then
    /// remembers its own (kept as first accepted if already there).
    async fn add_pending(&self, writes: &[PendingWrite]) -> Result<(), StorageError>;

    /// A best-chain block by height.
    async fn block_by_height(&self, height: u64) -> Result<Option<StoredBlock>, StorageError>;
    /// Any stored block by hash.
    async fn block_by_hash(&self, hash: &BlockHash) -> Result<Option<StoredBlock>, StorageError>;
    /// Best-chain blocks, newest first: at most `limit`, and no more once
    /// their encodings add up to `max_bytes` (the first block always comes,
    /// so an answer holds under `max_bytes` + one block). Rows are read one
    /// at a time, so memory stays within that bound too.
    async fn latest_blocks(
        &self,
        limit: u32,
        max_bytes: usize,
    ) -> Result<Vec<StoredBlock>, StorageError>;
    /// Best-chain headers from `from`, at most `count`.
    async fn headers(&self, from: u64, count: u32) -> Result<Vec<Header>, StorageError>;
    /// The undo record of a block on the best chain.
    async fn block_undo(&self, hash: &BlockHash) -> Result<Option<BlockUndo>, StorageError>;
    /// A transaction confirmed on the best chain.
    async fn transaction(&self, txid: &Txid) -> Result<Option<StoredTransaction>, StorageError>;
    /// Best-chain transactions sending from or to `address`, newest first.
    async fn address_transactions(
        &self,
        address: &Address,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<StoredTransaction>, StorageError>;
    /// Number of best-chain transactions sending from or to `address`.
    async fn address_transaction_count(&self, address: &Address) -> Result<u64, StorageError>;

    /// Stores a node-side wallet's keystore JSON.
    async fn save_wallet(
        &self,
        address: &Address,
        keystore_json: &str,
        created_ms: u64,
    ) -> Result<(), StorageError>;
    /// A node-side wallet's keystore JSON.
    async fn wallet(&self, address: &Address) -> Result<Option<String>, StorageError>;

    /// Remembers a peer (upsert); the table keeps the [`MAX_STORED_PEERS`]
    /// most recently seen, so the address book on disk stays bounded.
    async fn save_peer(&self, peer: &StoredPeer) -> Result<(), StorageError>;
    /// Known peers, most recently seen first.
    async fn peers(&self, limit: u32) -> Result<Vec<StoredPeer>, StorageError>;

    /// Stores a new webhook subscription.
    async fn add_webhook(&self, webhook: &StoredWebhook) -> Result<(), StorageError>;
    /// Every webhook subscription, oldest first.
    async fn webhooks(&self) -> Result<Vec<StoredWebhook>, StorageError>;
    /// Forgets a webhook subscription (and its outbox); false when none has that id.
    async fn delete_webhook(&self, id: &str) -> Result<bool, StorageError>;
    /// Writes webhook deliveries to the outbox, all or none.
    async fn add_outbox(&self, entries: &[OutboxEntry]) -> Result<(), StorageError>;
    /// Removes a delivery from the outbox (sent, or dropped from a full queue).
    async fn remove_outbox(&self, webhook_id: &str, delivery_id: &str) -> Result<(), StorageError>;
    /// Every delivery in the outbox, in queue order (`seq`).
    async fn outbox(&self) -> Result<Vec<OutboxEntry>, StorageError>;

    /// Closes the database's connections, waiting for them to finish (call on
    /// shutdown). Every committed write is durable with or without it.
    async fn close(&self) {}
}
