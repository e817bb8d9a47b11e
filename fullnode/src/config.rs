//! Command line, config file (TOML) and `BLOCKCHAIN_*` environment variables.
//!
//! Precedence: command line, then environment, then the config file, then the
//! defaults. docs/CONFIGURATION.md lists every option.

use std::path::{Path, PathBuf};
use std::time::Duration;

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
    // Secret-bearing values stay out of `--help` (which shows environment values).
    #[arg(long, env = "BLOCKCHAIN_DB", hide_env_values = true)]
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
    /// Most inbound peer-to-peer connections from one IP address (default 16).
    #[arg(long, env = "BLOCKCHAIN_MAX_INBOUND_PER_IP")]
    pub max_inbound_per_ip: Option<usize>,
    /// Mine continuously from start-up (needs --miner-address).
    #[arg(long, env = "BLOCKCHAIN_MINE")]
    pub mine: bool,
    /// Address the coinbase pays.
    #[arg(long, env = "BLOCKCHAIN_MINER_ADDRESS")]
    pub miner_address: Option<String>,
    /// Miner threads (default: all cores).
    #[arg(long, env = "BLOCKCHAIN_THREADS")]
    pub threads: Option<usize>,
    /// Bearer token that opens the protected routes, besides the API cookie's.
    #[arg(long, env = "BLOCKCHAIN_API_TOKEN", hide_env_values = true)]
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
    /// Minimum relay fee in units per byte (default 1; 0 = none).
    #[arg(long, env = "BLOCKCHAIN_MIN_RELAY_FEE")]
    pub min_relay_fee: Option<u64>,
    /// REST requests per minute per client address (default 1200; 0 = no limit).
    #[arg(long, env = "BLOCKCHAIN_RATE_LIMIT")]
    pub rate_limit: Option<u32>,
    /// Most HTTP connections open at once (default 1024).
    #[arg(long, env = "BLOCKCHAIN_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Most HTTP connections open at once from one client: an IPv4 address or an IPv6 /64 (default 128).
    #[arg(long, env = "BLOCKCHAIN_MAX_CONNECTIONS_PER_CLIENT")]
    pub max_connections_per_client: Option<usize>,
    /// Seconds an HTTP client has to send a request's headers (default 10).
    #[arg(long, env = "BLOCKCHAIN_HEADER_READ_TIMEOUT")]
    pub header_read_timeout: Option<u64>,
    /// Address that may log in as an administrator (POST /api/v1/auth/login), repeatable.
    #[arg(long, env = "BLOCKCHAIN_ADMIN_ADDRESS", value_delimiter = ',')]
    pub admin_address: Vec<String>,
    /// Host name the API and web app answer for besides IP addresses and localhost, repeatable.
    #[arg(long, env = "BLOCKCHAIN_ALLOWED_HOST", value_delimiter = ',')]
    pub allowed_host: Vec<String>,
    /// http(s) URL prefix webhooks may be delivered to besides loopback URLs, repeatable.
    #[arg(long, env = "BLOCKCHAIN_WEBHOOK_ALLOW", value_delimiter = ',')]
    pub webhook_allow: Vec<String>,
    /// PEM file of CA certificates trusted for https webhooks, besides the bundled Mozilla roots.
    #[arg(long, env = "BLOCKCHAIN_WEBHOOK_CA")]
    pub webhook_ca: Option<PathBuf>,
    /// Lifetime of login tokens in seconds (default 3600).
    #[arg(long, env = "BLOCKCHAIN_JWT_TTL")]
    pub jwt_ttl: Option<u64>,
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
    max_inbound_per_ip: Option<usize>,
    mine: Option<bool>,
    miner_address: Option<String>,
    threads: Option<usize>,
    api_token: Option<String>,
    www: Option<PathBuf>,
    mempool_max: Option<usize>,
    min_relay_fee: Option<u64>,
    rate_limit: Option<u32>,
    max_connections: Option<usize>,
    max_connections_per_client: Option<usize>,
    header_read_timeout: Option<u64>,
    // Plural in the file: it holds the list that `--admin-address` builds one at a time.
    admin_addresses: Option<Vec<String>>,
    allowed_hosts: Option<Vec<String>>,
    webhook_allow: Option<Vec<String>>,
    webhook_ca: Option<PathBuf>,
    jwt_ttl: Option<u64>,
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
    /// Most inbound P2P connections from one IP address.
    pub max_inbound_per_ip: usize,
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
    /// Minimum relay fee, units per byte: every transaction pays it, and a
    /// replacement pays it for its own size on top of the fee it replaces.
    pub min_relay_fee: u64,
    /// Requests per minute per client (0: unlimited).
    pub rate_limit: u32,
    /// Connection limits and header-read timeout of the HTTP server.
    pub server: crate::api::server::ServerLimits,
    /// Addresses that may log in as administrators.
    pub admin_addresses: Vec<Address>,
    /// Host names (lower case, no port) the HTTP server answers for besides
    /// IP addresses and `localhost` (DNS rebinding: docs/SECURITY.md).
    pub allowed_hosts: Vec<String>,
    /// URL prefixes webhooks may be delivered to, besides loopback URLs.
    pub webhook_allow: Vec<String>,
    /// Extra CA certificates (PEM) trusted for https webhooks.
    pub webhook_ca: Option<PathBuf>,
    /// Lifetime of login tokens.
    pub jwt_ttl: Duration,
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

/// Default lifetime of login tokens: one hour.
pub const DEFAULT_JWT_TTL: Duration = Duration::from_secs(3600);
/// Longest lifetime of login tokens: 30 days.
pub const MAX_JWT_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

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

/// Longest `--header-read-timeout`: ten minutes.
const MAX_HEADER_READ_TIMEOUT: u64 = 600;

/// The HTTP server's limits from the command line over the file, checked.
fn server_limits(
    cli: &Cli,
    file: &FileConfig,
) -> Result<crate::api::server::ServerLimits, ConfigError> {
    let defaults = crate::api::server::ServerLimits::default();
    let max_connections = cli
        .max_connections
        .or(file.max_connections)
        .unwrap_or(defaults.max_connections);
    if max_connections == 0 {
        return Err(ConfigError::Invalid {
            option: "max-connections",
            message: "must be at least 1 (a node that takes no connection serves nothing)".into(),
        });
    }
    let max_connections_per_client = cli
        .max_connections_per_client
        .or(file.max_connections_per_client)
        .unwrap_or(defaults.max_connections_per_client);
    if max_connections_per_client == 0 {
        return Err(ConfigError::Invalid {
            option: "max-connections-per-client",
            message: "must be at least 1".into(),
        });
    }
    let header_read_timeout = cli
        .header_read_timeout
        .or(file.header_read_timeout)
        .map_or(defaults.header_read_timeout, Duration::from_secs);
    if header_read_timeout.is_zero() || header_read_timeout.as_secs() > MAX_HEADER_READ_TIMEOUT {
        return Err(ConfigError::Invalid {
            option: "header-read-timeout",
            message: format!("must be 1 to {MAX_HEADER_READ_TIMEOUT} seconds"),
        });
    }
    Ok(crate::api::server::ServerLimits {
        max_connections,
        max_connections_per_client,
        header_read_timeout,
    })
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
        let server = server_limits(&cli, &file)?;
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
        let max_inbound_per_ip = cli
            .max_inbound_per_ip
            .or(file.max_inbound_per_ip)
            .unwrap_or(crate::p2p::behaviour::DEFAULT_MAX_INBOUND_PER_IP);
        if max_inbound_per_ip == 0 {
            return Err(ConfigError::Invalid {
                option: "max-inbound-per-ip",
                message: "must be at least 1".into(),
            });
        }
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
        let mempool_max = cli.mempool_max.or(file.mempool_max).unwrap_or(10_000);
        if mempool_max == 0 {
            return Err(ConfigError::Invalid {
                option: "mempool-max",
                message: "must be at least 1 (a node with no room for pending transactions \
                          could not relay or mine any)"
                    .into(),
            });
        }
        let admin_texts = if !cli.admin_address.is_empty() {
            cli.admin_address
        } else {
            file.admin_addresses.unwrap_or_default()
        };
        let admin_addresses = admin_texts
            .iter()
            .map(|text| {
                Address::from_bech32m(text.trim(), prefix).map_err(|error| ConfigError::Invalid {
                    option: "admin-address",
                    message: format!("{text:?}: {error}"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let allowed_hosts = if !cli.allowed_host.is_empty() {
            cli.allowed_host
        } else {
            file.allowed_hosts.unwrap_or_default()
        };
        let allowed_hosts = allowed_hosts
            .into_iter()
            .map(|host| {
                let host = host.trim().to_ascii_lowercase();
                let valid = !host.is_empty()
                    && host.len() <= 253
                    && host
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
                if valid {
                    Ok(host)
                } else {
                    Err(ConfigError::Invalid {
                        option: "allowed-host",
                        message: format!("{host:?} is not a host name (no port, no scheme)"),
                    })
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let webhook_allow = if !cli.webhook_allow.is_empty() {
            cli.webhook_allow
        } else {
            file.webhook_allow.unwrap_or_default()
        };
        for allowed in &webhook_allow {
            crate::webhooks::UrlPrefix::parse(allowed).map_err(|error| ConfigError::Invalid {
                option: "webhook-allow",
                message: format!("{allowed:?}: {error}"),
            })?;
        }
        let jwt_ttl = cli
            .jwt_ttl
            .or(file.jwt_ttl)
            .map_or(DEFAULT_JWT_TTL, Duration::from_secs);
        if jwt_ttl.is_zero() || jwt_ttl > MAX_JWT_TTL {
            return Err(ConfigError::Invalid {
                option: "jwt-ttl",
                message: format!("must be 1 to {} seconds", MAX_JWT_TTL.as_secs()),
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
            max_inbound_per_ip,
            mine,
            miner_address,
            threads,
            api_token: cli
                .api_token
                .or(file.api_token)
                .filter(|token| !token.is_empty()),
            www: cli.www.or(file.www).unwrap_or_else(default_www),
            mempool_max,
            min_relay_fee: cli
                .min_relay_fee
                .or(file.min_relay_fee)
                .unwrap_or(crate::mempool::DEFAULT_MIN_RELAY_FEE),
            rate_limit: cli.rate_limit.or(file.rate_limit).unwrap_or(1200),
            server,
            admin_addresses,
            allowed_hosts,
            webhook_allow,
            webhook_ca: cli.webhook_ca.or(file.webhook_ca),
            jwt_ttl,
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
    fn the_minimum_relay_fee_defaults_to_one_unit_a_byte() {
        let config = Config::resolve(Cli::default()).expect("defaults are valid");
        assert_eq!(config.min_relay_fee, 1);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("node.toml");
        std::fs::write(&path, "min_relay_fee = 5\n").expect("write");
        let from_file = Config::resolve(Cli {
            config: Some(path.clone()),
            ..Cli::default()
        })
        .expect("valid");
        assert_eq!(from_file.min_relay_fee, 5);
        let none = Config::resolve(Cli {
            config: Some(path),
            min_relay_fee: Some(0),
            ..Cli::default()
        })
        .expect("valid");
        assert_eq!(none.min_relay_fee, 0);
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

    /// docs/CONFIGURATION.md lists every option with its flag, environment
    /// variable and config key, and the config file accepts every key.
    #[test]
    fn configuration_doc_and_file_keys_match_the_real_options() {
        use clap::CommandFactory;
        let doc = include_str!("../../docs/CONFIGURATION.md");
        let mut file_keys = Vec::new();
        for argument in Cli::command().get_arguments() {
            let Some(long) = argument.get_long() else {
                continue;
            };
            if long == "help" || long == "version" {
                continue;
            }
            assert!(
                doc.contains(&format!("`--{long}")),
                "docs/CONFIGURATION.md does not list --{long}"
            );
            let env = argument
                .get_env()
                .map(|env| env.to_string_lossy().into_owned())
                .expect("every option has an env var");
            assert_eq!(
                env,
                format!("BLOCKCHAIN_{}", long.to_uppercase().replace('-', "_"))
            );
            assert!(
                doc.contains(&format!("`{env}`")),
                "docs/CONFIGURATION.md does not list {env}"
            );
            if long != "config" {
                let key = match long {
                    "admin-address" => "admin_addresses".to_owned(),
                    "allowed-host" => "allowed_hosts".to_owned(),
                    _ => long.replace('-', "_"),
                };
                assert!(
                    doc.contains(&format!("| `{key}`")),
                    "docs/CONFIGURATION.md does not list config key {key}"
                );
                file_keys.push(key);
            }
        }
        // Every key parses in a config file (unknown keys are refused, so a missing field would fail here).
        let toml: String = file_keys
            .iter()
            .map(|key| match key.as_str() {
                "listen" | "bootstrap" | "admin_addresses" | "allowed_hosts" | "webhook_allow" => {
                    format!("{key} = []\n")
                }
                "mine" => format!("{key} = false\n"),
                "threads"
                | "mempool_max"
                | "min_relay_fee"
                | "max_inbound_per_ip"
                | "rate_limit"
                | "jwt_ttl"
                | "max_connections"
                | "max_connections_per_client"
                | "header_read_timeout" => {
                    format!("{key} = 1\n")
                }
                "network" => "network = \"regtest\"\n".to_string(),
                _ => format!("{key} = \"x\"\n"),
            })
            .collect();
        toml::from_str::<FileConfig>(&toml)
            .unwrap_or_else(|error| panic!("config file keys: {error}\n{toml}"));
        assert!(
            toml::from_str::<FileConfig>("no_such_option = 1").is_err(),
            "unknown keys are refused"
        );
    }

    #[test]
    fn nonsensical_server_limits_are_refused_at_start() {
        let defaults = Config::resolve(Cli::default()).expect("defaults are valid");
        assert_eq!(defaults.server, crate::api::server::ServerLimits::default());
        for (cli, option) in [
            (
                Cli {
                    max_connections: Some(0),
                    ..Cli::default()
                },
                "max-connections",
            ),
            (
                Cli {
                    max_connections_per_client: Some(0),
                    ..Cli::default()
                },
                "max-connections-per-client",
            ),
            (
                Cli {
                    header_read_timeout: Some(0),
                    ..Cli::default()
                },
                "header-read-timeout",
            ),
            (
                Cli {
                    header_read_timeout: Some(601),
                    ..Cli::default()
                },
                "header-read-timeout",
            ),
            (
                Cli {
                    mempool_max: Some(0),
                    ..Cli::default()
                },
                "mempool-max",
            ),
        ] {
            match Config::resolve(cli) {
                Err(ConfigError::Invalid { option: found, .. }) => assert_eq!(found, option),
                other => panic!("{option}: expected a refusal, got {other:?}"),
            }
        }
        let set = Config::resolve(Cli {
            max_connections: Some(10),
            max_connections_per_client: Some(2),
            header_read_timeout: Some(3),
            ..Cli::default()
        })
        .expect("valid");
        assert_eq!(
            set.server,
            crate::api::server::ServerLimits {
                max_connections: 10,
                max_connections_per_client: 2,
                header_read_timeout: Duration::from_secs(3),
            }
        );
    }

    /// `--help` prints the values of environment variables: not secrets.
    #[test]
    fn help_never_shows_the_database_password_or_the_api_token() {
        use clap::CommandFactory;
        let command = Cli::command();
        for long in ["db", "api-token"] {
            let argument = command
                .get_arguments()
                .find(|argument| argument.get_long() == Some(long))
                .expect("the option exists");
            assert!(argument.is_hide_env_values_set(), "--{long}");
        }
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

    #[test]
    fn admin_addresses_webhook_prefixes_and_token_lifetime_resolve() {
        let admin = Address([7; 20]);
        let admin_text = admin.to_bech32m(blockchain_core::params::REGTEST.address_prefix);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("node.toml");
        std::fs::write(
            &path,
            format!(
                "network = \"regtest\"\nadmin_addresses = [\"{admin_text}\"]\n\
                 webhook_allow = [\"https://hooks.example.com/node/\"]\n\
                 webhook_ca = \"/etc/node/hooks-ca.pem\"\njwt_ttl = 60\n"
            ),
        )
        .expect("write");
        let from_file = Config::resolve(Cli {
            config: Some(path.clone()),
            ..Cli::default()
        })
        .expect("valid");
        assert_eq!(from_file.admin_addresses, vec![admin]);
        assert_eq!(
            from_file.webhook_allow,
            vec!["https://hooks.example.com/node/".to_owned()]
        );
        assert_eq!(
            from_file.webhook_ca,
            Some(PathBuf::from("/etc/node/hooks-ca.pem"))
        );
        assert_eq!(from_file.jwt_ttl, Duration::from_secs(60));

        let defaults = Config::resolve(Cli::default()).expect("defaults are valid");
        assert!(defaults.admin_addresses.is_empty());
        assert!(defaults.webhook_allow.is_empty());
        assert_eq!(defaults.webhook_ca, None);
        assert_eq!(defaults.jwt_ttl, DEFAULT_JWT_TTL);

        // The command line replaces the file's lists.
        let cli = Cli {
            config: Some(path),
            admin_address: Vec::new(),
            webhook_allow: vec!["http://10.0.0.5:9000/hooks".into()],
            webhook_ca: Some("ca.pem".into()),
            ..Cli::default()
        };
        let config = Config::resolve(cli).expect("valid");
        assert_eq!(config.admin_addresses, vec![admin]);
        assert_eq!(
            config.webhook_allow,
            vec!["http://10.0.0.5:9000/hooks".to_owned()]
        );
        assert_eq!(config.webhook_ca, Some(PathBuf::from("ca.pem")));
    }

    #[test]
    fn bad_admin_addresses_webhook_prefixes_and_token_lifetimes_are_refused() {
        let refused = |cli: Cli| match Config::resolve(cli) {
            Err(ConfigError::Invalid { option, .. }) => option,
            other => panic!("accepted: {other:?}"),
        };
        assert_eq!(
            refused(Cli {
                mempool_max: Some(0),
                ..Cli::default()
            }),
            "mempool-max"
        );
        for host in ["attacker.example:80", "http://node.example", "a b", ""] {
            assert_eq!(
                refused(Cli {
                    allowed_host: vec![host.into()],
                    ..Cli::default()
                }),
                "allowed-host"
            );
        }
        let allowed = Config::resolve(Cli {
            allowed_host: vec!["Node.Example.org".into()],
            ..Cli::default()
        })
        .expect("a host name");
        assert_eq!(allowed.allowed_hosts, vec!["node.example.org".to_owned()]);
        assert_eq!(
            refused(Cli {
                admin_address: vec!["tblk1notanaddress".into()],
                ..Cli::default()
            }),
            "admin-address"
        );
        for prefix in [
            "ftp://example.com/",
            "example.com",
            "http://",
            "http://a b/",
        ] {
            assert_eq!(
                refused(Cli {
                    webhook_allow: vec![prefix.into()],
                    ..Cli::default()
                }),
                "webhook-allow",
                "{prefix}"
            );
        }
        for seconds in [0, MAX_JWT_TTL.as_secs() + 1] {
            assert_eq!(
                refused(Cli {
                    jwt_ttl: Some(seconds),
                    ..Cli::default()
                }),
                "jwt-ttl"
            );
        }
    }
}
