//! `cargo xtask build-web`: the wasm light client into `www/pkg/`, with
//! nothing but crates.io: the `wasm32-unknown-unknown` target (rustup),
//! `wasm-bindgen-cli` at exactly the version `Cargo.lock` pins (built from
//! crates.io by `cargo install` when missing), a `package.json` as
//! `wasm-pack build --target web` writes it, and gzip copies the node serves
//! to browsers that accept them.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, root, run_cmd};

const PACKAGE: &str = "blockchain-webclient";
const CRATE: &str = "blockchain_webclient";
const TARGET: &str = "wasm32-unknown-unknown";
/// The cargo profile of the browser build (Cargo.toml: size-optimised release).
pub(crate) const PROFILE: &str = "wasm";

/// Builds the web client into `www/pkg/`.
pub(crate) fn build_web() -> Result<()> {
    ensure_wasm_target()?;
    let bindgen = ensure_wasm_bindgen()?;
    run_cmd(cargo().args([
        "build",
        "-p",
        PACKAGE,
        "--target",
        TARGET,
        "--profile",
        PROFILE,
    ]))?;
    let wasm = target_dir()?
        .join(TARGET)
        .join(PROFILE)
        .join(format!("{CRATE}.wasm"));
    let out = pkg_dir();
    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    run_cmd(
        Command::new(&bindgen)
            .args(["--target", "web", "--out-dir"])
            .arg(&out)
            .arg(&wasm),
    )?;
    let wasm_out = out.join(format!("{CRATE}_bg.wasm"));
    match wasm_opt()? {
        Some(wasm_opt) => optimize(&wasm_opt, &wasm_out)?,
        None => eprintln!(
            "build-web: npm not found: the wasm is not run through wasm-opt (larger download); \
             install Node.js and npm (Debian: apt-get install -y nodejs npm)"
        ),
    }
    // The key worker of pages without WebCrypto, beside the main module.
    fs::copy(
        root().join("webclient").join("js").join("key-worker.js"),
        out.join("key-worker.js"),
    )
    .context("copying key-worker.js")?;
    write_package_json(&out)?;
    for name in [format!("{CRATE}_bg.wasm"), format!("{CRATE}.js")] {
        gzip(&out.join(&name))?;
    }
    let raw = fs::metadata(&wasm_out)?.len();
    let gz = fs::metadata(gz_path(&wasm_out))?.len();
    eprintln!(
        "build-web: {} ({:.2} MB, {:.2} MB gzip)",
        wasm_out.display(),
        raw as f64 / 1e6,
        gz as f64 / 1e6
    );
    Ok(())
}

/// `www/pkg/`, where the node serves the package from.
pub(crate) fn pkg_dir() -> PathBuf {
    root().join("www").join("pkg")
}

fn target_dir() -> Result<PathBuf> {
    let meta = crate::metadata()?;
    meta["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .context("cargo metadata has no target_directory")
}

fn ensure_wasm_target() -> Result<()> {
    let out = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("could not run rustup; install the wasm32-unknown-unknown target yourself")?;
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|line| line.trim() == TARGET)
    {
        return Ok(());
    }
    run_cmd(Command::new("rustup").args(["target", "add", TARGET]))
}

/// The wasm-bindgen version in Cargo.lock: the CLI must match it exactly.
fn locked_wasm_bindgen_version() -> Result<String> {
    let lock = fs::read_to_string(root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\""
            && let Some(version) = lines
                .next()
                .and_then(|line| line.strip_prefix("version = \""))
                .and_then(|rest| rest.strip_suffix('"'))
        {
            return Ok(version.to_string());
        }
    }
    bail!("Cargo.lock has no wasm-bindgen package")
}

/// A `wasm-bindgen` of the locked version: on PATH, in cargo's bin
/// directory, or installed there now from crates.io (a source build).
fn ensure_wasm_bindgen() -> Result<PathBuf> {
    let version = locked_wasm_bindgen_version()?;
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .map(|home| home.join("bin").join("wasm-bindgen"));
    let candidates = [Some(PathBuf::from("wasm-bindgen")), cargo_bin.clone()];
    for candidate in candidates.iter().flatten() {
        if let Ok(out) = Command::new(candidate).arg("--version").output()
            && String::from_utf8_lossy(&out.stdout).trim() == format!("wasm-bindgen {version}")
        {
            return Ok(candidate.clone());
        }
    }
    eprintln!(
        "build-web: installing wasm-bindgen-cli {version} from crates.io (about 2 minutes, once)"
    );
    run_cmd(cargo().args([
        "install",
        "wasm-bindgen-cli",
        "--version",
        &version,
        "--locked",
    ]))?;
    cargo_bin.context("no HOME or CARGO_HOME to find cargo's bin directory")
}

/// The runner of wasm-bindgen tests in a browser, installed with the CLI.
pub(crate) fn test_runner() -> Result<PathBuf> {
    let bindgen = ensure_wasm_bindgen()?;
    let runner = bindgen.with_file_name("wasm-bindgen-test-runner");
    if bindgen
        .parent()
        .is_some_and(|dir| !dir.as_os_str().is_empty())
    {
        return Ok(runner);
    }
    Ok(PathBuf::from("wasm-bindgen-test-runner"))
}

/// binaryen's version: its wasm-opt reads what rustc emits and shrinks it by
/// a third. Debian's binaryen 108 silently breaks the output (TOOLCHAIN.md),
/// so this one comes from the npm registry, into the target directory.
const BINARYEN: &str = "binaryen@132";

/// wasm-opt from npm's binaryen package (installed once), or None without npm.
fn wasm_opt() -> Result<Option<PathBuf>> {
    let tools = target_dir()?.join("web-tools");
    let wasm_opt = tools.join("node_modules").join(".bin").join("wasm-opt");
    if wasm_opt.is_file() {
        return Ok(Some(wasm_opt));
    }
    if Command::new("npm").arg("--version").output().is_err() {
        return Ok(None);
    }
    fs::create_dir_all(&tools)?;
    run_cmd(
        Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--prefix",
            ])
            .arg(&tools)
            .arg(BINARYEN),
    )?;
    Ok(Some(wasm_opt))
}

/// Runs wasm-opt -Os over `wasm` in place, with the features rustc's
/// wasm32-unknown-unknown output uses.
fn optimize(wasm_opt: &Path, wasm: &Path) -> Result<()> {
    let optimized = wasm.with_extension("opt.wasm");
    run_cmd(
        Command::new(wasm_opt)
            .args([
                "-Os",
                "--enable-bulk-memory",
                "--enable-nontrapping-float-to-int",
                "--enable-sign-ext",
                "--enable-mutable-globals",
                "--enable-reference-types",
                "--enable-multivalue",
            ])
            .arg(wasm)
            .arg("-o")
            .arg(&optimized),
    )?;
    fs::rename(&optimized, wasm).with_context(|| format!("replacing {}", wasm.display()))
}

fn write_package_json(out: &Path) -> Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    let json = serde_json::json!({
        "name": PACKAGE,
        "type": "module",
        "description": "BlockChain light client for the browser: wallets, verified headers, proofs, libp2p.",
        "version": version,
        "license": "MIT OR Apache-2.0",
        "files": [
            format!("{CRATE}_bg.wasm"),
            format!("{CRATE}.js"),
            format!("{CRATE}.d.ts"),
            format!("{CRATE}_bg.wasm.d.ts"),
            "key-worker.js",
            "snippets/"
        ],
        "main": format!("{CRATE}.js"),
        "types": format!("{CRATE}.d.ts"),
        "sideEffects": ["./snippets/*"]
    });
    let text = serde_json::to_string_pretty(&json)? + "\n";
    fs::write(out.join("package.json"), text).context("writing package.json")
}

fn gz_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".gz");
    PathBuf::from(name)
}

/// Writes `path.gz` (best compression) beside `path`.
fn gzip(path: &Path) -> Result<()> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let file = fs::File::create(gz_path(path))?;
    let mut encoder = flate2::write::GzEncoder::new(file, flate2::Compression::best());
    encoder.write_all(&bytes)?;
    encoder.finish()?;
    Ok(())
}

/// A browser for the wasm-bindgen tests.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Browser {
    /// Debian's chromium with chromium-driver.
    Chromium,
    /// Debian's firefox-esr with geckodriver (from crates.io).
    Firefox,
}

/// The wasm-bindgen tests of the web client and the core's test vectors in
/// wasm, in a headless `browser`.
pub(crate) fn browser_tests(browser: Browser) -> Result<()> {
    let runner = test_runner()?;
    let mut driver_env: Vec<(&str, PathBuf)> = Vec::new();
    match browser {
        Browser::Chromium => {
            let driver = which("chromedriver")
                .context("chromedriver is missing: apt-get install -y chromium chromium-driver")?;
            driver_env.push(("CHROMEDRIVER", driver));
        }
        Browser::Firefox => {
            which("firefox-esr")
                .or_else(|| which("firefox"))
                .context("Firefox is missing: apt-get install -y firefox-esr")?;
            driver_env.push(("GECKODRIVER", ensure_geckodriver()?));
        }
    }
    for args in [
        &["test", "-p", PACKAGE, "--target", TARGET][..],
        &[
            "test",
            "-p",
            "blockchain-core",
            "--test",
            "wasm",
            "--target",
            TARGET,
        ][..],
    ] {
        let mut cmd = cargo();
        cmd.args(args)
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "300");
        for (name, value) in &driver_env {
            cmd.env(name, value);
        }
        run_cmd(&mut cmd)?;
    }
    Ok(())
}

/// `name` on PATH.
fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|path| path.is_file())
    })
}

/// geckodriver on PATH, or built from crates.io into cargo's bin directory.
fn ensure_geckodriver() -> Result<PathBuf> {
    if let Some(path) = which("geckodriver") {
        return Ok(path);
    }
    let installed = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .map(|home| home.join("bin").join("geckodriver"))
        .context("no HOME or CARGO_HOME")?;
    if installed.is_file() {
        return Ok(installed);
    }
    eprintln!("build-web: installing geckodriver from crates.io (once)");
    run_cmd(cargo().args(["install", "geckodriver", "--locked"]))?;
    Ok(installed)
}
