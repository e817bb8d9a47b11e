//! The BlockChain light client for the browser (wasm32, wasm-bindgen).
//!
//! The JS API of DESIGN §5 is a contract: [`Wallet`] makes, opens and uses
//! RSA-3072 wallets in the page (WebCrypto where the page has it, the
//! core's Rust implementations where it does not); [`LightClient`] joins
//! the network over WebSocket or WebRTC-direct, verifies headers with the
//! core's header chain and checks blocks, transactions and accounts with
//! the core's proof checks against them.
//!
//! Where each piece lives:
//! - `wallet`: the `Wallet` class; `webcrypto`: SubtleCrypto calls;
//!   `keys`: key generation and keystore sealing on either path;
//! - `client`: the `LightClient` class (the JS-facing half); `network`: the
//!   libp2p swarm and the task that drives it; `header_store`: verified
//!   headers in IndexedDB; `idb`: the IndexedDB calls;
//! - `json`: the REST API's JSON shapes; `error`: errors with stable codes;
//!   `js`: small helpers for JS objects and promises.
//!
//! Everything consensus-critical is the core's; nothing here re-implements
//! a rule.

#![cfg(target_arch = "wasm32")]

mod client;
mod error;
mod header_store;
mod idb;

mod js;
mod json;
mod keys;
mod network;
mod slots;
mod state;
#[cfg(test)]
mod tests;
mod wallet;
mod webcrypto;

pub use client::{LightClient, verify_headers};
pub use keys::{key_worker_create, key_worker_open};
pub use wallet::Wallet;

/// Runs when the module is instantiated: a panic (a bug: inputs never cause
/// one) is written to the console with its message before the module aborts.
#[wasm_bindgen::prelude::wasm_bindgen(start)]
fn start() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&wasm_bindgen::JsValue::from_str(&format!(
            "blockchain-webclient: {info}"
        )));
    }));
}
