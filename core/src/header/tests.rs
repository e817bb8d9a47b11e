use super::*;
use crate::params::{DEVNET, REGTEST};

fn regtest_child(parent: &Header) -> Header {
    Header {
        version: 1,
        height: parent.height + 1,
        prev_hash: parent.hash(),
        merkle_root: MerkleHash::ZERO,
        state_root: MerkleHash::ZERO,
        time: parent.time + 1000,
        bits: REGTEST.genesis_bits,
        nonce: 0,
    }
}

fn mine(params: &Params, mut header: Header) -> Header {
    while check_proof_of_work(params, &header.hash(), header.bits).is_err() {
        header.nonce += 1;
    }
    header
}

/// The parent info of genesis or of block 1 (the only parents these tests use
/// alone: a block 1 is its own anchor).
fn parent_info(header: &Header) -> ParentInfo {
    assert!(header.height <= 1);
    ParentInfo {
        hash: header.hash(),
        height: header.height,
        time: header.time,
        median_time_past: header.time,
        anchor_time: (header.height == 1).then_some(header.time),
    }
}

/// A devnet child of `parent` at `time` carrying `bits`, not mined (the bits
/// rule is checked before the proof of work).
fn devnet_child(parent: &ParentInfo, time: u64, bits: CompactBits) -> Header {
    Header {
        version: 1,
        height: parent.height + 1,
        prev_hash: parent.hash,
        merkle_root: MerkleHash::ZERO,
        state_root: MerkleHash::ZERO,
        time,
        bits,
        nonce: 0,
    }
}

#[test]
fn header_round_trips_and_layout_is_fixed() {
    let header = regtest_child(&REGTEST.genesis_header());
    let bytes = header.encode();
    assert_eq!(bytes.len(), 128);
    assert_eq!(&bytes[4..12], &1u64.to_le_bytes());
    assert_eq!(&bytes[116..120], &0x207f_ffffu32.to_le_bytes());
    assert_eq!(Header::decode(&bytes), Ok(header));
}

#[test]
fn decoder_rejects_wrong_length_and_version() {
    let bytes = REGTEST.genesis_header().encode();
    assert!(matches!(
        Header::decode(&bytes[..127]),
        Err(DecodeError::UnexpectedEnd { .. })
    ));
    let mut long = bytes.clone();
    long.push(0);
    assert_eq!(
        Header::decode(&long),
        Err(DecodeError::TrailingBytes { count: 1 })
    );
    let mut bad_version = bytes;
    bad_version[0] = 2;
    assert_eq!(
        Header::decode(&bad_version),
        Err(DecodeError::UnknownVersion {
            field: "header",
            version: 2
        })
    );
}

#[test]
fn valid_child_is_accepted() {
    let genesis = REGTEST.genesis_header();
    let child = mine(&REGTEST, regtest_child(&genesis));
    assert!(check_header(&REGTEST, &child, &child.hash(), &parent_info(&genesis)).is_ok());
}

#[test]
fn wrong_height_is_rejected() {
    let genesis = REGTEST.genesis_header();
    let mut child = regtest_child(&genesis);
    child.height = 2;
    let child = mine(&REGTEST, child);
    assert_eq!(
        check_header(&REGTEST, &child, &child.hash(), &parent_info(&genesis)),
        Err(HeaderError::WrongHeight {
            expected: 1,
            got: 2
        })
    );
}

#[test]
fn wrong_prev_hash_is_rejected() {
    let genesis = REGTEST.genesis_header();
    let mut child = regtest_child(&genesis);
    child.prev_hash = BlockHash([7; 32]);
    let child = mine(&REGTEST, child);
    assert_eq!(
        check_header(&REGTEST, &child, &child.hash(), &parent_info(&genesis)),
        Err(HeaderError::WrongPrevHash {
            expected: genesis.hash(),
            got: BlockHash([7; 32])
        })
    );
}

#[test]
fn time_not_after_median_time_past_is_rejected() {
    let genesis = REGTEST.genesis_header();
    let mut child = regtest_child(&genesis);
    child.time = genesis.time;
    let child = mine(&REGTEST, child);
    assert_eq!(
        check_header(&REGTEST, &child, &child.hash(), &parent_info(&genesis)),
        Err(HeaderError::TimeNotAfterMedianTimePast {
            time: genesis.time,
            median_time_past: genesis.time
        })
    );
}

#[test]
fn wrong_bits_are_rejected() {
    let genesis = REGTEST.genesis_header();
    let mut child = regtest_child(&genesis);
    child.bits = CompactBits(0x1f7f_ffff);
    let child = mine(&REGTEST, child);
    assert_eq!(
        check_header(&REGTEST, &child, &child.hash(), &parent_info(&genesis)),
        Err(HeaderError::WrongBits {
            expected: REGTEST.genesis_bits,
            got: CompactBits(0x1f7f_ffff)
        })
    );
}

#[test]
fn bad_proof_of_work_is_rejected() {
    let genesis = DEVNET.genesis_header();
    let mut child = regtest_child(&genesis);
    child.bits = DEVNET.genesis_bits;
    // Find a nonce whose hash misses the devnet target (almost every nonce does).
    while check_proof_of_work(&DEVNET, &child.hash(), child.bits).is_ok() {
        child.nonce += 1;
    }
    let hash = child.hash();
    assert_eq!(
        check_header(&DEVNET, &child, &hash, &parent_info(&genesis)),
        Err(HeaderError::InsufficientProofOfWork {
            hash,
            bits: DEVNET.genesis_bits
        })
    );
}

#[test]
fn target_above_pow_limit_is_rejected() {
    let bits = CompactBits(0x2100_ffff);
    assert_eq!(
        check_proof_of_work(&DEVNET, &BlockHash::ZERO, bits),
        Err(HeaderError::TargetAbovePowLimit { bits })
    );
}

#[test]
fn non_canonical_bits_are_rejected() {
    let bits = CompactBits(0x1f00_0080);
    assert_eq!(
        check_proof_of_work(&DEVNET, &BlockHash::ZERO, bits),
        Err(HeaderError::BadBits(CompactError::NonCanonical(bits)))
    );
}

#[test]
fn time_too_far_in_future_is_rejected() {
    let mut header = DEVNET.genesis_header();
    header.time = 1_000_000 + 60_001;
    assert_eq!(
        check_header_time_against_clock(&DEVNET, &header, 1_000_000),
        Err(HeaderError::TimeTooFarInFuture {
            time: 1_060_001,
            now: 1_000_000,
            max_drift: 60_000
        })
    );
    header.time = 1_060_000;
    assert!(check_header_time_against_clock(&DEVNET, &header, 1_000_000).is_ok());
}

#[test]
fn median_time_past_takes_the_middle_of_the_last_eleven() {
    assert_eq!(median_time_past(&[5]), 5);
    assert_eq!(median_time_past(&[3, 1]), 3);
    assert_eq!(
        median_time_past(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]),
        8
    );
}

#[test]
fn devnet_block_one_must_carry_the_genesis_bits() {
    let genesis = parent_info(&DEVNET.genesis_header());
    // A year after the genesis time: anchored at genesis this was the pow limit.
    let time = DEVNET.genesis_time_ms + 365 * 24 * 3_600_000;
    let pow_limit_bits = DEVNET.pow_limit.to_compact();
    let child = devnet_child(&genesis, time, pow_limit_bits);
    assert_eq!(
        check_header(&DEVNET, &child, &child.hash(), &genesis),
        Err(HeaderError::WrongBits {
            expected: DEVNET.genesis_bits,
            got: pow_limit_bits
        })
    );
}

#[test]
fn devnet_bits_follow_block_one_of_the_parents_chain() {
    let block_one_time = DEVNET.genesis_time_ms + 365 * 24 * 3_600_000;
    let block_one = parent_info(&devnet_child(
        &parent_info(&DEVNET.genesis_header()),
        block_one_time,
        DEVNET.genesis_bits,
    ));
    // On schedule from block 1: the genesis bits, whatever the genesis time.
    let on_time = devnet_child(
        &block_one,
        block_one_time + 10_000,
        CompactBits(0x1f00_ffff),
    );
    assert_eq!(
        check_header(&DEVNET, &on_time, &on_time.hash(), &block_one),
        Err(HeaderError::WrongBits {
            expected: DEVNET.genesis_bits,
            got: CompactBits(0x1f00_ffff)
        })
    );
    // Block 2 two half-lives late: its child's target is 4 times the initial one.
    let block_two = ParentInfo {
        hash: on_time.hash(),
        height: 2,
        time: block_one_time + 10_000 + 2 * 3_600_000,
        median_time_past: block_one_time,
        anchor_time: block_one.child_anchor_time(on_time.time),
    };
    assert_eq!(block_two.anchor_time, Some(block_one_time));
    let late = devnet_child(&block_two, block_two.time + 1, DEVNET.genesis_bits);
    assert_eq!(
        check_header(&DEVNET, &late, &late.hash(), &block_two),
        Err(HeaderError::WrongBits {
            expected: CompactBits(0x1e02_0000),
            got: DEVNET.genesis_bits
        })
    );
}
