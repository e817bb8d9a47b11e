//! Webhook subscriptions: added, listed oldest first, deleted, kept across a
//! reopen; damaged rows are reported. The delivery outbox.

use super::fixtures::START_MS;
use super::harness::TestDb;
use crate::storage::{OutboxEntry, Storage, StorageError, StoredWebhook};

fn webhook(id: &str, created_ms: u64, events: &[&str]) -> StoredWebhook {
    StoredWebhook {
        id: id.to_owned(),
        url: format!("http://127.0.0.1:9000/hooks/{id}?é=1"),
        events: events.iter().map(|event| (*event).to_owned()).collect(),
        secret: format!("secret of {id}, with 'quotes' and \"more\""),
        created_ms,
    }
}

pub(super) async fn webhooks_are_added_listed_and_deleted(mut db: TestDb) {
    let storage = &db.storage;
    assert_eq!(storage.webhooks().await.expect("none yet"), Vec::new());
    let second = webhook("bb", START_MS + 1, &["new_block"]);
    let first = webhook("aa", START_MS, &["new_block", "reorg", "new_transaction"]);
    let third = webhook("cc", START_MS + 1, &[]);
    for hook in [&second, &first, &third] {
        storage.add_webhook(hook).await.expect("add");
    }
    assert_eq!(
        storage.webhooks().await.expect("list"),
        vec![first.clone(), second.clone(), third.clone()]
    );
    assert!(storage.add_webhook(&first).await.is_err(), "ids are unique");

    assert!(storage.delete_webhook("bb").await.expect("delete"));
    assert!(!storage.delete_webhook("bb").await.expect("delete again"));
    assert!(!storage.delete_webhook("zz").await.expect("delete unknown"));
    assert_eq!(
        storage.webhooks().await.expect("list"),
        vec![first.clone(), third.clone()]
    );

    db.reopen().await;
    assert_eq!(
        db.storage.webhooks().await.expect("list after reopening"),
        vec![first, third]
    );
}

pub(super) async fn corrupt_webhook_events_are_reported(db: TestDb) {
    db.storage
        .add_webhook(&webhook("aa", START_MS, &["new_block"]))
        .await
        .expect("add");
    db.corrupt(
        "UPDATE webhooks SET events = $1 WHERE id = $2",
        "not json".to_owned(),
        "aa".to_owned(),
    )
    .await;
    assert!(matches!(
        db.storage.webhooks().await,
        Err(StorageError::Corrupt {
            what: "webhook events",
            ..
        })
    ));
}

fn outbox_entry(webhook_id: &str, delivery_id: &str, seq: u64) -> OutboxEntry {
    OutboxEntry {
        webhook_id: webhook_id.to_owned(),
        delivery_id: delivery_id.to_owned(),
        seq,
        event: "new_block".to_owned(),
        body: format!("{{\"event\":\"new_block\",\"data\":{{\"height\":{seq}}},\"é\":1}}"),
    }
}

pub(super) async fn the_outbox_keeps_deliveries_in_order_until_removed(mut db: TestDb) {
    for id in ["aa", "bb"] {
        db.storage
            .add_webhook(&webhook(id, START_MS, &["new_block"]))
            .await
            .expect("add");
    }
    let entries = [
        outbox_entry("aa", "d2", 2),
        outbox_entry("bb", "d2", 2),
        outbox_entry("aa", "d1", 1),
        outbox_entry("aa", "d3", 3),
    ];
    db.storage.add_outbox(&entries).await.expect("add");
    db.storage.add_outbox(&[]).await.expect("nothing to add");
    // All or none: a repeated entry fails the whole write.
    assert!(
        db.storage
            .add_outbox(&[outbox_entry("bb", "d9", 9), entries[0].clone()])
            .await
            .is_err()
    );
    db.reopen().await;
    let order = |outbox: Vec<OutboxEntry>| -> Vec<(String, String)> {
        outbox
            .into_iter()
            .map(|entry| (entry.webhook_id, entry.delivery_id))
            .collect()
    };
    let stored = db.storage.outbox().await.expect("read");
    assert_eq!(stored[0], entries[2], "every field round-trips");
    assert_eq!(
        order(stored),
        [("aa", "d1"), ("aa", "d2"), ("bb", "d2"), ("aa", "d3")]
            .map(|(webhook, delivery)| (webhook.to_owned(), delivery.to_owned()))
    );
    db.storage.remove_outbox("aa", "d2").await.expect("remove");
    db.storage
        .remove_outbox("aa", "unknown")
        .await
        .expect("removing nothing is fine");
    // Deleting a subscription empties its outbox.
    assert!(db.storage.delete_webhook("aa").await.expect("delete"));
    assert_eq!(
        order(db.storage.outbox().await.expect("read")),
        [("bb".to_owned(), "d2".to_owned())]
    );
}
