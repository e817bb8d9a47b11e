//! The statements of the write transactions, each on a connection that is
//! inside a database transaction the caller commits.

use std::sync::LazyLock;

use blockchain_core::state::Account;
use blockchain_core::{Address, BlockHash, Encode, Transaction, Txid};
use sqlx::AnyConnection;

use super::columns::to_db;
use super::rows::{AnyQuery, MultiRow};
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
    static TRANSACTIONS: LazyLock<MultiRow> = LazyLock::new(|| {
        MultiRow::new(
            "INSERT INTO transactions \
             (txid, block_hash, height, position, raw, sender, recipient, amount, fee, nonce, time_ms)",
            11,
            "",
        )
    });
    let rows: Vec<(usize, &(Txid, Transaction))> = block.transactions.iter().enumerate().collect();
    TRANSACTIONS
        .execute(
            connection,
            &rows,
            |query, (position, (txid, transaction))| {
                let position = i64::try_from(*position)
                    .expect("a block holds far fewer than 2^63 transactions");
                query
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
            },
        )
        .await
}

/// Writes the final state of accounts: upserts in multi-row statements,
/// deletes (accounts an undone block leaves empty) one by one.
pub(super) async fn put_accounts(
    connection: &mut AnyConnection,
    accounts: &[(Address, Option<Account>)],
) -> Result<(), StorageError> {
    static UPSERT: LazyLock<MultiRow> = LazyLock::new(|| {
        MultiRow::new(
            "INSERT INTO accounts (address, balance, nonce)",
            3,
            "ON CONFLICT (address) DO UPDATE \
             SET balance = excluded.balance, nonce = excluded.nonce",
        )
    });
    let upserts: Vec<(&Address, &Account)> = accounts
        .iter()
        .filter_map(|(address, account)| Some((address, account.as_ref()?)))
        .collect();
    UPSERT
        .execute(connection, &upserts, |query, (address, account)| {
            query
                .bind(address.0.as_slice())
                .bind(to_db(account.balance.0))
                .bind(to_db(account.nonce))
        })
        .await?;
    for (address, _) in accounts.iter().filter(|(_, account)| account.is_none()) {
        sqlx::query("DELETE FROM accounts WHERE address = $1")
            .bind(address.0.as_slice())
            .execute(&mut *connection)
            .await?;
    }
    Ok(())
}

/// Remembers pending transactions (each kept as first accepted if already there).
pub(super) async fn insert_pending(
    connection: &mut AnyConnection,
    pending: &[(Transaction, u64)],
) -> Result<(), StorageError> {
    let rows: Vec<(Txid, &Transaction, u64)> = pending
        .iter()
        .map(|(transaction, accepted_ms)| (transaction.txid(), transaction, *accepted_ms))
        .collect();
    PENDING
        .execute(
            connection,
            &rows,
            |query, (txid, transaction, accepted_ms)| {
                PendingRow::new(transaction, txid, *accepted_ms).bind(query)
            },
        )
        .await
}

/// `INSERT INTO pending_transactions … VALUES (…), …`.
static PENDING: LazyLock<MultiRow> = LazyLock::new(|| {
    MultiRow::new(
        "INSERT INTO pending_transactions (txid, raw, fee, sender, nonce, accepted_ms)",
        PendingRow::COLUMNS,
        "ON CONFLICT (txid) DO NOTHING",
    )
});

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
    writes: &[PendingWrite],
) -> Result<(), StorageError> {
    PENDING
        .execute(connection, writes, |query, write| {
            PendingRow::new(&write.transaction, &write.txid, write.accepted_ms).bind(query)
        })
        .await
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
