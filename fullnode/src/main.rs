//! `blockchain-node`: the BlockChain full node.

use blockchain_node::config::{Cli, Config};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // One process-wide TLS provider before any handshake (QUIC, WebRTC,
    // webhooks): several crates enable both ring and aws-lc-rs.
    let _ = rustls::crypto::ring::default_provider().install_default();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BLOCKCHAIN_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=info".into()),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let config = Config::resolve(Cli::parse())?;
    blockchain_node::node::run(config).await?;
    Ok(())
}
