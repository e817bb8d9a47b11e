//! The statements of the write transactions, each on a connection that is
//! inside a database transaction the caller commits.

use std::sync::LazyLock;

use blockchain_core::state::Account;
use blockchain_core::{Address, BlockHash, Encode, Transaction, Txid};
use sqlx::AnyConnection;

use super::columns::to_db;
use crate::storage::{ConnectedBlock, PendingWrite, StorageError};

/// Key of the best tip in `chain_meta`.
pub(super) const TIP_KEY: &str = "tip";

/// Takes a block off the best chain and forgets its transactions. Its undo
/// record stays (harmless, and useful if it comes back).
pub(super) async fn disconnect_block(
    connection: &mut AnyConnection,
    hash: &BlockHash,
) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM transactions WHERE block_hash = $1")
        .bind(hash.0.as_slice())
        .execute(&mut *connection)
        .await?;
    let updated = sqlx::query("UPDATE blocks SET on_main = FALSE WHERE hash = $1")
        .bind(hash.0.as_slice())
        .execute(&mut *connection)
        .await?;
    expect_one_row(updated.rows_affected())
}

/// Puts a stored block on the best chain with its undo record and transactions.
pub(super) async fn connect_block(
    connection: &mut AnyConnection,
    block: &ConnectedBlock,
) -> Result<(), StorageError> {
    let updated = sqlx::query("UPDATE blocks SET on_main = TRUE, undo = $2 WHERE hash = $1")
        .bind(block.hash.0.as_slice())
        .bind(block.undo.encode())
        .execute(&mut *connection)
        .await?;
    expect_one_row(updated.rows_affected())?;
    for (position, (txid, transaction)) in block.transactions.iter().enumerate() {
        let position =
            i64::try_from(position).expect("a block holds far fewer than 2^63 transactions");
        sqlx::query(
            "INSERT INTO transactions \
             (txid, block_hash, height, position, raw, sender, recipient, amount, fee, nonce, time_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(txid.0.as_slice())
        .bind(block.hash.0.as_slice())
        .bind(to_db(block.height))
        .bind(position)
        .bind(transaction.encode())
        .bind(transaction.sender_address().map(|sender| sender.0.to_vec()))
        .bind(transaction.to.0.as_slice())
        .bind(to_db(transaction.amount.0))
        .bind(to_db(transaction.fee.0))
        .bind(to_db(transaction.nonce))
        .bind(to_db(transaction.time))
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

/// Writes an account's final state, or removes it.
pub(super) async fn put_account(
    connection: &mut AnyConnection,
    address: &Address,
    account: Option<&Account>,
) -> Result<(), StorageError> {
    match account {
        Some(account) => {
            sqlx::query(
                "INSERT INTO accounts (address, balance, nonce) VALUES ($1, $2, $3) \
                 ON CONFLICT (address) DO UPDATE \
                 SET balance = excluded.balance, nonce = excluded.nonce",
            )
            .bind(address.0.as_slice())
            .bind(to_db(account.balance.0))
            .bind(to_db(account.nonce))
            .execute(&mut *connection)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM accounts WHERE address = $1")
                .bind(address.0.as_slice())
                .execute(&mut *connection)
                .await?;
        }
    }
    Ok(())
}

/// Remembers a pending transaction (kept as first accepted if already there).
pub(super) async fn insert_pending(
    connection: &mut AnyConnection,
    transaction: &Transaction,
    accepted_ms: u64,
) -> Result<(), StorageError> {
    let txid = transaction.txid();
    PendingRow::new(transaction, &txid, accepted_ms)
        .bind(sqlx::query(pending_insert_statement(0)))
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// Most rows one `INSERT` of pending transactions carries. A batch is cut
/// into runs of 64, 32, …, 1 rows, so a connection prepares at most seven
/// such statements and reuses them.
const MAX_PENDING_ROWS_LOG2: u32 = 6;

/// `INSERT INTO pending_transactions … VALUES (…), …` for `2^log2` rows.
fn pending_insert_statement(log2: u32) -> &'static str {
    static STATEMENTS: LazyLock<Vec<String>> = LazyLock::new(|| {
        (0..=MAX_PENDING_ROWS_LOG2)
            .map(|log2| {
                let rows: Vec<String> = (0..1usize << log2)
                    .map(|row| {
                        let first = row * PendingRow::COLUMNS + 1;
                        let parameters: Vec<String> = (first..first + PendingRow::COLUMNS)
                            .map(|number| format!("${number}"))
                            .collect();
                        format!("({})", parameters.join(", "))
                    })
                    .collect();
                format!(
                    "INSERT INTO pending_transactions (txid, raw, fee, sender, nonce, accepted_ms) \
                     VALUES {} ON CONFLICT (txid) DO NOTHING",
                    rows.join(", ")
                )
            })
            .collect()
    });
    STATEMENTS[log2 as usize].as_str()
}

/// The column values of one `pending_transactions` row.
struct PendingRow<'a> {
    txid: &'a Txid,
    raw: Vec<u8>,
    fee: i64,
    sender: Option<Vec<u8>>,
    nonce: i64,
    accepted_ms: i64,
}

impl<'a> PendingRow<'a> {
    const COLUMNS: usize = 6;

    fn new(transaction: &Transaction, txid: &'a Txid, accepted_ms: u64) -> Self {
        Self {
            txid,
            raw: transaction.encode(),
            fee: to_db(transaction.fee.0),
            sender: transaction.sender_address().map(|sender| sender.0.to_vec()),
            nonce: to_db(transaction.nonce),
            accepted_ms: to_db(accepted_ms),
        }
    }

    fn bind(self, query: AnyQuery) -> AnyQuery {
        query
            .bind(self.txid.0.as_slice())
            .bind(self.raw)
            .bind(self.fee)
            .bind(self.sender)
            .bind(self.nonce)
            .bind(self.accepted_ms)
    }
}

/// A statement with its parameters (arguments are copied in as they are bound).
type AnyQuery = sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments>;

/// Applies `writes` in order: each forgets what it displaced, then
/// remembers its transaction. Consecutive inserts share multi-row statements;
/// a write that displaces something first flushes the inserts before it, so
/// a transaction evicted and accepted again within one batch ends up stored.
pub(super) async fn apply_pending_writes(
    connection: &mut AnyConnection,
    writes: &[PendingWrite],
) -> Result<(), StorageError> {
    let mut unflushed = 0;
    for (index, write) in writes.iter().enumerate() {
        if !write.removed.is_empty() {
            insert_pending_rows(connection, &writes[unflushed..index]).await?;
            unflushed = index;
            for txid in &write.removed {
                delete_pending(connection, txid).await?;
            }
        }
    }
    insert_pending_rows(connection, &writes[unflushed..]).await
}

/// Inserts the transactions of `writes` (their removals already done).
async fn insert_pending_rows(
    connection: &mut AnyConnection,
    mut writes: &[PendingWrite],
) -> Result<(), StorageError> {
    while !writes.is_empty() {
        let log2 = writes.len().ilog2().min(MAX_PENDING_ROWS_LOG2);
        let (run, rest) = writes.split_at(1 << log2);
        let mut query = sqlx::query(pending_insert_statement(log2));
        for write in run {
            query = PendingRow::new(&write.transaction, &write.txid, write.accepted_ms).bind(query);
        }
        query.execute(&mut *connection).await?;
        writes = rest;
    }
    Ok(())
}

/// Forgets a pending transaction.
pub(super) async fn delete_pending(
    connection: &mut AnyConnection,
    txid: &Txid,
) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM pending_transactions WHERE txid = $1")
        .bind(txid.0.as_slice())
        .execute(&mut *connection)
        .await?;
    Ok(())
}

/// Records the best tip.
pub(super) async fn set_tip(
    connection: &mut AnyConnection,
    tip: &BlockHash,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO chain_meta (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(TIP_KEY)
    .bind(tip.0.as_slice())
    .execute(&mut *connection)
    .await?;
    Ok(())
}

/// A block named by an update must be stored: otherwise the update is
/// refused (and rolled back) as if the row had not been found.
fn expect_one_row(rows_affected: u64) -> Result<(), StorageError> {
    if rows_affected == 1 {
        Ok(())
    } else {
        Err(StorageError::Database(sqlx::Error::RowNotFound))
    }
}
