//! Integration tests with real node processes (one test binary, see STYLE.md).

mod support;

mod cli;
mod crash;
mod interop;
mod misbehaving_peer;
mod p2p;
mod rest_end_to_end;
mod web_app;
mod web_client;
mod webhook_outbox;
