//! `blockchain-cli`: the node's command-line client, in the spirit of
//! bitcoin-cli. It talks to a node's REST API (`--node`, default
//! `http://127.0.0.1:8080`), reads `<data dir>/api.cookie` for the protected
//! routes, and keeps keys to itself: wallets are keystore files of the
//! browser's format, transactions are signed here with the core, and
//! `balance --verify` checks the node's answer against headers it verifies.
//!
//! - [`args`]: the command line (clap), completions and the man page;
//! - [`client`]: the HTTP client and the cookie;
//! - [`commands`]: what each command does;
//! - [`verify`]: the header sync and the proof check of `balance --verify`.

mod args;
mod client;
mod commands;
mod verify;

use std::process::ExitCode;

pub use args::{CliArgs, Command};
pub use client::{ClientError, NodeClient};

/// Runs the command line `args` (the program name first) and prints what
/// it gives; the exit code is 1 on an error, which goes to stderr.
pub fn main_with(args: impl IntoIterator<Item = std::ffi::OsString>) -> ExitCode {
    use clap::Parser;
    let args = match CliArgs::try_parse_from(args) {
        Ok(args) => args,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match commands::run(&args) {
        Ok(output) => {
            if !output.is_empty() {
                println!("{output}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
