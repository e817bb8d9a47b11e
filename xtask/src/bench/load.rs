//! The REST load row of `cargo xtask bench` (`api/load_200_clients`):
//! `cargo bench -p blockchain-node --bench node -- --load`, 200 paced clients
//! from 200 loopback addresses against a node as deployed, for 60 s (10 s with
//! `--quick`). The bench writes `<target>/load/result.json`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

use crate::{cargo, run_cmd};

/// The row's id, as the bench writes it.
pub(super) const ID: &str = "api/load_200_clients";
/// The bench's default number of clients, the one the id names.
pub(super) const CLIENTS: u64 = 200;
/// Seconds of traffic with `--quick` (the bench's default is 60).
const QUICK_SECONDS: &str = "10";
/// Where the bench is told to write its result.
const RESULT_VAR: &str = "BLOCKCHAIN_LOAD_RESULT";

/// The figures of a load run, or why there are none.
#[derive(Debug, Default)]
pub(super) struct LoadResults {
    pub(super) measured: Option<Measured>,
    /// Why the row did not run.
    pub(super) skipped: Option<String>,
}

/// What `result.json` holds.
#[derive(Debug)]
pub(super) struct Measured {
    pub(super) clients: u64,
    pub(super) elapsed_s: f64,
    pub(super) requests: u64,
    pub(super) throughput_rps: f64,
    pub(super) p50_ms: f64,
    pub(super) p99_ms: f64,
    pub(super) p99_2xx_ms: f64,
    pub(super) max_ms: f64,
    pub(super) ok_2xx: u64,
    pub(super) rate_limited: u64,
    /// Answers other than 2xx and 429, and connection errors.
    pub(super) failures: u64,
    pub(super) first_failure: Option<String>,
}

impl LoadResults {
    pub(super) fn skipped(why: impl Into<String>) -> Self {
        Self {
            measured: None,
            skipped: Some(why.into()),
        }
    }
}

fn result_path(target: &Path) -> PathBuf {
    target.join("load").join("result.json")
}

/// Runs the scenario (after removing an older result, so that a failed run
/// does not report it).
pub(super) fn run(target: &Path, quick: bool) -> Result<()> {
    let path = result_path(target);
    let _ = fs::remove_file(&path);
    let mut bench = cargo();
    bench
        .args([
            "bench",
            "-p",
            "blockchain-node",
            "--bench",
            "node",
            "--",
            "--load",
        ])
        .env(RESULT_VAR, &path);
    if quick {
        bench.args(["--seconds", QUICK_SECONDS]);
    }
    run_cmd(&mut bench)
}

/// The result of the last run in `<target>/load`, if any.
pub(super) fn read(target: &Path) -> Result<LoadResults> {
    let path = result_path(target);
    if !path.is_file() {
        return Ok(LoadResults::skipped(format!("no {}", path.display())));
    }
    let text = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let json: Value =
        serde_json::from_slice(&text).with_context(|| format!("parsing {}", path.display()))?;
    let number = |name: &str| {
        json[name]
            .as_f64()
            .with_context(|| format!("{}: no {name}", path.display()))
    };
    let count = |name: &str| {
        json[name]
            .as_u64()
            .with_context(|| format!("{}: no {name}", path.display()))
    };
    Ok(LoadResults {
        measured: Some(Measured {
            clients: count("clients")?,
            elapsed_s: number("elapsed_s")?,
            requests: count("requests")?,
            throughput_rps: number("throughput_rps")?,
            p50_ms: number("p50_ms")?,
            p99_ms: number("p99_ms")?,
            p99_2xx_ms: number("p99_2xx_ms")?,
            max_ms: number("max_ms")?,
            ok_2xx: count("ok_2xx")?,
            rate_limited: count("rate_limited_429")?,
            failures: count("failures")?,
            first_failure: json["first_failures"][0].as_str().map(String::from),
        }),
        skipped: None,
    })
}
