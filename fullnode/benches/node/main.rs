//! Criterion benchmarks of the node: blocks connected through the chain-state
//! owner on SQLite and PostgreSQL, transactions accepted into the mempool,
//! the miner's hash rate, and REST requests served. `cargo xtask bench` runs
//! them after the core's and prints each as a ratio to its limit.
//!
//! Transactions and blocks are prepared before any measurement (see
//! `fixture.rs`); only the node's own work is timed.
//!
//! With `--load [--seconds N] [--clients N]` it runs no criterion benchmark
//! but the REST load scenario of `load.rs` (paced clients from distinct
//! loopback addresses against a node as deployed).

mod fixture;
mod http_load;
mod load;
mod sync;

use std::hint::black_box;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::routing::get;
use blockchain_core::crypto::RingVerifier;
use blockchain_core::params::DEVNET;
use blockchain_core::validation::check_block;
use blockchain_core::{Block, Target};
use blockchain_node::chain::BlockOutcome;
use blockchain_node::clock::now_ms;
use blockchain_node::config::{Cli, Config};
use blockchain_node::miner::{Miner, Template};
use blockchain_node::node::{self, RunningNode};
use blockchain_testkit::postgres::{self, PostgresDatabase};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group};

use fixture::{ChainStore, PARAMS, fixture};
use http_load::HttpLoad;

/// The REST path both servers are loaded on.
const STATUS_PATH: &str = "/api/v1/status";
/// Keep-alive connections of the load generator, as many as wrk's default.
const HTTP_CONNECTIONS: usize = 10;
/// How often the miner benchmark reads the hash counter.
const HASH_COUNTER_POLL: Duration = Duration::from_millis(1);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// Blocks per second: checked alone (the signature bound), then connected
/// through `Chain::submit_block` on each database.
fn connect_blocks(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("node");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));

    group.measurement_time(Duration::from_secs(3));
    group.bench_function("verify_block", |b| {
        let mut blocks = fixture().blocks.iter().cycle();
        b.iter_batched(
            || blocks.next().expect("cycle never ends").clone(),
            |block| check_block(PARAMS, black_box(block), &RingVerifier).expect("valid"),
            BatchSize::SmallInput,
        )
    });

    // Every 20 blocks need a new chain (untimed, but slow): flat sampling,
    // the same number of blocks in every sample, needs far fewer blocks than
    // criterion's linear ramp.
    group
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("connect_sqlite", |b| {
        b.iter_custom(|blocks| runtime.block_on(time_connecting(&ChainStore::Sqlite, blocks)))
    });
    match postgres::unavailable() {
        Some(why) => eprintln!("node/connect_postgres not run: {why}"),
        None => {
            let mut store = None;
            group.bench_function("connect_postgres", |b| {
                let store =
                    store.get_or_insert_with(|| ChainStore::Postgres(PostgresDatabase::create()));
                b.iter_custom(|blocks| runtime.block_on(time_connecting(store, blocks)))
            });
            // The database is dropped here, with `store`.
        }
    }
    group.finish();
}

/// Time spent in `submit_block` connecting `count` prepared blocks, on a
/// fresh chain for every [`fixture::TX_BLOCKS`] of them.
async fn time_connecting(store: &ChainStore, count: u64) -> Duration {
    let mut elapsed = Duration::ZERO;
    let mut left = count as usize;
    while left > 0 {
        let fresh = store.fresh_chain().await;
        let blocks: Vec<Block> = fixture().blocks.iter().take(left).cloned().collect();
        left -= blocks.len();
        let started = Instant::now();
        for block in blocks {
            let outcome = fresh
                .chain
                .submit_block(block, now_ms())
                .await
                .expect("the prepared blocks are valid");
            assert_eq!(outcome, BlockOutcome::NewTip);
        }
        elapsed += started.elapsed();
        fresh.close().await;
    }
    elapsed
}

/// Transactions per second through `Chain::submit_transaction`, from one
/// concurrent submitter per sender ([`fixture::SENDERS`] in flight, each
/// sending its own transactions in nonce order and waiting for each answer,
/// as REST clients do): signatures, mempool rules and the group-committed
/// writes, on SQLite and on PostgreSQL. One iteration accepts every prepared
/// transaction into the empty mempool of a fresh chain.
fn mempool_accept(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("node");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(
            (fixture::TX_BLOCKS * fixture::TXS_PER_BLOCK) as u64,
        ));
    group.bench_function("mempool_accept", |b| {
        // Built before criterion's clock starts, so that its warm-up sees
        // only the benchmark's own iterations.
        fixture();
        b.iter_custom(|iterations| {
            runtime.block_on(time_accepting(&ChainStore::Sqlite, iterations))
        })
    });
    match postgres::unavailable() {
        Some(why) => eprintln!("node/mempool_accept_postgres not run: {why}"),
        None => {
            let mut store = None;
            group.bench_function("mempool_accept_postgres", |b| {
                fixture();
                let store =
                    store.get_or_insert_with(|| ChainStore::Postgres(PostgresDatabase::create()));
                b.iter_custom(|iterations| runtime.block_on(time_accepting(store, iterations)))
            });
        }
    }
    group.finish();
}

/// Time from the first submission to the last answer, summed over
/// `iterations` fresh chains each taking every prepared transaction.
async fn time_accepting(store: &ChainStore, iterations: u64) -> Duration {
    let mut elapsed = Duration::ZERO;
    for _ in 0..iterations {
        let fresh = store.fresh_chain().await;
        let queues = fixture().queues_by_sender();
        let started = Instant::now();
        let submitters: Vec<_> = queues
            .into_iter()
            .map(|queue| {
                let chain = Arc::clone(&fresh.chain);
                tokio::spawn(async move {
                    for transaction in queue {
                        chain
                            .submit_transaction(transaction, now_ms())
                            .await
                            .expect("the prepared transactions are valid in sequence");
                    }
                })
            })
            .collect();
        for submitter in submitters {
            submitter.await.expect("a submitter does not panic");
        }
        elapsed += started.elapsed();
        fresh.close().await;
    }
    elapsed
}

/// The miner's threads, hashing a template they will not solve.
struct HashingMiner {
    miner: Miner,
    _found: tokio::sync::mpsc::Receiver<Block>,
}

impl HashingMiner {
    fn start(threads: usize) -> HashingMiner {
        let (sender, found) = tokio::sync::mpsc::channel(1);
        let miner = Miner::start(threads, sender);
        let mut block = DEVNET.genesis_block();
        block.header.height = 1;
        block.header.prev_hash = DEVNET.genesis_hash();
        // Devnet's own target is met every few seconds at these rates, and a
        // thread that finds a block idles until the next template: no hash meets 0.
        miner.set_template(Template {
            block,
            target: Target::from_be_bytes([0; 32]),
        });
        miner.set_running(true);
        HashingMiner {
            miner,
            _found: found,
        }
    }

    /// Waits until the counter passes `after`: (its value, when it was seen).
    fn next_count(&self, after: u64) -> (u64, Instant) {
        loop {
            let count = self.miner.hashes();
            if count > after {
                return (count, Instant::now());
            }
            std::thread::sleep(HASH_COUNTER_POLL);
        }
    }

    /// The time `hashes` hashes take: the counter grows in batches, so the
    /// window runs from one batch boundary to the first one past `hashes`,
    /// scaled to exactly `hashes`.
    fn time_hashes(&self, hashes: u64) -> Duration {
        let (first, started) = self.next_count(self.miner.hashes());
        let (mut count, mut seen) = (first, started);
        while count - first < hashes {
            (count, seen) = self.next_count(count);
        }
        seen.duration_since(started)
            .mul_f64(hashes as f64 / (count - first) as f64)
    }
}

/// Hashes per second of `Miner` with one and with two threads.
fn miner(c: &mut Criterion) {
    let mut group = c.benchmark_group("node");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    for (name, threads) in [("miner_1_thread", 1), ("miner_2_threads", 2)] {
        let mut running = None;
        group.bench_function(name, |b| {
            let miner = running.get_or_insert_with(|| HashingMiner::start(threads));
            b.iter_custom(|hashes| miner.time_hashes(hashes))
        });
        if let Some(running) = running {
            running.miner.shutdown();
        }
    }
    group.finish();
}

/// A node as `blockchain-node --network regtest --http 127.0.0.1:0` starts
/// it, on SQLite in a temporary directory, with the funding blocks mined so
/// that /status reads the database. Without the rate limit (`--rate-limit
/// 0`): the load generator's 10 connections come from 127.0.0.1, which the
/// limit counts like any client, and the row measures the request path, as
/// it did when loopback was spared (`check` returns at once either way).
async fn start_node() -> (RunningNode, tempfile::TempDir) {
    start_node_with(Cli {
        rate_limit: Some(0),
        ..Cli::default()
    })
    .await
}

/// [`start_node`] with other options of `cli` (network, data directory,
/// HTTP address and miner threads are set here).
async fn start_node_with(cli: Cli) -> (RunningNode, tempfile::TempDir) {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let mut config = Config::resolve(Cli {
        network: Some(PARAMS.name.into()),
        data_dir: Some(directory.path().to_path_buf()),
        http: Some("127.0.0.1:0".into()),
        threads: Some(1),
        ..cli
    })
    .expect("a valid configuration");
    // The REST benchmark needs no peers (and not the default ports 4001–4003).
    config.listen = Vec::new();
    let node = node::start(config).await.expect("the node starts");
    for block in &fixture().funding {
        node.chain
            .submit_block(block.clone(), now_ms())
            .await
            .expect("the funding blocks are valid");
    }
    (node, directory)
}

/// The least an axum server can do: one route answering a small JSON.
async fn start_bare_axum() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let router = axum::Router::new().route(
        STATUS_PATH,
        get(|| async { Json(serde_json::json!({ "network": "regtest", "height": 3 })) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port on 127.0.0.1");
    let address = listener.local_addr().expect("a bound address");
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .await
            .expect("the bare server runs");
    });
    (address, server)
}

/// Requests per second on GET /api/v1/status of a running node, and on a
/// bare axum handler, from the same load generator in the same process.
fn api(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("api");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));

    let mut node = None;
    group.bench_function("status", |b| {
        let (_, _, load) = node.get_or_insert_with(|| {
            runtime.block_on(async {
                let (node, directory) = start_node().await;
                let load = HttpLoad::connect(node.http_addr, STATUS_PATH, HTTP_CONNECTIONS).await;
                (node, directory, load)
            })
        });
        b.iter_custom(|requests| runtime.block_on(load.run(requests)))
    });
    if let Some((node, _directory, load)) = node {
        drop(load);
        runtime
            .block_on(node.stop())
            .expect("the node stops cleanly");
    }

    let mut bare = None;
    group.bench_function("bare_axum", |b| {
        let (_, load) = bare.get_or_insert_with(|| {
            runtime.block_on(async {
                let (address, server) = start_bare_axum().await;
                let load = HttpLoad::connect(address, STATUS_PATH, HTTP_CONNECTIONS).await;
                (server, load)
            })
        });
        b.iter_custom(|requests| runtime.block_on(load.run(requests)))
    });
    if let Some((server, _load)) = bare {
        server.abort();
    }
    group.finish();
}

criterion_group!(
    benches,
    connect_blocks,
    mempool_accept,
    miner,
    api,
    sync::sync
);

/// What `criterion_main!(benches)` would write, except that `--load` runs
/// the load scenario instead (criterion never sees its arguments).
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|arg| arg == "--load") {
        return load::main(&args);
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
    ExitCode::SUCCESS
}
