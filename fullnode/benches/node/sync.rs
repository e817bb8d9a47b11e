//! Initial sync between two local nodes: a source node holding the funding
//! blocks and the prepared 100-transaction blocks, and a fresh node that
//! starts with the funding blocks and `--bootstrap`s the source. Timed from
//! the fresh node's start to its tip matching the source's: dial, identify,
//! headers, block downloads, validation and storage.

use std::path::Path;
use std::time::{Duration, Instant};

use blockchain_node::clock::now_ms;
use blockchain_node::config::{Cli, Config};
use blockchain_node::node::{self, RunningNode};
use criterion::{Criterion, SamplingMode, Throughput};

use crate::fixture::{PARAMS, fixture};
use crate::runtime;

/// A regtest node on SQLite in `dir`, peer-to-peer on 127.0.0.1 TCP only.
async fn start(dir: &Path, bootstrap: Vec<String>) -> RunningNode {
    let mut config = Config::resolve(Cli {
        network: Some(PARAMS.name.into()),
        data_dir: Some(dir.to_path_buf()),
        http: Some("127.0.0.1:0".into()),
        threads: Some(1),
        ..Cli::default()
    })
    .expect("a valid configuration");
    config.listen = vec!["/ip4/127.0.0.1/tcp/0".into()];
    config.bootstrap = bootstrap;
    node::start(config).await.expect("the node starts")
}

/// Submits `blocks` straight to the node's chain.
async fn load(node: &RunningNode, blocks: &[blockchain_core::Block]) {
    for block in blocks {
        node.chain
            .submit_block(block.clone(), now_ms())
            .await
            .expect("the prepared blocks are valid");
    }
}

/// Copies the files of a stopped node's data dir (its database) to `to`,
/// leaving out its peer-to-peer identity.
fn copy_database(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("a data dir") {
        let entry = entry.expect("a file");
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("blockchain.db") {
            std::fs::copy(entry.path(), to.join(&name)).expect("copied");
        }
    }
}

/// Blocks per second a fresh node syncs from a local peer.
pub(crate) fn sync(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("node");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(1));
    let mut setup = None;
    group.bench_function("sync_blocks", |b| {
        let (source, template, _source_dir) = setup.get_or_insert_with(|| {
            runtime.block_on(async {
                let source_dir = tempfile::tempdir().expect("a temporary directory");
                let source = start(source_dir.path(), Vec::new()).await;
                load(&source, &fixture().funding).await;
                load(&source, &fixture().blocks).await;
                // The fresh node's starting point: the funding blocks only.
                let template = tempfile::tempdir().expect("a temporary directory");
                let seed = start(template.path(), Vec::new()).await;
                load(&seed, &fixture().funding).await;
                seed.stop().await.expect("stops");
                (source, template, source_dir)
            })
        });
        let bootstrap = source
            .network()
            .expect("the source runs peer-to-peer")
            .listen_addrs_text()
            .into_iter()
            .next()
            .expect("the source listens");
        let target = source.chain.status().header.height;
        let per_sync = fixture().blocks.len() as u64;
        b.iter_custom(|blocks| {
            let syncs = blocks.div_ceil(per_sync);
            let mut elapsed = Duration::ZERO;
            for _ in 0..syncs {
                let dir = tempfile::tempdir().expect("a temporary directory");
                copy_database(template.path(), dir.path());
                elapsed += runtime.block_on(async {
                    let started = Instant::now();
                    let fresh = start(dir.path(), vec![bootstrap.clone()]).await;
                    let mut status = fresh.chain.watch_status();
                    status
                        .wait_for(|tip| tip.header.height >= target)
                        .await
                        .expect("the chain is open");
                    let took = started.elapsed();
                    fresh.stop().await.expect("stops");
                    took
                });
            }
            // Time per synced block × the blocks criterion asked for.
            elapsed.mul_f64(blocks as f64 / (syncs * per_sync) as f64)
        })
    });
    if let Some((source, _, _)) = setup {
        runtime.block_on(source.stop()).expect("stops");
    }
    group.finish();
}
