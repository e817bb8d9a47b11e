//! The header batch of `cargo xtask bench`'s browser rows, and its native
//! figure (xtask/src/bench.rs, tests/js/bench/web.mjs).
//!
//! ```text
//! bench_headers generate <network> <count> <file>   # raw 128-byte headers from block 1
//! bench_headers verify <network> <file> [runs]      # one JSON line: the native figure
//! ```
//!
//! `generate` mines a chain on top of the network's genesis (regtest:
//! bits 0x207fffff, about two hashes a header) with a block every second.
//! `verify` checks the file exactly as the wasm `verifyHeaders` does
//! (webclient/src/client.rs): decode every header, then a fresh
//! `HeaderChain` with the client's memory window takes them in batches of
//! `MAX_HEADERS`; it prints the median of `runs` timed runs (after one
//! untimed run) as `{"count", "runs", "median_ns", "min_ns", "max_ns"}`.

use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use blockchain_core::header_chain::HeaderChain;
use blockchain_core::sync_message::MAX_HEADERS;
use blockchain_core::{Decode, Header, MerkleHash, Network, Params};

/// Best-chain headers the web client keeps in memory
/// (`webclient/src/header_store.rs`, `MEMORY_WINDOW`).
const MEMORY_WINDOW: u64 = 2048;

/// Ms between the generated blocks.
const SPACING_MS: u64 = 1000;

fn params(name: &str) -> Result<&'static Params, String> {
    name.parse::<Network>()
        .map(Network::params)
        .map_err(|_| format!("unknown network {name:?} (devnet or regtest)"))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `count` valid headers on top of `params`' genesis.
fn generate(params: &'static Params, count: u64) -> Result<Vec<u8>, String> {
    let mut chain = HeaderChain::new(params).with_window(MEMORY_WINDOW);
    let mut out = Vec::with_capacity(count as usize * Header::SIZE);
    let mut previous = params.genesis_header();
    for _ in 0..count {
        let parent = chain
            .parent_info(&previous.hash())
            .ok_or("the parent left the header chain")?;
        let mut header = Header {
            version: Header::VERSION,
            height: parent.height + 1,
            prev_hash: parent.hash,
            merkle_root: MerkleHash([1; 32]),
            state_root: MerkleHash([2; 32]),
            time: previous.time + SPACING_MS,
            bits: blockchain_core::difficulty::next_bits(params, &parent),
            nonce: 0,
        };
        let target = header
            .bits
            .to_target()
            .map_err(|error| format!("the next bits: {error}"))?;
        while !target.is_met_by(&header.hash().0) {
            header.nonce += 1;
        }
        chain
            .accept_headers(&[header], u64::MAX / 2)
            .map_err(|error| format!("generated header {}: {error}", header.height))?;
        out.extend_from_slice(&header.to_bytes());
        previous = header;
    }
    if previous.time > now_ms() {
        return Err(format!(
            "the last header's time {} is in the future: fewer headers, please",
            previous.time
        ));
    }
    Ok(out)
}

/// What `verifyHeaders` does with `raw`; returns how many headers.
fn verify(params: &'static Params, raw: &[u8]) -> Result<usize, String> {
    if !raw.len().is_multiple_of(Header::SIZE) {
        return Err(format!("{} bytes is not whole headers", raw.len()));
    }
    let headers = raw
        .chunks(Header::SIZE)
        .map(Header::decode)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| error.to_string())?;
    let mut chain = HeaderChain::new(params).with_window(MEMORY_WINDOW);
    for batch in headers.chunks(MAX_HEADERS) {
        chain
            .accept_headers(batch, now_ms())
            .map_err(|error| error.to_string())?;
    }
    Ok(headers.len())
}

fn run(args: &[String]) -> Result<(), String> {
    match args {
        [command, network, count, file] if command == "generate" => {
            let count: u64 = count.parse().map_err(|_| format!("bad count {count:?}"))?;
            let raw = generate(params(network)?, count)?;
            std::fs::write(file, raw).map_err(|error| format!("writing {file}: {error}"))
        }
        [command, network, file, rest @ ..] if command == "verify" && rest.len() <= 1 => {
            let runs: usize = match rest.first() {
                Some(runs) => runs.parse().map_err(|_| format!("bad runs {runs:?}"))?,
                None => 7,
            };
            let params = params(network)?;
            let raw = std::fs::read(file).map_err(|error| format!("reading {file}: {error}"))?;
            let count = verify(params, &raw)?;
            let mut times = Vec::with_capacity(runs);
            for _ in 0..runs.max(1) {
                let start = Instant::now();
                let verified = verify(params, std::hint::black_box(&raw))?;
                times.push(start.elapsed().as_nanos() as f64);
                assert_eq!(verified, count);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "{{\"count\":{count},\"runs\":{},\"median_ns\":{},\"min_ns\":{},\"max_ns\":{}}}",
                times.len(),
                times[times.len() / 2],
                times[0],
                times[times.len() - 1]
            );
            Ok(())
        }
        _ => Err(
            "usage: bench_headers generate <network> <count> <file>\n       \
                  bench_headers verify <network> <file> [runs]"
                .into(),
        ),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench_headers: {error}");
            ExitCode::FAILURE
        }
    }
}
