//! Property tests: round trips, decoders never panic, undo restores, proofs verify.

use blockchain_core::merkle::{MerkleProof, merkle_root};
use blockchain_core::state::{Account, StateProof, StateTree, apply_transactions, undo_block};
use blockchain_core::{
    Address, Amount, Block, BlockHash, CompactBits, Decode, Encode, Header, MerkleHash,
    Transaction, Txid,
};
use proptest::prelude::*;

fn header() -> impl Strategy<Value = Header> {
    (
        any::<u64>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<u64>(),
        any::<u32>(),
        any::<u64>(),
    )
        .prop_map(|(height, prev, merkle, state, time, bits, nonce)| Header {
            version: 1,
            height,
            prev_hash: BlockHash(prev),
            merkle_root: MerkleHash(merkle),
            state_root: MerkleHash(state),
            time,
            bits: CompactBits(bits),
            nonce,
        })
}

fn transaction() -> impl Strategy<Value = Transaction> {
    (
        prop_oneof![
            Just(Vec::new()),
            proptest::collection::vec(any::<u8>(), 1..600)
        ],
        any::<[u8; 20]>(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
        any::<u64>(),
    )
        .prop_map(|(from, to, amount, fee, nonce, time)| {
            let signature = if from.is_empty() {
                Vec::new()
            } else {
                vec![0xab; 384]
            };
            Transaction {
                version: 1,
                from,
                to: Address(to),
                amount: Amount(amount),
                fee: Amount(fee),
                nonce,
                time,
                signature,
            }
        })
}

proptest! {
    #[test]
    fn header_round_trips(header in header()) {
        prop_assert_eq!(Header::decode(&header.encode()), Ok(header));
    }

    #[test]
    fn transaction_round_trips(tx in transaction()) {
        let bytes = tx.encode();
        prop_assert_eq!(bytes.len(), tx.encoded_len());
        prop_assert_eq!(Transaction::decode(&bytes), Ok(tx));
    }

    #[test]
    fn block_round_trips(header in header(), txs in proptest::collection::vec(transaction(), 0..5)) {
        let block = Block { header, transactions: txs };
        prop_assert_eq!(Block::decode(&block.encode()), Ok(block));
    }

    #[test]
    fn decoders_never_panic_and_accept_only_canonical_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
        if let Ok(header) = Header::decode(&bytes) { prop_assert_eq!(header.encode(), bytes.clone()); }
        if let Ok(tx) = Transaction::decode(&bytes) { prop_assert_eq!(tx.encode(), bytes.clone()); }
        if let Ok(block) = Block::decode(&bytes) { prop_assert_eq!(block.encode(), bytes.clone()); }
        if let Ok(proof) = StateProof::decode(&bytes) { prop_assert_eq!(proof.encode(), bytes.clone()); }
        if let Ok(proof) = MerkleProof::decode(&bytes) { prop_assert_eq!(proof.encode(), bytes.clone()); }
    }

    #[test]
    fn truncated_encodings_are_rejected(tx in transaction(), cut in any::<prop::sample::Index>()) {
        let bytes = tx.encode();
        let cut = cut.index(bytes.len());
        prop_assert!(Transaction::decode(&bytes[..cut]).is_err());
    }

    #[test]
    fn apply_then_undo_restores_the_state_and_its_root(
        initial in proptest::collection::vec((0u8..16, 0u64..1_000_000, 0u64..4), 0..16),
        credits in proptest::collection::vec((0u8..32, 1u64..1_000_000), 1..20),
    ) {
        let mut state = StateTree::new();
        for (who, balance, nonce) in &initial {
            state.insert(Address([*who; 20]), Account { balance: Amount(*balance), nonce: *nonce });
        }
        let root = state.root();
        let accounts: Vec<(Address, Account)> = state.accounts().into_iter().map(|(a, b)| (*a, *b)).collect();
        let txs: Vec<Transaction> = credits
            .iter()
            .enumerate()
            .map(|(i, (who, amount))| Transaction::coinbase(Address([*who; 20]), Amount(*amount), i as u64, 0))
            .collect();
        let undo = apply_transactions(&mut state, &txs).expect("credits apply");
        undo_block(&mut state, &undo);
        prop_assert_eq!(state.root(), root);
        let after: Vec<(Address, Account)> = state.accounts().into_iter().map(|(a, b)| (*a, *b)).collect();
        prop_assert_eq!(after, accounts);
    }

    #[test]
    fn state_proofs_verify_for_present_and_absent_accounts(
        present in proptest::collection::btree_set(any::<[u8; 20]>(), 0..40),
        absent in proptest::collection::vec(any::<[u8; 20]>(), 1..10),
    ) {
        let mut state = StateTree::new();
        for (i, bytes) in present.iter().enumerate() {
            state.insert(Address(*bytes), Account { balance: Amount(i as u64 + 1), nonce: i as u64 });
        }
        let root = state.root();
        for (i, bytes) in present.iter().enumerate() {
            let proof = state.prove(&Address(*bytes));
            prop_assert_eq!(proof.verify(&Address(*bytes), &root), Ok(Some(Account { balance: Amount(i as u64 + 1), nonce: i as u64 })));
        }
        for bytes in absent.iter().filter(|bytes| !present.contains(*bytes)) {
            let proof = state.prove(&Address(*bytes));
            prop_assert_eq!(proof.verify(&Address(*bytes), &root), Ok(None));
        }
    }

    #[test]
    fn merkle_proofs_verify_for_every_leaf(leaves in proptest::collection::vec(any::<[u8; 32]>(), 1..70), pick in any::<prop::sample::Index>()) {
        let txids: Vec<Txid> = leaves.into_iter().map(Txid).collect();
        let root = merkle_root(&txids);
        let index = pick.index(txids.len());
        let proof = MerkleProof::new(&txids, index).expect("in range");
        prop_assert_eq!(proof.verify(&txids[index], &root), Ok(()));
        prop_assert_eq!(MerkleProof::decode(&proof.encode()), Ok(proof));
    }
}
