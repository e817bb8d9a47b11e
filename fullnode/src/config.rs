//! Command line, config file (TOML) and `BLOCKCHAIN_*` environment variables.
//!
//! Precedence: command line, then environment, then the config file, then the
//! defaults. docs/CONFIGURATION.md lists every option.

use std::path::{Path, PathBuf};

use blockchain_core::Network;
use blockchain_core::address::Address;
use clap::Parser;
use serde::Deserialize;

/// The `blockchain-node` command line.
#[derive(Debug, Parser, Default)]
#[command(
    name = "blockchain-node",
    version,
    about = "BlockChain full node: chain, mempool, miner, REST API and web app"
)]
pub struct Cli {
    /// Network: devnet (default) or regtest.
    #[arg(long, env = "BLOCKCHAIN_NETWORK")]
    pub network: Option<String>,
    /// Data directory (default ./data/<network>).
    #[arg(long, env = "BLOCKCHAIN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://FILE or postgres://… (default: SQLite file in the data dir).
    #[arg(long, env = "BLOCKCHAIN_DB")]
    pub db: Option<String>,
    /// REST API and web app address, HOST:PORT (default 127.0.0.1:8080; port 0 picks a free port).
    #[arg(long, env = "BLOCKCHAIN_HTTP")]
    pub http: Option<String>,
    /// Peer-to-peer listen multiaddr, repeatable (replaces the default set).
    #[arg(long, env = "BLOCKCHAIN_LISTEN", value_delimiter = ',')]
    pub listen: Vec<String>,
    /// Bootstrap peer multiaddr, repeatable.
    #[arg(long, env = "BLOCKCHAIN_BOOTSTRAP", value_delimiter = ',')]
    pub bootstrap: Vec<String>,
    /// Mine continuously from start-up (needs --miner-address).
    #[arg(long, env = "BLOCKCHAIN_MINE")]
    pub mine: bool,
    /// Address the coinbase pays.
    #[arg(long, env = "BLOCKCHAIN_MINER_ADDRESS")]
    pub miner_address: Option<String>,
    /// Miner threads (default: all cores).
    #[arg(long, env = "BLOCKCHAIN_THREADS")]
    pub threads: Option<usize>,
    /// Bearer token that unlocks protected routes for non-loopback callers.
    #[arg(long, env = "BLOCKCHAIN_API_TOKEN")]
    pub api_token: Option<String>,
    /// TOML config file.
    #[arg(long, env = "BLOCKCHAIN_CONFIG")]
    pub config: Option<PathBuf>,
    /// Directory of the web app (default: www/ beside the executable's workspace, or ./www).
    #[arg(long, env = "BLOCKCHAIN_WWW")]
    pub www: Option<PathBuf>,
    /// Most pending transactions kept (default 10000).
    #[arg(long, env = "BLOCKCHAIN_MEMPOOL_MAX")]
    pub mempool_max: Option<usize>,
    /// REST requests per minute per client address (default 1200; 0 = no limit).
    #[arg(long, env = "BLOCKCHAIN_RATE_LIMIT")]
    pub rate_limit: Option<u32>,
    /// Apply the rate limit to loopback clients too (default false).
    #[arg(long, env = "BLOCKCHAIN_RATE_LIMIT_LOOPBACK")]
    pub rate_limit_loopback: bool,
}

/// The config file: the same options, snake_case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    network: Option<String>,
    data_dir: Option<PathBuf>,
    db: Option<String>,
    http: Option<String>,
    listen: Option<Vec<String>>,
    bootstrap: Option<Vec<String>>,
    mine: Option<bool>,
    miner_address: Option<String>,
    threads: Option<usize>,
    api_token: Option<String>,
    www: Option<PathBuf>,
    mempool_max: Option<usize>,
    rate_limit: Option<u32>,
    rate_limit_loopback: Option<bool>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Network.
    pub network: Network,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Database URL.
    pub db_url: String,
    /// HTTP bind address.
    pub http: String,
    /// P2P listen multiaddrs.
    pub listen: Vec<String>,
    /// P2P bootstrap multiaddrs.
    pub bootstrap: Vec<String>,
    /// Mine from start-up.
    pub mine: bool,
    /// Coinbase address.
    pub miner_address: Option<Address>,
    /// Miner threads.
    pub threads: usize,
    /// Static API token.
    pub api_token: Option<String>,
    /// Web app directory.
    pub www: PathBuf,
    /// Mempool bound.
    pub mempool_max: usize,
    /// Requests per minute per client (0: unlimited).
    pub rate_limit: u32,
    /// Rate-limit loopback clients too.
    pub rate_limit_loopback: bool,
}

/// A configuration error, for the operator.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The config file is not valid TOML of the expected shape.
    #[error("invalid config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    /// An option has a bad value.
    #[error("invalid {option}: {message}")]
    Invalid {
        option: &'static str,
        message: String,
    },
}

/// Default P2P listen set: TCP and QUIC 4001, WebSocket 4002, WebRTC-direct 4003.
pub const DEFAULT_LISTEN: [&str; 4] = [
    "/ip4/0.0.0.0/tcp/4001",
    "/ip4/0.0.0.0/udp/4001/quic-v1",
    "/ip4/0.0.0.0/tcp/4002/ws",
    "/ip4/0.0.0.0/udp/4003/webrtc-direct",
];

fn default_www() -> PathBuf {
    // Running from a checkout (cargo run / cargo xtask run): the workspace's www/.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../www");
    if workspace.is_dir() {
        workspace
    } else {
        PathBuf::from("www")
    }
}

impl Config {
    /// Merges the command line (with its environment variables) over the config file and defaults.
    pub fn resolve(cli: Cli) -> Result<Config, ConfigError> {
        let file = match &cli.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|error| ConfigError::Parse {
                    path: path.clone(),
                    message: error.to_string(),
                })?
            }
            None => FileConfig::default(),
        };
        let network_name = cli
            .network
            .or(file.network)
            .unwrap_or_else(|| "devnet".into());
        let network: Network = network_name.parse().map_err(
            |error: blockchain_core::params::UnknownNetworkError| ConfigError::Invalid {
                option: "network",
                message: error.to_string(),
            },
        )?;
        let data_dir = cli
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data").join(network.name()));
        let db_url = cli
            .db
            .or(file.db)
            .unwrap_or_else(|| crate::storage::sqlite_url_for(&data_dir));
        let listen = if !cli.listen.is_empty() {
            cli.listen
        } else {
            file.listen
                .unwrap_or_else(|| DEFAULT_LISTEN.iter().map(|s| s.to_string()).collect())
        };
        let bootstrap = if !cli.bootstrap.is_empty() {
            cli.bootstrap
        } else {
            file.bootstrap.unwrap_or_default()
        };
        let prefix = network.params().address_prefix;
        let miner_address = cli
            .miner_address
            .or(file.miner_address)
            .map(|text| {
                Address::from_bech32m(&text, prefix).map_err(|error| ConfigError::Invalid {
                    option: "miner-address",
                    message: error.to_string(),
                })
            })
            .transpose()?;
        let mine = cli.mine || file.mine.unwrap_or(false);
        if mine && miner_address.is_none() {
            return Err(ConfigError::Invalid {
                option: "mine",
                message: "--mine needs --miner-address".into(),
            });
        }
        let threads = cli
            .threads
            .or(file.threads)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        if threads == 0 {
            return Err(ConfigError::Invalid {
                option: "threads",
                message: "must be at least 1".into(),
            });
        }
        Ok(Config {
            network,
            data_dir,
            db_url,
            http: cli
                .http
                .or(file.http)
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
            listen,
            bootstrap,
            mine,
            miner_address,
            threads,
            api_token: cli
                .api_token
                .or(file.api_token)
                .filter(|token| !token.is_empty()),
            www: cli.www.or(file.www).unwrap_or_else(default_www),
            mempool_max: cli.mempool_max.or(file.mempool_max).unwrap_or(10_000),
            rate_limit: cli.rate_limit.or(file.rate_limit).unwrap_or(1200),
            rate_limit_loopback: cli.rate_limit_loopback
                || file.rate_limit_loopback.unwrap_or(false),
        })
    }

    /// Consensus parameters of the configured network.
    pub fn params(&self) -> &'static blockchain_core::Params {
        self.network.params()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_design() {
        let config = Config::resolve(Cli::default()).expect("defaults are valid");
        assert_eq!(config.network, Network::Devnet);
        assert_eq!(config.data_dir, PathBuf::from("data/devnet"));
        assert!(config.db_url.starts_with("sqlite:"));
        assert_eq!(config.http, "127.0.0.1:8080");
        assert_eq!(config.listen.len(), 4);
    }

    #[test]
    fn command_line_beats_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("node.toml");
        std::fs::write(
            &path,
            "network = \"regtest\"\nhttp = \"127.0.0.1:9999\"\nthreads = 3\n",
        )
        .expect("write");
        let cli = Cli {
            config: Some(path),
            http: Some("127.0.0.1:0".into()),
            ..Cli::default()
        };
        let config = Config::resolve(cli).expect("valid");
        assert_eq!(config.network, Network::Regtest);
        assert_eq!(config.http, "127.0.0.1:0");
        assert_eq!(config.threads, 3);
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let cli = Cli {
            network: Some("mainnet".into()),
            ..Cli::default()
        };
        assert!(matches!(
            Config::resolve(cli),
            Err(ConfigError::Invalid {
                option: "network",
                ..
            })
        ));
        let cli = Cli {
            mine: true,
            ..Cli::default()
        };
        assert!(matches!(
            Config::resolve(cli),
            Err(ConfigError::Invalid { option: "mine", .. })
        ));
        let cli = Cli {
            miner_address: Some("tblk1notanaddress".into()),
            ..Cli::default()
        };
        assert!(matches!(
            Config::resolve(cli),
            Err(ConfigError::Invalid {
                option: "miner-address",
                ..
            })
        ));
    }
}
