//! Webhook subscriptions: added, listed oldest first, deleted, kept across a
//! reopen; damaged rows are reported.

use super::fixtures::START_MS;
use super::harness::TestDb;
use crate::storage::{Storage, StorageError, StoredWebhook};

fn webhook(id: &str, created_ms: u64, events: &[&str]) -> StoredWebhook {
    StoredWebhook {
        id: id.to_owned(),
        url: format!("http://127.0.0.1:9000/hooks/{id}?é=1"),
        events: events.iter().map(|event| (*event).to_owned()).collect(),
        secret: format!("secret of {id}, with 'quotes' and \"more\""),
        created_ms,
    }
}

pub(super) async fn webhooks_are_added_listed_and_deleted(db: &mut TestDb) {
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

pub(super) async fn corrupt_webhook_events_are_reported(db: &mut TestDb) {
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
