//! A real node process over real sockets, on SQLite and on PostgreSQL:
//! transactions signed by Python `cryptography` are accepted, mined and move
//! balances; what was committed survives a restart.

use blockchain_core::merkle::MerkleProof;
use blockchain_core::{Decode, MerkleHash, Txid};
use blockchain_testkit::postgres::PostgresDatabase;
use serde_json::json;

use crate::support::node::{NodeOptions, NodeProcess};
use blockchain_testkit::http::{get, post};
use blockchain_testkit::vectors::{repository_json, vector_address};

const REWARD: u64 = 5_000_000_000;

fn balance(node: &NodeProcess, address: &str) -> u64 {
    let answer = get(node.addr, &format!("/api/v1/wallet/{address}/balance"));
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["balance"].as_u64().expect("balance")
}

fn python_signed_transactions_flow(mut options: NodeOptions) {
    // The vectors pay fees of 1000, 5000 and 0 units: no minimum relay fee.
    options
        .extra
        .extend(["--min-relay-fee".to_owned(), "0".to_owned()]);
    let vectors = repository_json("tests/data/rest_transactions.json");
    let sender = vectors["sender_address"]["regtest"]
        .as_str()
        .expect("sender");
    assert_eq!(sender, vector_address(0));
    let node = NodeProcess::start(&options);
    node.mine(sender, 1);
    assert_eq!(balance(&node, sender), REWARD);

    let transactions = vectors["transactions"]["regtest"]
        .as_array()
        .expect("transactions");
    for transaction in transactions {
        let answer = post(node.addr, "/api/v1/transactions", &transaction["json"]);
        assert_eq!(answer.status, 202, "{:?}", answer.body);
        assert_eq!(answer.body["txid"], transaction["txid"]);
    }
    // The same transaction again is a conflict, a tampered one is invalid; the node stays up.
    let again = post(node.addr, "/api/v1/transactions", &transactions[0]["json"]);
    assert_eq!(
        (again.status, again.body["code"].as_str()),
        (409, Some("TRANSACTION_ALREADY_KNOWN"))
    );
    let mut tampered = transactions[0]["json"].clone();
    tampered["amount"] = json!(999);
    let refused = post(node.addr, "/api/v1/transactions", &tampered);
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.body["details"]["field"], "signature");

    let pending = get(node.addr, "/api/v1/transactions/pending");
    assert_eq!(pending.body["count"], 3);
    let miner = vector_address(2);
    node.mine(&miner, 1);

    for transaction in transactions {
        let txid = transaction["txid"].as_str().expect("txid");
        let answer = get(node.addr, &format!("/api/v1/transactions/{txid}"));
        assert_eq!(answer.body["status"], "confirmed", "{:?}", answer.body);
        assert_eq!(answer.body["block_height"], 2);
        let proof = get(node.addr, &format!("/api/v1/transactions/{txid}/proof"));
        let decoded = MerkleProof::decode(
            &hex::decode(proof.body["proof"].as_str().expect("hex")).expect("hex"),
        )
        .expect("decodes");
        let root: MerkleHash = proof.body["merkle_root"]
            .as_str()
            .expect("root")
            .parse()
            .expect("hash");
        let block = get(node.addr, "/api/v1/blocks/2");
        assert_eq!(
            block.body["merkle_root"].as_str(),
            Some(root.to_string().as_str())
        );
        decoded
            .verify(&txid.parse::<Txid>().expect("txid"), &root)
            .expect("inclusion proof verifies");
    }
    let fees = 1_000 + 5_000;
    assert_eq!(
        balance(&node, sender),
        REWARD - (1_000_000_000 + 1_000) - (250_000_000 + 5_000) - 1
    );
    assert_eq!(balance(&node, &vector_address(1)), 1_000_000_000 + 1);
    assert_eq!(balance(&node, &miner), REWARD + fees + 250_000_000);

    let tip = get(node.addr, "/api/v1/status").body["tip_hash"].clone();
    assert_eq!(node.terminate(), Some(0), "SIGTERM exits cleanly");
    let restarted = NodeProcess::start(&options);
    assert_eq!(get(restarted.addr, "/api/v1/status").body["tip_hash"], tip);
    assert_eq!(balance(&restarted, &miner), REWARD + fees + 250_000_000);
    let history = get(
        restarted.addr,
        &format!("/api/v1/wallet/{sender}/transactions"),
    );
    assert_eq!(history.body["total"], 4, "one coinbase and three sends");
    assert_eq!(
        history.body["transactions"][0]["block_height"], 2,
        "newest first"
    );
}

#[test]
fn python_signed_transactions_are_mined_and_survive_a_restart_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    python_signed_transactions_flow(NodeOptions::regtest(dir.path()));
}

blockchain_testkit::on_postgres! {
    #[test]
    fn python_signed_transactions_are_mined_and_survive_a_restart_on_postgres() {
        let dir = tempfile::tempdir().expect("tempdir");
        let database = PostgresDatabase::create();
        let mut options = NodeOptions::regtest(dir.path());
        options.db = Some(database.url().to_owned());
        python_signed_transactions_flow(options);
    }
}
