//! Context-free block checks with the signatures spread over every core.

use blockchain_core::Params;
use blockchain_core::crypto::RingVerifier;
use blockchain_core::validation::{BlockError, CheckedBlock, check_block_with, check_signed_at};
use blockchain_core::{Block, Transaction};

/// Fewest signed transactions per thread worth a thread of its own.
const MIN_PER_THREAD: usize = 16;

/// [`blockchain_core::validation::check_block`] with the ring verifier, the
/// signed transactions split into contiguous chunks checked in parallel.
/// The first failing transaction in block order is reported, as in the
/// serial check.
pub fn check_block_parallel(params: &Params, block: Block) -> Result<CheckedBlock, BlockError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    check_block_with(params, block, |signed: &[Transaction]| {
        let chunk = signed.len().div_ceil(threads).max(MIN_PER_THREAD);
        let check_chunk = |(number, transactions): (usize, &[Transaction])| {
            transactions
                .iter()
                .enumerate()
                .try_for_each(|(offset, transaction)| {
                    check_signed_at(
                        params,
                        &RingVerifier,
                        1 + number * chunk + offset,
                        transaction,
                    )
                })
        };
        if signed.len() <= chunk {
            return check_chunk((0, signed));
        }
        std::thread::scope(|scope| {
            let handles: Vec<_> = signed
                .chunks(chunk)
                .enumerate()
                .map(|job| scope.spawn(move || check_chunk(job)))
                .collect();
            // Join all; report the earliest failure in block order.
            handles
                .into_iter()
                .map(|handle| handle.join().expect("signature checks do not panic"))
                .collect::<Result<Vec<()>, BlockError>>()
                .map(drop)
        })
    })
}

#[cfg(test)]
mod tests {
    use blockchain_core::params::REGTEST;
    use blockchain_core::transaction::TxError;
    use blockchain_core::{Address, Amount};
    use rand::SeedableRng;

    use super::*;

    fn signed_block(count: usize, corrupt: &[usize]) -> Block {
        let key = blockchain_testkit::vectors::vector_signing_key(0);
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let mut block = REGTEST.genesis_block();
        block.header.height = 1;
        block
            .transactions
            .push(Transaction::coinbase(Address([1; 20]), Amount(1), 1, 0));
        for nonce in 0..count as u64 {
            let mut transaction = Transaction::new_signed(
                &REGTEST,
                &key,
                Address([2; 20]),
                Amount(1),
                Amount(0),
                nonce,
                0,
                &mut rng,
            )
            .expect("signs");
            if corrupt.contains(&(nonce as usize + 1)) {
                transaction.signature[7] ^= 1;
            }
            block.transactions.push(transaction);
        }
        // Signatures are not part of the txids: the root holds either way.
        block.header.merkle_root = block.compute_merkle_root();
        let target = block.header.bits.to_target().expect("canonical");
        while !target.is_met_by(&block.header.hash().0) {
            block.header.nonce += 1;
        }
        block
    }

    #[test]
    fn the_earliest_bad_signature_is_reported_whatever_the_thread() {
        let block = signed_block(40, &[35, 6]);
        let txid = block.transactions[6].txid();
        let error = check_block_parallel(&REGTEST, block).expect_err("bad signatures");
        assert_eq!(
            error,
            BlockError::Transaction {
                index: 6,
                txid,
                error: TxError::BadSignature
            }
        );
    }

    #[test]
    fn a_good_block_passes() {
        let block = signed_block(40, &[]);
        let hash = block.hash();
        let checked = check_block_parallel(&REGTEST, block).expect("valid");
        assert_eq!(checked.hash(), hash);
    }

    /// A body that is not its header's (a forged body) is refused on its
    /// merkle root, before any signature is checked.
    #[test]
    fn a_body_that_is_not_the_headers_is_refused_before_its_signatures() {
        let mut block = signed_block(40, &[3]);
        block.transactions.swap(1, 2);
        let target = block.header.bits.to_target().expect("canonical");
        while !target.is_met_by(&block.header.hash().0) {
            block.header.nonce += 1;
        }
        assert!(matches!(
            check_block_parallel(&REGTEST, block),
            Err(BlockError::BadMerkleRoot { .. })
        ));
    }
}
