//! A signed transaction's life through the API: submitted, pending, mined,
//! confirmed, proven; balances, history and state proofs.

use axum::http::StatusCode;
use blockchain_core::merkle::MerkleProof;
use blockchain_core::state::StateProof;
use blockchain_core::{Decode, MerkleHash, Txid};
use serde_json::Value;

use super::harness::{TestNode, parse_address, sign, unused_address, vector_key};
use crate::testing::TestDatabase;

const REWARD: u64 = 5_000_000_000;

fn txids(transactions: &Value) -> Vec<String> {
    transactions
        .as_array()
        .expect("an array of transactions")
        .iter()
        .map(|transaction| transaction["txid"].as_str().expect("txid").to_owned())
        .collect()
}

/// Checks GET /wallet/{address}/proof against the tip's state root; returns the proven account.
async fn proven_account(node: &TestNode, address: &str) -> Option<(u64, u64)> {
    let answer = node
        .get(&format!("/wallet/{address}/proof"))
        .await
        .expect(StatusCode::OK);
    let status = node.get("/status").await.expect(StatusCode::OK);
    assert_eq!(answer["block_hash"], status["tip_hash"]);
    assert_eq!(answer["block_height"], status["height"]);
    let tip = node
        .get(&format!("/blocks/{}", status["height"]))
        .await
        .expect(StatusCode::OK);
    assert_eq!(answer["state_root"], tip["state_root"]);
    let root: MerkleHash = answer["state_root"]
        .as_str()
        .and_then(|text| text.parse().ok())
        .expect("state_root is a hash");
    let bytes = hex::decode(answer["proof"].as_str().expect("proof")).expect("proof is hex");
    let proof = StateProof::decode(&bytes).expect("the proof decodes");
    let account = proof
        .verify(&parse_address(address), &root)
        .expect("the proof verifies against the state root")
        .map(|account| (account.balance.0, account.nonce));
    match account {
        Some((balance, nonce)) => {
            assert_eq!(answer["account"]["balance"], balance);
            assert_eq!(answer["account"]["nonce"], nonce);
        }
        None => assert_eq!(answer["account"], Value::Null),
    }
    account
}

pub(super) async fn signed_transaction_goes_from_pending_to_confirmed_with_proofs(
    database: TestDatabase,
) {
    let node = TestNode::start(database).await;
    let (alice, bob, carol) = (vector_key(0), vector_key(1), vector_key(2));
    node.mine(&alice.address, 1).await;
    assert_eq!(node.balance(&alice.address).await["balance"], REWARD);

    let (amount, fee) = (150_000_000, 1_000);
    let transaction = sign(&alice, &bob.address, amount, fee, 0);
    let txid = transaction.txid().to_string();
    let accepted = node.submit(&transaction).await.expect(StatusCode::ACCEPTED);
    assert_eq!(accepted["txid"], txid.as_str());
    assert_eq!(accepted["status"], "pending");

    let pending = node
        .get("/transactions/pending")
        .await
        .expect(StatusCode::OK);
    assert_eq!(pending["count"], 1);
    assert_eq!(txids(&pending["transactions"]), [txid.as_str()]);
    let listed = &pending["transactions"][0];
    assert_eq!(listed["sender"], alice.spki.as_str());
    assert_eq!(listed["sender_address"], alice.address.as_str());
    assert_eq!(listed["recipient"], bob.address.as_str());
    assert_eq!(listed["amount"], amount);
    assert_eq!(listed["fee"], fee);
    assert_eq!(listed["nonce"], 0);
    assert_eq!(listed["timestamp"], transaction.time);
    assert_eq!(listed["signature"], hex::encode(&transaction.signature));

    let waiting = node
        .get(&format!("/transactions/{txid}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(waiting["status"], "pending");
    assert_eq!(waiting["block_height"], Value::Null);
    assert_eq!(waiting["confirmations"], 0);
    assert_eq!(waiting["sender_address"], alice.address.as_str());
    node.get(&format!("/transactions/{txid}/proof"))
        .await
        .error(StatusCode::NOT_FOUND, "TRANSACTION_NOT_FOUND");
    assert_eq!(node.get("/status").await.json()["mempool_size"], 1);

    let sender = node.balance(&alice.address).await;
    assert_eq!(sender["balance"], REWARD);
    assert_eq!(sender["pending_balance"], REWARD - amount - fee);
    assert_eq!(sender["nonce"], 0);
    assert_eq!(sender["next_nonce"], 1);
    let recipient = node.balance(&bob.address).await;
    assert_eq!(recipient["balance"], 0);
    assert_eq!(recipient["pending_balance"], amount);
    assert_eq!(recipient["exists"], false);

    node.submit(&transaction).await.field_error(
        StatusCode::CONFLICT,
        "TRANSACTION_ALREADY_KNOWN",
        "txid",
    );

    let mined = node.mine(&carol.address, 1).await;
    assert_eq!(
        txids(&mined[0]["transactions"])[1..],
        [txid.as_str()],
        "the block carries the transaction after its coinbase"
    );
    let confirmed = node
        .get(&format!("/transactions/{txid}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(confirmed["status"], "confirmed");
    assert_eq!(confirmed["block_height"], 2);
    assert_eq!(confirmed["block_hash"], mined[0]["hash"]);
    assert_eq!(confirmed["confirmations"], 1);
    assert_eq!(confirmed["sender"], alice.spki.as_str());
    assert_eq!(confirmed["recipient"], bob.address.as_str());
    assert_eq!(confirmed["amount"], amount);
    assert_eq!(confirmed["fee"], fee);
    assert_eq!(confirmed["nonce"], 0);
    assert_eq!(confirmed["timestamp"], transaction.time);
    node.mine(&carol.address, 1).await;
    let deeper = node
        .get(&format!("/transactions/{txid}"))
        .await
        .expect(StatusCode::OK);
    assert_eq!(deeper["confirmations"], 2);

    let pending = node
        .get("/transactions/pending")
        .await
        .expect(StatusCode::OK);
    assert_eq!(pending["count"], 0);

    let proof = node
        .get(&format!("/transactions/{txid}/proof"))
        .await
        .expect(StatusCode::OK);
    let block = node.get("/blocks/2").await.expect(StatusCode::OK);
    assert_eq!(proof["merkle_root"], block["merkle_root"]);
    assert_eq!(proof["block_hash"], block["hash"]);
    assert_eq!(proof["block_height"], 2);
    assert_eq!(proof["index"], 1);
    assert_eq!(proof["tree_size"], 2);
    let decoded = MerkleProof::decode(
        &hex::decode(proof["proof"].as_str().expect("proof")).expect("proof is hex"),
    )
    .expect("the proof decodes");
    let path: Vec<String> = decoded.path.iter().map(ToString::to_string).collect();
    assert_eq!(proof["path"], serde_json::json!(path));
    let root: MerkleHash = block["merkle_root"]
        .as_str()
        .and_then(|text| text.parse().ok())
        .expect("merkle_root is a hash");
    decoded
        .verify(&transaction.txid(), &root)
        .expect("the inclusion proof verifies against the block's merkle root");
    let other: Txid = mined[0]["transactions"][0]["txid"]
        .as_str()
        .and_then(|text| text.parse().ok())
        .expect("coinbase txid");
    assert!(
        decoded.verify(&other, &root).is_err(),
        "the proof is for this transaction only"
    );

    let sender = node.balance(&alice.address).await;
    assert_eq!(sender["balance"], REWARD - amount - fee);
    assert_eq!(sender["pending_balance"], REWARD - amount - fee);
    assert_eq!(sender["nonce"], 1);
    assert_eq!(sender["transactions_count"], 2);
    let recipient = node.balance(&bob.address).await;
    assert_eq!(recipient["balance"], amount);
    assert_eq!(recipient["exists"], true);
    assert_eq!(recipient["transactions_count"], 1);
    assert_eq!(
        node.balance(&carol.address).await["balance"],
        2 * REWARD + fee,
        "the miner of block 2 collects the fee"
    );

    assert_eq!(
        proven_account(&node, &alice.address).await,
        Some((REWARD - amount - fee, 1))
    );
    assert_eq!(proven_account(&node, &bob.address).await, Some((amount, 0)));
}

pub(super) async fn history_is_newest_first_and_paged(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let (alice, bob) = (vector_key(0), vector_key(1));
    node.mine(&alice.address, 1).await;
    let mut sent = Vec::new();
    for nonce in 0..3 {
        let transaction = sign(&alice, &bob.address, 1_000 + nonce, 10, nonce);
        node.submit(&transaction).await.expect(StatusCode::ACCEPTED);
        node.mine(&bob.address, 1).await;
        sent.push(transaction.txid().to_string());
    }

    let history = node
        .get(&format!("/wallet/{}/transactions", alice.address))
        .await
        .expect(StatusCode::OK);
    assert_eq!(history["address"], alice.address.as_str());
    assert_eq!(history["total"], 4);
    assert_eq!(history["count"], 4);
    let entries = history["transactions"].as_array().expect("transactions");
    let heights: Vec<u64> = entries
        .iter()
        .map(|entry| entry["block_height"].as_u64().expect("block_height"))
        .collect();
    assert_eq!(heights, [4, 3, 2, 1], "newest first");
    let mut expected: Vec<String> = sent.iter().rev().cloned().collect();
    expected.push(entries[3]["txid"].as_str().expect("txid").to_owned());
    assert_eq!(txids(&history["transactions"]), expected);
    assert_eq!(entries[3]["sender"], "", "the oldest is the coinbase");
    for entry in entries {
        let block = node
            .get(&format!("/blocks/{}", entry["block_height"]))
            .await
            .expect(StatusCode::OK);
        assert_eq!(entry["block_hash"], block["hash"]);
    }

    let first_page = node
        .get(&format!(
            "/wallet/{}/transactions?limit=2&offset=0",
            alice.address
        ))
        .await
        .expect(StatusCode::OK);
    let second_page = node
        .get(&format!(
            "/wallet/{}/transactions?limit=2&offset=2",
            alice.address
        ))
        .await
        .expect(StatusCode::OK);
    assert_eq!(first_page["count"], 2);
    assert_eq!(first_page["total"], 4);
    assert_eq!(txids(&first_page["transactions"]), expected[..2]);
    assert_eq!(txids(&second_page["transactions"]), expected[2..]);
    let past_the_end = node
        .get(&format!("/wallet/{}/transactions?offset=10", alice.address))
        .await
        .expect(StatusCode::OK);
    assert_eq!(past_the_end["count"], 0);
    assert_eq!(past_the_end["total"], 4);

    let recipient = node
        .get(&format!("/wallet/{}/transactions?limit=1", bob.address))
        .await
        .expect(StatusCode::OK);
    assert_eq!(recipient["count"], 1);
    assert_eq!(recipient["total"], 6, "three coinbases and three payments");
    assert_eq!(recipient["transactions"][0]["block_height"], 4);

    let stranger = node
        .get(&format!("/wallet/{}/transactions", unused_address(9)))
        .await
        .expect(StatusCode::OK);
    assert_eq!(stranger["count"], 0);
    assert_eq!(stranger["total"], 0);
    node.get(&format!("/wallet/{}/transactions?limit=x", alice.address))
        .await
        .error(StatusCode::BAD_REQUEST, "INVALID_QUERY");
}

pub(super) async fn state_proof_shows_an_absent_address(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let nobody = unused_address(7);
    assert_eq!(
        proven_account(&node, &nobody).await,
        None,
        "empty state: absent"
    );
    let miner = vector_key(0).address;
    node.mine(&miner, 2).await;
    assert_eq!(proven_account(&node, &nobody).await, None);
    assert_eq!(proven_account(&node, &miner).await, Some((2 * REWARD, 0)));
    let balance = node.balance(&nobody).await;
    assert_eq!(balance["balance"], 0);
    assert_eq!(balance["nonce"], 0);
    assert_eq!(balance["exists"], false);
    assert_eq!(balance["transactions_count"], 0);
}

pub(super) async fn replacement_needs_a_higher_fee(database: TestDatabase) {
    let node = TestNode::start(database).await;
    let (alice, bob) = (vector_key(0), vector_key(1));
    node.mine(&alice.address, 1).await;
    let first = sign(&alice, &bob.address, 1_000, 100, 0);
    node.submit(&first).await.expect(StatusCode::ACCEPTED);
    let cheaper = sign(&alice, &bob.address, 2_000, 50, 0);
    node.submit(&cheaper)
        .await
        .field_error(StatusCode::CONFLICT, "REPLACEMENT_UNDERPRICED", "fee");
    let better = sign(&alice, &bob.address, 2_000, 500, 0);
    node.submit(&better).await.expect(StatusCode::ACCEPTED);
    let pending = node
        .get("/transactions/pending")
        .await
        .expect(StatusCode::OK);
    assert_eq!(txids(&pending["transactions"]), [better.txid().to_string()]);
    node.get(&format!("/transactions/{}", first.txid()))
        .await
        .error(StatusCode::NOT_FOUND, "TRANSACTION_NOT_FOUND");
}
