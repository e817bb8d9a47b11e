//! Integration tests of the consensus core, one binary (see STYLE.md).

mod support;

mod header_chain;
mod keystore;
mod light;
mod properties;
mod signatures;
mod validation;
mod vectors;
