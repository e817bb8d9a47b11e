//! The core's vector and signature tests, compiled to wasm32 and run in a
//! headless browser by wasm-bindgen-test (`cargo xtask test`): the browser
//! light client gets bit-identical results to the node (hashes, ASERT,
//! merkle and state roots, RSA-PSS, keystores, whole-chain validation).
//! On other targets this file is empty; `tests/main.rs` runs them natively.

#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

// Some fixtures serve only the native-only tests (properties, validation).
#[allow(dead_code)]
mod support;

mod keystore;
mod signatures;
mod vectors;
