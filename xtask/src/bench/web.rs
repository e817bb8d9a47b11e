//! The browser rows of `cargo xtask bench`: the wasm light client in
//! headless Chromium (tests/js/bench/web.mjs, playwright-core) against a
//! release regtest node, plus the native figure of the same header batch
//! (`bench_headers`, tests/src/bin). Results land in
//! `<target>/web-bench/{native,results}.json`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use super::{Measured, Throughput};
use crate::{cargo, root, run_cmd, show, web};

/// Headers in the batch verified natively and in wasm.
const HEADERS: u64 = 100_000;
/// Timed native runs (after one untimed run); the median is kept.
const NATIVE_RUNS: &str = "7";

/// What the browser part measured, or why it did not run.
#[derive(Debug, Default)]
pub(super) struct WebResults {
    /// Timed rows, as criterion's (time = median of the runs).
    pub(super) timed: BTreeMap<String, Measured>,
    /// Sizes and counts (`web/wasm_gzip` bytes, `web/sync_long_tasks`).
    pub(super) amounts: BTreeMap<String, f64>,
    /// Rows whose section failed, with the first line of the error.
    pub(super) errors: BTreeMap<String, String>,
    /// Why no browser row ran.
    pub(super) skipped: Option<String>,
    /// Chromium's version.
    pub(super) browser: Option<String>,
    /// Extra facts for the notes (longest long task, raw wasm size).
    pub(super) notes: BTreeMap<String, String>,
}

impl WebResults {
    pub(super) fn skipped(why: impl Into<String>) -> Self {
        Self {
            skipped: Some(why.into()),
            ..Self::default()
        }
    }
}

fn out_dir(target: &Path) -> PathBuf {
    target.join("web-bench")
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Why the browser rows cannot run here, if they cannot.
fn missing_tools(js: &Path) -> Option<String> {
    let browser = chromium();
    if !browser.is_file() {
        return Some(format!(
            "Chromium not found at {} (apt-get install -y chromium, or set CHROMIUM=/path)",
            browser.display()
        ));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Some("Node.js not found (apt-get install -y nodejs npm)".into());
    }
    if !js.join("node_modules/playwright-core").is_dir() {
        if Command::new("npm").arg("--version").output().is_err() {
            return Some(
                "tests/js/node_modules is missing and npm is not installed \
                 (apt-get install -y npm)"
                    .into(),
            );
        }
        let mut npm = Command::new("npm");
        npm.args(["ci", "--prefix"]).arg(js);
        if let Err(error) = run_cmd(&mut npm) {
            return Some(format!("{error:#}"));
        }
    }
    None
}

/// Builds what the browser rows need and runs them. `Ok` with `skipped`
/// set when Chromium, Node.js or playwright-core are missing; `Err` when a
/// build or a script fails to run at all.
pub(super) fn run(target: &Path, quick: bool) -> Result<WebResults> {
    let root = root();
    let js = root.join("tests").join("js");
    if let Some(why) = missing_tools(&js) {
        eprintln!("\nbench: browser rows skipped: {why}");
        return Ok(WebResults::skipped(why));
    }
    eprintln!("\nbench: browser rows (web/*): build-web, a release node, headless Chromium");
    web::build_web().context("cargo xtask build-web")?;
    run_cmd(cargo().args([
        "build",
        "--release",
        "-p",
        "blockchain-node",
        "-p",
        "blockchain-tests",
        "--bin",
        "blockchain-node",
        "--bin",
        "bench_headers",
    ]))?;
    let release = target.join("release");
    let dir = out_dir(target);
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let headers = dir.join(format!("headers-regtest-{HEADERS}.bin"));
    let native_path = dir.join("native.json");
    let results_path = dir.join("results.json");
    for stale in [&native_path, &results_path] {
        let _ = fs::remove_file(stale);
    }

    let bench_headers = release.join("bench_headers");
    run_cmd(
        Command::new(&bench_headers)
            .args(["generate", "regtest", &HEADERS.to_string()])
            .arg(&headers),
    )?;
    let mut native = Command::new(&bench_headers);
    native
        .args(["verify", "regtest"])
        .arg(&headers)
        .arg(NATIVE_RUNS);
    eprintln!("$ {}", show(&native));
    let output = native
        .output()
        .with_context(|| format!("could not start `{}`", show(&native)))?;
    if !output.status.success() {
        bail!(
            "`{}` failed ({}): {}",
            show(&native),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim_end()
        );
    }
    fs::write(&native_path, &output.stdout)?;

    let mut script = Command::new("node");
    script
        .current_dir(&js)
        .arg("bench/web.mjs")
        .arg("--node-bin")
        .arg(release.join("blockchain-node"))
        .arg("--www")
        .arg(root.join("www"))
        .arg("--headers")
        .arg(&headers)
        .arg("--out")
        .arg(&results_path);
    if quick {
        script.arg("--quick");
    }
    run_cmd(&mut script)?;
    read(target).map(|results| results.unwrap_or_else(|| WebResults::skipped("no results")))
}

/// The results of the last run in `<target>/web-bench`, if any.
pub(super) fn read(target: &Path) -> Result<Option<WebResults>> {
    let dir = out_dir(target);
    let results_path = dir.join("results.json");
    if !results_path.is_file() {
        return Ok(None);
    }
    let mut results = WebResults::default();
    let native_path = dir.join("native.json");
    if native_path.is_file() {
        let native = read_json(&native_path)?;
        if let (Some(ns), Some(count)) = (native["median_ns"].as_f64(), native["count"].as_u64()) {
            if let Some(runs) = native["runs"].as_u64() {
                results.notes.insert(
                    "web/verify_headers_native".into(),
                    format!("median of {runs} runs"),
                );
            }
            results.timed.insert(
                "web/verify_headers_native".into(),
                Measured {
                    mean_ns: ns,
                    throughput: Throughput::Elements(count),
                },
            );
        }
    }
    let json = read_json(&results_path)?;
    results.browser = json["chromium"].as_str().map(String::from);
    if let Some(rows) = json["rows"].as_object() {
        for (id, row) in rows {
            if let (Some(ns), Some(elements)) =
                (row["median_ns"].as_f64(), row["elements"].as_u64())
            {
                // One operation a run (a wallet, a page load) reads as iter/s.
                let throughput = if elements == 1 {
                    Throughput::None
                } else {
                    Throughput::Elements(elements)
                };
                results.timed.insert(
                    id.clone(),
                    Measured {
                        mean_ns: ns,
                        throughput,
                    },
                );
                if let Some(runs) = row["runs"].as_u64() {
                    results
                        .notes
                        .insert(id.clone(), format!("median of {runs} runs"));
                }
            } else if let Some(bytes) = row["bytes"].as_f64() {
                results.amounts.insert(id.clone(), bytes);
                if let Some(raw) = row["raw_bytes"].as_f64() {
                    results
                        .notes
                        .insert(id.clone(), format!("{:.2} MB raw", raw / 1e6));
                }
            } else if let Some(count) = row["count"].as_f64() {
                results.amounts.insert(id.clone(), count);
                let longest = row["longest_ms"].as_f64().unwrap_or(0.0);
                let runs = row["runs"].as_u64().unwrap_or(0);
                results.notes.insert(
                    id.clone(),
                    format!("in {runs} sync(s), longest {longest:.0} ms"),
                );
            }
        }
    }
    if let Some(errors) = json["errors"].as_object() {
        for (id, error) in errors {
            results
                .errors
                .insert(id.clone(), error.as_str().unwrap_or_default().to_string());
        }
    }
    Ok(Some(results))
}

fn read_json(path: &Path) -> Result<Value> {
    let text = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text).with_context(|| format!("parsing {}", path.display()))
}
