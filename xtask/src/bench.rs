//! `cargo xtask bench`: runs the criterion benchmarks of the core, then the
//! node's, then the node's REST load scenario (`load`), then the web
//! client's in headless Chromium (`web`), and prints each as a ratio to its
//! limit, measured in the same run where possible.

mod load;
mod web;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use serde_json::Value;

use crate::{cargo, metadata, package, run_cmd, show, wants_help};

/// What a benchmark's rate is compared with.
#[derive(Debug, Clone, Copy)]
enum LimitRef {
    /// This benchmark is itself a limit others refer to.
    Itself,
    /// Another benchmark of the same run, by id.
    Bench(&'static str),
    /// An absolute rate per second: the row's `factor`.
    Absolute,
    /// A rate measured with an outside tool in the same run.
    External(External),
    /// Informational: only time and rate are printed.
    None,
    /// A size or a count (bytes, long tasks) that must stay at most the
    /// row's `factor`: ratio = factor / value.
    AtMost,
    /// The REST load run (`load`): the p99 latency of its 2xx answers, in
    /// ms, must stay at most the row's `factor` (ratio = factor / p99), and
    /// every answer must be 2xx or 429.
    LoadP99,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum External {
    /// `openssl speed rsa3072`, verify/s.
    OpensslRsa3072Verify,
    /// `openssl speed rsa3072`, sign/s.
    OpensslRsa3072Sign,
}

/// One row of the limits table:
/// `ratio = rate(bench) / (rate(limit) * factor)`, passing if `>= target`.
/// For `LimitRef::Absolute`, `rate(limit) * factor` is `factor` itself; for
/// `LimitRef::AtMost`, the row passes when the value is at most `factor`.
/// A benchmark may have several rows (one per limit).
#[derive(Debug)]
struct Limit {
    bench: &'static str,
    limit: LimitRef,
    factor: f64,
    /// `None`: informational, never missed.
    target: Option<f64>,
    description: &'static str,
}

/// Benchmark ids are criterion's `group/function`.
const LIMITS: &[Limit] = &[
    Limit {
        bench: "sha256/compress",
        limit: LimitRef::Itself,
        factor: 1.0,
        target: None,
        description: "raw SHA-256 compressions/s: the limit for PoW",
    },
    Limit {
        bench: "pow/midstate_hash",
        limit: LimitRef::Bench("sha256/compress"),
        factor: 0.5,
        target: Some(0.9),
        description: "PoW hashes/s vs compressions/s ÷ 2",
    },
    Limit {
        bench: "header/verify",
        limit: LimitRef::Absolute,
        factor: 2_000_000.0,
        target: Some(1.0),
        description: "headers verified/s vs 2,000,000/s",
    },
    Limit {
        bench: "header/check",
        limit: LimitRef::Bench("sha256/compress"),
        factor: 1.0 / 3.0,
        target: None,
        description: "one header's rules vs SHA-256 of 128 bytes (3 compressions)",
    },
    Limit {
        bench: "rsa/verify_rustcrypto",
        limit: LimitRef::External(External::OpensslRsa3072Verify),
        factor: 0.5,
        // The reference and the browser fallback: no speed target, the node uses ring.
        target: None,
        description: "tx signature checks/s (rsa crate, reference) vs OpenSSL verify/s ÷ 2",
    },
    Limit {
        bench: "rsa/verify_ring",
        limit: LimitRef::External(External::OpensslRsa3072Verify),
        factor: 0.5,
        target: Some(1.0),
        description: "tx signature checks/s (ring, node) vs OpenSSL verify/s ÷ 2",
    },
    Limit {
        bench: "rsa/sign",
        limit: LimitRef::External(External::OpensslRsa3072Sign),
        factor: 1.0,
        target: None,
        description: "RSA-3072 sign/s vs OpenSSL sign/s",
    },
    Limit {
        bench: "state/update",
        limit: LimitRef::None,
        factor: 1.0,
        target: None,
        description: "one account changed + root recomputed, 100,000 accounts",
    },
    Limit {
        bench: "keystore/decrypt",
        limit: LimitRef::None,
        factor: 1.0,
        target: None,
        description: "keystore unlock (PBKDF2 600,000 rounds + AES-GCM)",
    },
    Limit {
        bench: "node/verify_block",
        limit: LimitRef::Bench("rsa/verify_ring"),
        factor: 1.0 / 100.0,
        target: None,
        description: "100-tx blocks checked/s (check_block, ring) vs ring verifies/s ÷ 100",
    },
    Limit {
        bench: "node/connect_sqlite",
        limit: LimitRef::Bench("node/verify_block"),
        factor: 1.0,
        target: None,
        description: "100-tx blocks connected/s (Chain::submit_block, SQLite) vs blocks checked/s",
    },
    Limit {
        bench: "node/connect_postgres",
        limit: LimitRef::Bench("node/verify_block"),
        factor: 1.0,
        target: None,
        description: "100-tx blocks connected/s (Chain::submit_block, PostgreSQL) vs blocks checked/s",
    },
    Limit {
        bench: "node/mempool_accept",
        limit: LimitRef::Bench("rsa/verify_ring"),
        factor: 1.0,
        target: Some(0.8),
        description: "txs accepted/s (Chain::submit_transaction, 128 senders at once, SQLite) vs one core's ring verifies/s",
    },
    Limit {
        bench: "node/mempool_accept_postgres",
        limit: LimitRef::Bench("rsa/verify_ring"),
        factor: 1.0,
        target: None,
        description: "txs accepted/s (Chain::submit_transaction, 128 senders at once, PostgreSQL) vs one core's ring verifies/s",
    },
    Limit {
        bench: "node/sync_blocks",
        limit: LimitRef::Bench("node/verify_block"),
        factor: 1.0,
        target: Some(0.5),
        description: "100-tx blocks/s a fresh node syncs from a local peer (libp2p, headers first) vs blocks checked/s",
    },
    Limit {
        bench: "node/miner_1_thread",
        limit: LimitRef::Bench("sha256/compress"),
        factor: 0.5,
        target: Some(0.9),
        description: "Miner hashes/s, 1 thread vs compressions/s ÷ 2",
    },
    Limit {
        bench: "node/miner_2_threads",
        limit: LimitRef::Bench("node/miner_1_thread"),
        factor: 2.0,
        target: Some(0.9),
        description: "Miner hashes/s, 2 threads vs 2 × 1 thread",
    },
    Limit {
        bench: "api/bare_axum",
        limit: LimitRef::Itself,
        factor: 1.0,
        target: None,
        description: "GET requests/s on a bare axum handler (same load generator): the API limit",
    },
    Limit {
        bench: "api/status",
        limit: LimitRef::Bench("api/bare_axum"),
        factor: 1.0,
        target: Some(0.7),
        description: "GET /api/v1/status requests/s of a running node vs the bare handler",
    },
    Limit {
        bench: load::ID,
        limit: LimitRef::LoadP99,
        factor: 50.0,
        target: Some(1.0),
        description: "REST p99 latency (2xx answers) vs 50 ms: 200 clients on their own \
                      addresses, a request every 50 ms each (40% status, 20% blocks/latest, \
                      30% balance, 10% submit), default rate limit; only 2xx and 429 allowed",
    },
    // The web client (`web`: tests/js/bench/web.mjs in headless Chromium,
    // www/pkg from `cargo xtask build-web`, a release regtest node).
    Limit {
        bench: "web/verify_headers_native",
        limit: LimitRef::Itself,
        factor: 1.0,
        target: None,
        description: "headers verified/s natively, the batch and the calls of verifyHeaders (100,000 regtest headers): the limit for wasm",
    },
    Limit {
        bench: "web/verify_headers",
        limit: LimitRef::Bench("web/verify_headers_native"),
        factor: 1.0,
        target: None,
        description: "headers verified/s in wasm (verifyHeaders in Chromium, one core) vs native, same batch",
    },
    Limit {
        bench: "web/verify_headers",
        limit: LimitRef::Absolute,
        factor: 600_000.0,
        target: Some(1.0),
        description: "headers verified/s in wasm (verifyHeaders in Chromium, one core) vs 600,000/s",
    },
    Limit {
        bench: "web/sync_headers",
        limit: LimitRef::Absolute,
        factor: 100_000.0 / 3.0,
        target: Some(1.0),
        description: "100,000 headers synced from a local node over WebSocket, verified and stored (LightClient.start to waitForSync) vs 3 s",
    },
    Limit {
        bench: "web/sync_headers_memory",
        limit: LimitRef::Absolute,
        factor: 100_000.0 / 3.0,
        target: None,
        description: "the same sync with {persist: false} (no IndexedDB): how much of the time is storage",
    },
    Limit {
        bench: "web/sync_long_tasks",
        limit: LimitRef::AtMost,
        factor: 0.0,
        target: Some(1.0),
        description: "main-thread tasks over 50 ms (longtask PerformanceObserver) during the 100,000-header sync: none",
    },
    Limit {
        bench: "web/balance_cold",
        limit: LimitRef::Absolute,
        factor: 1.0 / 2.0,
        target: Some(1.0),
        description: "page load to a verified balance on screen, cold (new profile), 10,000-block chain, vs 2 s",
    },
    Limit {
        bench: "web/balance_reload",
        limit: LimitRef::Absolute,
        factor: 1.0,
        target: Some(1.0),
        description: "page load to a verified balance on screen after a reload (headers from IndexedDB) vs 1 s",
    },
    Limit {
        bench: "web/keygen_webcrypto",
        limit: LimitRef::Itself,
        factor: 1.0,
        target: None,
        description: "bare WebCrypto: RSA-3072 generateKey + exports + PBKDF2 600,000 + AES-GCM + import, in the same page",
    },
    Limit {
        bench: "web/keygen",
        limit: LimitRef::Bench("web/keygen_webcrypto"),
        factor: 1.0 / 1.2,
        target: Some(1.0),
        description: "Wallet.create/s vs the bare WebCrypto calls ÷ 1.2 (alternating runs)",
    },
    Limit {
        bench: "web/unlock_webcrypto",
        limit: LimitRef::Itself,
        factor: 1.0,
        target: None,
        description: "bare WebCrypto: PBKDF2 600,000 + AES-GCM decrypt + pkcs8 import, in the same page",
    },
    Limit {
        bench: "web/unlock",
        limit: LimitRef::Bench("web/unlock_webcrypto"),
        factor: 1.0 / 1.2,
        target: Some(1.0),
        description: "Wallet.fromKeystore/s vs the bare WebCrypto calls ÷ 1.2 (alternating runs)",
    },
    Limit {
        bench: "web/wasm_gzip",
        limit: LimitRef::AtMost,
        factor: 900_000.0,
        target: Some(1.0),
        description: "www/pkg/blockchain_webclient_bg.wasm.gz vs 0.9 MB",
    },
];

/// Core features the benchmarks need when the core declares them
/// (`rsa/verify_ring` needs ring).
const BENCH_FEATURES: &[&str] = &["ring-verify"];

const HELP: &str = "\
usage: cargo xtask bench [--report] [--no-openssl] [--no-web | --web-only] [args...]
                         [-- criterion args...]

Runs `cargo bench -p blockchain-core --bench core [args...]` (with the core's
`ring-verify` feature when it has one), then `cargo bench -p blockchain-node
--bench node [args...]` (PostgreSQL at 127.0.0.1:5432 for node/connect_postgres,
skipped with BLOCKCHAIN_SKIP_POSTGRES=1), then the REST load row
api/load_200_clients: `cargo bench -p blockchain-node --bench node -- --load`
(200 clients from 127.0.0.2–127.0.0.201, each one request every 50 ms for 60 s,
10 s with `-- --quick`; result in target/load/result.json: throughput, p99
latency vs 50 ms, 2xx/429 counts; any other answer fails it), then reads
criterion's results from
target/criterion/<group>/<function>/new/{estimates,benchmark}.json and prints
per benchmark: time per iteration (mean), rate per second
(1e9 / mean_ns * elements of its Throughput, else 1), and
ratio = rate / (rate of its limit * factor), with its target.
RSA limits come from `openssl speed -seconds 3 rsa3072`, run after the benchmarks.

Then the browser rows (web/*): `cargo xtask build-web`, `cargo build --release`
of blockchain-node and bench_headers, the native figure of a 100,000-header
regtest batch, and tests/js/bench/web.mjs in headless Chromium (/usr/bin/chromium,
or CHROMIUM) against a regtest node (about 5 minutes, most of it mining the
100,000-block chain). Skipped with a message when Chromium or Node.js is
missing; their times are medians of several runs; results in target/web-bench/.

  --report       do not run the benchmarks; report what target/criterion,
                 target/load and target/web-bench hold
  --no-openssl   do not run `openssl speed` (RSA ratios become n/a)
  --no-web       no browser rows
  --web-only     only the browser rows (no criterion benchmarks, no load row,
                 no openssl)
  -- <filter>    criterion arguments for both, e.g. `cargo xtask bench -- rsa/`;
                 with a filter the load row runs only when it is part of its id
                 (`-- api/load`) and the browser rows only when it is part of a
                 web/* id (`-- web/`); `-- --quick` also shortens the load row
                 (10 s) and the browser rows

Missed targets are printed as MISSED; the command still exits 0.
";

/// The filters among criterion's arguments (those after `--` that are no option).
fn filters(criterion_args: &[String]) -> Vec<&String> {
    criterion_args
        .iter()
        .skip_while(|a| *a != "--")
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect()
}

/// Whether criterion's arguments select the browser rows: no filter, or a
/// filter that is part of a `web/` id (criterion filters are regexes; this
/// is a plain substring test).
fn selects_web(criterion_args: &[String]) -> bool {
    let filters = filters(criterion_args);
    filters.is_empty()
        || filters.iter().any(|f| {
            LIMITS
                .iter()
                .any(|l| l.bench.starts_with("web/") && l.bench.contains(f.as_str()))
        })
}

/// Whether criterion's arguments select the REST load row: no filter, or a
/// filter that is part of its id (`api/load`, `api/`, `load`).
fn selects_load(criterion_args: &[String]) -> bool {
    let filters = filters(criterion_args);
    filters.is_empty() || filters.iter().any(|f| load::ID.contains(f.as_str()))
}

pub(crate) fn main(args: Vec<String>) -> Result<()> {
    if wants_help(&args) {
        print!("{HELP}");
        return Ok(());
    }
    let mut report_only = false;
    let mut no_openssl = false;
    let mut no_web = false;
    let mut web_only = false;
    let mut bench_args = Vec::new();
    let mut after_separator = false;
    for arg in args {
        if !after_separator {
            match arg.as_str() {
                "--report" => {
                    report_only = true;
                    continue;
                }
                "--no-openssl" => {
                    no_openssl = true;
                    continue;
                }
                "--no-web" => {
                    no_web = true;
                    continue;
                }
                "--web-only" => {
                    web_only = true;
                    continue;
                }
                "--" => after_separator = true,
                _ => {}
            }
        }
        bench_args.push(arg);
    }

    if no_web && web_only {
        anyhow::bail!("--no-web and --web-only exclude each other");
    }

    let meta = metadata()?;
    let target_dir = PathBuf::from(
        meta["target_directory"]
            .as_str()
            .context("cargo metadata has no target_directory")?,
    );
    let criterion_dir = match std::env::var_os("CRITERION_HOME") {
        Some(dir) => PathBuf::from(dir),
        None => target_dir.join("criterion"),
    };

    // Results older than this run are "not run" (criterion keeps old ones).
    let since = if report_only {
        None
    } else {
        Some(SystemTime::now() - Duration::from_secs(2))
    };
    let quick = bench_args.iter().any(|a| a == "--quick");
    let run_load = !report_only && !web_only && selects_load(&bench_args);
    let bench_result = if report_only || web_only {
        Ok(())
    } else {
        let mut core = cargo();
        core.args(["bench", "-p", "blockchain-core", "--bench", "core"]);
        if let Some(package) = package(&meta, "blockchain-core") {
            let features: Vec<&str> = BENCH_FEATURES
                .iter()
                .copied()
                .filter(|f| package["features"].get(*f).is_some())
                .collect();
            if !features.is_empty() {
                core.args(["--features", &features.join(",")]);
            }
        }
        core.args(&bench_args);
        let core_result = run_cmd(&mut core);
        // The node's rows need the core's limits of the same run, but a
        // failed core bench should not hide what the node measures.
        let mut node = cargo();
        node.args(["bench", "-p", "blockchain-node", "--bench", "node"]);
        node.args(&bench_args);
        let node_result = run_cmd(&mut node);
        // The load row after the criterion rows, alone on the cores.
        let load_result = if run_load {
            load::run(&target_dir, quick)
        } else {
            Ok(())
        };
        core_result.and(node_result).and(load_result)
    };
    let load = if report_only || run_load {
        load::read(&target_dir)?
    } else if web_only {
        load::LoadResults::skipped("--web-only")
    } else {
        load::LoadResults::skipped("the criterion filter does not select it")
    };

    let results = if web_only {
        BTreeMap::new()
    } else {
        read_results(&criterion_dir, since)?
    };
    let wants_openssl = results.keys().any(|id| {
        LIMITS
            .iter()
            .any(|l| l.bench == id && matches!(l.limit, LimitRef::External(_)))
    });
    let openssl = if no_openssl {
        Openssl::Skipped("--no-openssl")
    } else if !wants_openssl {
        Openssl::Skipped("no RSA benchmark ran")
    } else {
        measure_openssl()
    };

    // The browser rows last: nothing else runs on the cores meanwhile.
    let (web, web_result) = if report_only {
        (
            web::read(&target_dir)?.unwrap_or_else(|| web::WebResults::skipped("no results")),
            Ok(()),
        )
    } else if no_web {
        (web::WebResults::skipped("--no-web"), Ok(()))
    } else if !selects_web(&bench_args) {
        (
            web::WebResults::skipped("the criterion filter selects no web/* row"),
            Ok(()),
        )
    } else {
        match web::run(&target_dir, quick) {
            Ok(results) => (results, Ok(())),
            Err(error) => (web::WebResults::skipped(format!("{error:#}")), Err(error)),
        }
    };

    print_report(&results, &load, &web, &openssl, &criterion_dir);
    bench_result
        .and(web_result)
        .context("the benchmarks failed; the table shows what finished")
}

/// One criterion result.
#[derive(Debug)]
struct Measured {
    mean_ns: f64,
    throughput: Throughput,
}

#[derive(Debug, Clone, Copy)]
enum Throughput {
    None,
    Elements(u64),
    Bytes(u64),
    ElementsAndBytes(u64, u64),
}

impl Measured {
    /// Iterations per second.
    fn iterations_per_sec(&self) -> f64 {
        1e9 / self.mean_ns
    }

    /// Elements per second, counting an iteration as one element when the
    /// benchmark declares no element throughput.
    fn rate(&self) -> f64 {
        let elements = match self.throughput {
            Throughput::Elements(n) | Throughput::ElementsAndBytes(n, _) => n,
            Throughput::None | Throughput::Bytes(_) => 1,
        };
        self.iterations_per_sec() * elements as f64
    }

    fn bytes_per_sec(&self) -> Option<f64> {
        match self.throughput {
            Throughput::Bytes(n) | Throughput::ElementsAndBytes(_, n) => {
                Some(self.iterations_per_sec() * n as f64)
            }
            Throughput::None | Throughput::Elements(_) => None,
        }
    }

    fn unit(&self) -> &'static str {
        match self.throughput {
            Throughput::Elements(_) | Throughput::ElementsAndBytes(..) => "elem/s",
            Throughput::None | Throughput::Bytes(_) => "iter/s",
        }
    }
}

/// Reads every `<id>/new/benchmark.json` + `estimates.json` under `dir`,
/// keeping only results written at or after `since` (if given).
fn read_results(dir: &Path, since: Option<SystemTime>) -> Result<BTreeMap<String, Measured>> {
    let mut files = Vec::new();
    if dir.is_dir() {
        find_new_dirs(dir, &mut files)?;
    }
    let mut results = BTreeMap::new();
    for new_dir in files {
        let estimates_path = new_dir.join("estimates.json");
        let benchmark_path = new_dir.join("benchmark.json");
        if let Some(since) = since {
            let written = fs::metadata(&estimates_path)
                .and_then(|m| m.modified())
                .with_context(|| format!("reading {}", estimates_path.display()))?;
            if written < since {
                continue;
            }
        }
        let benchmark = read_json(&benchmark_path)?;
        let estimates = read_json(&estimates_path)?;
        let id = benchmark["full_id"]
            .as_str()
            .with_context(|| format!("{}: no full_id", benchmark_path.display()))?
            .to_string();
        let mean_ns = estimates["mean"]["point_estimate"]
            .as_f64()
            .with_context(|| format!("{}: no mean.point_estimate", estimates_path.display()))?;
        let t = &benchmark["throughput"];
        let throughput = if let Some(n) = t["Elements"].as_u64() {
            Throughput::Elements(n)
        } else if let Some(n) = t["Bytes"].as_u64().or_else(|| t["BytesDecimal"].as_u64()) {
            Throughput::Bytes(n)
        } else if let Some(n) = t["Bits"].as_u64() {
            Throughput::Bytes(n / 8)
        } else if let Some(eb) = t.get("ElementsAndBytes") {
            Throughput::ElementsAndBytes(
                eb["elements"].as_u64().unwrap_or(1),
                eb["bytes"].as_u64().unwrap_or(0),
            )
        } else {
            Throughput::None
        };
        if mean_ns > 0.0 {
            results.insert(
                id,
                Measured {
                    mean_ns,
                    throughput,
                },
            );
        }
    }
    Ok(results)
}

/// Collects the `new` directories holding a `benchmark.json` below `dir`.
fn find_new_dirs(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if !path.is_dir() {
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "new" {
            if path.join("benchmark.json").is_file() && path.join("estimates.json").is_file() {
                out.push(path);
            }
        } else if name != "report" && name != "base" && name != "change" {
            find_new_dirs(&path, out)?;
        }
    }
    Ok(())
}

fn read_json(path: &Path) -> Result<Value> {
    let text = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text).with_context(|| format!("parsing {}", path.display()))
}

/// OpenSSL's RSA-3072 rates on this machine, or why there are none.
#[derive(Debug)]
enum Openssl {
    Measured { sign: f64, verify: f64 },
    Skipped(&'static str),
    Failed(String),
}

impl Openssl {
    fn rate(&self, which: External) -> Result<f64, String> {
        match self {
            Openssl::Measured { sign, verify } => Ok(match which {
                External::OpensslRsa3072Sign => *sign,
                External::OpensslRsa3072Verify => *verify,
            }),
            Openssl::Skipped(why) => Err(format!("limit n/a: openssl not run, {why}")),
            Openssl::Failed(why) => Err(format!("limit n/a: {why}")),
        }
    }
}

fn measure_openssl() -> Openssl {
    let mut cmd = Command::new("openssl");
    cmd.args(["speed", "-seconds", "3", "rsa3072"]);
    eprintln!("\n$ {}   (the RSA limit, ~6 s)", show(&cmd));
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => return Openssl::Failed(format!("openssl missing ({e})")),
    };
    if !out.status.success() {
        return Openssl::Failed(format!("`{}` failed ({})", show(&cmd), out.status));
    }
    match parse_openssl_speed(&String::from_utf8_lossy(&out.stdout)) {
        Some((sign, verify)) => Openssl::Measured { sign, verify },
        None => Openssl::Failed("no rsa 3072 line in `openssl speed` output".into()),
    }
}

/// Parses the table of `openssl speed rsa3072`:
///
/// ```text
///                   sign    verify    sign/s verify/s
/// rsa 3072 bits 0.002022s 0.000040s    494.6  25006.7
/// ```
///
/// (OpenSSL 3.2+ adds encrypt/decrypt columns; columns are found by header.)
fn parse_openssl_speed(output: &str) -> Option<(f64, f64)> {
    let lines: Vec<&str> = output.lines().collect();
    let header_at = lines
        .iter()
        .position(|l| l.split_whitespace().any(|w| w == "verify/s"))?;
    let header: Vec<&str> = lines[header_at].split_whitespace().collect();
    let row = lines[header_at + 1..].iter().find(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        words.first() == Some(&"rsa") && words.contains(&"3072")
    })?;
    let values: Vec<&str> = row
        .split_whitespace()
        .skip_while(|w| *w != "bits")
        .skip(1)
        .collect();
    let column = |name: &str| -> Option<f64> {
        let i = header.iter().position(|h| *h == name)?;
        values.get(i)?.parse().ok()
    };
    Some((column("sign/s")?, column("verify/s")?))
}

/// One printed row.
struct Row {
    id: String,
    time: String,
    rate: String,
    limit: String,
    ratio: String,
    target: String,
    status: String,
    note: String,
}

fn print_report(
    criterion: &BTreeMap<String, Measured>,
    load: &load::LoadResults,
    web: &web::WebResults,
    openssl: &Openssl,
    dir: &Path,
) {
    let mut rows = Vec::new();
    let mut missed = Vec::new();
    let (mut ok, mut info, mut not_run) = (0, 0, 0);
    // The browser's timed rows read like criterion's.
    let results: BTreeMap<&str, &Measured> = criterion
        .iter()
        .chain(web.timed.iter())
        .map(|(id, m)| (id.as_str(), m))
        .collect();

    for limit in LIMITS {
        let not_run_row = |note: String| Row {
            id: limit.bench.into(),
            time: "not run".into(),
            rate: String::new(),
            limit: String::new(),
            ratio: String::new(),
            target: target_text(limit.target),
            status: "not run".into(),
            note,
        };
        // Why a browser row has no figure.
        let web_note = || {
            let why = web
                .errors
                .get(limit.bench)
                .or(web.errors.get("web"))
                .or(web.skipped.as_ref());
            match why {
                Some(why) if limit.bench.starts_with("web/") => {
                    format!("{} ({why})", limit.description)
                }
                _ => limit.description.to_string(),
            }
        };
        if let LimitRef::LoadP99 = limit.limit {
            let Some(run) = &load.measured else {
                not_run += 1;
                let why = load.skipped.as_deref().unwrap_or("no result");
                rows.push(not_run_row(format!("{} ({why})", limit.description)));
                continue;
            };
            let ms = |value: f64| time_text(value * 1e6);
            let ratio = (run.p99_2xx_ms > 0.0).then(|| limit.factor / run.p99_2xx_ms);
            let status = if run.failures > 0 {
                missed.push(format!(
                    "MISSED {}: {} answers other than 2xx or 429 (first: {})",
                    limit.bench,
                    run.failures,
                    run.first_failure.as_deref().unwrap_or("?")
                ));
                "MISSED"
            } else if run.p99_2xx_ms <= limit.factor {
                ok += 1;
                "ok"
            } else {
                missed.push(format!(
                    "MISSED {}: p99 {} > {} ({})",
                    limit.bench,
                    ms(run.p99_2xx_ms),
                    ms(limit.factor),
                    limit.description
                ));
                "MISSED"
            };
            let mut facts = if run.clients == load::CLIENTS {
                String::new()
            } else {
                format!("{} clients, ", run.clients)
            };
            facts.push_str(&format!(
                "{:.0} s, {} requests: p50 {}, p99 of all {}, max {}; 2xx {}, 429 {}",
                run.elapsed_s,
                run.requests,
                ms(run.p50_ms),
                ms(run.p99_ms),
                ms(run.max_ms),
                run.ok_2xx,
                run.rate_limited
            ));
            if run.failures > 0 {
                facts.push_str(&format!(", {} other", run.failures));
            }
            rows.push(Row {
                id: limit.bench.into(),
                time: ms(run.p99_2xx_ms),
                rate: format!("{} req/s", si(run.throughput_rps)),
                limit: format!("≤{}", ms(limit.factor)),
                ratio: ratio.map_or("—".into(), |r| format!("{r:.2}")),
                target: target_text(limit.target),
                status: status.into(),
                note: format!("{} ({facts})", limit.description),
            });
            continue;
        }
        if let LimitRef::AtMost = limit.limit {
            let Some(&value) = web.amounts.get(limit.bench) else {
                not_run += 1;
                rows.push(not_run_row(web_note()));
                continue;
            };
            let bytes = limit.bench.ends_with("_gzip");
            let amount = |v: f64| {
                if bytes {
                    format!("{}B", si(v))
                } else {
                    format!("{v:.0}")
                }
            };
            let ratio = (value > 0.0 && limit.factor > 0.0).then(|| limit.factor / value);
            let status = if value <= limit.factor {
                ok += 1;
                "ok"
            } else {
                missed.push(format!(
                    "MISSED {}: {} > {} ({})",
                    limit.bench,
                    amount(value),
                    amount(limit.factor),
                    limit.description
                ));
                "MISSED"
            };
            let mut note = limit.description.to_string();
            if let Some(extra) = web.notes.get(limit.bench) {
                note.push_str(&format!(" ({extra})"));
            }
            rows.push(Row {
                id: limit.bench.into(),
                time: amount(value),
                rate: String::new(),
                limit: format!("≤{}", amount(limit.factor)),
                ratio: ratio.map_or("—".into(), |r| format!("{r:.2}")),
                // Without a ratio (a limit of 0) the limit column says it all.
                target: ratio.map_or(String::new(), |_| target_text(limit.target)),
                status: status.into(),
                note,
            });
            continue;
        }
        let Some(m) = results.get(limit.bench) else {
            not_run += 1;
            rows.push(not_run_row(web_note()));
            continue;
        };
        let limit_rate: Result<Option<f64>, String> = match limit.limit {
            LimitRef::Itself => Ok(Some(m.rate() * limit.factor)),
            LimitRef::Bench(other) => match results.get(other) {
                Some(o) => Ok(Some(o.rate() * limit.factor)),
                None => Err(format!("limit n/a: {other} not run")),
            },
            LimitRef::Absolute => Ok(Some(limit.factor)),
            LimitRef::External(which) => openssl.rate(which).map(|r| Some(r * limit.factor)),
            LimitRef::None | LimitRef::AtMost | LimitRef::LoadP99 => Ok(None),
        };
        let mut note = limit.description.to_string();
        if let Some(extra) = web.notes.get(limit.bench) {
            note.push_str(&format!(" ({extra})"));
        }
        let (limit_text, ratio_text, status) = match limit_rate {
            Ok(Some(l)) => {
                let ratio = m.rate() / l;
                let status = match (limit.limit, limit.target) {
                    (LimitRef::Itself, _) => {
                        info += 1;
                        "limit".to_string()
                    }
                    (_, None) => {
                        info += 1;
                        "info".to_string()
                    }
                    (_, Some(t)) if ratio >= t => {
                        ok += 1;
                        "ok".to_string()
                    }
                    (_, Some(t)) => {
                        missed.push(format!(
                            "MISSED {}: ratio {ratio:.2} < target {t:.2} ({})",
                            limit.bench, limit.description
                        ));
                        "MISSED".to_string()
                    }
                };
                (format!("{}/s", si(l)), format!("{ratio:.2}"), status)
            }
            Ok(None) => {
                info += 1;
                (String::new(), String::new(), "info".to_string())
            }
            Err(why) => {
                info += 1;
                note = format!("{note} ({why})");
                ("n/a".to_string(), "n/a".to_string(), "n/a".to_string())
            }
        };
        rows.push(Row {
            id: limit.bench.into(),
            time: time_text(m.mean_ns),
            rate: rate_text(m),
            limit: limit_text,
            ratio: ratio_text,
            target: target_text(limit.target),
            status,
            note,
        });
    }

    // Benchmarks without a row in LIMITS are still worth seeing.
    for (id, m) in &results {
        if LIMITS.iter().any(|l| l.bench == *id) {
            continue;
        }
        info += 1;
        rows.push(Row {
            id: (*id).into(),
            time: time_text(m.mean_ns),
            rate: rate_text(m),
            limit: String::new(),
            ratio: String::new(),
            target: String::new(),
            status: "info".into(),
            note: "(no limit declared in xtask/src/bench.rs)".into(),
        });
    }

    println!();
    println!("Benchmarks (from {}):", dir.display());
    if let Openssl::Measured { sign, verify } = openssl {
        println!(
            "OpenSSL RSA-3072 on this machine: {}/s sign, {}/s verify",
            si(*sign),
            si(*verify)
        );
    }
    match (&web.browser, &web.skipped) {
        (Some(version), _) => println!(
            "Browser rows (web/*): headless Chromium {version}; times are medians \
             (target/web-bench/results.json has every run)"
        ),
        (None, Some(why)) => println!("Browser rows (web/*) not run: {why}"),
        (None, None) => {}
    }
    let header = Row {
        id: "benchmark".into(),
        time: "time/iter".into(),
        rate: "rate".into(),
        limit: "limit".into(),
        ratio: "ratio".into(),
        target: "target".into(),
        status: "status".into(),
        note: "what".into(),
    };
    let all: Vec<&Row> = std::iter::once(&header).chain(rows.iter()).collect();
    let width = |f: fn(&Row) -> &str| all.iter().map(|r| f(r).chars().count()).max().unwrap_or(0);
    let w = [
        width(|r| &r.id),
        width(|r| &r.time),
        width(|r| &r.rate),
        width(|r| &r.limit),
        width(|r| &r.ratio),
        width(|r| &r.target),
        width(|r| &r.status),
    ];
    for (i, r) in all.iter().enumerate() {
        println!(
            "{:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {:>w4$}  {:>w5$}  {:<w6$}  {}",
            r.id,
            r.time,
            r.rate,
            r.limit,
            r.ratio,
            r.target,
            r.status,
            r.note,
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3],
            w4 = w[4],
            w5 = w[5],
            w6 = w[6],
        );
        if i == 0 {
            let total: usize = w.iter().sum::<usize>() + 2 * w.len() + 4;
            println!("{}", "-".repeat(total));
        }
    }
    println!();
    for line in &missed {
        println!("{line}");
    }
    println!(
        "bench: {ok} ok, {} MISSED, {info} informational, {not_run} not run",
        missed.len()
    );
}

fn target_text(target: Option<f64>) -> String {
    target.map(|t| format!("≥{t:.2}")).unwrap_or_default()
}

fn rate_text(m: &Measured) -> String {
    let mut text = format!("{} {}", si(m.rate()), m.unit());
    if let Some(bytes) = m.bytes_per_sec() {
        text.push_str(&format!(" ({}B/s)", si(bytes)));
    }
    text
}

/// Nanoseconds as ps / ns / µs / ms / s with three significant digits.
fn time_text(ns: f64) -> String {
    let (value, unit) = if ns < 1.0 {
        (ns * 1e3, "ps")
    } else if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    format!("{} {unit}", three_digits(value))
}

/// A rate with an SI prefix: `24.1 k`, `1.60 G`.
fn si(value: f64) -> String {
    let (scaled, prefix) = if value >= 1e12 {
        (value / 1e12, " T")
    } else if value >= 1e9 {
        (value / 1e9, " G")
    } else if value >= 1e6 {
        (value / 1e6, " M")
    } else if value >= 1e3 {
        (value / 1e3, " k")
    } else {
        (value, " ")
    };
    format!("{}{prefix}", three_digits(scaled))
}

fn three_digits(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_openssl_3_0() {
        let out = "\
options: bn(64,64)
                  sign    verify    sign/s verify/s
rsa 3072 bits 0.002022s 0.000040s    494.6  25006.7
";
        assert_eq!(parse_openssl_speed(out), Some((494.6, 25006.7)));
    }

    #[test]
    fn parses_openssl_3_2() {
        let out = "\
                   sign    verify    encrypt   decrypt   sign/s verify/s  encr./s  decr./s
rsa  3072 bits 0.001400s 0.000028s 0.000029s 0.001390s    714.3  35714.3  34482.8    719.4
";
        assert_eq!(parse_openssl_speed(out), Some((714.3, 35714.3)));
    }

    #[test]
    fn web_rows_follow_the_filter() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(selects_web(&args(&[])));
        assert!(selects_web(&args(&["--", "--quick"])));
        assert!(selects_web(&args(&["--", "web/"])));
        assert!(selects_web(&args(&["--", "sync_headers"])));
        assert!(!selects_web(&args(&["--", "rsa/"])));
        assert!(!selects_web(&args(&["--", "--quick", "header/"])));
        assert!(!selects_web(&args(&["--", "api/load"])));
    }

    #[test]
    fn load_row_follows_the_filter() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(selects_load(&args(&[])));
        assert!(selects_load(&args(&["--", "--quick"])));
        assert!(selects_load(&args(&["--", "api/load"])));
        assert!(selects_load(&args(&["--", "api/"])));
        assert!(!selects_load(&args(&["--", "web/"])));
        assert!(!selects_load(&args(&["--", "--quick", "node/"])));
    }

    #[test]
    fn formats() {
        assert_eq!(time_text(0.4975), "498 ps");
        assert_eq!(time_text(40_000.0), "40.0 µs");
        assert_eq!(si(2_010_000_000.0), "2.01 G");
        assert_eq!(si(25_006.7), "25.0 k");
    }
}
