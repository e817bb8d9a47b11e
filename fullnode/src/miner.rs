//! The proof-of-work miner: OS threads outside the async runtime, nonce space
//! split between them, SHA-256 midstate over the header's first 64 bytes.
//!
//! The node publishes a [`Template`] (a complete block with nonce 0); each
//! thread hashes nonces `index, index + threads, …` and reports a found block
//! on a channel. A new template (new tip, new transactions, a fresher time)
//! replaces the old one within a few milliseconds.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use blockchain_core::Block;
use blockchain_core::hash::NonceSearch;

pub use crate::chain::Template;

/// Hashes between checks for a new template or a stop.
const BATCH: u64 = 1 << 14;

#[derive(Debug, Default)]
struct Slot {
    template: Option<Arc<Template>>,
    generation: u64,
    shutdown: bool,
}

#[derive(Debug, Default)]
struct Shared {
    slot: Mutex<Slot>,
    changed: Condvar,
    generation: AtomicU64,
    running: AtomicBool,
    hashes: AtomicU64,
}

/// Handle to the mining threads.
#[derive(Debug)]
pub struct Miner {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    rate: Mutex<(Instant, u64, f64)>,
}

/// Mines `template` on the calling thread over nonces `start, start + step, …`
/// until a block is found or `keep_going` says stop; counts hashes in `hashes`.
pub fn search(
    template: &Template,
    start: u64,
    step: u64,
    hashes: &AtomicU64,
    keep_going: impl Fn() -> bool,
) -> Option<Block> {
    let mut search = NonceSearch::new(&template.block.header.to_bytes());
    let mut nonce = start;
    loop {
        for _ in 0..BATCH {
            search.set_nonce(nonce);
            if template.target.is_met_by_words(&search.hash_words()) {
                hashes.fetch_add(BATCH, Ordering::Relaxed);
                let mut block = template.block.clone();
                block.header.nonce = nonce;
                return Some(block);
            }
            nonce = nonce.wrapping_add(step);
        }
        hashes.fetch_add(BATCH, Ordering::Relaxed);
        if !keep_going() {
            return None;
        }
    }
}

impl Miner {
    /// Starts `threads` idle mining threads; found blocks go to `found`.
    pub fn start(threads: usize, found: tokio::sync::mpsc::Sender<Block>) -> Miner {
        let shared = Arc::new(Shared::default());
        let handles = (0..threads)
            .map(|index| {
                let shared = Arc::clone(&shared);
                let found = found.clone();
                std::thread::Builder::new()
                    .name(format!("miner-{index}"))
                    .spawn(move || mine_loop(&shared, index as u64, threads as u64, &found))
                    .expect("the OS can start a thread")
            })
            .collect();
        Miner {
            shared,
            threads: handles,
            rate: Mutex::new((Instant::now(), 0, 0.0)),
        }
    }

    /// Replaces the block being mined.
    pub fn set_template(&self, template: Template) {
        let mut slot = self
            .shared
            .slot
            .lock()
            .expect("miner lock is never poisoned: no panics under it");
        slot.template = Some(Arc::new(template));
        slot.generation += 1;
        self.shared
            .generation
            .store(slot.generation, Ordering::Release);
        self.shared.changed.notify_all();
    }

    /// Starts or pauses hashing.
    pub fn set_running(&self, running: bool) {
        self.shared.running.store(running, Ordering::Release);
        let _guard = self
            .shared
            .slot
            .lock()
            .expect("miner lock is never poisoned");
        self.shared.changed.notify_all();
    }

    /// True while hashing.
    pub fn is_running(&self) -> bool {
        self.shared.running.load(Ordering::Acquire)
    }

    /// Hashes per second since the previous call (at least a second apart; in between, the last value).
    pub fn hash_rate(&self) -> f64 {
        let mut rate = self.rate.lock().expect("rate lock is never poisoned");
        let now = Instant::now();
        let elapsed = now.duration_since(rate.0);
        if elapsed >= Duration::from_secs(1) {
            let total = self.shared.hashes.load(Ordering::Relaxed);
            rate.2 = (total - rate.1) as f64 / elapsed.as_secs_f64();
            *rate = (now, total, rate.2);
        }
        if self.is_running() { rate.2 } else { 0.0 }
    }

    /// Hashes tried since the threads started, counted in batches of 16,384
    /// per thread (the counter [`Miner::hash_rate`] samples).
    pub fn hashes(&self) -> u64 {
        self.shared.hashes.load(Ordering::Relaxed)
    }

    /// Number of threads.
    pub fn threads(&self) -> usize {
        self.threads.len()
    }

    /// Stops and joins the threads.
    pub fn shutdown(mut self) {
        self.stop_threads();
    }

    fn stop_threads(&mut self) {
        {
            let mut slot = self
                .shared
                .slot
                .lock()
                .expect("miner lock is never poisoned");
            slot.shutdown = true;
            self.shared.running.store(false, Ordering::Release);
            self.shared.generation.fetch_add(1, Ordering::AcqRel);
            self.shared.changed.notify_all();
        }
        for handle in self.threads.drain(..) {
            let _ = handle.join();
        }
    }
}

impl Drop for Miner {
    fn drop(&mut self) {
        self.stop_threads();
    }
}

fn mine_loop(shared: &Shared, index: u64, step: u64, found: &tokio::sync::mpsc::Sender<Block>) {
    let mut last_done = 0u64;
    loop {
        let (template, generation) = {
            let mut slot = shared.slot.lock().expect("miner lock is never poisoned");
            loop {
                if slot.shutdown {
                    return;
                }
                let ready = shared.running.load(Ordering::Acquire) && slot.generation != last_done;
                if let (true, Some(template)) = (ready, &slot.template) {
                    break (Arc::clone(template), slot.generation);
                }
                slot = shared
                    .changed
                    .wait(slot)
                    .expect("miner lock is never poisoned");
            }
        };
        let keep_going = || {
            shared.running.load(Ordering::Acquire)
                && shared.generation.load(Ordering::Acquire) == generation
        };
        if let Some(block) = search(&template, index, step, &shared.hashes, keep_going) {
            // Wait for the next template: this one is done.
            last_done = generation;
            if found.blocking_send(block).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blockchain_core::params::REGTEST;

    #[test]
    fn search_finds_a_valid_nonce() {
        let block = REGTEST.genesis_block();
        let target = REGTEST.initial_target();
        let template = Template { block, target };
        let hashes = AtomicU64::new(0);
        let found = search(&template, 0, 1, &hashes, || true).expect("regtest is easy");
        assert!(target.is_met_by(&found.header.hash().0));
    }

    #[test]
    fn threads_report_found_blocks_and_stop() {
        let (sender, mut receiver) = tokio::sync::mpsc::channel(4);
        let miner = Miner::start(2, sender);
        let mut block = REGTEST.genesis_block();
        block.header.height = 1;
        miner.set_template(Template {
            block,
            target: REGTEST.initial_target(),
        });
        miner.set_running(true);
        let found = receiver.blocking_recv().expect("a block");
        assert_eq!(found.header.height, 1);
        assert!(REGTEST.initial_target().is_met_by(&found.header.hash().0));
        miner.shutdown();
    }
}
