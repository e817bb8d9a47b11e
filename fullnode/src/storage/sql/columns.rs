//! Reading stored columns back into the core's types. Bytes that do not
//! decode are [`StorageError::Corrupt`], never a panic.

use std::fmt::Display;

use blockchain_core::{Block, BlockHash, Decode, Header, Transaction, Txid, Work};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::storage::{StorageError, StoredBlock, StoredHeader, StoredTransaction};

/// A u64 as the signed 64-bit integer the database stores (bit-cast, lossless).
pub(super) fn to_db(value: u64) -> i64 {
    value as i64
}

/// The inverse of [`to_db`].
pub(super) fn from_db(value: i64) -> u64 {
    value as u64
}

pub(super) fn corrupt(what: &'static str, reason: impl Display) -> StorageError {
    StorageError::Corrupt {
        what,
        reason: reason.to_string(),
    }
}

/// A column of a type the Any driver reads directly.
pub(super) fn column<'r, T>(row: &'r AnyRow, name: &str) -> Result<T, StorageError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    Ok(row.try_get(name)?)
}

/// An unsigned integer column.
pub(super) fn u64_column(row: &AnyRow, name: &str) -> Result<u64, StorageError> {
    column::<i64>(row, name).map(from_db)
}

/// A flag: BOOLEAN in PostgreSQL, INTEGER 0/1 in SQLite (the Any driver
/// cannot read SQLite's BOOLEAN).
pub(super) fn flag_column(row: &AnyRow, name: &str) -> Result<bool, StorageError> {
    match row.try_get::<bool, _>(name) {
        Ok(flag) => Ok(flag),
        Err(_) => Ok(column::<i64>(row, name)? != 0),
    }
}

/// A fixed-size byte column.
pub(super) fn array_column<const N: usize>(
    row: &AnyRow,
    name: &str,
    what: &'static str,
) -> Result<[u8; N], StorageError> {
    let bytes: Vec<u8> = column(row, name)?;
    fixed_bytes(&bytes, what)
}

pub(super) fn fixed_bytes<const N: usize>(
    bytes: &[u8],
    what: &'static str,
) -> Result<[u8; N], StorageError> {
    bytes
        .try_into()
        .map_err(|_| corrupt(what, format!("{} bytes instead of {N}", bytes.len())))
}

/// A column holding a consensus encoding.
pub(super) fn decoded_column<T: Decode>(
    row: &AnyRow,
    name: &str,
    what: &'static str,
) -> Result<T, StorageError> {
    let bytes: Vec<u8> = column(row, name)?;
    decode_bytes(&bytes, what)
}

pub(super) fn decode_bytes<T: Decode>(bytes: &[u8], what: &'static str) -> Result<T, StorageError> {
    T::decode(bytes).map_err(|error| corrupt(what, error))
}

/// Reads `header, chain_work, on_main, invalid`.
pub(super) fn stored_header(row: &AnyRow) -> Result<StoredHeader, StorageError> {
    Ok(StoredHeader {
        header: decoded_column::<Header>(row, "header", "block header")?,
        chain_work: Work::from_be_bytes(array_column(row, "chain_work", "chain work")?),
        on_main: flag_column(row, "on_main")?,
        invalid: flag_column(row, "invalid")?,
    })
}

/// Reads `raw, chain_work, on_main`.
pub(super) fn stored_block(row: &AnyRow) -> Result<StoredBlock, StorageError> {
    stored_block_and_size(row).map(|(block, _)| block)
}

/// Reads `raw, chain_work, on_main`, and the length of `raw`.
pub(super) fn stored_block_and_size(row: &AnyRow) -> Result<(StoredBlock, usize), StorageError> {
    let raw: Vec<u8> = column(row, "raw")?;
    let block = StoredBlock {
        block: decode_bytes::<Block>(&raw, "block")?,
        chain_work: Work::from_be_bytes(array_column(row, "chain_work", "chain work")?),
        on_main: flag_column(row, "on_main")?,
    };
    Ok((block, raw.len()))
}

/// Reads `raw, txid, block_hash, height, position`.
pub(super) fn stored_transaction(row: &AnyRow) -> Result<StoredTransaction, StorageError> {
    let position = column::<i64>(row, "position")?;
    Ok(StoredTransaction {
        transaction: decoded_column::<Transaction>(row, "raw", "transaction")?,
        txid: Txid(array_column(row, "txid", "txid")?),
        block_hash: BlockHash(array_column(row, "block_hash", "block hash")?),
        height: u64_column(row, "height")?,
        position: u32::try_from(position).map_err(|_| corrupt("transaction position", position))?,
    })
}
