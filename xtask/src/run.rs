//! `cargo xtask run`: run the full node, or say what exists while it does not.

use anyhow::{Context, Result};

use crate::{cargo, metadata, package, root, show};

const NODE: &str = "blockchain-node";

/// All arguments go to the node (so `cargo xtask run --help` shows the
/// node's help); without a node, any arguments get the explanation below.
pub(crate) fn main(args: Vec<String>) -> Result<()> {
    let meta = metadata()?;
    if package(&meta, NODE).is_some() {
        crate::web::build_web().context("building the web client (cargo xtask build-web)")?;
        let mut cmd = cargo();
        cmd.args(["run", "--release", "-p", NODE, "--"]).args(&args);
        eprintln!("$ {}", show(&cmd));
        let status = cmd
            .status()
            .with_context(|| format!("could not start `{}`", show(&cmd)))?;
        // Hand the node's exit status on unchanged.
        let code = status.code().unwrap_or(1);
        std::process::exit(code);
    }

    let mut names: Vec<&str> = meta["packages"]
        .as_array()
        .map(|ps| ps.iter().filter_map(|p| p["name"].as_str()).collect())
        .unwrap_or_default();
    names.sort_unstable();
    let fuzz = if root().join("core").join("fuzz").is_dir() {
        "  core/fuzz/            cargo-fuzz targets for every decoder of peer bytes\n"
    } else {
        ""
    };
    println!(
        "\
There is no full node to run yet: the workspace has no `{NODE}` package.

What exists today:
  core/                 blockchain-core, the consensus core (no_std + alloc, sans-io):
                        encoding, hashing, proof of work, difficulty, transactions,
                        state tree, header chain, wallet keys and keystore
  core/tests, tests/    its unit, property and integration tests, with test vectors
                        from independent implementations (tests/vectors/)
  core/benches/core.rs  criterion benchmarks (hashes/s, headers/s, signature checks/s)
{fuzz}
Commands:
  cargo xtask test            fmt, clippy, all tests, no_std builds, fuzz smoke runs
  cargo xtask test --quick    fmt and tests only
  cargo xtask bench           benchmarks, each as a ratio to its limit
  cargo doc -p blockchain-core --no-deps --open    the core's API docs

Workspace packages: {}
See docs/DEVELOPMENT.md.",
        names.join(", ")
    );
    Ok(())
}
