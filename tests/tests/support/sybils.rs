//! Many peers on one host, each with an identity of its own (a Sybil
//! attack's inbound connections): minimal libp2p swarms (TCP, noise, yamux,
//! ping) that dial one address and hold their connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, ping};

/// The Sybils; they disconnect when dropped.
#[derive(Debug)]
pub(crate) struct Sybils {
    open: Arc<AtomicUsize>,
    settled: Arc<AtomicUsize>,
    count: usize,
    // Owns the swarms' tasks.
    _runtime: tokio::runtime::Runtime,
}

impl Sybils {
    /// Starts `count` peers that each dial `target` once.
    pub(crate) fn connect(count: usize, target: &Multiaddr) -> Sybils {
        let runtime = super::peer_runtime();
        let open = Arc::new(AtomicUsize::new(0));
        let settled = Arc::new(AtomicUsize::new(0));
        for _ in 0..count {
            let (open, settled, target) = (Arc::clone(&open), Arc::clone(&settled), target.clone());
            runtime.spawn(async move {
                let mut swarm = super::tcp_swarm_builder!()
                    .with_behaviour(|_| ping::Behaviour::default())
                    .expect("ping")
                    .with_swarm_config(|config| {
                        config.with_idle_connection_timeout(Duration::from_secs(600))
                    })
                    .build();
                if swarm.dial(target).is_err() {
                    settled.fetch_add(1, Ordering::SeqCst);
                    return;
                }
                let mut counted = false;
                loop {
                    match swarm.select_next_some().await {
                        SwarmEvent::ConnectionEstablished { .. } => {
                            open.fetch_add(1, Ordering::SeqCst);
                            if !counted {
                                counted = true;
                                settled.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        SwarmEvent::ConnectionClosed { .. } => {
                            open.fetch_sub(1, Ordering::SeqCst);
                        }
                        SwarmEvent::OutgoingConnectionError { .. } if !counted => {
                            counted = true;
                            settled.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => {}
                    }
                }
            });
        }
        Sybils {
            open,
            settled,
            count,
            _runtime: runtime,
        }
    }

    /// Connections open now.
    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::SeqCst)
    }

    /// Whether every Sybil's dial was answered (connected or refused).
    pub(crate) fn settled(&self) -> bool {
        self.settled.load(Ordering::SeqCst) >= self.count
    }
}
