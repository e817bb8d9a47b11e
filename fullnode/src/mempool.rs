//! Pending transactions: validated on entry against the state plus the
//! sender's earlier pending transactions, deduplicated, ordered by fee,
//! bounded (lowest fee evicted), paying at least the minimum relay fee per
//! byte, replace-by-fee for the same sender and nonce (the replacement pays
//! for its own bytes on top of the fee it replaces).
//!
//! Signatures are checked before a transaction gets here (outside the chain
//! lock); the mempool checks what depends on the state.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use blockchain_core::state::StateTree;
use blockchain_core::{Address, Amount, Transaction, Txid};

/// Why a transaction was not accepted into the mempool.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MempoolError {
    /// Already pending.
    #[error("transaction {0} is already pending")]
    AlreadyKnown(Txid),
    /// The nonce was used already.
    #[error("nonce {got} is already used; the account's next nonce is {expected}")]
    NonceTooLow { expected: u64, got: u64 },
    /// The nonce skips ahead of the sender's sequence.
    #[error("nonce {got} leaves a gap; the next nonce is {expected}")]
    NonceGap { expected: u64, got: u64 },
    /// A replacement must pay the fee it replaces plus the minimum relay
    /// fee for its own size (at least one unit more).
    #[error("a replacement for nonce {nonce} must pay at least {minimum} units")]
    ReplacementUnderpriced { nonce: u64, minimum: u64 },
    /// The fee is under the minimum relay fee for the transaction's size.
    #[error("the fee {fee} is under the minimum relay fee of {minimum} units for {size} bytes")]
    FeeTooLow { fee: u64, minimum: u64, size: usize },
    /// Balance minus pending spends is not enough.
    #[error("insufficient funds: available {available} units, needed {needed} units")]
    InsufficientFunds { available: u64, needed: u64 },
    /// Full, and the fee is not above the lowest pending fee.
    #[error("mempool is full and the fee {fee} is not above the lowest pending fee {lowest}")]
    Full { fee: u64, lowest: u64 },
    /// Coinbases are not relayed.
    #[error("a coinbase cannot be submitted")]
    Coinbase,
}

/// A pending transaction.
#[derive(Clone, Debug)]
pub struct PendingTransaction {
    /// The transaction.
    pub transaction: Transaction,
    /// Its id.
    pub txid: Txid,
    /// Its sender.
    pub sender: Address,
    /// When it was accepted (ms).
    pub accepted_ms: u64,
}

/// What admitting a transaction changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Admission {
    /// Pending transactions that leave the pool: a replaced one, evicted ones.
    pub removed: Vec<Txid>,
}

/// What the pool admits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MempoolPolicy {
    /// Most pending transactions; beyond it the lowest fee is evicted.
    pub max_transactions: usize,
    /// Units per encoded byte: the least fee of every transaction, and the
    /// least a replacement adds to the fee it replaces (per byte of itself,
    /// as Bitcoin Core's incremental relay fee).
    pub min_relay_fee: u64,
}

/// The node's default minimum relay fee: one unit a byte (870 units for a
/// payment, 0.0000087 coin).
pub const DEFAULT_MIN_RELAY_FEE: u64 = 1;

impl MempoolPolicy {
    /// The least fee of a `size`-byte transaction.
    pub fn min_fee(&self, size: usize) -> u64 {
        self.min_relay_fee.saturating_mul(size as u64)
    }
}

/// The pool.
#[derive(Debug, Clone)]
pub struct Mempool {
    entries: HashMap<Txid, PendingTransaction>,
    /// Per sender: nonce → txid, a gap-free run starting at the account nonce.
    by_sender: HashMap<Address, BTreeMap<u64, Txid>>,
    /// (fee, Reverse order of arrival via txid tie-break) for eviction and listing.
    by_fee: BTreeSet<(u64, Txid)>,
    policy: MempoolPolicy,
    /// Sum of encoded sizes, kept as entries come and go.
    bytes: usize,
}

impl Mempool {
    /// An empty pool holding at most `max_size` transactions, with no
    /// minimum relay fee (a replacement still pays more than the fee it
    /// replaces).
    pub fn new(max_size: usize) -> Self {
        Self::with_policy(MempoolPolicy {
            max_transactions: max_size,
            min_relay_fee: 0,
        })
    }

    /// An empty pool admitting what `policy` allows.
    pub fn with_policy(policy: MempoolPolicy) -> Self {
        Self {
            entries: HashMap::new(),
            by_sender: HashMap::new(),
            by_fee: BTreeSet::new(),
            policy: MempoolPolicy {
                max_transactions: policy.max_transactions.max(1),
                ..policy
            },
            bytes: 0,
        }
    }

    /// Number of pending transactions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A pending transaction by id.
    pub fn get(&self, txid: &Txid) -> Option<&PendingTransaction> {
        self.entries.get(txid)
    }

    /// Sum of encoded sizes, for metrics.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Pending transactions, highest fee first.
    pub fn by_fee_descending(&self) -> impl Iterator<Item = &PendingTransaction> {
        self.by_fee
            .iter()
            .rev()
            .filter_map(|(_, txid)| self.entries.get(txid))
    }

    /// Pending transactions from `sender`, in nonce order.
    pub fn from_sender(&self, sender: &Address) -> impl Iterator<Item = &PendingTransaction> {
        self.by_sender
            .get(sender)
            .into_iter()
            .flat_map(|queue| queue.values())
            .filter_map(|txid| self.entries.get(txid))
    }

    /// The nonce the sender's next transaction must carry.
    pub fn next_nonce(&self, state: &StateTree, sender: &Address) -> u64 {
        let account_nonce = state.get(sender).map_or(0, |account| account.nonce);
        self.by_sender
            .get(sender)
            .and_then(|queue| queue.keys().next_back())
            .map_or(account_nonce, |last| last + 1)
    }

    /// Amount + fee of every pending transaction from `sender`, except `skip`.
    pub fn pending_spend(&self, sender: &Address, skip: Option<u64>) -> u128 {
        self.from_sender(sender)
            .filter(|entry| Some(entry.transaction.nonce) != skip)
            .map(|entry| {
                u128::from(entry.transaction.amount.0) + u128::from(entry.transaction.fee.0)
            })
            .sum()
    }

    /// Checks `transaction` (signature already verified) against `state` and
    /// the pool, without changing anything.
    pub fn check(
        &self,
        state: &StateTree,
        transaction: &Transaction,
        txid: &Txid,
    ) -> Result<Admission, MempoolError> {
        let Some(sender) = transaction.sender_address() else {
            return Err(MempoolError::Coinbase);
        };
        if self.entries.contains_key(txid) {
            return Err(MempoolError::AlreadyKnown(*txid));
        }
        let size = transaction.encoded_len();
        let minimum = self.policy.min_fee(size);
        if transaction.fee.0 < minimum {
            return Err(MempoolError::FeeTooLow {
                fee: transaction.fee.0,
                minimum,
                size,
            });
        }
        let account = state.get(&sender).unwrap_or_default();
        let next = self.next_nonce(state, &sender);
        let nonce = transaction.nonce;
        let mut admission = Admission::default();
        if nonce < account.nonce {
            return Err(MempoolError::NonceTooLow {
                expected: next,
                got: nonce,
            });
        }
        if nonce > next {
            return Err(MempoolError::NonceGap {
                expected: next,
                got: nonce,
            });
        }
        let replaced = (nonce < next).then(|| self.by_sender[&sender][&nonce]);
        if let Some(old) = replaced {
            // The replacement pays for its own relay on top of what it
            // replaces: replacing costs at least that each time.
            let old_fee = self.entries[&old].transaction.fee.0;
            let minimum = old_fee.saturating_add(minimum.max(1));
            if transaction.fee.0 < minimum {
                return Err(MempoolError::ReplacementUnderpriced { nonce, minimum });
            }
        }
        let needed = u128::from(transaction.amount.0) + u128::from(transaction.fee.0);
        let available = u128::from(account.balance.0)
            .saturating_sub(self.pending_spend(&sender, replaced.map(|_| nonce)));
        if needed > available {
            return Err(MempoolError::InsufficientFunds {
                available: u64::try_from(available).unwrap_or(u64::MAX),
                needed: u64::try_from(needed).unwrap_or(u64::MAX),
            });
        }
        if let Some(old) = replaced {
            // The replaced transaction and every later one of the sender go:
            // the later ones were checked against the old spend.
            admission.removed.push(old);
            admission.removed.extend(
                self.by_sender[&sender]
                    .range(nonce + 1..)
                    .map(|(_, txid)| *txid),
            );
        } else if self.entries.len() >= self.policy.max_transactions {
            let &(lowest, victim) = self.by_fee.iter().next().expect("a full pool is not empty");
            if transaction.fee.0 <= lowest {
                return Err(MempoolError::Full {
                    fee: transaction.fee.0,
                    lowest,
                });
            }
            let victim_entry = &self.entries[&victim];
            admission.removed.extend(
                self.by_sender[&victim_entry.sender]
                    .range(victim_entry.transaction.nonce..)
                    .map(|(_, txid)| *txid),
            );
        }
        Ok(admission)
    }

    /// Adds a checked transaction, applying its admission; returns the
    /// pending transactions it displaced.
    pub fn insert(
        &mut self,
        transaction: Transaction,
        txid: Txid,
        accepted_ms: u64,
        admission: &Admission,
    ) -> Vec<PendingTransaction> {
        let displaced = admission
            .removed
            .iter()
            .filter_map(|removed| self.remove(removed))
            .collect();
        let sender = transaction
            .sender_address()
            .expect("checked: not a coinbase");
        self.bytes += transaction.encoded_len();
        self.by_fee.insert((transaction.fee.0, txid));
        self.by_sender
            .entry(sender)
            .or_default()
            .insert(transaction.nonce, txid);
        self.entries.insert(
            txid,
            PendingTransaction {
                transaction,
                txid,
                sender,
                accepted_ms,
            },
        );
        displaced
    }

    /// Removes one transaction (mined, replaced, evicted), if pending.
    pub fn remove(&mut self, txid: &Txid) -> Option<PendingTransaction> {
        let entry = self.entries.remove(txid)?;
        self.bytes -= entry.transaction.encoded_len();
        self.by_fee.remove(&(entry.transaction.fee.0, *txid));
        if let Some(queue) = self.by_sender.get_mut(&entry.sender) {
            queue.remove(&entry.transaction.nonce);
            if queue.is_empty() {
                self.by_sender.remove(&entry.sender);
            }
        }
        Some(entry)
    }

    /// After the state changed (a new tip): drops what is no longer valid in
    /// sequence (nonce used, gap, funds) and returns what was dropped.
    pub fn revalidate(&mut self, state: &StateTree) -> Vec<Txid> {
        let mut dropped = Vec::new();
        let senders: Vec<Address> = self.by_sender.keys().copied().collect();
        for sender in senders {
            let account = state.get(&sender).unwrap_or_default();
            let mut expected = account.nonce;
            let mut balance = u128::from(account.balance.0);
            let queue: Vec<(u64, Txid)> = self.by_sender[&sender]
                .iter()
                .map(|(nonce, txid)| (*nonce, *txid))
                .collect();
            let mut broken = false;
            for (nonce, txid) in queue {
                let transaction = &self.entries[&txid].transaction;
                let needed = u128::from(transaction.amount.0) + u128::from(transaction.fee.0);
                if !broken && nonce == expected && needed <= balance {
                    expected += 1;
                    balance -= needed;
                } else {
                    broken = nonce >= expected;
                    dropped.push(txid);
                }
            }
        }
        for txid in &dropped {
            self.remove(txid);
        }
        dropped
    }

    /// Transactions for a block: highest fee first among each sender's next
    /// transaction, in nonce order per sender, within `max_bytes`.
    pub fn select(&self, max_bytes: usize) -> Vec<Transaction> {
        let mut heads: BTreeSet<(u64, Txid)> = BTreeSet::new();
        let mut cursors: HashMap<Address, std::collections::btree_map::Values<'_, u64, Txid>> =
            HashMap::new();
        for (sender, queue) in &self.by_sender {
            let mut cursor = queue.values();
            if let Some(txid) = cursor.next() {
                heads.insert((self.entries[txid].transaction.fee.0, *txid));
                cursors.insert(*sender, cursor);
            }
        }
        let mut selected = Vec::new();
        let mut size = 0usize;
        while let Some((fee, txid)) = heads.pop_last() {
            let _ = fee;
            let entry = &self.entries[&txid];
            let len = entry.transaction.encoded_len();
            if size + len > max_bytes {
                // A sender's later transactions depend on this one: skip the sender.
                continue;
            }
            size += len;
            selected.push(entry.transaction.clone());
            if let Some(next) = cursors.get_mut(&entry.sender).and_then(Iterator::next) {
                heads.insert((self.entries[next].transaction.fee.0, *next));
            }
        }
        selected
    }

    /// Total fees of a selection.
    pub fn fees(transactions: &[Transaction]) -> Amount {
        Amount(
            transactions
                .iter()
                .map(|tx| tx.fee.0)
                .fold(0u64, u64::saturating_add),
        )
    }
}

#[cfg(test)]
mod tests;
