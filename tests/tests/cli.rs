//! `blockchain-cli` against a real node process: status, blocks,
//! transactions, verified balances, keystore files, signing and sending
//! here, mining with the cookie, peers, wait-sync, completions, man page.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::node::{NodeOptions, NodeProcess, cli_binary};
use blockchain_testkit::http::get;
use blockchain_testkit::vectors::repository_json;

const PASSWORD: &str = "correct horse battery staple";

/// Runs the CLI against `node` with `args`; the password comes from the environment.
fn cli(node: &NodeProcess, data_dir: &Path, args: &[&str]) -> Output {
    cli_with_password(node, data_dir, PASSWORD, args)
}

/// [`cli`] with another password.
fn cli_with_password(node: &NodeProcess, data_dir: &Path, password: &str, args: &[&str]) -> Output {
    Command::new(cli_binary())
        .args([
            "--node",
            &format!("http://{}", node.addr),
            "--network",
            "regtest",
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("BLOCKCHAIN_PASSWORD", password)
        .env_remove("BLOCKCHAIN_API_TOKEN")
        .output()
        .expect("the CLI runs")
}

/// Runs a command that must succeed; its stdout.
fn ok(node: &NodeProcess, data_dir: &Path, args: &[&str]) -> String {
    let output = cli(node, data_dir, args);
    assert!(
        output.status.success(),
        "blockchain-cli {args:?}: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("UTF-8")
        .trim()
        .to_owned()
}

/// Runs a `--json` command that must succeed; its JSON.
fn json(node: &NodeProcess, data_dir: &Path, args: &[&str]) -> Value {
    let mut with_json = vec!["--json"];
    with_json.extend_from_slice(args);
    let text = ok(node, data_dir, &with_json);
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{args:?}: {error}: {text}"))
}

#[test]
fn the_command_line_client_drives_a_node() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data_dir = dir.path().join("node");
    let node = NodeProcess::start(&NodeOptions::regtest(&data_dir));
    let files = dir.path();
    let alice_file = files.join("alice.json");
    let alice_path = alice_file.to_str().expect("UTF-8");

    // A keystore made here is the browser's format; its address needs no password.
    let created = ok(&node, &data_dir, &["wallet", "create", alice_path]);
    let alice = ok(&node, &data_dir, &["wallet", "address", alice_path]);
    assert!(alice.starts_with("rblk1"), "{alice}");
    assert!(created.starts_with(&alice), "{created}");
    let keystore: Value =
        serde_json::from_str(&std::fs::read_to_string(&alice_file).expect("written"))
            .expect("JSON");
    assert_eq!(keystore["address"], alice.as_str());
    assert_eq!(
        keystore["encrypted_private_key"]["iterations"], 600_000,
        "{keystore}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&alice_file)
            .expect("a file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = cli(&node, &data_dir, &["wallet", "create", alice_path]);
    assert!(
        !again.status.success(),
        "an existing keystore is never overwritten"
    );

    // Protected routes take the cookie in the data dir; without it, a clear error.
    let elsewhere = files.join("not-the-data-dir");
    let refused = cli(&node, &elsewhere, &["mine", "2", "--address", &alice]);
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("api.cookie"), "{message}");
    let mined = json(&node, &data_dir, &["mine", "2", "--address", &alice]);
    assert_eq!(mined["count"], 2);

    let status = json(&node, &data_dir, &["status"]);
    assert_eq!(status["network"], "regtest");
    assert_eq!(status["height"], 2);
    assert_eq!(status["blocks_count"], 3);

    // A balance checked against headers verified from genesis = the REST balance.
    let verified = json(&node, &data_dir, &["balance", &alice, "--verify"]);
    let rest = get(node.addr, &format!("/api/v1/wallet/{alice}/balance")).body;
    assert_eq!(verified["verified"], true);
    assert_eq!(verified["balance"], rest["balance"]);
    assert_eq!(verified["block_height"], 2);
    assert_eq!(verified["headers_verified"], 3);

    // Signed here, sent, mined, shown.
    let bob_file = files.join("bob.json");
    ok(
        &node,
        &data_dir,
        &["wallet", "create", bob_file.to_str().expect("UTF-8")],
    );
    let bob = ok(
        &node,
        &data_dir,
        &["wallet", "address", bob_file.to_str().expect("UTF-8")],
    );
    let sent = json(
        &node,
        &data_dir,
        &[
            "send",
            "--keystore",
            alice_path,
            "--to",
            &bob,
            "--amount",
            "123456",
            "--fee",
            "2000",
        ],
    );
    let txid = sent["txid"].as_str().expect("a txid").to_owned();
    assert_eq!(json(&node, &data_dir, &["tx", &txid])["status"], "pending");
    json(&node, &data_dir, &["mine", "1", "--address", &alice]);
    let confirmed = json(&node, &data_dir, &["tx", &txid]);
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(confirmed["block_height"], 3);
    let block = json(&node, &data_dir, &["block", "3"]);
    assert_eq!(block["transactions_count"], 2);
    let hash = block["hash"].as_str().expect("a hash");
    assert_eq!(json(&node, &data_dir, &["block", hash])["index"], 3);
    let bob_balance = json(&node, &data_dir, &["balance", &bob, "--verify"]);
    assert_eq!(bob_balance["balance"], 123_456);

    // A wrong password opens nothing and sends nothing.
    let wrong = cli_with_password(
        &node,
        &data_dir,
        "not the password",
        &[
            "send",
            "--keystore",
            alice_path,
            "--to",
            &bob,
            "--amount",
            "1",
        ],
    );
    assert_eq!(wrong.status.code(), Some(1));

    // Export and import round-trip the key.
    let pem = files.join("alice.pem");
    ok(
        &node,
        &data_dir,
        &["wallet", "export", alice_path, pem.to_str().expect("UTF-8")],
    );
    assert!(
        std::fs::read_to_string(&pem)
            .expect("written")
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    let imported = files.join("imported.json");
    ok(
        &node,
        &data_dir,
        &[
            "wallet",
            "import",
            pem.to_str().expect("UTF-8"),
            imported.to_str().expect("UTF-8"),
        ],
    );
    assert_eq!(
        ok(
            &node,
            &data_dir,
            &["wallet", "address", imported.to_str().expect("UTF-8")]
        ),
        alice
    );

    // A keystore made by the Python reference reads the same way.
    let python = files.join("python.json");
    let vector = &repository_json("core/tests/data/keystore.json")[0];
    std::fs::write(&python, vector["keystore"].to_string()).expect("written");
    assert_eq!(
        ok(
            &node,
            &data_dir,
            &["wallet", "address", python.to_str().expect("UTF-8")]
        ),
        vector["keystore"]["address"].as_str().expect("an address")
    );

    // The rest of the surface.
    assert_eq!(ok(&node, &data_dir, &["peers"]), "no peers connected");
    assert_eq!(
        json(&node, &data_dir, &["wait-sync", "--timeout", "30"])["ready"],
        true
    );
    assert!(ok(&node, &data_dir, &["completions", "bash"]).contains("blockchain-cli"));
    assert!(ok(&node, &data_dir, &["man"]).contains(".TH blockchain-cli"));
    let unknown = cli(&node, &data_dir, &["block", "not-a-block"]);
    assert_eq!(unknown.status.code(), Some(1));
    let missing = cli(&node, &data_dir, &["block", "99"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("BLOCK_NOT_FOUND"));
}
