//! Applying a block's transactions to the state, and undoing them.

use alloc::vec::Vec;

use super::tree::{Account, StateTree};
use crate::address::Address;
use crate::amount::Amount;
use crate::encode::{Decode, DecodeError, Encode, Reader, put_length, put_u64};
use crate::transaction::{Transaction, TxError};

/// What a block changed: each touched account's state before the block
/// (None: it did not exist), in the order first touched.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct BlockUndo {
    /// Previous states, in the order first touched.
    pub previous: Vec<(Address, Option<Account>)>,
}

impl BlockUndo {
    fn remember(&mut self, address: Address, before: Option<Account>) {
        if !self.previous.iter().any(|(seen, _)| *seen == address) {
            self.previous.push((address, before));
        }
    }
}

/// Applies `transactions` in order: a coinbase credits its recipient, a
/// signed transaction moves amount + fee from its sender (whose nonce must
/// match) and credits amount. Signatures are not checked here (see
/// [`Transaction::check_signed`]). On error the state is left as it was and
/// the index of the failing transaction is returned.
pub fn apply_transactions(
    state: &mut StateTree,
    transactions: &[Transaction],
) -> Result<BlockUndo, (usize, TxError)> {
    let mut undo = BlockUndo::default();
    for (index, transaction) in transactions.iter().enumerate() {
        if let Err(error) = apply_transaction(state, transaction, &mut undo) {
            undo_block(state, &undo);
            return Err((index, error));
        }
    }
    Ok(undo)
}

fn credit(
    state: &mut StateTree,
    undo: &mut BlockUndo,
    to: Address,
    amount: Amount,
) -> Result<(), TxError> {
    let before = state.get(&to);
    let mut account = before.unwrap_or_default();
    account.balance = account
        .balance
        .checked_add(amount)
        .ok_or(TxError::BalanceOverflow)?;
    undo.remember(to, before);
    state.insert(to, account);
    Ok(())
}

fn apply_transaction(
    state: &mut StateTree,
    transaction: &Transaction,
    undo: &mut BlockUndo,
) -> Result<(), TxError> {
    let Some(sender) = transaction.sender_address() else {
        return credit(state, undo, transaction.to, transaction.amount);
    };
    if transaction.amount == Amount::ZERO {
        return Err(TxError::ZeroAmount);
    }
    let needed = transaction
        .amount
        .checked_add(transaction.fee)
        .ok_or(TxError::AmountOverflow)?;
    let before = state.get(&sender);
    let account = before.unwrap_or_default();
    if transaction.nonce != account.nonce {
        return Err(TxError::WrongNonce {
            expected: account.nonce,
            got: transaction.nonce,
        });
    }
    let balance = account
        .balance
        .checked_sub(needed)
        .ok_or(TxError::Overspend {
            balance: account.balance,
            needed,
        })?;
    let nonce = account.nonce.checked_add(1).ok_or(TxError::NonceOverflow)?;
    // The credit is checked before anything changes, so a failure leaves no trace.
    let recipient_before = if transaction.to == sender {
        Some(Account { balance, nonce })
    } else {
        state.get(&transaction.to)
    };
    recipient_before
        .unwrap_or_default()
        .balance
        .checked_add(transaction.amount)
        .ok_or(TxError::BalanceOverflow)?;
    undo.remember(sender, before);
    state.insert(sender, Account { balance, nonce });
    credit(state, undo, transaction.to, transaction.amount)
}

/// Restores every account a block touched to its state before the block.
pub fn undo_block(state: &mut StateTree, undo: &BlockUndo) {
    for (address, before) in undo.previous.iter().rev() {
        match before {
            Some(account) => {
                state.insert(*address, *account);
            }
            None => {
                state.remove(address);
            }
        }
    }
}

/// Longest undo record the decoder reads: a block touches at most two
/// accounts per transaction, and a transaction is over 800 bytes.
const MAX_UNDO_ENTRIES: usize = 4096;

impl Encode for BlockUndo {
    fn encode_to(&self, out: &mut Vec<u8>) {
        put_length(out, self.previous.len());
        for (address, before) in &self.previous {
            out.extend_from_slice(&address.0);
            match before {
                None => out.push(0),
                Some(account) => {
                    out.push(1);
                    put_u64(out, account.balance.0);
                    put_u64(out, account.nonce);
                }
            }
        }
    }
}

impl Decode for BlockUndo {
    fn decode_from(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let count = reader.length("undo entries", MAX_UNDO_ENTRIES)?;
        let mut previous = Vec::with_capacity(count);
        for _ in 0..count {
            let address = Address(reader.array()?);
            let before = match reader.array::<1>()?[0] {
                0 => None,
                1 => Some(Account {
                    balance: Amount(reader.u64()?),
                    nonce: reader.u64()?,
                }),
                tag => {
                    return Err(DecodeError::NonCanonical {
                        field: "undo entry",
                        value: tag.into(),
                    });
                }
            };
            previous.push((address, before));
        }
        Ok(BlockUndo { previous })
    }
}
