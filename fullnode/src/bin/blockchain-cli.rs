//! `blockchain-cli`: the command-line client of a BlockChain node
//! (`blockchain_node::cli`).

fn main() -> std::process::ExitCode {
    // One process-wide TLS provider (ring) for https nodes.
    let _ = rustls::crypto::ring::default_provider().install_default();
    blockchain_node::cli::main_with(std::env::args_os())
}
