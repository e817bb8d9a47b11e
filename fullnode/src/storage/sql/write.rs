//! The statements of the write transactions, each on a connection that is
//! inside a database transaction the caller commits.

use blockchain_core::state::Account;
use blockchain_core::{Address, BlockHash, Encode, Transaction, Txid};
use sqlx::AnyConnection;

use super::columns::to_db;
use crate::storage::{ConnectedBlock, StorageError};

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
    sqlx::query(
        "INSERT INTO pending_transactions (txid, raw, fee, sender, nonce, accepted_ms) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (txid) DO NOTHING",
    )
    .bind(transaction.txid().0.as_slice())
    .bind(transaction.encode())
    .bind(to_db(transaction.fee.0))
    .bind(transaction.sender_address().map(|sender| sender.0.to_vec()))
    .bind(to_db(transaction.nonce))
    .bind(to_db(accepted_ms))
    .execute(&mut *connection)
    .await?;
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
