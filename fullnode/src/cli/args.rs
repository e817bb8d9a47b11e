//! The command line of `blockchain-cli`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// `blockchain-cli`: talk to a BlockChain node, keep wallets in keystore files.
#[derive(Debug, Parser)]
#[command(name = "blockchain-cli", version, about, long_about = None)]
pub struct CliArgs {
    /// The node's REST API.
    #[arg(
        long,
        env = "BLOCKCHAIN_NODE",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub node: String,
    /// The node's data directory, where `api.cookie` is (default ./data/<network>).
    #[arg(long, env = "BLOCKCHAIN_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Network of the default data directory and of new keystores: devnet or regtest.
    #[arg(
        long,
        env = "BLOCKCHAIN_NETWORK",
        default_value = "devnet",
        global = true
    )]
    pub network: String,
    /// A token for the protected routes instead of the cookie's.
    #[arg(
        long,
        env = "BLOCKCHAIN_API_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub api_token: Option<String>,
    /// Print the node's JSON (or the command's result as JSON) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The node at a glance (GET /status).
    Status,
    /// A best-chain block by height, or any stored block by hash.
    Block {
        /// Height (digits) or hash (64 hex digits).
        id: String,
    },
    /// A pending or confirmed transaction.
    Tx {
        /// The txid: 64 hex digits.
        txid: String,
    },
    /// An address's balance.
    Balance {
        /// bech32m address.
        address: String,
        /// Check it: verify every header from genesis (proof of work,
        /// difficulty, links) and the node's state proof of the account
        /// against the verified chain, instead of trusting the node.
        #[arg(long)]
        verify: bool,
    },
    /// Keystore files (the browser wallet's format).
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// Sign a payment with a keystore here and submit it (the password
    /// never leaves this machine).
    Send {
        /// The keystore file.
        #[arg(long)]
        keystore: PathBuf,
        /// Recipient address.
        #[arg(long)]
        to: String,
        /// Amount in base units (1 coin = 10^8).
        #[arg(long)]
        amount: u64,
        /// Fee in base units (at least the node's relay fee: 1 unit a byte).
        #[arg(long, default_value_t = 1_000)]
        fee: u64,
        /// File holding the password (else $BLOCKCHAIN_PASSWORD, else a prompt).
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Mine blocks now (regtest; protected: reads the cookie).
    Mine {
        /// How many blocks (1–1000).
        count: u32,
        /// Where they pay (default: the node's --miner-address).
        #[arg(long)]
        address: Option<String>,
    },
    /// Connected peers.
    Peers,
    /// Wait until the node is ready (database up, initial sync done), with a progress bar.
    WaitSync {
        /// Give up after this many seconds (0: never).
        #[arg(long, default_value_t = 0)]
        timeout: u64,
    },
    /// Shell completions for bash, zsh, fish, elvish or powershell, on stdout.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// The man page (roff), on stdout.
    Man,
}

/// Keystore file commands.
#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// A new RSA-3072 key in a new keystore file.
    Create {
        /// Where to write it (refused if it exists).
        keystore: PathBuf,
        /// File holding the password (else $BLOCKCHAIN_PASSWORD, else a prompt).
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// A keystore file from a PKCS#8 private key (PEM or DER).
    Import {
        /// The private key file.
        key: PathBuf,
        /// Where to write the keystore (refused if it exists).
        keystore: PathBuf,
        /// File holding the password (else $BLOCKCHAIN_PASSWORD, else a prompt).
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// The private key of a keystore file, as PKCS#8 PEM (a secret: keep it safe).
    Export {
        /// The keystore file.
        keystore: PathBuf,
        /// Where to write the key (mode 0600; refused if it exists).
        key: PathBuf,
        /// File holding the password (else $BLOCKCHAIN_PASSWORD, else a prompt).
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// A keystore file's address (no password needed).
    Address {
        /// The keystore file.
        keystore: PathBuf,
    },
}
