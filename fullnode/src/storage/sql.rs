//! [`Storage`] over sqlx's `Any` driver: one set of SQL statements for both
//! SQLite and PostgreSQL (numbered `$n` parameters, `ON CONFLICT` upserts),
//! one schema per backend under `migrations/`.

mod columns;
mod connect;
mod rows;
mod write;

use async_trait::async_trait;
use blockchain_core::state::{Account, BlockUndo};
use blockchain_core::{Address, Amount, Block, BlockHash, Encode, Header, Transaction, Txid, Work};
use futures::TryStreamExt;
use sqlx::AnyPool;

use self::columns::{
    array_column, column, corrupt, decode_bytes, decoded_column, fixed_bytes, stored_block,
    stored_block_and_size, stored_header, stored_transaction, to_db, u64_column,
};
pub(crate) use self::connect::sqlite_url_for_file;
use super::{
    Backend, ChainUpdate, OutboxEntry, PendingWrite, Storage, StorageError, StoredBlock,
    StoredHeader, StoredPeer, StoredTransaction, StoredWebhook,
};

/// The SQL database: a connection pool and the backend behind it.
#[derive(Debug, Clone)]
pub struct SqlStorage {
    pool: AnyPool,
    backend: Backend,
}

impl SqlStorage {
    /// Connects to `url` and runs the migrations (see [`super::open`]).
    pub async fn connect(url: &str) -> Result<SqlStorage, StorageError> {
        let (pool, backend) = connect::connect_pool(url).await?;
        Ok(SqlStorage { pool, backend })
    }

    /// The connection pool, for statements outside the [`Storage`] trait.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

#[async_trait]
impl Storage for SqlStorage {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn load_block_index(&self) -> Result<Vec<StoredHeader>, StorageError> {
        sqlx::query("SELECT header, chain_work, on_main, invalid FROM blocks ORDER BY height, seq")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(stored_header)
            .collect()
    }

    async fn tip(&self) -> Result<Option<BlockHash>, StorageError> {
        let value: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT value FROM chain_meta WHERE key = $1")
                .bind(write::TIP_KEY)
                .fetch_optional(&self.pool)
                .await?;
        value
            .map(|bytes| fixed_bytes(&bytes, "tip hash").map(BlockHash))
            .transpose()
    }

    async fn load_accounts(&self) -> Result<Vec<(Address, Account)>, StorageError> {
        sqlx::query("SELECT address, balance, nonce FROM accounts ORDER BY address")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                let address = Address(array_column(row, "address", "account address")?);
                let account = Account {
                    balance: Amount(u64_column(row, "balance")?),
                    nonce: u64_column(row, "nonce")?,
                };
                Ok((address, account))
            })
            .collect()
    }

    async fn load_mempool(&self) -> Result<Vec<(Transaction, u64)>, StorageError> {
        sqlx::query("SELECT raw, accepted_ms FROM pending_transactions ORDER BY accepted_ms, txid")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|row| {
                let transaction = decoded_column(row, "raw", "pending transaction")?;
                Ok((transaction, u64_column(row, "accepted_ms")?))
            })
            .collect()
    }

    async fn store_block(&self, block: &Block, chain_work: Work) -> Result<(), StorageError> {
        // `WHERE TRUE` keeps SQLite from reading ON CONFLICT as a join clause.
        sqlx::query(
            "INSERT INTO blocks (hash, seq, height, prev_hash, header, raw, chain_work) \
             SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6 FROM blocks WHERE TRUE \
             ON CONFLICT (hash) DO NOTHING",
        )
        .bind(block.hash().0.as_slice())
        .bind(to_db(block.header.height))
        .bind(block.header.prev_hash.0.as_slice())
        .bind(block.header.to_bytes().as_slice())
        .bind(block.encode())
        .bind(chain_work.to_be_bytes().as_slice())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn mark_invalid(&self, hash: &BlockHash) -> Result<(), StorageError> {
        sqlx::query("UPDATE blocks SET invalid = TRUE WHERE hash = $1")
            .bind(hash.0.as_slice())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn apply_chain_update(&self, update: &ChainUpdate) -> Result<(), StorageError> {
        // Dropping `transaction` on an early return rolls everything back.
        let mut transaction = self.pool.begin().await?;
        for hash in &update.disconnected {
            write::disconnect_block(&mut transaction, hash).await?;
        }
        for block in &update.connected {
            write::connect_block(&mut transaction, block).await?;
        }
        write::put_accounts(&mut transaction, &update.accounts).await?;
        for txid in &update.mempool_removed {
            write::delete_pending(&mut transaction, txid).await?;
        }
        write::insert_pending(&mut transaction, &update.mempool_added).await?;
        write::set_tip(&mut transaction, &update.new_tip).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn add_pending(&self, writes: &[PendingWrite]) -> Result<(), StorageError> {
        if writes.is_empty() {
            return Ok(());
        }
        let mut transaction = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            // The server outlives the node, so a commit the server has taken
            // survives a killed node without waiting for its disk sync.
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut *transaction)
                .await?;
        }
        write::apply_pending_writes(&mut transaction, writes).await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn block_by_height(&self, height: u64) -> Result<Option<StoredBlock>, StorageError> {
        sqlx::query(
            "SELECT raw, chain_work, on_main FROM blocks WHERE on_main = TRUE AND height = $1",
        )
        .bind(to_db(height))
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(stored_block)
        .transpose()
    }

    async fn block_by_hash(&self, hash: &BlockHash) -> Result<Option<StoredBlock>, StorageError> {
        sqlx::query("SELECT raw, chain_work, on_main FROM blocks WHERE hash = $1")
            .bind(hash.0.as_slice())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(stored_block)
            .transpose()
    }

    async fn latest_blocks(
        &self,
        limit: u32,
        max_bytes: usize,
    ) -> Result<Vec<StoredBlock>, StorageError> {
        let mut rows = sqlx::query(
            "SELECT raw, chain_work, on_main FROM blocks WHERE on_main = TRUE \
             ORDER BY height DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch(&self.pool);
        let mut blocks = Vec::new();
        let mut bytes = 0usize;
        while bytes < max_bytes {
            let Some(row) = rows.try_next().await? else {
                break;
            };
            let (block, size) = stored_block_and_size(&row)?;
            bytes = bytes.saturating_add(size);
            blocks.push(block);
        }
        Ok(blocks)
    }

    async fn headers(&self, from: u64, count: u32) -> Result<Vec<Header>, StorageError> {
        // Heights are stored bit-cast: a `from` past i64::MAX would compare as
        // negative, and no chain is that long.
        let Ok(from) = i64::try_from(from) else {
            return Ok(Vec::new());
        };
        sqlx::query(
            "SELECT header FROM blocks WHERE on_main = TRUE AND height >= $1 \
             ORDER BY height LIMIT $2",
        )
        .bind(from)
        .bind(i64::from(count))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| decoded_column(row, "header", "block header"))
        .collect()
    }

    async fn block_undo(&self, hash: &BlockHash) -> Result<Option<BlockUndo>, StorageError> {
        let undo: Option<Option<Vec<u8>>> =
            sqlx::query_scalar("SELECT undo FROM blocks WHERE hash = $1 AND on_main = TRUE")
                .bind(hash.0.as_slice())
                .fetch_optional(&self.pool)
                .await?;
        undo.flatten()
            .map(|bytes| decode_bytes(&bytes, "block undo"))
            .transpose()
    }

    async fn transaction(&self, txid: &Txid) -> Result<Option<StoredTransaction>, StorageError> {
        sqlx::query(
            "SELECT raw, txid, block_hash, height, position FROM transactions WHERE txid = $1",
        )
        .bind(txid.0.as_slice())
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(stored_transaction)
        .transpose()
    }

    async fn address_transactions(
        &self,
        address: &Address,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<StoredTransaction>, StorageError> {
        // SQLite reads a negative OFFSET as zero: past i64::MAX there is nothing.
        let Ok(offset) = i64::try_from(offset) else {
            return Ok(Vec::new());
        };
        sqlx::query(
            "SELECT raw, txid, block_hash, height, position FROM transactions \
             WHERE sender = $1 OR recipient = $1 \
             ORDER BY height DESC, position DESC LIMIT $2 OFFSET $3",
        )
        .bind(address.0.as_slice())
        .bind(i64::from(limit))
        .bind(offset)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(stored_transaction)
        .collect()
    }

    async fn address_transaction_count(&self, address: &Address) -> Result<u64, StorageError> {
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM transactions WHERE sender = $1 OR recipient = $1",
        )
        .bind(address.0.as_slice())
        .fetch_one(&self.pool)
        .await?;
        u64::try_from(count).map_err(|_| corrupt("transaction count", count))
    }

    async fn save_wallet(
        &self,
        address: &Address,
        keystore_json: &str,
        created_ms: u64,
    ) -> Result<(), StorageError> {
        // Same address, same key: a second save only re-encrypts it.
        sqlx::query(
            "INSERT INTO wallets (address, keystore, created_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (address) DO UPDATE SET keystore = excluded.keystore",
        )
        .bind(address.0.as_slice())
        .bind(keystore_json)
        .bind(to_db(created_ms))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn wallet(&self, address: &Address) -> Result<Option<String>, StorageError> {
        Ok(
            sqlx::query_scalar("SELECT keystore FROM wallets WHERE address = $1")
                .bind(address.0.as_slice())
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn save_peer(&self, peer: &StoredPeer) -> Result<(), StorageError> {
        let addrs = serde_json::to_string(&peer.addrs).expect("a list of strings serializes");
        sqlx::query(
            "INSERT INTO peers (peer_id, addrs, last_seen_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (peer_id) DO UPDATE \
             SET addrs = excluded.addrs, last_seen_ms = excluded.last_seen_ms",
        )
        .bind(peer.peer_id.as_str())
        .bind(addrs)
        .bind(to_db(peer.last_seen_ms))
        .execute(&self.pool)
        .await?;
        sqlx::query(
            "DELETE FROM peers WHERE peer_id NOT IN \
             (SELECT peer_id FROM peers ORDER BY last_seen_ms DESC, peer_id LIMIT $1)",
        )
        .bind(i64::from(super::MAX_STORED_PEERS))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn peers(&self, limit: u32) -> Result<Vec<StoredPeer>, StorageError> {
        sqlx::query(
            "SELECT peer_id, addrs, last_seen_ms FROM peers \
             ORDER BY last_seen_ms DESC, peer_id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let addrs: String = column(row, "addrs")?;
            Ok(StoredPeer {
                peer_id: column(row, "peer_id")?,
                addrs: serde_json::from_str(&addrs)
                    .map_err(|error| corrupt("peer addresses", error))?,
                last_seen_ms: u64_column(row, "last_seen_ms")?,
            })
        })
        .collect()
    }

    async fn add_webhook(&self, webhook: &StoredWebhook) -> Result<(), StorageError> {
        let events = serde_json::to_string(&webhook.events).expect("a list of strings serializes");
        sqlx::query(
            "INSERT INTO webhooks (id, url, events, secret, created_ms) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(webhook.id.as_str())
        .bind(webhook.url.as_str())
        .bind(events)
        .bind(webhook.secret.as_str())
        .bind(to_db(webhook.created_ms))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn webhooks(&self) -> Result<Vec<StoredWebhook>, StorageError> {
        sqlx::query(
            "SELECT id, url, events, secret, created_ms FROM webhooks ORDER BY created_ms, id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            let events: String = column(row, "events")?;
            Ok(StoredWebhook {
                id: column(row, "id")?,
                url: column(row, "url")?,
                events: serde_json::from_str(&events)
                    .map_err(|error| corrupt("webhook events", error))?,
                secret: column(row, "secret")?,
                created_ms: u64_column(row, "created_ms")?,
            })
        })
        .collect()
    }

    async fn delete_webhook(&self, id: &str) -> Result<bool, StorageError> {
        let deleted = sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(deleted.rows_affected() > 0)
    }

    async fn add_outbox(&self, entries: &[OutboxEntry]) -> Result<(), StorageError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut transaction = self.pool.begin().await?;
        for entry in entries {
            sqlx::query(
                "INSERT INTO webhook_outbox (webhook_id, delivery_id, seq, event, body) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(entry.webhook_id.as_str())
            .bind(entry.delivery_id.as_str())
            .bind(to_db(entry.seq))
            .bind(entry.event.as_str())
            .bind(entry.body.as_str())
            .execute(&mut *transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn remove_outbox(&self, webhook_id: &str, delivery_id: &str) -> Result<(), StorageError> {
        sqlx::query("DELETE FROM webhook_outbox WHERE webhook_id = $1 AND delivery_id = $2")
            .bind(webhook_id)
            .bind(delivery_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn outbox(&self) -> Result<Vec<OutboxEntry>, StorageError> {
        sqlx::query(
            "SELECT webhook_id, delivery_id, seq, event, body FROM webhook_outbox \
             ORDER BY seq, webhook_id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| {
            Ok(OutboxEntry {
                webhook_id: column(row, "webhook_id")?,
                delivery_id: column(row, "delivery_id")?,
                seq: u64_column(row, "seq")?,
                event: column(row, "event")?,
                body: column(row, "body")?,
            })
        })
        .collect()
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
