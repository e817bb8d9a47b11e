use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::hash::MerkleHash;
use crate::header::check_proof_of_work;
use crate::params::REGTEST;

/// Regtest headers on top of `parent` (valid proof of work, empty blocks).
fn headers_after(parent: &Header, count: usize, salt: u64) -> Vec<Header> {
    let mut out = Vec::new();
    let mut parent = *parent;
    for _ in 0..count {
        let mut header = Header {
            version: 1,
            height: parent.height + 1,
            prev_hash: parent.hash(),
            merkle_root: MerkleHash([salt as u8; 32]),
            state_root: MerkleHash::ZERO,
            time: parent.time + 1000,
            bits: REGTEST.genesis_bits,
            nonce: 0,
        };
        while check_proof_of_work(&REGTEST, &header.hash(), header.bits).is_err() {
            header.nonce += 1;
        }
        out.push(header);
        parent = header;
    }
    out
}

fn block(header: Header) -> Block {
    Block {
        header,
        transactions: Vec::new(),
    }
}

const NOW: u64 = u64::MAX / 2;

/// Peers are numbered in these tests.
type Peer = u32;

fn manager() -> SyncManager<Peer> {
    let genesis = REGTEST.genesis_header();
    SyncManager::new(HeaderChain::new(&REGTEST), (genesis.hash(), 0))
}

/// A manager that asked `peer` for headers and got `count` valid ones on
/// genesis (made with `salt`).
fn with_headers_from(peer: Peer, count: usize, salt: u64) -> (SyncManager<Peer>, Vec<Header>) {
    let mut sync = manager();
    sync.add_peer(peer);
    sync.headers_request(&peer);
    let headers = headers_after(&REGTEST.genesis_header(), count, salt);
    sync.on_headers(&peer, &headers, NOW).expect("valid");
    (sync, headers)
}

/// [`with_headers_from`], then the blocks of those headers asked of `peer`
/// and received; returns the hashes asked for too.
fn with_blocks_from(
    peer: Peer,
    count: usize,
    salt: u64,
) -> (SyncManager<Peer>, Vec<Header>, Vec<BlockHash>) {
    let (mut sync, headers) = with_headers_from(peer, count, salt);
    let (_, _, hashes) = sync.block_requests().remove(0);
    let blocks = headers.iter().map(|h| block(*h)).collect();
    sync.on_blocks(&peer, &hashes, blocks).expect("asked");
    (sync, headers, hashes)
}

#[test]
fn headers_then_blocks_from_several_peers_in_height_order() {
    let mut sync = manager();
    let (a, b): (Peer, Peer) = (1, 2);
    sync.add_peer(a);
    sync.add_peer(b);
    assert!(matches!(
        sync.headers_request(&a),
        Some(SyncRequest::GetHeaders { .. })
    ));
    assert_eq!(
        sync.headers_request(&a),
        None,
        "one headers request at a time"
    );
    let headers = headers_after(&REGTEST.genesis_header(), 40, 1);
    assert_eq!(sync.on_headers(&a, &headers, NOW), Ok(false));
    sync.headers_request(&b);
    assert_eq!(sync.on_headers(&b, &headers, NOW), Ok(false));
    assert!(sync.is_catching_up());

    let requests = sync.block_requests();
    let peers: HashSet<Peer> = requests.iter().map(|(peer, ..)| *peer).collect();
    assert_eq!(peers.len(), 2, "both peers get work");
    let asked: usize = requests.iter().map(|(_, _, hashes)| hashes.len()).sum();
    assert_eq!(asked, 40);
    assert!(
        requests
            .iter()
            .all(|(_, _, hashes)| hashes.len() <= MAX_BLOCKS)
    );
    assert!(sync.block_requests().is_empty(), "nothing is asked twice");

    // Answers arrive out of order: nothing connects until the first batch is in.
    let mut answers: Vec<_> = requests.into_iter().collect();
    let first = answers.remove(0);
    for (peer, _, hashes) in &answers {
        let blocks = headers
            .iter()
            .filter(|header| hashes.contains(&header.hash()))
            .map(|header| block(*header))
            .collect();
        sync.on_blocks(peer, hashes, blocks).expect("asked for");
    }
    assert!(sync.ready_to_connect(usize::MAX).is_empty());
    let (peer, _, hashes) = first;
    let blocks = hashes
        .iter()
        .map(|hash| block(*headers.iter().find(|h| h.hash() == *hash).expect("known")))
        .collect();
    sync.on_blocks(&peer, &hashes, blocks).expect("asked for");
    let ready = sync.ready_to_connect(usize::MAX);
    let heights: Vec<u64> = ready.iter().map(|(block, _)| block.header.height).collect();
    assert_eq!(heights, (1..=40).collect::<Vec<_>>());
}

#[test]
fn a_full_batch_asks_for_more_and_invalid_headers_are_refused() {
    let mut sync = manager();
    let peer: Peer = 1;
    sync.add_peer(peer);
    sync.headers_request(&peer);
    let headers = headers_after(&REGTEST.genesis_header(), MAX_HEADERS, 2);
    assert_eq!(sync.on_headers(&peer, &headers, NOW), Ok(true));
    let again = sync.on_headers(&peer, &headers, NOW);
    assert_eq!(
        again,
        Err(HeadersError::NothingNew),
        "the same full batch again is no help"
    );
    assert_eq!(
        again.map_err(|error| error.misbehaviour()),
        Err(Misbehaviour::Unhelpful)
    );

    let mut broken = headers_after(&headers[MAX_HEADERS - 1], 1, 2);
    while check_proof_of_work(&REGTEST, &broken[0].hash(), broken[0].bits).is_ok() {
        broken[0].nonce += 1;
    }
    let refused = sync
        .on_headers(&peer, &broken, NOW)
        .expect_err("no proof of work");
    assert!(
        matches!(
            &refused,
            HeadersError::Rejected(HeaderChainError {
                index: 0,
                error: HeaderError::InsufficientProofOfWork { .. },
                ..
            })
        ),
        "{refused:?}"
    );
    assert_eq!(refused.misbehaviour(), Misbehaviour::InvalidHeader);
    assert_eq!(sync.header_height(), MAX_HEADERS as u64);

    let elsewhere = headers_after(&REGTEST.genesis_header(), 2, 9);
    let refused = sync
        .on_headers(&peer, &elsewhere[1..], NOW)
        .expect_err("headers that do not connect");
    assert!(
        matches!(
            &refused,
            HeadersError::Rejected(HeaderChainError {
                error: HeaderError::UnknownParent { .. },
                ..
            })
        ),
        "{refused:?}"
    );
    assert_eq!(refused.misbehaviour(), Misbehaviour::Unhelpful);
}

#[test]
fn oversized_and_unlinked_batches_are_refused_without_touching_the_headers() {
    let mut sync = manager();
    let peer: Peer = 1;
    sync.add_peer(peer);
    let too_many = vec![REGTEST.genesis_header(); MAX_HEADERS + 1];
    let refused = sync
        .on_headers(&peer, &too_many, NOW)
        .expect_err("over the limit");
    assert_eq!(
        refused,
        HeadersError::TooMany {
            count: MAX_HEADERS + 1
        }
    );
    assert_eq!(refused.misbehaviour(), Misbehaviour::Garbage);

    let mut unlinked = headers_after(&REGTEST.genesis_header(), 3, 1);
    unlinked.swap(1, 2);
    let refused = sync
        .on_headers(&peer, &unlinked, NOW)
        .expect_err("not consecutive");
    assert_eq!(refused, HeadersError::NotConsecutive { index: 1 });
    assert_eq!(refused.misbehaviour(), Misbehaviour::Unhelpful);
    assert_eq!(sync.header_height(), 0);
    assert_eq!(sync.on_headers(&peer, &[], NOW), Ok(false));
    assert_eq!(sync.peers(), vec![peer]);
}

#[test]
fn unsolicited_blocks_are_refused_and_failed_requests_are_asked_again() {
    let peer: Peer = 1;
    let (mut sync, _) = with_headers_from(peer, 5, 3);
    let requests = sync.block_requests();
    assert_eq!(requests.len(), 1);
    let (_, _, hashes) = &requests[0];
    let stranger = headers_after(&REGTEST.genesis_header(), 1, 4)[0];
    assert_eq!(
        sync.on_blocks(&peer, hashes, vec![block(stranger)]),
        Err(Misbehaviour::Unhelpful)
    );
    // Nothing it sent was asked for: the same blocks are asked again.
    let again = sync.block_requests();
    assert_eq!(again.len(), 1);
    assert_eq!(&again[0].2, hashes);
    sync.blocks_failed(&peer, &again[0].2);
    assert_eq!(sync.block_requests().len(), 1);
}

#[test]
fn an_invalid_block_stops_downloads_on_its_branch() {
    let peer: Peer = 1;
    let (mut sync, headers, _) = with_blocks_from(peer, 3, 5);
    let ready = sync.ready_to_connect(usize::MAX);
    assert_eq!(ready.len(), 3);
    sync.on_connected(&headers[0].hash(), Connected::Invalid);
    assert!(
        sync.block_requests().is_empty(),
        "the invalid block is not asked for again"
    );
}

#[test]
fn a_block_that_was_not_stored_is_fetched_again() {
    let peer: Peer = 1;
    let (mut sync, headers, hashes) = with_blocks_from(peer, 3, 7);
    assert_eq!(sync.ready_to_connect(usize::MAX).len(), 3);
    sync.on_connected(&headers[0].hash(), Connected::NotStored);
    sync.on_connected(&headers[1].hash(), Connected::Stored);
    sync.on_connected(&headers[2].hash(), Connected::Stored);
    let again = sync.block_requests();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].2, hashes, "everything above the chain's tip again");
}

#[test]
fn a_block_refused_once_is_asked_again_after_the_headers_are_rebuilt() {
    let (forger, honest): (Peer, Peer) = (1, 2);
    let (mut sync, headers) = with_headers_from(forger, 3, 7);
    let (_, _, hashes) = sync.block_requests().remove(0);
    let forged = headers.iter().map(|h| block(*h)).collect();
    sync.on_blocks(&forger, &hashes, forged).expect("asked");
    for (block, _) in sync.ready_to_connect(usize::MAX) {
        sync.on_connected(&block.hash(), Connected::Invalid);
    }
    // The forger is banned; the header chain is rebuilt from the chain owner.
    sync.remove_peer(&forger);
    let genesis = REGTEST.genesis_header();
    sync.reset_headers(HeaderChain::new(&REGTEST), (genesis.hash(), 0));
    sync.add_peer(honest);
    sync.headers_request(&honest);
    sync.on_headers(&honest, &headers, NOW).expect("valid");
    let requests = sync.block_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!((requests[0].0, &requests[0].2), (honest, &hashes));
}

#[test]
fn a_peer_leaving_frees_its_requests() {
    let (a, b): (Peer, Peer) = (1, 2);
    let (mut sync, headers) = with_headers_from(a, 10, 6);
    assert_eq!(sync.block_requests().len(), 1);
    sync.remove_peer(&a);
    sync.add_peer(b);
    sync.headers_request(&b);
    sync.on_headers(&b, &headers, NOW)
        .expect("known headers, not a full batch");
    let requests = sync.block_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].0, b);
}

#[test]
fn blocks_are_asked_only_of_peers_whose_branch_holds_them() {
    let mut sync = manager();
    let (short, long): (Peer, Peer) = (1, 2);
    sync.add_peer(short);
    sync.add_peer(long);
    // Both share 10 headers; `short` has 15 more of its own, `long` 30 of
    // its own (more work: the best header chain).
    let shared = headers_after(&REGTEST.genesis_header(), 10, 1);
    let fork = *shared.last().expect("shared headers");
    let short_branch: Vec<Header> = shared
        .iter()
        .copied()
        .chain(headers_after(&fork, 15, 2))
        .collect();
    let long_branch: Vec<Header> = shared
        .iter()
        .copied()
        .chain(headers_after(&fork, 30, 3))
        .collect();
    sync.headers_request(&short);
    assert_eq!(sync.on_headers(&short, &short_branch, NOW), Ok(false));
    sync.headers_request(&long);
    assert_eq!(sync.on_headers(&long, &long_branch, NOW), Ok(false));
    assert_eq!(sync.header_height(), 40);

    // Ask until nothing more is asked: `short` only ever gets the shared
    // blocks, although its best header is higher than most of the branch.
    let mut asked_of_short = Vec::new();
    let mut asked = HashSet::new();
    loop {
        let requests = sync.block_requests();
        if requests.is_empty() {
            break;
        }
        for (peer, _, hashes) in requests {
            if peer == short {
                asked_of_short.extend(hashes.iter().copied());
            }
            asked.extend(hashes.iter().copied());
            sync.blocks_failed(&peer, &hashes);
        }
        if asked.len() >= 40 {
            break;
        }
    }
    let shared_hashes: HashSet<BlockHash> = shared.iter().map(Header::hash).collect();
    assert!(
        asked_of_short
            .iter()
            .all(|hash| shared_hashes.contains(hash)),
        "{} blocks asked of the peer on the other branch",
        asked_of_short.len()
    );
    let long_hashes: HashSet<BlockHash> = long_branch.iter().map(Header::hash).collect();
    assert_eq!(
        asked, long_hashes,
        "every block of the best branch is asked"
    );
}

/// Devnet allows 60 s of clock drift: a peer whose clock runs 59 s ahead is
/// fine, and one 5 minutes ahead is not at fault either. Its headers past
/// our clock wait, and it is asked again once they are due.
#[test]
fn headers_too_far_ahead_of_the_clock_cost_nothing_and_are_asked_again_when_due() {
    let mut sync = manager();
    let peer: Peer = 1;
    sync.add_peer(peer);
    sync.headers_request(&peer);
    let mut headers = headers_after(&REGTEST.genesis_header(), 3, 9);
    let now = headers[2].time;
    let drift = REGTEST.max_future_drift_ms;
    // The third header is five minutes past the drift allowed.
    let ahead = headers_after(&headers[1], 1, 9)
        .into_iter()
        .map(|mut header| {
            header.time = now + drift + 300_000;
            while check_proof_of_work(&REGTEST, &header.hash(), header.bits).is_err() {
                header.nonce += 1;
            }
            header
        })
        .collect::<Vec<_>>();
    headers[2] = ahead[0];
    assert_eq!(sync.on_headers(&peer, &headers, now), Ok(false));
    assert_eq!(sync.header_height(), 2, "the headers before it are kept");
    assert!(sync.headers_due(now).is_empty());
    assert!(sync.headers_due(now + 299_999).is_empty());
    assert_eq!(sync.headers_due(now + 300_000), vec![peer]);
    assert!(sync.headers_due(now + 300_000).is_empty(), "due once");
    assert!(sync.headers_request(&peer).is_some());
    assert_eq!(sync.on_headers(&peer, &headers, now + 300_000), Ok(false));
    assert_eq!(sync.header_height(), 3, "accepted once due");

    // A gossiped block too far ahead: the same retry.
    sync.headers_ahead_of_clock(&peer, now + drift + 5_000);
    assert_eq!(sync.headers_due(now + 5_000), vec![peer]);
}

/// A gossiped block is judged by its header first: an unknown parent, wrong
/// bits or a failed proof of work cost nothing more than a hash.
#[test]
fn unrequested_blocks_are_judged_by_their_header_against_a_known_parent() {
    let mut sync = manager();
    let peer: Peer = 1;
    sync.add_peer(peer);
    let headers = headers_after(&REGTEST.genesis_header(), 2, 4);
    sync.on_headers(&peer, &headers[..1], NOW).expect("valid");

    assert_eq!(
        sync.check_unrequested(&peer, &headers[1], NOW),
        Unrequested::Check
    );
    let orphan = headers_after(&headers[1], 1, 4)[0];
    assert_eq!(
        sync.check_unrequested(&peer, &orphan, NOW),
        Unrequested::UnknownParent
    );
    let mut wrong_bits = headers[1];
    wrong_bits.bits = crate::pow::CompactBits(0x1e00_8000);
    assert!(matches!(
        sync.check_unrequested(&peer, &wrong_bits, NOW),
        Unrequested::Invalid(HeaderError::WrongBits { .. })
    ));
    let mut no_work = headers[1];
    while check_proof_of_work(&REGTEST, &no_work.hash(), no_work.bits).is_ok() {
        no_work.nonce += 1;
    }
    assert!(matches!(
        sync.check_unrequested(&peer, &no_work, NOW),
        Unrequested::Invalid(HeaderError::InsufficientProofOfWork { .. })
    ));
    let early = headers[1].time - REGTEST.max_future_drift_ms - 1;
    assert_eq!(
        sync.check_unrequested(&peer, &headers[1], early),
        Unrequested::TooFarInFuture
    );
    assert_eq!(sync.headers_due(early + 1), vec![peer]);
}

/// Downloaded blocks go to the connector only as far as its room allows.
#[test]
fn blocks_are_handed_on_within_the_connector_room() {
    let peer: Peer = 1;
    let (mut sync, headers) = with_headers_from(peer, 3, 5);
    let (_, _, hashes) = sync.block_requests().pop().expect("a request");
    let blocks: Vec<Block> = headers.iter().map(|header| block(*header)).collect();
    let size = blocks[0].encoded_len();
    sync.on_blocks(&peer, &hashes, blocks).expect("asked for");
    assert!(sync.ready_to_connect(size - 1).is_empty());
    assert_eq!(sync.ready_to_connect(2 * size).len(), 2);
    assert_eq!(sync.ready_to_connect(usize::MAX).len(), 1);
}

/// A gossiped block whose branch has no more work than the chain owner's
/// tip is not worth its body: only one that adds work is checked.
#[test]
fn unrequested_blocks_that_add_no_work_are_not_processed() {
    let genesis = REGTEST.genesis_header();
    let main = headers_after(&genesis, 3, 6);
    let mut headers = HeaderChain::new(&REGTEST);
    headers.accept_headers(&main, NOW).expect("valid");
    let tip = (main[2].hash(), 3);
    let mut sync: SyncManager<Peer> = SyncManager::new(headers, tip);
    let peer: Peer = 1;
    sync.add_peer(peer);
    // Siblings at every height up to the tip: a side branch, not processed.
    for parent in [&genesis, &main[0], &main[1]] {
        let side = headers_after(parent, 1, 7)[0];
        assert_eq!(
            sync.check_unrequested(&peer, &side, NOW),
            Unrequested::NotBetter
        );
    }
    let next = headers_after(&main[2], 1, 7)[0];
    assert_eq!(
        sync.check_unrequested(&peer, &next, NOW),
        Unrequested::Check
    );
}

/// Headers off the best chain are counted, so the caller can drop them
/// before they grow memory without bound.
#[test]
fn fork_headers_are_counted() {
    let mut sync = manager();
    let peer: Peer = 1;
    sync.add_peer(peer);
    let genesis = REGTEST.genesis_header();
    let main = headers_after(&genesis, 20, 8);
    sync.on_headers(&peer, &main, NOW).expect("valid");
    assert_eq!(sync.fork_headers(), 0, "the best chain is no fork");
    let fork = headers_after(&main[4], 6, 9);
    sync.on_headers(&peer, &fork, NOW).expect("valid");
    assert_eq!(sync.fork_headers(), 6);
    sync.add_known_header(&headers_after(&main[9], 1, 9)[0], NOW);
    assert_eq!(sync.fork_headers(), 7);
    sync.reset_headers(HeaderChain::new(&REGTEST), (genesis.hash(), 0));
    assert_eq!(sync.fork_headers(), 0);
}
