//! The chain counters (`blockchain_blocks_connected_total`,
//! `blockchain_reorgs_total`, `blockchain_transactions_accepted_total`), fed
//! by the chain's events.

use std::sync::Arc;

use tokio::sync::{broadcast, watch};

use super::Metrics;
use crate::chain::{Chain, ChainEvent, TipStatus};

impl Metrics {
    /// Counts the blocks, reorgs and transactions `chain` announces, on a
    /// task that ends when the chain is gone.
    pub fn count_chain_events(self: &Arc<Self>, chain: &Chain) {
        let events = chain.subscribe();
        let status = chain.watch_status();
        tokio::spawn(Arc::clone(self).count(events, status));
    }

    async fn count(
        self: Arc<Self>,
        mut events: broadcast::Receiver<ChainEvent>,
        status: watch::Receiver<TipStatus>,
    ) {
        let mut height = status.borrow().header.height;
        loop {
            let connected = match events.recv().await {
                Ok(ChainEvent::NewTip { height: new, .. }) => {
                    new.saturating_sub(std::mem::replace(&mut height, new))
                }
                Ok(ChainEvent::Reorg {
                    fork_height,
                    height: new,
                    ..
                }) => {
                    self.reorgs.inc();
                    height = new;
                    new.saturating_sub(fork_height)
                }
                Ok(ChainEvent::NewTransaction { .. }) => {
                    self.transactions_accepted.inc();
                    0
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    // Blocks still count, by height; missed reorgs and transactions do not.
                    tracing::warn!(missed, "metrics missed chain events");
                    let new = status.borrow().header.height;
                    new.saturating_sub(std::mem::replace(&mut height, new))
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            self.blocks_connected.inc_by(connected);
        }
    }
}
