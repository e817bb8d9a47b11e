//! Blocks, transactions and helpers built from the core's types. Storage
//! does not validate, so the signatures are dummies.

use blockchain_core::state::BlockUndo;
use blockchain_core::{
    Address, Amount, Block, BlockHash, CompactBits, Header, MerkleHash, Transaction, Txid, Work,
};

use crate::storage::{ChainUpdate, ConnectedBlock, PendingWrite, Storage, StoredTransaction};

pub(super) const START_MS: u64 = 1_764_000_000_000;

pub(super) fn address(byte: u8) -> Address {
    Address([byte; 20])
}

/// A signed-looking transaction: storage does not verify signatures.
pub(super) fn payment(key_byte: u8, to: Address, amount: u64, fee: u64, nonce: u64) -> Transaction {
    Transaction {
        version: Transaction::VERSION,
        from: vec![key_byte; 422],
        to,
        amount: Amount(amount),
        fee: Amount(fee),
        nonce,
        time: START_MS + nonce,
        signature: vec![0x5a; 384],
    }
}

/// A write of `transaction` for [`Storage::add_pending`].
pub(super) fn pending_write(
    transaction: &Transaction,
    accepted_ms: u64,
    removed: &[Txid],
) -> PendingWrite {
    PendingWrite::new(transaction.clone(), accepted_ms, removed.to_vec())
}

/// The address of [`payment`]'s sender.
pub(super) fn sender_of(key_byte: u8) -> Address {
    Address::from_spki_der(&[key_byte; 422])
}

pub(super) fn work(value: u8) -> Work {
    let mut bytes = [0u8; 32];
    bytes[31] = value;
    Work::from_be_bytes(bytes)
}

/// A block on `parent` (None: a genesis-like root) with a coinbase to
/// `miner` (except at height 0) and `payments`; `salt` tells siblings apart.
pub(super) fn block(
    parent: Option<&Block>,
    miner: Address,
    payments: Vec<Transaction>,
    salt: u64,
) -> Block {
    let height = parent.map_or(0, |parent| parent.header.height + 1);
    let time = START_MS + height * 1000 + salt;
    let mut transactions = Vec::new();
    if height > 0 {
        transactions.push(Transaction::coinbase(
            miner,
            Amount(5_000_000_000),
            height,
            time,
        ));
    }
    transactions.extend(payments);
    let mut block = Block {
        header: Header {
            version: Header::VERSION,
            height,
            prev_hash: parent.map_or(BlockHash::ZERO, Block::hash),
            merkle_root: MerkleHash::ZERO,
            state_root: MerkleHash([height as u8; 32]),
            time,
            bits: CompactBits(0x207f_ffff),
            nonce: salt,
        },
        transactions,
    };
    block.header.merkle_root = block.compute_merkle_root();
    block
}

/// A linear chain of `length` blocks, each paying its coinbase to `miner`.
pub(super) fn chain(length: usize, miner: Address) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    for _ in 0..length {
        let next = block(blocks.last(), miner, Vec::new(), 0);
        blocks.push(next);
    }
    blocks
}

pub(super) fn connected(block: &Block, undo: BlockUndo) -> ConnectedBlock {
    ConnectedBlock {
        hash: block.hash(),
        height: block.header.height,
        undo,
        transactions: block
            .transactions
            .iter()
            .map(|transaction| (transaction.txid(), transaction.clone()))
            .collect(),
    }
}

pub(super) async fn store_all(storage: &dyn Storage, blocks: &[Block]) {
    for (index, block) in blocks.iter().enumerate() {
        storage
            .store_block(block, work(index as u8 + 1))
            .await
            .expect("store_block");
    }
}

/// Stores and connects `blocks` as the best chain, with empty undo records.
pub(super) async fn connect_chain(storage: &dyn Storage, blocks: &[Block]) {
    store_all(storage, blocks).await;
    let update = ChainUpdate {
        connected: blocks
            .iter()
            .map(|block| connected(block, BlockUndo::default()))
            .collect(),
        new_tip: blocks.last().expect("a chain").hash(),
        ..ChainUpdate::default()
    };
    storage
        .apply_chain_update(&update)
        .await
        .expect("apply_chain_update");
}

pub(super) fn txids(transactions: &[StoredTransaction]) -> Vec<Txid> {
    transactions.iter().map(|stored| stored.txid).collect()
}

pub(super) async fn mempool_txids(storage: &dyn Storage) -> Vec<(Txid, u64)> {
    let mut pending: Vec<(Txid, u64)> = storage
        .load_mempool()
        .await
        .expect("load_mempool")
        .iter()
        .map(|(transaction, accepted_ms)| (transaction.txid(), *accepted_ms))
        .collect();
    pending.sort();
    pending
}

pub(super) fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}
