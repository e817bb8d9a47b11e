//! The developer workflow of BlockChain: `cargo xtask run|test|build-web|bench`.
//!
//! `.cargo/config.toml` aliases `cargo xtask` to `cargo run --quiet --package
//! xtask --`. Everything here shells out to cargo, rustup and openssl with
//! `std::process::Command`; see docs/DEVELOPMENT.md for what each step does.

mod bench;
mod postgres;
mod run;
mod test;
mod web;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail};

const USAGE: &str = "\
usage: cargo xtask <command> [options] [-- extra args]

commands:
  run  [args...]              run the full node (cargo run --release -p blockchain-node -- args)
                              or, while it does not exist, explain what there is
  test [--quick] [args...]    targets, fmt, clippy, tests, no_std builds, fuzz smoke runs;
                              extra args go to `cargo test --workspace`
  bench [--report] [--no-openssl] [--no-web | --web-only] [args...]
                              criterion benchmarks of the core and the node, then the web
                              client's in headless Chromium, printed as ratios to their limits;
                              extra args go to `cargo bench -p blockchain-core --bench core`
                              and `cargo bench -p blockchain-node --bench node`
  build-web                   the wasm light client into www/pkg/ (wasm-bindgen-cli of the
                              locked version is installed from crates.io when missing)
  help                        this text (also `cargo xtask <command> --help`)
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    let rest: Vec<String> = args.collect();
    let result = match command.as_deref() {
        Some("test") => test::main(rest),
        Some("run") => run::main(rest),
        Some("bench") => bench::main(rest),
        Some("build-web") => web::build_web(),
        None | Some("help" | "--help" | "-h") => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => {
            eprint!("error: unknown command `{other}`\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root (the parent of this package's directory).
fn root() -> PathBuf {
    // `cargo run` (the `xtask` alias) says where xtask's manifest is now;
    // the path compiled in is only a fallback: with a target directory
    // shared by two checkouts, the binary one of them runs may have been
    // built in the other.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .map_or(manifest_dir.clone(), Path::to_path_buf)
}

/// A `cargo` command running in the workspace root. Uses the cargo that runs
/// us (`$CARGO`), so `cargo +toolchain xtask` stays on that toolchain.
fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(program);
    cmd.current_dir(root());
    cmd
}

/// `cmd` as a shell-like line, for messages.
fn show(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program());
    // Print `cargo`, not the toolchain path `$CARGO` points to.
    let name = match program.file_stem() {
        Some(stem) if stem == OsStr::new("cargo") => "cargo".into(),
        _ => program.to_string_lossy(),
    };
    let mut line = String::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            line.push_str(&format!(
                "{}={} ",
                key.to_string_lossy(),
                value.to_string_lossy()
            ));
        }
    }
    line.push_str(&name);
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        if arg.is_empty() || arg.contains(char::is_whitespace) {
            line.push_str(&format!(" '{arg}'"));
        } else {
            line.push(' ');
            line.push_str(&arg);
        }
    }
    line
}

/// Runs `cmd` with inherited stdio; an error names the command and its status.
fn run_cmd(cmd: &mut Command) -> Result<()> {
    let line = show(cmd);
    eprintln!("$ {line}");
    let status = cmd
        .status()
        .with_context(|| format!("could not start `{line}`"))?;
    if !status.success() {
        bail!("`{line}` failed ({status})");
    }
    Ok(())
}

/// `cargo metadata --no-deps --format-version 1` of the workspace.
fn metadata() -> Result<serde_json::Value> {
    let mut cmd = cargo();
    cmd.args(["metadata", "--no-deps", "--format-version", "1"]);
    let out = cmd
        .output()
        .with_context(|| format!("could not start `{}`", show(&cmd)))?;
    if !out.status.success() {
        bail!(
            "`{}` failed ({}): the workspace does not load:\n{}",
            show(&cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
    }
    serde_json::from_slice(&out.stdout).context("cargo metadata printed invalid JSON")
}

/// The workspace package called `name` in `metadata`, if there is one.
fn package<'a>(metadata: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    metadata["packages"]
        .as_array()?
        .iter()
        .find(|p| p["name"].as_str() == Some(name))
}

/// Whether `args` asks for help (before any `--`).
fn wants_help(args: &[String]) -> bool {
    args.iter()
        .take_while(|a| *a != "--")
        .any(|a| a == "--help" || a == "-h")
}
