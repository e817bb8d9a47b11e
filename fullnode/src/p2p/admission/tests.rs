use blockchain_core::hash::MerkleHash;
use blockchain_core::header::check_proof_of_work;
use blockchain_core::header_chain::HeaderChain;
use blockchain_core::params::REGTEST;
use blockchain_core::transaction::TxError;
use blockchain_core::{Amount, Encode, Header};

use super::*;
use crate::p2p::orphans::ORPHAN_TTL_MS;
use crate::p2p::verify_queue::QUEUED_PER_PEER;

fn transaction(key: u8, nonce: u64) -> Transaction {
    Transaction {
        version: Transaction::VERSION,
        from: vec![key; 8],
        to: Address::default(),
        amount: Amount(1),
        fee: Amount(0),
        nonce,
        time: 0,
        signature: vec![7; 384],
    }
}

fn message(n: u32) -> MessageId {
    MessageId::new(&n.to_be_bytes())
}

fn gossip(peer: PeerId, n: u32) -> Source {
    Source::Gossip {
        peer,
        message_id: message(n),
    }
}

fn validate(peer: PeerId, n: u32, acceptance: MessageAcceptance) -> Action {
    Action::Validate {
        peer,
        message_id: message(n),
        acceptance,
    }
}

fn actions(admission: &mut Admission) -> Vec<Action> {
    std::iter::from_fn(|| admission.poll_action()).collect()
}

/// Receives message `n` carrying `tx` from `peer` and hands it to a worker.
fn receive(
    admission: &mut Admission,
    peer: PeerId,
    n: u32,
    tx: &Transaction,
    now: u64,
) -> ToVerify {
    admission.transaction_gossip(peer, message(n), &tx.encode(), now);
    admission.next_to_verify().expect("queued for a worker")
}

fn gap(tx: &Transaction, since_ms: u64) -> TxVerdict {
    TxVerdict::Gap {
        transaction: Box::new(tx.clone()),
        since_ms,
    }
}

#[test]
fn an_accepted_transaction_is_forwarded() {
    let (mut admission, peer) = (Admission::default(), PeerId::random());
    let queued = receive(&mut admission, peer, 1, &transaction(1, 0), 5);
    assert_eq!(queued.since_ms, 5);
    assert_eq!(queued.transaction, transaction(1, 0));
    assert!(
        actions(&mut admission).is_empty(),
        "no verdict before the worker's"
    );
    admission.verdict(queued.source, TxVerdict::Accepted);
    assert_eq!(
        actions(&mut admission),
        vec![validate(peer, 1, MessageAcceptance::Accept)]
    );
}

#[test]
fn garbage_is_rejected_and_its_sender_penalized() {
    let (mut admission, peer) = (Admission::default(), PeerId::random());
    admission.transaction_gossip(peer, message(1), b"not a transaction", 0);
    assert!(admission.next_to_verify().is_none());
    assert_eq!(
        actions(&mut admission),
        vec![
            validate(peer, 1, MessageAcceptance::Reject),
            Action::Penalize(peer, Misbehaviour::Garbage),
        ]
    );
}

#[test]
fn an_invalid_transaction_is_refused_again_without_a_check() {
    let (mut admission, peer) = (Admission::default(), PeerId::random());
    let tx = transaction(1, 0);
    let queued = receive(&mut admission, peer, 1, &tx, 0);
    admission.verdict(queued.source, TxVerdict::Invalid(TxError::BadSignature));
    let refused = vec![
        validate(peer, 1, MessageAcceptance::Reject),
        Action::Penalize(peer, Misbehaviour::InvalidTransaction),
    ];
    assert_eq!(actions(&mut admission), refused);
    // Invalid stays invalid, whatever the chain does.
    admission.new_tip();
    admission.transaction_gossip(peer, message(1), &tx.encode(), 0);
    assert!(admission.next_to_verify().is_none(), "not checked again");
    assert_eq!(actions(&mut admission), refused);
}

#[test]
fn a_state_refusal_is_remembered_until_the_tip_moves() {
    let (mut admission, peer) = (Admission::default(), PeerId::random());
    let tx = transaction(1, 0);
    let queued = receive(&mut admission, peer, 1, &tx, 0);
    admission.verdict(queued.source, TxVerdict::Refused);
    assert_eq!(
        actions(&mut admission),
        vec![validate(peer, 1, MessageAcceptance::Ignore)]
    );
    admission.transaction_gossip(peer, message(1), &tx.encode(), 0);
    assert!(admission.next_to_verify().is_none(), "not checked again");
    assert_eq!(
        actions(&mut admission),
        vec![validate(peer, 1, MessageAcceptance::Ignore)],
        "ignored, not a fault"
    );
    admission.new_tip();
    receive(&mut admission, peer, 1, &tx, 0);
}

#[test]
fn a_gap_is_held_until_the_previous_nonce_is_admitted() {
    let (mut admission, peer) = (Admission::default(), PeerId::random());
    let second = transaction(1, 1);
    let queued = receive(&mut admission, peer, 2, &second, 40);
    let sender = second.sender_address().expect("not a coinbase");
    admission.verdict(queued.source, gap(&second, 40));
    assert_eq!(admission.orphans(), 1);
    assert!(admission.next_to_verify().is_none());
    assert!(actions(&mut admission).is_empty(), "unvalidated while held");
    // Another sender's nonce frees nothing.
    admission.admitted(Address([9; 20]), 0);
    assert!(admission.next_to_verify().is_none());
    admission.admitted(sender, 0);
    let again = admission.next_to_verify().expect("submitted again");
    assert_eq!((again.transaction.nonce, again.since_ms), (1, 40));
    admission.verdict(again.source, TxVerdict::Accepted);
    assert_eq!(
        actions(&mut admission),
        vec![validate(peer, 2, MessageAcceptance::Accept)]
    );
}

#[test]
fn a_gap_whose_predecessor_got_in_meanwhile_goes_back_at_once() {
    let (mut admission, peer) = (Admission::default(), PeerId::random());
    let second = transaction(1, 1);
    let queued = receive(&mut admission, peer, 2, &second, 0);
    admission.admitted(second.sender_address().expect("sender"), 0);
    admission.verdict(queued.source, gap(&second, 0));
    assert_eq!(admission.orphans(), 0);
    assert!(admission.next_to_verify().is_some());
}

#[test]
fn a_block_or_a_tick_tries_every_orphan_again_and_old_ones_expire() {
    let (mut admission, peer) = (Admission::default(), PeerId::random());
    for (n, key) in [(1, 1), (2, 2)] {
        let tx = transaction(key, 5);
        let queued = receive(&mut admission, peer, n, &tx, 0);
        admission.verdict(queued.source, gap(&tx, 0));
    }
    assert_eq!(admission.orphans(), 2);
    admission.block_connected();
    assert_eq!(admission.orphans(), 0);
    for _ in 0..2 {
        let again = admission.next_to_verify().expect("again");
        let tx = again.transaction.clone();
        admission.verdict(again.source, gap(&tx, 0));
    }
    assert_eq!(admission.orphans(), 2);
    admission.tick(ORPHAN_TTL_MS - 1);
    assert_eq!(admission.next_to_verify().map(|t| t.since_ms), Some(0));
    let _ = admission.next_to_verify().expect("both tried again");
    assert!(actions(&mut admission).is_empty());
}

#[test]
fn expired_orphans_are_let_go() {
    let (mut admission, peer) = (Admission::default(), PeerId::random());
    let tx = transaction(1, 5);
    let queued = receive(&mut admission, peer, 1, &tx, 1_000);
    admission.verdict(queued.source, gap(&tx, 1_000));
    admission.tick(1_000 + ORPHAN_TTL_MS);
    assert_eq!(admission.orphans(), 0);
    assert!(admission.next_to_verify().is_none());
    assert_eq!(
        actions(&mut admission),
        vec![validate(peer, 1, MessageAcceptance::Ignore)]
    );
}

#[test]
fn a_peer_fills_its_own_queue_only_and_a_ban_empties_it() {
    let mut admission = Admission::default();
    let (flooder, honest) = (PeerId::random(), PeerId::random());
    for n in 0..=QUEUED_PER_PEER as u32 {
        admission.transaction_gossip(flooder, message(n), &transaction(1, n.into()).encode(), 0);
    }
    assert_eq!(
        actions(&mut admission),
        vec![validate(
            flooder,
            QUEUED_PER_PEER as u32,
            MessageAcceptance::Ignore
        )],
        "only the one past its share is dropped"
    );
    admission.transaction_gossip(honest, message(90_000), &transaction(2, 0).encode(), 0);
    let first = admission.next_to_verify().expect("flooder's turn");
    let second = admission.next_to_verify().expect("honest peer's turn");
    assert_eq!(first.source.peer(), flooder);
    assert_eq!(second.source, gossip(honest, 90_000));
    admission.peer_banned(&flooder);
    let dropped = actions(&mut admission);
    assert_eq!(dropped.len(), QUEUED_PER_PEER - 1);
    assert!(dropped.iter().all(|action| matches!(
        action,
        Action::Validate { peer, acceptance: MessageAcceptance::Ignore, .. } if *peer == flooder
    )));
    assert!(admission.next_to_verify().is_none());
}

#[test]
fn a_transaction_no_worker_took_is_ignored() {
    let (mut admission, peer) = (Admission::default(), PeerId::random());
    let queued = receive(&mut admission, peer, 1, &transaction(1, 0), 0);
    admission.not_verified(&queued.source);
    assert_eq!(
        actions(&mut admission),
        vec![validate(peer, 1, MessageAcceptance::Ignore)]
    );
}

#[test]
fn verdicts_on_synced_transactions_validate_no_message() {
    let (mut admission, peer) = (Admission::default(), PeerId::random());
    admission.verdict(Source::Sync(peer), TxVerdict::Refused);
    admission.verdict(
        Source::Sync(peer),
        TxVerdict::Invalid(TxError::BadSignature),
    );
    assert_eq!(
        actions(&mut admission),
        vec![Action::Penalize(peer, Misbehaviour::InvalidTransaction)]
    );
}

/// A regtest header on `parent` with valid proof of work.
fn child(parent: &Header, salt: u8, time: u64) -> Header {
    let mut header = Header {
        version: 1,
        height: parent.height + 1,
        prev_hash: parent.hash(),
        merkle_root: MerkleHash([salt; 32]),
        state_root: MerkleHash::ZERO,
        time,
        bits: REGTEST.genesis_bits,
        nonce: 0,
    };
    while check_proof_of_work(&REGTEST, &header.hash(), header.bits).is_err() {
        header.nonce += 1;
    }
    header
}

fn encoded(header: Header) -> Vec<u8> {
    Block {
        header,
        transactions: Vec::new(),
    }
    .encode()
}

fn intake(sync: &mut SyncManager<PeerId>, data: &[u8], now_ms: u64) -> BlockIntake {
    block_intake(
        sync,
        REGTEST.max_block_size,
        &PeerId::random(),
        data,
        now_ms,
    )
}

#[test]
fn gossiped_blocks_are_classified_cheapest_check_first() {
    let genesis = REGTEST.genesis_header();
    let mut sync = SyncManager::new(HeaderChain::new(&REGTEST), (genesis.hash(), 0));
    let now = genesis.time + 60_000;
    let next = child(&genesis, 1, genesis.time + 1_000);
    assert!(matches!(
        intake(&mut sync, &encoded(next), now),
        BlockIntake::Check(block) if block.header == next
    ));
    let oversized = vec![0; REGTEST.max_block_size + 1];
    assert!(matches!(
        intake(&mut sync, &oversized, now),
        BlockIntake::Refuse(Misbehaviour::InvalidBlock)
    ));
    assert!(matches!(
        intake(&mut sync, b"garbage", now),
        BlockIntake::Refuse(Misbehaviour::Garbage)
    ));
    let orphan = child(&next, 2, genesis.time + 2_000);
    assert!(matches!(
        intake(&mut sync, &encoded(orphan), now),
        BlockIntake::UnknownParent
    ));
    let mut no_work = next;
    while check_proof_of_work(&REGTEST, &no_work.hash(), no_work.bits).is_ok() {
        no_work.nonce += 1;
    }
    assert!(matches!(
        intake(&mut sync, &encoded(no_work), now),
        BlockIntake::Refuse(Misbehaviour::InvalidBlock)
    ));
    let ahead = child(&genesis, 3, now + 24 * 3_600_000);
    assert!(matches!(
        intake(&mut sync, &encoded(ahead), now),
        BlockIntake::Ignore
    ));
}

#[test]
fn a_gossiped_block_with_no_more_work_than_the_tip_is_ignored() {
    let genesis = REGTEST.genesis_header();
    let mut sync = SyncManager::new(HeaderChain::new(&REGTEST), (genesis.hash(), 0));
    let now = genesis.time + 60_000;
    let tip = child(&genesis, 1, genesis.time + 1_000);
    sync.add_known_header(&tip, now);
    sync.set_chain_tip(tip.hash(), tip.height);
    let sibling = child(&genesis, 2, genesis.time + 1_000);
    assert!(matches!(
        intake(&mut sync, &encoded(sibling), now),
        BlockIntake::Ignore
    ));
}
