//! Every block rule, each rejected for its own reason.

use blockchain_core::crypto::{PublicKeyError, RustCryptoVerifier};
use blockchain_core::header::HeaderError;
use blockchain_core::pow::CompactBits;
use blockchain_core::state::undo_block;
use blockchain_core::transaction::TxError;
use blockchain_core::validation::{BlockError, CheckedBlock, check_block, connect_block};
use blockchain_core::{Address, Amount, Block, BlockHash, MerkleHash, Transaction};

use crate::support::{Builder, address, data, hex_bytes, mine, signed, unmine};

const REWARD: u64 = 5_000_000_000;

fn check(builder: &Builder, block: Block) -> Result<CheckedBlock, BlockError> {
    check_block(builder.params, block, &RustCryptoVerifier)
}

fn validate(builder: &mut Builder, block: Block) -> Result<(), BlockError> {
    let checked = check(builder, block)?;
    connect_block(
        builder.params,
        &mut builder.state,
        &checked,
        &builder.parent,
    )
    .map(drop)
}

/// A builder whose key 0 holds one block reward.
fn funded() -> Builder {
    let mut builder = Builder::new();
    let block = builder.block(address(0), vec![]);
    let checked = check(&builder, block).expect("valid");
    connect_block(
        builder.params,
        &mut builder.state,
        &checked,
        &builder.parent,
    )
    .expect("connects");
    builder.advance(&checked.block().header);
    builder
}

/// Re-mines a block after a change, keeping the header's claims.
fn remine(mut block: Block) -> Block {
    block.header.nonce = 0;
    mine(block)
}

/// Recomputes the merkle root after a change to the transactions, then re-mines.
fn reroot(mut block: Block) -> Block {
    block.header.merkle_root = block.compute_merkle_root();
    remine(block)
}

#[test]
fn valid_blocks_connect_and_undo_restores_the_state() {
    let mut builder = funded();
    let root_before = builder.state.root();
    let block = builder.block(
        address(1),
        vec![signed(0, address(1), 1_000_000_000, 1000, 0)],
    );
    let checked = check(&builder, block).expect("valid");
    let undo = connect_block(
        builder.params,
        &mut builder.state,
        &checked,
        &builder.parent,
    )
    .expect("connects");
    assert_eq!(
        builder.state.get(&address(0)).expect("exists").balance,
        Amount(REWARD - 1_000_000_000 - 1000)
    );
    assert_eq!(
        builder.state.get(&address(1)).expect("exists").balance,
        Amount(REWARD + 1000 + 1_000_000_000)
    );
    undo_block(&mut builder.state, &undo);
    assert_eq!(builder.state.root(), root_before);
    assert_eq!(builder.state.get(&address(1)), None);
}

#[test]
fn bad_proof_of_work_is_rejected() {
    let builder = Builder::new();
    let block = unmine(builder.block(address(0), vec![]));
    let hash = block.hash();
    assert_eq!(
        check(&builder, block).map(drop),
        Err(BlockError::Header(HeaderError::InsufficientProofOfWork {
            hash,
            bits: CompactBits(0x207f_ffff)
        }))
    );
}

#[test]
fn wrong_bits_are_rejected() {
    let mut builder = Builder::new();
    let mut block = builder.block(address(0), vec![]);
    block.header.bits = CompactBits(0x2000_ffff);
    let block = remine(block);
    assert_eq!(
        validate(&mut builder, block),
        Err(BlockError::Header(HeaderError::WrongBits {
            expected: CompactBits(0x207f_ffff),
            got: CompactBits(0x2000_ffff)
        }))
    );
}

#[test]
fn wrong_height_is_rejected() {
    let mut builder = Builder::new();
    let mut block = builder.block(address(0), vec![]);
    block.header.height = 5;
    block.transactions[0].nonce = 5;
    let block = reroot(block);
    assert_eq!(
        validate(&mut builder, block),
        Err(BlockError::Header(HeaderError::WrongHeight {
            expected: 1,
            got: 5
        }))
    );
}

#[test]
fn wrong_prev_hash_is_rejected() {
    let mut builder = Builder::new();
    let mut block = builder.block(address(0), vec![]);
    block.header.prev_hash = BlockHash([9; 32]);
    let expected = builder.parent.hash;
    let block = remine(block);
    assert_eq!(
        validate(&mut builder, block),
        Err(BlockError::Header(HeaderError::WrongPrevHash {
            expected,
            got: BlockHash([9; 32])
        }))
    );
}

#[test]
fn time_not_after_median_time_past_is_rejected() {
    let mut builder = funded();
    let mut block = builder.block(address(0), vec![]);
    let median_time_past = builder.parent.median_time_past;
    block.header.time = median_time_past;
    block.transactions[0].time = median_time_past;
    let block = reroot(block);
    assert_eq!(
        validate(&mut builder, block),
        Err(BlockError::Header(
            HeaderError::TimeNotAfterMedianTimePast {
                time: median_time_past,
                median_time_past
            }
        ))
    );
}

#[test]
fn bad_merkle_root_is_rejected() {
    let builder = Builder::new();
    let mut block = builder.block(address(0), vec![]);
    let expected = block.header.merkle_root;
    block.header.merkle_root = MerkleHash([1; 32]);
    let block = remine(block);
    assert_eq!(
        check(&builder, block).map(drop),
        Err(BlockError::BadMerkleRoot {
            expected,
            got: MerkleHash([1; 32])
        })
    );
}

#[test]
fn wrong_state_root_is_rejected_and_leaves_the_state_alone() {
    let mut builder = funded();
    let root_before = builder.state.root();
    let mut block = builder.block(address(1), vec![signed(0, address(1), 5, 0, 0)]);
    let expected = block.header.state_root;
    block.header.state_root = MerkleHash([2; 32]);
    let block = remine(block);
    assert_eq!(
        validate(&mut builder, block),
        Err(BlockError::BadStateRoot {
            expected,
            got: MerkleHash([2; 32])
        })
    );
    assert_eq!(builder.state.root(), root_before);
}

#[test]
fn missing_coinbase_is_rejected() {
    let builder = funded();
    let mut block = builder.block(address(0), vec![signed(0, address(1), 5, 0, 0)]);
    block.transactions.remove(0);
    let block = reroot(block);
    assert_eq!(
        check(&builder, block).map(drop),
        Err(BlockError::MissingCoinbase)
    );
    let mut empty = builder.block(address(0), vec![]);
    empty.transactions.clear();
    assert_eq!(
        check(&builder, reroot(empty)).map(drop),
        Err(BlockError::MissingCoinbase)
    );
}

#[test]
fn second_coinbase_is_rejected() {
    let builder = Builder::new();
    let mut block = builder.block(address(0), vec![]);
    let second = Transaction::coinbase(address(1), Amount(1), 1, block.header.time);
    block.transactions.push(second);
    assert_eq!(
        check(&builder, reroot(block)).map(drop),
        Err(BlockError::ExtraCoinbase { index: 1 })
    );
}

#[test]
fn wrong_coinbase_amount_is_rejected() {
    let mut builder = Builder::new();
    let mut block = builder.block(address(0), vec![]);
    block.transactions[0].amount = Amount(REWARD + 1);
    assert_eq!(
        validate(&mut builder, reroot(block)),
        Err(BlockError::WrongCoinbaseAmount {
            expected: Amount(REWARD),
            got: Amount(REWARD + 1)
        })
    );
}

#[test]
fn coinbase_with_wrong_nonce_or_time_is_rejected() {
    let mut builder = Builder::new();
    let mut block = builder.block(address(0), vec![]);
    block.transactions[0].nonce = 0;
    assert_eq!(
        validate(&mut builder, reroot(block)),
        Err(BlockError::BadCoinbaseFields)
    );
    let mut block = builder.block(address(0), vec![]);
    block.transactions[0].time += 1;
    assert_eq!(
        validate(&mut builder, reroot(block)),
        Err(BlockError::BadCoinbaseFields)
    );
}

#[test]
fn oversize_block_is_rejected() {
    let builder = funded();
    let tx = signed(0, address(1), 5, 0, 0);
    let copies = 1_000_000 / tx.encoded_len() + 1;
    let block = builder.block(address(0), vec![tx; copies]);
    let size = block.encoded_len();
    assert!(size > 1_000_000);
    assert_eq!(
        check(&builder, block).map(drop),
        Err(BlockError::TooLarge {
            size,
            max: 1_000_000
        })
    );
}

fn assert_tx_error(builder: &mut Builder, block: Block, index: usize, error: TxError) {
    let txid = block.transactions[index].txid();
    assert_eq!(
        validate(builder, block),
        Err(BlockError::Transaction { index, txid, error })
    );
}

#[test]
fn bad_signature_is_rejected() {
    let mut builder = funded();
    let mut tx = signed(0, address(1), 5, 0, 0);
    tx.signature[100] ^= 1;
    let block = builder.block(address(0), vec![tx]);
    assert_tx_error(&mut builder, block, 1, TxError::BadSignature);
}

#[test]
fn signature_for_another_network_is_rejected() {
    let mut builder = funded();
    let tx = Transaction::new_signed(
        blockchain_core::Network::Devnet.params(),
        &crate::support::keys()[0],
        address(1),
        Amount(5),
        Amount(0),
        0,
        1,
        &mut crate::support::rng(),
    )
    .expect("signs");
    let block = builder.block(address(0), vec![tx]);
    assert_tx_error(&mut builder, block, 1, TxError::BadSignature);
}

#[test]
fn wrong_key_size_and_exponent_are_rejected() {
    let bad_keys = data("rsa.json")["bad_keys"]
        .as_array()
        .expect("bad keys")
        .clone();
    for bad in bad_keys {
        let mut builder = funded();
        let mut tx = signed(0, address(1), 5, 0, 0);
        tx.from = hex_bytes(&bad["spki"]);
        let block = builder.block(address(0), vec![tx]);
        let txid = block.transactions[1].txid();
        let result = validate(&mut builder, block);
        match bad["reason"].as_str().expect("reason") {
            "size" => assert!(
                matches!(&result, Err(BlockError::Transaction { index: 1, txid: id, error: TxError::PublicKey(PublicKeyError::WrongSize { .. }) }) if *id == txid),
                "{result:?}"
            ),
            "exponent" => assert_eq!(
                result,
                Err(BlockError::Transaction {
                    index: 1,
                    txid,
                    error: TxError::PublicKey(PublicKeyError::WrongExponent)
                })
            ),
            other => panic!("unknown reason {other}"),
        }
    }
}

#[test]
fn wrong_nonce_is_rejected() {
    let mut builder = funded();
    let block = builder.block(address(0), vec![signed(0, address(1), 5, 0, 1)]);
    assert_tx_error(
        &mut builder,
        block,
        1,
        TxError::WrongNonce {
            expected: 0,
            got: 1,
        },
    );
}

#[test]
fn overspend_is_rejected() {
    let mut builder = funded();
    let block = builder.block(address(2), vec![signed(0, address(1), REWARD, 1, 0)]);
    assert_tx_error(
        &mut builder,
        block,
        1,
        TxError::Overspend {
            balance: Amount(REWARD),
            needed: Amount(REWARD + 1),
        },
    );
}

#[test]
fn spending_from_an_unknown_account_is_an_overspend() {
    let mut builder = funded();
    let block = builder.block(address(0), vec![signed(2, address(1), 1, 0, 0)]);
    assert_tx_error(
        &mut builder,
        block,
        1,
        TxError::Overspend {
            balance: Amount(0),
            needed: Amount(1),
        },
    );
}

#[test]
fn amount_plus_fee_overflow_is_rejected() {
    let mut builder = funded();
    let block = builder.block(address(0), vec![signed(0, address(1), u64::MAX, 1, 0)]);
    assert_tx_error(&mut builder, block, 1, TxError::AmountOverflow);
}

#[test]
fn fee_sum_overflow_is_rejected() {
    let builder = funded();
    let txs = vec![
        signed(0, address(1), 1, u64::MAX, 0),
        signed(0, address(1), 1, 1, 1),
    ];
    let block = builder.block(address(0), txs);
    assert_eq!(
        check(&builder, block).map(drop),
        Err(BlockError::FeesOverflow)
    );
}

#[test]
fn zero_amount_is_rejected() {
    let mut builder = funded();
    let block = builder.block(address(0), vec![signed(0, address(1), 0, 1, 0)]);
    assert_tx_error(&mut builder, block, 1, TxError::ZeroAmount);
}

#[test]
fn a_coinbase_can_be_spent_in_a_later_transaction_of_the_same_block() {
    let mut builder = Builder::new();
    let block = builder.block(address(0), vec![signed(0, Address([4; 20]), 10, 0, 0)]);
    assert_eq!(validate(&mut builder, block), Ok(()));
    assert_eq!(
        builder
            .state
            .get(&Address([4; 20]))
            .expect("credited")
            .balance,
        Amount(10)
    );
}
