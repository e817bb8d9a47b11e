//! `cargo xtask test`: every check CI runs, in order, stopping at the first
//! failure.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{cargo, root, run_cmd, show, wants_help};

/// Targets the core must build for without std (bare metal and browser).
const NO_STD_TARGETS: [&str; 2] = ["thumbv7m-none-eabi", "wasm32-unknown-unknown"];

/// libFuzzer options for the smoke run of each fuzz target.
const FUZZ_SMOKE: [&str; 2] = ["-runs=20000", "-max_len=4096"];

const HELP: &str = "\
usage: cargo xtask test [--quick] [args...] [-- test-binary args...]

Runs, in order, stopping at the first failure:
  1. rustup targets      thumbv7m-none-eabi and wasm32-unknown-unknown installed (else added)
  2. fmt                 cargo fmt --all --check
  3. clippy              cargo clippy --workspace --all-targets -- -D warnings
  4. clippy wasm         the same for the web client on wasm32-unknown-unknown
  5. build-web           cargo xtask build-web (the wasm light client into www/pkg/)
  6. js peers            npm ci --prefix tests/js when its node_modules is missing or stale
                         (js-libp2p interop peers, playwright-core for the browser tests)
  7. postgres            a PostgreSQL at 127.0.0.1:5432, started if none answers
  8. test                cargo test --workspace [args...] (without --workspace if args has -p)
  9. wasm tests chromium the web client's and the core's wasm-bindgen tests in headless
                         Chromium (chromium + chromium-driver from Debian)
 10. wasm tests firefox  the same in Firefox ESR (firefox-esr from Debian, geckodriver
                         built from crates.io when missing)
 11. no_std thumbv7m     cargo build -p blockchain-core --no-default-features --target thumbv7m-none-eabi
 12. no_std wasm32       the same for wasm32-unknown-unknown
 13. fuzz                if core/fuzz exists: cargo fuzz build, then a smoke run of every
                         target (-runs=20000 -max_len=4096), with RUSTC_BOOTSTRAP=1

--quick runs only fmt, build-web and test (skips targets, clippy, browser wasm tests,
no_std builds and fuzz).
Any other arguments go to `cargo test --workspace`, e.g.
  cargo xtask test --quick -p blockchain-core header -- --nocapture
  cargo xtask test --quick header
";

pub(crate) fn main(args: Vec<String>) -> Result<()> {
    if wants_help(&args) {
        print!("{HELP}");
        return Ok(());
    }
    let (quick, test_args) = split_args(args);
    let fuzz_dir = root().join("core").join("fuzz");
    let mut steps: Vec<Step<'_>> = Vec::new();
    if !quick {
        steps.push(Step::new("rustup targets", ensure_targets));
    }
    steps.push(Step::new("fmt", || {
        run_cmd(cargo().args(["fmt", "--all", "--check"]))
            .context("formatting differs; run `cargo fmt --all`")
    }));
    if !quick {
        steps.push(Step::new("clippy", || {
            run_cmd(cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        }));
    }
    if !quick {
        steps.push(Step::new("clippy wasm", || {
            run_cmd(cargo().args([
                "clippy",
                "-p",
                "blockchain-webclient",
                "--target",
                "wasm32-unknown-unknown",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        }));
    }
    let picks_package = picks_package(&test_args);
    steps.push(Step::new("build-web", crate::web::build_web));
    steps.push(Step::new("js peers", ensure_js_peers));
    steps.push(Step::new("postgres", crate::postgres::ensure));
    steps.push(Step::new("test", move || {
        let mut cmd = cargo();
        cmd.arg("test");
        if !picks_package {
            cmd.arg("--workspace");
        }
        run_cmd(cmd.args(&test_args))
    }));
    if !quick {
        steps.push(Step::new("wasm tests chromium", || {
            crate::web::browser_tests(crate::web::Browser::Chromium)
        }));
        steps.push(Step::new("wasm tests firefox", || {
            crate::web::browser_tests(crate::web::Browser::Firefox)
        }));
        for target in NO_STD_TARGETS {
            let name = match target.split_once('-') {
                Some((arch, _)) => format!("no_std {arch}"),
                None => format!("no_std {target}"),
            };
            steps.push(Step::owned(name, move || {
                run_cmd(cargo().args([
                    "build",
                    "-p",
                    "blockchain-core",
                    "--no-default-features",
                    "--target",
                    target,
                ]))
            }));
        }
        if fuzz_dir.is_dir() {
            steps.push(Step::new("fuzz", || fuzz_smoke(&fuzz_dir)));
        }
    }

    let started = Instant::now();
    let total = steps.len();
    let mut passed: Vec<(String, Duration)> = Vec::new();
    for (index, step) in steps.into_iter().enumerate() {
        eprintln!("\n==> [{}/{total}] {}", index + 1, step.name);
        let step_started = Instant::now();
        if let Err(error) = (step.run)() {
            let done: Vec<&str> = passed.iter().map(|(name, _)| name.as_str()).collect();
            eprintln!(
                "\nxtask test: FAILED at step {}/{total} `{}` after {} (passed: {})",
                index + 1,
                step.name,
                duration(started.elapsed()),
                if done.is_empty() {
                    "none".to_string()
                } else {
                    done.join(", ")
                },
            );
            return Err(error.context(format!("step `{}` failed", step.name)));
        }
        passed.push((step.name, step_started.elapsed()));
    }

    let mut summary: Vec<String> = passed
        .iter()
        .map(|(name, took)| format!("{name} {}", duration(*took)))
        .collect();
    if quick {
        summary.push("(quick: targets, clippy, no_std and fuzz skipped)".into());
    } else if !fuzz_dir.is_dir() {
        summary.push("(fuzz skipped: no core/fuzz)".into());
    }
    println!(
        "\nxtask test: OK, {total} steps passed in {}: {}",
        duration(started.elapsed()),
        summary.join(", ")
    );
    Ok(())
}

/// `--quick` (before any `--`) and the arguments for `cargo test`.
fn split_args(args: Vec<String>) -> (bool, Vec<String>) {
    let mut quick = false;
    let mut test_args = Vec::new();
    let mut after_separator = false;
    for arg in args {
        if !after_separator && arg == "--quick" {
            quick = true;
            continue;
        }
        after_separator |= arg == "--";
        test_args.push(arg);
    }
    (quick, test_args)
}

/// Whether `cargo test` arguments pick a package (`-p x`, `-px`,
/// `--package x`, `--package=x`): cargo ignores those next to --workspace.
fn picks_package(test_args: &[String]) -> bool {
    test_args
        .iter()
        .take_while(|a| *a != "--")
        .any(|a| a.starts_with("-p") || a == "--package" || a.starts_with("--package="))
}

struct Step<'a> {
    name: String,
    run: Box<dyn FnOnce() -> Result<()> + 'a>,
}

impl<'a> Step<'a> {
    fn new(name: &str, run: impl FnOnce() -> Result<()> + 'a) -> Self {
        Self::owned(name.to_string(), run)
    }

    fn owned(name: String, run: impl FnOnce() -> Result<()> + 'a) -> Self {
        Step {
            name,
            run: Box::new(run),
        }
    }
}

/// Installs whichever of the no_std targets rustup does not have yet.
/// Installs the js-libp2p interop peers (tests/js) when their
/// node_modules is missing or older than the lock file.
fn ensure_js_peers() -> Result<()> {
    let dir = root().join("tests").join("js");
    if !dir.join("package-lock.json").is_file() {
        eprintln!("no tests/js: nothing to install");
        return Ok(());
    }
    let modified = |path: &Path| {
        std::fs::metadata(path)
            .and_then(|meta| meta.modified())
            .ok()
    };
    let installed = modified(&dir.join("node_modules").join(".package-lock.json"));
    let wanted = modified(&dir.join("package-lock.json"));
    if installed.is_some() && installed >= wanted {
        eprintln!("tests/js/node_modules is up to date");
        return Ok(());
    }
    let mut npm = Command::new("npm");
    npm.args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir);
    match npm.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => bail!("`{}` failed ({status})", show(&npm)),
        Err(error) => bail!(
            "could not start npm ({error}): the interop tests need Node.js 20+ and npm \
             (Debian: apt-get install -y nodejs npm)"
        ),
    }
}

fn ensure_targets() -> Result<()> {
    let mut list = Command::new("rustup");
    list.args(["target", "list", "--installed"]);
    let out = list.output().with_context(|| {
        format!(
            "could not start `{}`; without rustup, install the targets {} yourself",
            show(&list),
            NO_STD_TARGETS.join(" and ")
        )
    })?;
    if !out.status.success() {
        bail!(
            "`{}` failed ({}): {}",
            show(&list),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    let installed = String::from_utf8_lossy(&out.stdout);
    let missing: Vec<&str> = NO_STD_TARGETS
        .into_iter()
        .filter(|t| !installed.lines().any(|line| line.trim() == *t))
        .collect();
    if missing.is_empty() {
        eprintln!("installed: {}", NO_STD_TARGETS.join(", "));
        return Ok(());
    }
    run_cmd(
        Command::new("rustup")
            .args(["target", "add"])
            .args(&missing),
    )
}

/// A `cargo fuzz` command in `dir`. cargo-fuzz passes `-Z` flags to cargo and
/// rustc; RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them.
fn cargo_fuzz(dir: &Path) -> Command {
    let mut cmd = cargo();
    cmd.current_dir(dir).env("RUSTC_BOOTSTRAP", "1").arg("fuzz");
    cmd
}

/// Builds every fuzz target and runs each briefly; each must exit 0.
fn fuzz_smoke(dir: &Path) -> Result<()> {
    let mut version = cargo();
    version
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let have_cargo_fuzz = version.status().is_ok_and(|s| s.success());
    if !have_cargo_fuzz {
        eprintln!("cargo-fuzz is missing; installing it");
        run_cmd(cargo().args(["install", "cargo-fuzz", "--locked"]))?;
    }

    run_cmd(cargo_fuzz(dir).args(["build", "--sanitizer", "none", "--dev"]))?;

    let mut list = cargo_fuzz(dir);
    list.arg("list");
    let out = list
        .output()
        .with_context(|| format!("could not start `{}`", show(&list)))?;
    if !out.status.success() {
        bail!(
            "`{}` failed ({}): {}",
            show(&list),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    let targets: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(String::from)
        .collect();
    if targets.is_empty() {
        bail!(
            "`{}` lists no fuzz targets in {}",
            show(&list),
            dir.display()
        );
    }

    for (index, target) in targets.iter().enumerate() {
        eprintln!(
            "\n--> fuzz target {}/{}: {target}",
            index + 1,
            targets.len()
        );
        run_cmd(
            cargo_fuzz(dir)
                .args(["run", "--sanitizer", "none", "--dev", target, "--"])
                .args(FUZZ_SMOKE),
        )
        .with_context(|| {
            format!(
                "fuzz target `{target}` failed; a crashing input is saved under core/fuzz/artifacts/{target}/"
            )
        })?;
    }
    eprintln!(
        "\nfuzz: {} targets ran clean: {}",
        targets.len(),
        targets.join(", ")
    );
    Ok(())
}

/// `1m05s`, `12.3s`.
fn duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        let whole = d.as_secs();
        format!("{}m{:02}s", whole / 60, whole % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn splits_quick_and_test_args() {
        let (quick, rest) = split_args(strings(&["--quick", "header", "--", "--quick"]));
        assert!(quick);
        assert_eq!(rest, strings(&["header", "--", "--quick"]));
        let (quick, rest) = split_args(strings(&["--", "--quick"]));
        assert!(!quick);
        assert_eq!(rest, strings(&["--", "--quick"]));
    }

    #[test]
    fn notices_a_package_choice() {
        assert!(picks_package(&strings(&["-p", "blockchain-core"])));
        assert!(picks_package(&strings(&["-pblockchain-core"])));
        assert!(picks_package(&strings(&["--package=blockchain-core"])));
        assert!(picks_package(&strings(&["header", "--package", "x"])));
        assert!(!picks_package(&strings(&["header", "--", "-p"])));
        assert!(!picks_package(&strings(&["--profile", "release"])));
    }
}
