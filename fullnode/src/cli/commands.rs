//! What each `blockchain-cli` command does; each returns the text to print.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use blockchain_core::crypto::SigningKey;
use blockchain_core::keystore::{DEFAULT_ITERATIONS, Keystore};
use blockchain_core::{Address, Amount, Network, Transaction};
use clap::CommandFactory as _;
use serde_json::{Value, json};

use super::args::{CliArgs, Command, WalletCommand};
use super::client::NodeClient;
use super::verify::{verified_balance, verified_headers};
use crate::api::json::SubmitTransaction;
use crate::clock::now_ms;

/// Runs the parsed command line.
pub(super) fn run(args: &CliArgs) -> anyhow::Result<String> {
    let network: Network = args
        .network
        .parse()
        .map_err(|error| anyhow::anyhow!("--network: {error}"))?;
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("data").join(network.name()));
    let client = NodeClient::new(
        &args.node,
        args.api_token.clone(),
        data_dir.join("api.cookie"),
    );
    let shown = |value: Value, text: String| {
        if args.json {
            serde_json::to_string_pretty(&value).expect("JSON prints")
        } else {
            text
        }
    };
    Ok(match &args.command {
        Command::Status => {
            let status = client.get("/status")?;
            let text = format!(
                "network {}\nheight {} ({} blocks), tip {}\ndifficulty {} (next {})\n\
                 mempool {} transactions\npeers {}\nmining {} at {:.0} H/s\nversion {}",
                status["network"].as_str().unwrap_or("?"),
                status["height"],
                status["blocks_count"],
                status["tip_hash"].as_str().unwrap_or("?"),
                status["difficulty"],
                status["current_difficulty"],
                status["mempool_size"],
                status["peers_count"],
                if status["is_mining"] == true {
                    "on"
                } else {
                    "off"
                },
                status["hash_rate"].as_f64().unwrap_or(0.0),
                status["version"].as_str().unwrap_or("?"),
            );
            shown(status, text)
        }
        Command::Block { id } => {
            let is_hash = id.len() == 64 && id.bytes().all(|byte| byte.is_ascii_hexdigit());
            let block = if is_hash {
                client.get(&format!("/blocks/hash/{id}"))?
            } else if !id.is_empty() && id.bytes().all(|byte| byte.is_ascii_digit()) {
                client.get(&format!("/blocks/{id}"))?
            } else {
                anyhow::bail!("{id:?} is neither a height nor a block hash (64 hex digits)");
            };
            let text = format!(
                "block {} at height {}\nprevious {}\ntime {} ms\ntransactions {}\nconfirmations {}",
                block["hash"].as_str().unwrap_or("?"),
                block["index"],
                block["previous_hash"].as_str().unwrap_or("?"),
                block["timestamp"],
                block["transactions_count"],
                block["confirmations"],
            );
            shown(block, text)
        }
        Command::Tx { txid } => {
            if !(txid.len() == 64 && txid.bytes().all(|byte| byte.is_ascii_hexdigit())) {
                anyhow::bail!("{txid:?} is not a txid (64 hex digits)");
            }
            let tx = client.get(&format!("/transactions/{txid}"))?;
            let place = match tx["block_height"].as_u64() {
                Some(height) => format!(
                    "in block {} at height {height} ({} confirmations)",
                    tx["block_hash"].as_str().unwrap_or("?"),
                    tx["confirmations"]
                ),
                None => "in the mempool, not in a block yet".to_owned(),
            };
            let text = format!(
                "transaction {txid}: {}\nfrom {}\nto {}\namount {} fee {} nonce {}\n{place}",
                tx["status"].as_str().unwrap_or("?"),
                tx["sender_address"].as_str().unwrap_or("?"),
                tx["recipient"].as_str().unwrap_or("?"),
                tx["amount"],
                tx["fee"],
                tx["nonce"],
            );
            shown(tx, text)
        }
        Command::Balance { address, verify } => {
            let parsed = Address::from_bech32m(address, network.params().address_prefix).map_err(
                |error| anyhow::anyhow!("{address:?} is not a {network} address: {error}"),
            )?;
            if *verify {
                let chain = verified_headers(&client, network.params())?;
                let proven = verified_balance(&client, &chain, &parsed, address)?;
                let value = json!({
                    "address": address,
                    "balance": proven.balance,
                    "nonce": proven.nonce,
                    "exists": proven.exists,
                    "verified": true,
                    "block_height": proven.height,
                    "block_hash": proven.block_hash.to_string(),
                    "headers_verified": proven.headers,
                });
                let text = format!(
                    "{address}: {} units, nonce {} — verified: state proof at block {} (height {}), \
                     {} headers checked from genesis",
                    proven.balance, proven.nonce, proven.block_hash, proven.height, proven.headers
                );
                shown(value, text)
            } else {
                let balance = client.get(&format!("/wallet/{address}/balance"))?;
                let text = format!(
                    "{address}: {} units ({} with pending), nonce {} (not verified: add --verify)",
                    balance["balance"], balance["pending_balance"], balance["nonce"]
                );
                shown(balance, text)
            }
        }
        Command::Wallet(command) => wallet(command, network, args.json)?,
        Command::Send {
            keystore,
            to,
            amount,
            fee,
            password_file,
        } => {
            let store = read_keystore(keystore)?;
            let store_network = store.network()?;
            let status = client.get("/status")?;
            if status["network"].as_str() != Some(store_network.name()) {
                anyhow::bail!(
                    "the keystore is for {store_network}, the node runs {}",
                    status["network"]
                );
            }
            let params = store_network.params();
            let recipient = Address::from_bech32m(to, params.address_prefix)
                .map_err(|error| anyhow::anyhow!("--to: {error}"))?;
            let key = store
                .decrypt(&password(password_file.as_deref(), false)?)
                .map_err(|error| anyhow::anyhow!("cannot open {}: {error}", keystore.display()))?;
            let from = key.public_key().address();
            let from_text = from.to_bech32m(params.address_prefix);
            let nonce = client.get(&format!("/wallet/{from_text}/balance"))?["next_nonce"]
                .as_u64()
                .ok_or_else(|| anyhow::anyhow!("the node gave no next_nonce"))?;
            let transaction = Transaction::new_signed(
                params,
                &key,
                recipient,
                Amount(*amount),
                Amount(*fee),
                nonce,
                now_ms(),
                &mut rand::rngs::SysRng,
            )
            .map_err(|error| anyhow::anyhow!("signing failed: {error}"))?;
            let body = serde_json::to_value(SubmitTransaction::of(params, &transaction))?;
            let answer = client.post("/transactions", &body, false)?;
            let text = format!(
                "sent {amount} units from {from_text} to {to} (fee {fee}, nonce {nonce}): txid {}",
                answer["txid"].as_str().unwrap_or("?")
            );
            shown(answer, text)
        }
        Command::Mine { count, address } => {
            let mut body = json!({ "count": count });
            if let Some(address) = address {
                body["miner_address"] = json!(address);
            }
            let mined = client.post("/mining/blocks", &body, true)?;
            let heights: Vec<String> = mined["blocks"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|block| block["index"].to_string())
                .collect();
            let text = format!("mined {} blocks: {}", mined["count"], heights.join(", "));
            shown(mined, text)
        }
        Command::Peers => {
            let peers = client.get("/network/peers")?;
            let lines: Vec<String> = peers["peers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|peer| {
                    format!(
                        "{} {}",
                        peer["peer_id"].as_str().unwrap_or("?"),
                        peer["addrs"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(" ")
                    )
                })
                .collect();
            let text = if lines.is_empty() {
                "no peers connected".to_owned()
            } else {
                lines.join("\n")
            };
            shown(peers, text)
        }
        Command::WaitSync { timeout } => wait_sync(&client, *timeout, args.json)?,
        Command::Completions { shell } => {
            let mut command = CliArgs::command();
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut command, "blockchain-cli", &mut out);
            String::from_utf8(out)?.trim_end().to_owned()
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(CliArgs::command()).render(&mut out)?;
            String::from_utf8(out)?.trim_end().to_owned()
        }
    })
}

/// Polls `/health` until ready, drawing the header and block heights.
fn wait_sync(client: &NodeClient, timeout: u64, json_out: bool) -> anyhow::Result<String> {
    let started = Instant::now();
    let bar = indicatif::ProgressBar::new(1);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} blocks {pos}/{len} {wide_bar} {msg}")
            .expect("a valid template"),
    );
    if json_out {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    loop {
        // 503 (not ready) carries the same body: read it either way.
        let health = match client.get("/health") {
            Ok(health) => health,
            Err(super::client::ClientError::Api {
                status: 503, body, ..
            }) => body,
            Err(error) => return Err(error.into()),
        };
        let height = health["height"].as_u64().unwrap_or(0);
        let header_height = health["header_height"].as_u64().unwrap_or(height);
        bar.set_length(header_height.max(height).max(1));
        bar.set_position(height);
        if health["ready"] == true {
            bar.finish_with_message("ready");
            return Ok(if json_out {
                serde_json::to_string_pretty(&health)?
            } else {
                format!("ready at height {height}")
            });
        }
        bar.set_message(if health["database"] == false {
            "database not answering"
        } else {
            "syncing"
        });
        if timeout > 0 && started.elapsed() > Duration::from_secs(timeout) {
            bar.abandon();
            anyhow::bail!(
                "the node was not ready after {timeout} s (height {height} of {header_height})"
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The keystore file commands.
fn wallet(command: &WalletCommand, network: Network, json_out: bool) -> anyhow::Result<String> {
    let params = network.params();
    match command {
        WalletCommand::Create {
            keystore,
            password_file,
        } => {
            refuse_existing(keystore)?;
            let password = password(password_file.as_deref(), true)?;
            eprintln!("generating an RSA-3072 key and encrypting it (a few seconds)…");
            let key = SigningKey::generate(&mut rand::rngs::SysRng)
                .map_err(|error| anyhow::anyhow!("key generation failed: {error}"))?;
            write_keystore(keystore, params, &key, &password, json_out)
        }
        WalletCommand::Import {
            key,
            keystore,
            password_file,
        } => {
            refuse_existing(keystore)?;
            let bytes = std::fs::read(key)
                .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", key.display()))?;
            let der = match std::str::from_utf8(&bytes) {
                Ok(text) if text.contains("-----BEGIN") => pem_decode(text, "PRIVATE KEY")?,
                _ => zeroize::Zeroizing::new(bytes),
            };
            let signing = SigningKey::from_pkcs8_der(&der).map_err(|error| {
                anyhow::anyhow!("{} is not an RSA-3072 PKCS#8 key: {error}", key.display())
            })?;
            let password = password(password_file.as_deref(), true)?;
            write_keystore(keystore, params, &signing, &password, json_out)
        }
        WalletCommand::Export {
            keystore,
            key,
            password_file,
        } => {
            refuse_existing(key)?;
            let store = read_keystore(keystore)?;
            let signing = store
                .decrypt(&password(password_file.as_deref(), false)?)
                .map_err(|error| anyhow::anyhow!("cannot open {}: {error}", keystore.display()))?;
            let der = signing
                .to_pkcs8_der()
                .map_err(|error| anyhow::anyhow!("cannot encode the key: {error}"))?;
            write_private(key, pem_encode(&der, "PRIVATE KEY").as_bytes())?;
            Ok(format!(
                "wrote the private key of {} to {}",
                store
                    .address()?
                    .to_bech32m(store.network()?.params().address_prefix),
                key.display()
            ))
        }
        WalletCommand::Address { keystore } => {
            let store = read_keystore(keystore)?;
            let network = store.network()?;
            let address = store.address()?.to_bech32m(network.params().address_prefix);
            Ok(if json_out {
                serde_json::to_string_pretty(
                    &json!({ "address": address, "network": network.name() }),
                )?
            } else {
                address
            })
        }
    }
}

fn write_keystore(
    path: &Path,
    params: &'static blockchain_core::Params,
    key: &SigningKey,
    password: &str,
    json_out: bool,
) -> anyhow::Result<String> {
    let store = Keystore::encrypt(
        params,
        key,
        password,
        DEFAULT_ITERATIONS,
        &mut rand::rngs::SysRng,
    )
    .map_err(|error| anyhow::anyhow!("encrypting the key failed: {error}"))?;
    write_private(path, store.to_json().as_bytes())?;
    let address = key.public_key().address().to_bech32m(params.address_prefix);
    Ok(if json_out {
        serde_json::to_string_pretty(&json!({ "address": address, "keystore": path }))?
    } else {
        format!("{address}\n(keystore written to {})", path.display())
    })
}

fn read_keystore(path: &Path) -> anyhow::Result<Keystore> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", path.display()))?;
    Keystore::from_json(&text)
        .map_err(|error| anyhow::anyhow!("{} is not a keystore: {error}", path.display()))
}

fn refuse_existing(path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        anyhow::bail!("{} exists already: not overwriting it", path.display());
    }
    Ok(())
}

/// Writes a new file readable by this user only.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .map_err(|error| anyhow::anyhow!("cannot create {}: {error}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// The password: `--password-file`'s first line, else `$BLOCKCHAIN_PASSWORD`,
/// else asked on the terminal (twice for a new one).
fn password(file: Option<&Path>, new: bool) -> anyhow::Result<String> {
    let password = if let Some(file) = file {
        let text = std::fs::read_to_string(file)
            .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", file.display()))?;
        text.lines().next().unwrap_or_default().to_owned()
    } else if let Ok(password) = std::env::var("BLOCKCHAIN_PASSWORD") {
        password
    } else {
        let first = rpassword::prompt_password("password: ")?;
        if new && rpassword::prompt_password("again: ")? != first {
            anyhow::bail!("the passwords differ");
        }
        first
    };
    if new && password.chars().count() < 8 {
        anyhow::bail!("a password has at least 8 characters");
    }
    Ok(password)
}

fn pem_encode(der: &[u8], label: &str) -> String {
    let base64 = BASE64.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in base64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

fn pem_decode(text: &str, label: &str) -> anyhow::Result<zeroize::Zeroizing<Vec<u8>>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = text
        .split_once(&begin)
        .and_then(|(_, rest)| rest.split_once(&end))
        .map(|(body, _)| body)
        .ok_or_else(|| anyhow::anyhow!("not a PEM {label} (PKCS#8 `BEGIN PRIVATE KEY`)"))?;
    let base64: String = body.split_whitespace().collect();
    Ok(zeroize::Zeroizing::new(BASE64.decode(base64).map_err(
        |_| anyhow::anyhow!("the PEM {label} is not valid base64"),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trips_and_bad_pem_is_an_error() {
        let der: Vec<u8> = (0..=255u8).cycle().take(1217).collect();
        let pem = pem_encode(&der, "PRIVATE KEY");
        assert!(pem.lines().all(|line| line.len() <= 64));
        assert_eq!(*pem_decode(&pem, "PRIVATE KEY").expect("decodes"), der);
        assert!(pem_decode("no pem here", "PRIVATE KEY").is_err());
        assert!(
            pem_decode(
                "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
                "PRIVATE KEY"
            )
            .is_err()
        );
    }

    #[test]
    fn the_command_line_is_consistent() {
        CliArgs::command().debug_assert();
    }
}
