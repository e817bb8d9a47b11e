//! What the node benchmarks run on: regtest blocks paying [`SENDERS`] keys,
//! then blocks of 100 transactions signed by those keys, built and mined
//! with the core before any measurement; and fresh chains to connect them
//! to, on SQLite or PostgreSQL.

use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};

use blockchain_core::crypto::SigningKey;
use blockchain_core::merkle::merkle_root;
use blockchain_core::params::REGTEST;
use blockchain_core::state::{StateTree, apply_transactions};
use blockchain_core::{Address, Amount, Block, Header, Params, Transaction};
use blockchain_node::chain::{BlockOutcome, Chain};
use blockchain_node::clock::now_ms;
use blockchain_node::miner::{Template, search};
use blockchain_node::storage;
use blockchain_testkit::postgres::PostgresDatabase;
use blockchain_testkit::vectors::vector_signing_key;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Blocks of signed transactions prepared (each signature costs ~6 ms).
pub(crate) const TX_BLOCKS: usize = 20;
/// Funded keys the transactions come from, round-robin: as many senders as
/// the mempool benchmark keeps submitters in flight (each sender's nonces
/// must arrive in order, so one submitter per sender).
pub(crate) const SENDERS: usize = 128;
/// Signed transactions per block.
pub(crate) const TXS_PER_BLOCK: usize = 100;
/// Mempool bound of the benchmark chains: room for every prepared transaction.
const MEMPOOL_MAX: usize = 10_000;

/// The network every prepared block is valid on.
pub(crate) const PARAMS: &Params = &REGTEST;

/// The prepared chain, built once per benchmark run.
#[derive(Debug)]
pub(crate) struct Fixture {
    /// Heights 1 and 2: a coinbase paying the treasury (a test-vector key),
    /// then its payments to each of the [`SENDERS`].
    pub(crate) funding: Vec<Block>,
    /// The next [`TX_BLOCKS`] blocks, [`TXS_PER_BLOCK`] signed transactions each.
    pub(crate) blocks: Vec<Block>,
}

impl Fixture {
    /// The signed transactions in block order: every sender's nonces in
    /// sequence, so they enter a mempool on top of `funding` one by one.
    pub(crate) fn transactions(&self) -> impl Iterator<Item = &Transaction> {
        self.blocks
            .iter()
            .flat_map(|block| block.transactions.iter().skip(1))
    }

    /// The signed transactions per sender, in nonce order: one queue for
    /// each concurrent submitter.
    pub(crate) fn queues_by_sender(&self) -> Vec<Vec<Transaction>> {
        let mut queues = vec![Vec::new(); SENDERS];
        for (index, transaction) in self.transactions().enumerate() {
            queues[index % SENDERS].push(transaction.clone());
        }
        queues
    }
}

/// The fixture, built on first use (~7 s on two cores, mostly RSA signing),
/// so a criterion filter that skips every user skips building it.
pub(crate) fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let started = std::time::Instant::now();
        let fixture = build_fixture();
        eprintln!(
            "prepared {} regtest blocks of {TXS_PER_BLOCK} signed transactions in {:.1} s",
            fixture.blocks.len(),
            started.elapsed().as_secs_f64()
        );
        fixture
    })
}

/// [`SENDERS`] RSA-3072 keys, key `i` generated from seed `i`. Generating
/// one takes about a second, so they are kept (PKCS#8, one hex line each)
/// in cargo's scratch directory for benchmarks and made only when missing.
fn sender_keys() -> Vec<SigningKey> {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench_sender_keys.pkcs8.hex");
    let cached: Vec<SigningKey> = std::fs::read_to_string(&cache)
        .unwrap_or_default()
        .lines()
        .map_while(|line| SigningKey::from_pkcs8_der(&hex::decode(line).ok()?).ok())
        .take(SENDERS)
        .collect();
    if cached.len() == SENDERS {
        return cached;
    }
    let started = std::time::Instant::now();
    let first = cached.len();
    let generated = on_every_core(SENDERS - first, |index| {
        let mut rng = StdRng::seed_from_u64((first + index) as u64);
        SigningKey::generate(&mut rng).expect("RSA key generation works")
    });
    eprintln!(
        "generated {} sender keys in {:.1} s (kept in {})",
        generated.len(),
        started.elapsed().as_secs_f64(),
        cache.display()
    );
    let keys: Vec<SigningKey> = cached.into_iter().chain(generated).collect();
    let lines: Vec<String> = keys
        .iter()
        .map(|key| {
            hex::encode(
                key.to_pkcs8_der()
                    .expect("a generated key encodes")
                    .as_slice(),
            )
        })
        .collect();
    if let Err(error) = std::fs::write(&cache, lines.join("\n") + "\n") {
        eprintln!(
            "could not keep the sender keys in {}: {error}",
            cache.display()
        );
    }
    keys
}

fn build_fixture() -> Fixture {
    let keys = sender_keys();
    // The RSA test-vector key 0: its coinbase funds the senders.
    let treasury = vector_signing_key(0);
    let mut state = StateTree::new();
    let mut parent = PARAMS.genesis_header();
    let mut next_block = |miner: Address, transactions: Vec<Transaction>| {
        let block = mine_block(&mut state, &parent, miner, transactions);
        parent = block.header;
        block
    };
    let miner = Address([0xee; 20]);
    let reward = PARAMS.block_reward(1).0;
    let share = reward / (SENDERS as u64 + 1);
    // Payment `i` of the treasury, nonce `i`, pays sender `i`.
    let payments = on_every_core(SENDERS, |i| {
        let mut rng = StdRng::seed_from_u64(u64::MAX - i as u64);
        Transaction::new_signed(
            PARAMS,
            &treasury,
            address_of(&keys[i]),
            Amount(share),
            Amount(10),
            i as u64,
            PARAMS.genesis_time_ms,
            &mut rng,
        )
        .expect("the vector key signs")
    });
    let funding = vec![
        next_block(address_of(&treasury), Vec::new()),
        next_block(miner, payments),
    ];
    let signed = sign_transactions(&keys, TX_BLOCKS * TXS_PER_BLOCK);
    let blocks = signed
        .chunks(TXS_PER_BLOCK)
        .map(|transactions| next_block(miner, transactions.to_vec()))
        .collect();
    Fixture { funding, blocks }
}

fn address_of(key: &SigningKey) -> Address {
    Address::from_spki_der(&key.public_key().to_spki_der())
}

/// Transaction `i` goes from key `i % keys` with nonce `i / keys` to a new
/// address, so every block creates 100 accounts.
fn sign_transactions(keys: &[SigningKey], count: usize) -> Vec<Transaction> {
    on_every_core(count, |i| {
        let mut rng = StdRng::seed_from_u64(i as u64);
        let mut to = [0xb0; 20];
        to[..8].copy_from_slice(&(i as u64).to_le_bytes());
        Transaction::new_signed(
            PARAMS,
            &keys[i % keys.len()],
            Address(to),
            Amount(1_000 + i as u64),
            Amount(10),
            (i / keys.len()) as u64,
            PARAMS.genesis_time_ms + i as u64,
            &mut rng,
        )
        .expect("the sender keys sign")
    })
}

/// `make(0), …, make(count - 1)`, in order, computed in contiguous chunks on
/// every core (RSA key generation and signing are the slow parts).
fn on_every_core<T: Send>(count: usize, make: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = count.div_ceil(threads).max(1);
    let make = &make;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..count)
            .step_by(per_thread)
            .map(|first| {
                scope.spawn(move || {
                    (first..count.min(first + per_thread))
                        .map(make)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("fixture work does not panic"))
            .collect()
    })
}

/// The block after `parent` (one second later) paying `miner` the reward and
/// fees, with `transactions` applied to `state`, and a nonce that meets its target.
fn mine_block(
    state: &mut StateTree,
    parent: &Header,
    miner: Address,
    transactions: Vec<Transaction>,
) -> Block {
    let height = parent.height + 1;
    let time = parent.time + PARAMS.target_spacing_ms;
    let fees = transactions.iter().map(|tx| tx.fee.0).sum();
    let reward = PARAMS
        .block_reward(height)
        .checked_add(Amount(fees))
        .expect("the fees are small");
    let mut all = vec![Transaction::coinbase(miner, reward, height, time)];
    all.extend(transactions);
    apply_transactions(state, &all).expect("the prepared transactions are valid in sequence");
    let txids: Vec<_> = all.iter().map(Transaction::txid).collect();
    // PARAMS is regtest, where every block carries the genesis bits.
    let bits = PARAMS.genesis_bits;
    let template = Template {
        block: Block {
            header: Header {
                version: Header::VERSION,
                height,
                prev_hash: parent.hash(),
                merkle_root: merkle_root(&txids),
                state_root: state.root(),
                time,
                bits,
                nonce: 0,
            },
            transactions: all,
        },
        target: bits.to_target().expect("genesis bits are canonical"),
    };
    search(&template, 0, 1, &AtomicU64::new(0), || true).expect("the search only ends with a block")
}

/// Where fresh chains are stored.
#[derive(Debug)]
pub(crate) enum ChainStore {
    /// A new SQLite file in a new temporary directory for each chain.
    Sqlite,
    /// One PostgreSQL database for the run, emptied for each chain.
    Postgres(PostgresDatabase),
}

/// A chain at the height of the funding blocks, on its own storage.
#[derive(Debug)]
pub(crate) struct FreshChain {
    pub(crate) chain: Arc<Chain>,
    _directory: Option<tempfile::TempDir>,
}

impl FreshChain {
    /// Closes the storage's connections (the SQLite directory goes on drop).
    pub(crate) async fn close(self) {
        self.chain.storage().close().await;
    }
}

impl ChainStore {
    /// A regtest chain on new, empty storage, with the funding blocks connected.
    pub(crate) async fn fresh_chain(&self) -> FreshChain {
        let (url, directory) = match self {
            ChainStore::Sqlite => {
                let directory = tempfile::tempdir().expect("a temporary directory");
                (storage::sqlite_url_for(directory.path()), Some(directory))
            }
            ChainStore::Postgres(database) => {
                database.empty().await;
                (database.url().to_owned(), None)
            }
        };
        let storage = storage::open(&url).await.expect("the database opens");
        let chain = Chain::open(PARAMS, storage, MEMPOOL_MAX)
            .await
            .expect("an empty database opens");
        for block in &fixture().funding {
            let outcome = chain
                .submit_block(block.clone(), now_ms())
                .await
                .expect("the funding blocks are valid");
            assert_eq!(outcome, BlockOutcome::NewTip);
        }
        FreshChain {
            chain,
            _directory: directory,
        }
    }
}
