//! Light-client checks: a block against its header, transaction and
//! account proofs against verified headers; each forgery refused for its
//! own reason.

use std::sync::OnceLock;

use blockchain_core::crypto::RustCryptoVerifier;
use blockchain_core::header_chain::HeaderChain;
use blockchain_core::light::{
    ProofError, check_account_proof, check_block_against_header,
    check_block_and_signatures_against_header, check_transaction_proof,
};
use blockchain_core::merkle::{MerkleProof, MerkleProofError};
use blockchain_core::params::REGTEST;
use blockchain_core::state::proof::ProofEnd;
use blockchain_core::state::{Account, StateProof, StateProofError, StateTree};
use blockchain_core::sync_message::TransactionProof;
use blockchain_core::transaction::TxError;
use blockchain_core::validation::{BlockError, check_block, connect_block};
use blockchain_core::{Address, Amount, Block, BlockHash, Header, MerkleHash, Txid};
use proptest::prelude::*;

use crate::support::{Builder, address, mine, signed};

const FAR_FUTURE: u64 = u64::MAX / 2;

/// Two connected regtest blocks (the second with three signed
/// transactions), their verified headers, and the state after them.
struct Chain {
    blocks: Vec<Block>,
    headers: HeaderChain,
    state: StateTree,
    /// A valid child of block 1 that lost to block 2 (verified, off the best chain).
    stale: Block,
}

fn chain() -> &'static Chain {
    static CHAIN: OnceLock<Chain> = OnceLock::new();
    CHAIN.get_or_init(|| {
        let mut builder = Builder::new();
        let mut blocks = Vec::new();
        let mut stale = None;
        for transactions in [
            vec![],
            vec![
                signed(0, address(1), 1_000_000, 10, 0),
                signed(0, address(2), 2_000_000, 20, 1),
                signed(0, address(1), 3_000_000, 30, 2),
            ],
        ] {
            let block = builder.block(address(0), transactions);
            if !blocks.is_empty() {
                stale = Some(builder.block(address(2), vec![]));
            }
            let checked = check_block(&REGTEST, block, &RustCryptoVerifier).expect("valid");
            connect_block(&REGTEST, &mut builder.state, &checked, &builder.parent)
                .expect("connects");
            builder.advance(&checked.block().header);
            blocks.push(checked.into_block());
        }
        let stale = stale.expect("a sibling of block 2");
        let mut headers = HeaderChain::new(&REGTEST);
        let all: Vec<Header> = blocks.iter().map(|block| block.header).collect();
        headers.accept_headers(&all, FAR_FUTURE).expect("valid");
        // Same work as block 2, seen later: verified, but not best.
        headers
            .accept_headers(&[stale.header], FAR_FUTURE)
            .expect("valid");
        assert!(!headers.is_on_best_chain(&stale.hash()));
        Chain {
            blocks,
            headers,
            state: builder.state,
            stale,
        }
    })
}

fn on_best_chain(hash: &BlockHash) -> bool {
    chain().headers.is_on_best_chain(hash)
}

fn is_tip(hash: &BlockHash) -> bool {
    *hash == chain().headers.tip_hash()
}

/// The block with 4 transactions.
fn full_block() -> &'static Block {
    &chain().blocks[1]
}

fn transaction_proof(block: &Block, index: usize) -> TransactionProof {
    TransactionProof {
        transaction: block.transactions[index].clone(),
        header: block.header,
        proof: MerkleProof::new(&block.txids(), index).expect("in range"),
    }
}

fn account_proof(address: &Address) -> StateProof {
    chain().state.clone().prove(address)
}

#[test]
fn a_block_matching_its_header_passes() {
    for block in &chain().blocks {
        assert_eq!(
            check_block_against_header(&REGTEST, block, &block.hash()),
            Ok(())
        );
        assert_eq!(
            check_block_and_signatures_against_header(
                &REGTEST,
                block,
                &block.hash(),
                &RustCryptoVerifier
            ),
            Ok(())
        );
    }
    let genesis = REGTEST.genesis_block();
    assert_eq!(
        check_block_against_header(&REGTEST, &genesis, &REGTEST.genesis_hash()),
        Ok(()),
        "genesis has no coinbase"
    );
}

#[test]
fn a_block_for_another_header_is_refused() {
    let [first, second] = &chain().blocks[..] else {
        panic!("two blocks")
    };
    assert_eq!(
        check_block_against_header(&REGTEST, first, &second.hash()),
        Err(ProofError::HeaderMismatch {
            expected: second.hash(),
            got: first.hash(),
        })
    );
}

#[test]
fn transactions_that_do_not_match_the_merkle_root_are_refused() {
    let block = full_block();
    let mut dropped = block.clone();
    dropped.transactions.pop();
    let mut swapped = block.clone();
    swapped.transactions.swap(1, 2);
    let mut replaced = block.clone();
    replaced.transactions[3] = chain().blocks[0].transactions[0].clone();
    for forged in [dropped, swapped, replaced] {
        assert_eq!(forged.hash(), block.hash(), "the header is the real one");
        assert_eq!(
            check_block_against_header(&REGTEST, &forged, &block.hash()),
            Err(ProofError::MerkleRootMismatch {
                header: block.header.merkle_root,
                computed: forged.compute_merkle_root(),
            })
        );
    }
}

#[test]
fn a_block_breaking_a_structure_rule_is_refused() {
    // Coinbase second: the header commits to these transactions, mined.
    let mut block = full_block().clone();
    block.transactions.swap(0, 1);
    block.header.merkle_root = block.compute_merkle_root();
    block.header.nonce = 0;
    let block = mine(block);
    assert_eq!(
        check_block_against_header(&REGTEST, &block, &block.hash()),
        Err(ProofError::InvalidBlock(BlockError::MissingCoinbase))
    );
}

#[test]
fn a_forged_signature_is_refused_only_when_signatures_are_checked() {
    // The txid leaves the signature out: the block still matches its header.
    let mut forged = full_block().clone();
    forged.transactions[2].signature[0] ^= 1;
    let hash = full_block().hash();
    assert_eq!(check_block_against_header(&REGTEST, &forged, &hash), Ok(()));
    assert_eq!(
        check_block_and_signatures_against_header(&REGTEST, &forged, &hash, &RustCryptoVerifier),
        Err(ProofError::InvalidBlock(BlockError::Transaction {
            index: 2,
            txid: forged.transactions[2].txid(),
            error: TxError::BadSignature,
        }))
    );
}

#[test]
fn every_transaction_of_a_best_chain_block_is_proven() {
    for block in &chain().blocks {
        for (index, transaction) in block.transactions.iter().enumerate() {
            let proof = transaction_proof(block, index);
            assert_eq!(
                check_transaction_proof(&proof, &transaction.txid(), on_best_chain),
                Ok(()),
                "transaction {index} of block {}",
                block.header.height
            );
        }
    }
}

#[test]
fn a_proof_for_another_transaction_is_refused() {
    let block = full_block();
    let proof = transaction_proof(block, 2);
    let asked = block.transactions[1].txid();
    assert_eq!(
        check_transaction_proof(&proof, &asked, on_best_chain),
        Err(ProofError::WrongTransaction {
            expected: asked,
            got: block.transactions[2].txid(),
        })
    );
}

#[test]
fn a_transaction_not_under_the_headers_merkle_root_is_refused() {
    // Block 1's coinbase, passed off as being in block 2 at its coinbase's place.
    let mut proof = transaction_proof(full_block(), 0);
    proof.transaction = chain().blocks[0].transactions[0].clone();
    let txid = proof.transaction.txid();
    assert!(matches!(
        check_transaction_proof(&proof, &txid, on_best_chain),
        Err(ProofError::BadInclusionProof(
            MerkleProofError::RootMismatch { .. }
        ))
    ));
    let mut truncated = transaction_proof(full_block(), 3);
    truncated.proof.path.pop();
    assert_eq!(
        check_transaction_proof(
            &truncated,
            &full_block().transactions[3].txid(),
            on_best_chain
        ),
        Err(ProofError::BadInclusionProof(
            MerkleProofError::WrongPathLength
        ))
    );
}

#[test]
fn a_transaction_proof_under_a_header_off_the_verified_best_chain_is_refused() {
    // A verified header that lost to another.
    let stale = &chain().stale;
    let proof = transaction_proof(stale, 0);
    assert_eq!(
        check_transaction_proof(&proof, &stale.transactions[0].txid(), on_best_chain),
        Err(ProofError::UntrustedHeader { hash: stale.hash() })
    );
    // A header made up for a transaction that is in no block.
    let transaction = signed(1, address(2), 5, 1, 0);
    let mut header = full_block().header;
    header.merkle_root = blockchain_core::merkle::merkle_root(&[transaction.txid()]);
    let forged = TransactionProof {
        transaction: transaction.clone(),
        header,
        proof: MerkleProof::new(&[transaction.txid()], 0).expect("in range"),
    };
    assert_eq!(
        check_transaction_proof(&forged, &transaction.txid(), on_best_chain),
        Err(ProofError::UntrustedHeader {
            hash: header.hash()
        })
    );
}

#[test]
fn accounts_are_proven_at_the_tip() {
    let tip = &full_block().header;
    for key in 0..3 {
        let address = address(key);
        let expected = chain().state.get(&address);
        assert!(expected.is_some(), "account {key} exists");
        assert_eq!(
            check_account_proof(tip, &account_proof(&address), &address, is_tip),
            Ok(expected)
        );
    }
    let absent = Address([0xab; 20]);
    assert_eq!(
        check_account_proof(tip, &account_proof(&absent), &absent, is_tip),
        Ok(None)
    );
}

#[test]
fn a_proof_for_another_account_is_refused() {
    let tip = &full_block().header;
    let proof = account_proof(&address(1));
    assert_eq!(
        check_account_proof(tip, &proof, &address(0), is_tip),
        Err(ProofError::WrongAccount)
    );
}

#[test]
fn a_forged_balance_is_refused() {
    let tip = &full_block().header;
    let address = address(1);
    let mut proof = account_proof(&address);
    let ProofEnd::Leaf { account, .. } = &mut proof.end else {
        panic!("an existing account's proof ends in its leaf")
    };
    *account = Account {
        balance: Amount(account.balance.0 * 2),
        ..*account
    };
    assert!(matches!(
        check_account_proof(tip, &proof, &address, is_tip),
        Err(ProofError::BadStateProof(
            StateProofError::RootMismatch { .. }
        ))
    ));
}

#[test]
fn an_account_proof_at_a_header_the_caller_does_not_trust_is_refused() {
    let address = address(0);
    let proof = account_proof(&address);
    // Block 1 is on the best chain but not the tip the caller asked for.
    let older = &chain().blocks[0].header;
    assert_eq!(
        check_account_proof(older, &proof, &address, is_tip),
        Err(ProofError::UntrustedHeader { hash: older.hash() })
    );
    // A header claiming the forged state's root is no verified header.
    let mut forged = full_block().header;
    forged.state_root = MerkleHash([7; 32]);
    assert_eq!(
        check_account_proof(&forged, &proof, &address, on_best_chain),
        Err(ProofError::UntrustedHeader {
            hash: forged.hash()
        })
    );
    let stale = &chain().stale.header;
    assert_eq!(
        check_account_proof(stale, &proof, &address, on_best_chain),
        Err(ProofError::UntrustedHeader { hash: stale.hash() })
    );
}

#[test]
fn error_messages_are_lower_case() {
    let hash = BlockHash([1; 32]);
    for error in [
        ProofError::HeaderMismatch {
            expected: hash,
            got: hash,
        },
        ProofError::MerkleRootMismatch {
            header: MerkleHash::ZERO,
            computed: MerkleHash::ZERO,
        },
        ProofError::InvalidBlock(BlockError::MissingCoinbase),
        ProofError::WrongTransaction {
            expected: Txid([0; 32]),
            got: Txid([1; 32]),
        },
        ProofError::UntrustedHeader { hash },
        ProofError::BadInclusionProof(MerkleProofError::WrongPathLength),
        ProofError::WrongAccount,
        ProofError::BadStateProof(StateProofError::Malformed),
    ] {
        let text = error.to_string();
        assert!(text.starts_with(|c: char| c.is_ascii_lowercase()), "{text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any proof, however malformed, gets an answer.
    #[test]
    fn arbitrary_proofs_are_answered_without_panics(
        index in any::<u32>(),
        tree_size in any::<u32>(),
        path in proptest::collection::vec(any::<[u8; 32]>(), 0..40),
        depth in any::<u16>(),
        bitmap in any::<[u8; 32]>(),
        siblings in proptest::collection::vec(any::<[u8; 32]>(), 0..300),
        leaf in proptest::option::of((any::<[u8; 32]>(), any::<u64>(), any::<u64>())),
    ) {
        let block = full_block();
        let mut proof = transaction_proof(block, 1);
        proof.proof = MerkleProof {
            index,
            tree_size,
            path: path.into_iter().map(MerkleHash).collect(),
        };
        let txid = proof.transaction.txid();
        let _ = check_transaction_proof(&proof, &txid, on_best_chain);
        let state = StateProof {
            depth,
            bitmap,
            siblings: siblings.into_iter().map(MerkleHash).collect(),
            end: leaf.map_or(ProofEnd::Empty, |(key, balance, nonce)| ProofEnd::Leaf {
                key,
                account: Account { balance: Amount(balance), nonce },
            }),
        };
        let _ = check_account_proof(&block.header, &state, &address(0), is_tip);
    }
}
