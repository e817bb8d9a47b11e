//! Running real `blockchain-node` processes and talking HTTP to them.

pub(crate) mod blocks;
pub(crate) mod evil_peer;
pub(crate) mod http;
pub(crate) mod node;
pub(crate) mod postgres;
pub(crate) mod sybils;

use serde_json::Value;

/// A JSON file from the repository's test data.
/// The regtest address of RSA test-vector key `index` (core/tests/data/rsa.json).
pub(crate) fn vector_address(index: usize) -> String {
    data("core/tests/data/rsa.json")["keys"][index]["rblk"]
        .as_str()
        .expect("address")
        .to_owned()
}

pub(crate) fn data(path: &str) -> Value {
    let full = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    let text =
        std::fs::read_to_string(&full).unwrap_or_else(|error| panic!("reading {full}: {error}"));
    serde_json::from_str(&text).expect("test data is JSON")
}
