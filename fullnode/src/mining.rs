//! Mining control: keeps the miner threads fed with fresh templates (new tip,
//! new transactions, every few seconds for the time), hands found blocks to
//! the chain, and mines N blocks on request.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blockchain_core::{Address, Block};
use tokio::sync::mpsc;

use crate::chain::{BlockOutcome, Chain, SubmitBlockError};
use crate::clock::now_ms;
use crate::miner::{Miner, search};

/// How often a running miner gets a template with a fresh time.
const TEMPLATE_REFRESH: Duration = Duration::from_secs(5);

/// The node's mining.
#[derive(Debug)]
pub struct MiningControl {
    chain: Arc<Chain>,
    miner: Miner,
    address: Mutex<Option<Address>>,
    threads: usize,
}

/// Why mining could not start.
#[derive(Debug, thiserror::Error)]
pub enum MiningError {
    /// No address to pay.
    #[error("no miner address: pass one in the request or start the node with --miner-address")]
    NoAddress,
    /// The chain refused a mined block.
    #[error("mined block rejected: {0}")]
    Rejected(#[from] SubmitBlockError),
}

impl MiningControl {
    /// Starts idle miner threads and the task that feeds them.
    pub fn spawn(
        chain: Arc<Chain>,
        threads: usize,
        address: Option<Address>,
    ) -> Arc<MiningControl> {
        let (found_sender, found) = mpsc::channel(16);
        let control = Arc::new(MiningControl {
            chain,
            miner: Miner::start(threads, found_sender),
            address: Mutex::new(address),
            threads,
        });
        tokio::spawn(Arc::clone(&control).feed(found));
        control
    }

    async fn feed(self: Arc<Self>, mut found: mpsc::Receiver<Block>) {
        let mut events = self.chain.subscribe();
        let mut refresh = tokio::time::interval(TEMPLATE_REFRESH);
        loop {
            tokio::select! {
                block = found.recv() => {
                    let Some(block) = block else { return };
                    let hash = block.hash();
                    match self.chain.submit_block(block, now_ms()).await {
                        Ok(_) => tracing::info!(block = %hash, "mined a block"),
                        Err(SubmitBlockError::Duplicate(_)) => {}
                        Err(error) => tracing::warn!(block = %hash, %error, "mined block rejected"),
                    }
                    self.refresh_template().await;
                }
                event = events.recv() => {
                    if matches!(event, Err(tokio::sync::broadcast::error::RecvError::Closed)) {
                        return;
                    }
                    self.refresh_template().await;
                }
                _ = refresh.tick() => self.refresh_template().await,
            }
        }
    }

    async fn refresh_template(&self) {
        if !self.miner.is_running() {
            return;
        }
        let Some(address) = self.address() else {
            return;
        };
        let template = self.chain.template(address, now_ms()).await;
        self.miner.set_template(template);
    }

    /// The configured coinbase address.
    pub fn address(&self) -> Option<Address> {
        *self.address.lock().expect("address lock is never poisoned")
    }

    /// Starts continuous mining (to `address`, or the configured one).
    pub async fn start(&self, address: Option<Address>) -> Result<(), MiningError> {
        if let Some(address) = address {
            *self.address.lock().expect("address lock is never poisoned") = Some(address);
        }
        let address = self.address().ok_or(MiningError::NoAddress)?;
        self.miner
            .set_template(self.chain.template(address, now_ms()).await);
        self.miner.set_running(true);
        tracing::info!(threads = self.threads, "mining started");
        Ok(())
    }

    /// Stops continuous mining.
    pub fn stop(&self) {
        self.miner.set_running(false);
        tracing::info!("mining stopped");
    }

    /// True while mining continuously.
    pub fn is_mining(&self) -> bool {
        self.miner.is_running()
    }

    /// Hashes per second of continuous mining.
    pub fn hash_rate(&self) -> f64 {
        self.miner.hash_rate()
    }

    /// Mines `count` blocks on the tip now, on all miner threads, and returns them.
    pub async fn mine_blocks(
        &self,
        address: Address,
        count: u32,
    ) -> Result<Vec<Block>, MiningError> {
        let mut mined = Vec::with_capacity(count as usize);
        while mined.len() < count as usize {
            let template = Arc::new(self.chain.template(address, now_ms()).await);
            let threads = self.threads as u64;
            let block = tokio::task::spawn_blocking(move || mine_now(&template, threads))
                .await
                .expect("mining does not panic");
            match self.chain.submit_block(block.clone(), now_ms()).await {
                Ok(BlockOutcome::NewTip) => mined.push(block),
                // Someone else extended the tip first: mine on the new one.
                Ok(BlockOutcome::SideBranch) | Err(SubmitBlockError::Duplicate(_)) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(mined)
    }
}

/// Searches the nonce space with `threads` threads until one finds a block.
fn mine_now(template: &crate::miner::Template, threads: u64) -> Block {
    let done = std::sync::atomic::AtomicBool::new(false);
    let hashes = AtomicU64::new(0);
    let result = Mutex::new(None);
    std::thread::scope(|scope| {
        for index in 0..threads {
            let (done, hashes, result) = (&done, &hashes, &result);
            scope.spawn(move || {
                if let Some(block) = search(template, index, threads, hashes, || {
                    !done.load(Ordering::Acquire)
                }) {
                    done.store(true, Ordering::Release);
                    result
                        .lock()
                        .expect("result lock is never poisoned")
                        .get_or_insert(block);
                }
            });
        }
    });
    result
        .into_inner()
        .expect("result lock is never poisoned")
        .expect("the search only ends when a block is found")
}
