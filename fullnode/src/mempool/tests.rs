use blockchain_core::state::Account;

use super::*;

fn tx(sender: u8, nonce: u64, amount: u64, fee: u64) -> Transaction {
    Transaction {
        version: 1,
        from: vec![sender; 422],
        to: Address([0xee; 20]),
        amount: Amount(amount),
        fee: Amount(fee),
        nonce,
        time: 0,
        signature: vec![0; 384],
    }
}

fn state_with(senders: &[(u8, u64, u64)]) -> StateTree {
    let mut state = StateTree::new();
    for &(sender, balance, nonce) in senders {
        let address = tx(sender, 0, 1, 0).sender_address().expect("signed");
        state.insert(
            address,
            Account {
                balance: Amount(balance),
                nonce,
            },
        );
    }
    state
}

fn admit(
    pool: &mut Mempool,
    state: &StateTree,
    transaction: Transaction,
) -> Result<Admission, MempoolError> {
    let txid = transaction.txid();
    let admission = pool.check(state, &transaction, &txid)?;
    pool.insert(transaction, txid, 0, &admission);
    Ok(admission)
}

#[test]
fn nonces_must_follow_the_account_and_pending_sequence() {
    let state = state_with(&[(1, 1000, 5)]);
    let mut pool = Mempool::new(100);
    assert_eq!(
        admit(&mut pool, &state, tx(1, 4, 1, 1)),
        Err(MempoolError::NonceTooLow {
            expected: 5,
            got: 4
        })
    );
    assert_eq!(
        admit(&mut pool, &state, tx(1, 6, 1, 1)),
        Err(MempoolError::NonceGap {
            expected: 5,
            got: 6
        })
    );
    admit(&mut pool, &state, tx(1, 5, 1, 1)).expect("next nonce");
    admit(&mut pool, &state, tx(1, 6, 1, 1)).expect("then the one after");
    assert_eq!(
        pool.next_nonce(&state, &tx(1, 0, 1, 0).sender_address().expect("signed")),
        7
    );
}

#[test]
fn pending_spends_count_against_the_balance() {
    let state = state_with(&[(1, 100, 0)]);
    let mut pool = Mempool::new(100);
    admit(&mut pool, &state, tx(1, 0, 60, 10)).expect("fits");
    assert_eq!(
        admit(&mut pool, &state, tx(1, 1, 30, 1)),
        Err(MempoolError::InsufficientFunds {
            available: 30,
            needed: 31
        })
    );
    let unknown = admit(&mut pool, &state, tx(9, 0, 1, 0));
    assert_eq!(
        unknown,
        Err(MempoolError::InsufficientFunds {
            available: 0,
            needed: 1
        })
    );
}

#[test]
fn duplicates_are_refused_and_replacement_needs_a_higher_fee() {
    let state = state_with(&[(1, 100, 0)]);
    let mut pool = Mempool::new(100);
    let first = tx(1, 0, 10, 5);
    admit(&mut pool, &state, first.clone()).expect("fits");
    assert_eq!(
        admit(&mut pool, &state, first.clone()),
        Err(MempoolError::AlreadyKnown(first.txid()))
    );
    assert_eq!(
        admit(&mut pool, &state, tx(1, 0, 11, 5)),
        Err(MempoolError::ReplacementUnderpriced {
            nonce: 0,
            minimum: 6
        })
    );
    admit(&mut pool, &state, tx(1, 1, 10, 5)).expect("next");
    let admission = admit(&mut pool, &state, tx(1, 0, 10, 6)).expect("replaces");
    assert_eq!(
        admission.removed.len(),
        2,
        "the replaced one and its successor"
    );
    assert_eq!(pool.len(), 1);
}

#[test]
fn a_full_pool_evicts_the_lowest_fee() {
    let state = state_with(&[(1, 100, 0), (2, 100, 0), (3, 100, 0)]);
    let mut pool = Mempool::new(2);
    admit(&mut pool, &state, tx(1, 0, 1, 3)).expect("fits");
    admit(&mut pool, &state, tx(2, 0, 1, 1)).expect("fits");
    assert_eq!(
        admit(&mut pool, &state, tx(3, 0, 1, 1)),
        Err(MempoolError::Full { fee: 1, lowest: 1 })
    );
    let admission = admit(&mut pool, &state, tx(3, 0, 1, 2)).expect("outbids");
    assert_eq!(admission.removed, vec![tx(2, 0, 1, 1).txid()]);
    let fees: Vec<u64> = pool
        .by_fee_descending()
        .map(|entry| entry.transaction.fee.0)
        .collect();
    assert_eq!(fees, vec![3, 2]);
}

#[test]
fn insert_returns_what_it_displaced_and_the_byte_count_follows() {
    let state = state_with(&[(1, 100, 0), (2, 100, 0)]);
    let mut pool = Mempool::new(2);
    let first = tx(1, 0, 1, 1);
    let next = tx(1, 1, 1, 1);
    for transaction in [&first, &next] {
        let txid = transaction.txid();
        let admission = pool.check(&state, transaction, &txid).expect("valid");
        assert!(
            pool.insert(transaction.clone(), txid, 7, &admission)
                .is_empty()
        );
    }
    assert_eq!(pool.bytes(), first.encoded_len() + next.encoded_len());
    // A higher fee from another sender evicts the lowest, with its successor.
    let bidder = tx(2, 0, 1, 5);
    let txid = bidder.txid();
    let admission = pool.check(&state, &bidder, &txid).expect("outbids");
    let displaced: Vec<Txid> = pool
        .insert(bidder.clone(), txid, 8, &admission)
        .iter()
        .map(|entry| entry.txid)
        .collect();
    assert_eq!(displaced, vec![first.txid(), next.txid()]);
    assert_eq!(pool.bytes(), bidder.encoded_len());
    pool.remove(&txid);
    assert_eq!((pool.len(), pool.bytes()), (0, 0));
}

#[test]
fn selection_is_by_fee_and_keeps_each_senders_nonce_order() {
    let state = state_with(&[(1, 1000, 0), (2, 1000, 0)]);
    let mut pool = Mempool::new(100);
    admit(&mut pool, &state, tx(1, 0, 1, 1)).expect("fits");
    admit(&mut pool, &state, tx(1, 1, 1, 50)).expect("fits");
    admit(&mut pool, &state, tx(2, 0, 1, 10)).expect("fits");
    let selected: Vec<(u64, u64)> = pool
        .select(1_000_000)
        .iter()
        .map(|tx| (tx.fee.0, tx.nonce))
        .collect();
    assert_eq!(selected, vec![(10, 0), (1, 0), (50, 1)]);
    assert_eq!(pool.select(900).len(), 1);
}

#[test]
fn revalidation_drops_mined_and_unfunded_transactions() {
    let state = state_with(&[(1, 1000, 0)]);
    let mut pool = Mempool::new(100);
    admit(&mut pool, &state, tx(1, 0, 100, 0)).expect("fits");
    admit(&mut pool, &state, tx(1, 1, 100, 0)).expect("fits");
    admit(&mut pool, &state, tx(1, 2, 100, 0)).expect("fits");
    // Nonce 0 was mined and the balance dropped: nonce 1 still fits, nonce 2 not.
    let after = state_with(&[(1, 150, 1)]);
    let dropped = pool.revalidate(&after);
    assert_eq!(dropped.len(), 2);
    assert_eq!(pool.len(), 1);
}

fn with_min_relay_fee(rate: u64) -> Mempool {
    Mempool::with_policy(MempoolPolicy {
        max_transactions: 100,
        min_relay_fee: rate,
    })
}

/// Every transaction pays at least the minimum relay fee for its size.
#[test]
fn every_transaction_pays_the_minimum_relay_fee_for_its_size() {
    let state = state_with(&[(1, 1_000_000, 0)]);
    let mut pool = with_min_relay_fee(2);
    let size = tx(1, 0, 10, 0).encoded_len();
    assert_eq!(
        admit(&mut pool, &state, tx(1, 0, 10, 2 * size as u64 - 1)),
        Err(MempoolError::FeeTooLow {
            fee: 2 * size as u64 - 1,
            minimum: 2 * size as u64,
            size
        })
    );
    admit(&mut pool, &state, tx(1, 0, 10, 2 * size as u64)).expect("pays enough");
}

/// Replacing a transaction for one unit more, again and again, made the
/// network relay each replacement almost for free. A replacement now pays
/// the fee it replaces plus the minimum relay fee for its own bytes.
#[test]
fn a_replacement_pays_for_its_own_bytes_over_the_fee_it_replaces() {
    let state = state_with(&[(1, 1_000_000, 0)]);
    let mut pool = with_min_relay_fee(1);
    let size = tx(1, 0, 10, 0).encoded_len() as u64;
    let first = 1_000;
    admit(&mut pool, &state, tx(1, 0, 10, first)).expect("fits");
    assert_eq!(
        admit(&mut pool, &state, tx(1, 0, 11, first + 1)),
        Err(MempoolError::ReplacementUnderpriced {
            nonce: 0,
            minimum: first + size
        }),
        "one unit more is not enough"
    );
    assert_eq!(
        admit(&mut pool, &state, tx(1, 0, 11, first + size - 1)).map(drop),
        Err(MempoolError::ReplacementUnderpriced {
            nonce: 0,
            minimum: first + size
        })
    );
    admit(&mut pool, &state, tx(1, 0, 11, first + size)).expect("replaces");
    assert_eq!(pool.len(), 1);
}
