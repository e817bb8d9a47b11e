//! What the light client knows, shared by the network task and the JS
//! methods: the core's sync state machine (with the verified header chain),
//! the connected and banned peers, gossiped transactions, event listeners.
//! Never borrowed across an `await`.

use std::collections::{HashMap, HashSet, VecDeque};

use blockchain_core::crypto::RustCryptoVerifier;
use blockchain_core::sync::{Misbehaviour, SyncManager};
use blockchain_core::{Block, BlockHash, Header, Params, Transaction, Txid};
use futures::channel::oneshot;
use libp2p::{Multiaddr, PeerId};
use wasm_bindgen::prelude::*;

use crate::header_store::HeaderStore;
use crate::js::{from_json, now_ms, object};
use crate::json::{TipJson, TransactionJson};
use crate::network::transport_name;

#[wasm_bindgen(module = "/js/events.js")]
extern "C" {
    /// Calls `listener(detail)` in a microtask, logging what it throws.
    #[wasm_bindgen(js_name = emitLater)]
    fn emit_later(listener: &js_sys::Function, detail: &JsValue);
}

/// Most gossiped transactions kept (oldest dropped first).
const MAX_PENDING: usize = 1000;

/// A connected peer.
#[derive(Clone, Debug)]
pub(crate) struct PeerInfo {
    pub(crate) address: Multiaddr,
    /// Whether its headers answers have caught us up with it.
    pub(crate) caught_up: bool,
}

/// The light client's state.
pub(crate) struct State {
    pub(crate) params: &'static Params,
    pub(crate) sync: SyncManager<PeerId>,
    peers: HashMap<PeerId, PeerInfo>,
    banned: HashSet<PeerId>,
    listeners: HashMap<String, Vec<js_sys::Function>>,
    pending: VecDeque<Transaction>,
    pending_ids: HashSet<Txid>,
    sync_waiters: Vec<oneshot::Sender<()>>,
    last_tip: BlockHash,
    /// Next peer to ask (round robin).
    next_peer: usize,
    /// Verified headers in IndexedDB (None: memory only).
    pub(crate) store: Option<HeaderStore>,
}

impl core::fmt::Debug for State {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("State")
            .field("tip", &self.last_tip)
            .field("peers", &self.peers.len())
            .finish_non_exhaustive()
    }
}

impl State {
    pub(crate) fn new(
        params: &'static Params,
        sync: SyncManager<PeerId>,
        store: Option<HeaderStore>,
    ) -> Self {
        let last_tip = sync.headers().tip_hash();
        Self {
            params,
            sync,
            peers: HashMap::new(),
            banned: HashSet::new(),
            listeners: HashMap::new(),
            pending: VecDeque::new(),
            pending_ids: HashSet::new(),
            sync_waiters: Vec::new(),
            last_tip,
            next_peer: 0,
            store,
        }
    }

    pub(crate) fn add_listener(&mut self, event: String, listener: js_sys::Function) {
        self.listeners.entry(event).or_default().push(listener);
    }

    /// Calls the listeners of `event` with `detail`, each in a microtask of
    /// its own: after this state is no longer borrowed, so a listener may
    /// call back into the client (`tip()`, `peers()`, ...). Listeners run in
    /// the order of the events; one that throws is reported on the console
    /// and does not stop the others.
    pub(crate) fn emit(&self, event: &str, detail: &JsValue) {
        let Some(listeners) = self.listeners.get(event) else {
            return;
        };
        for listener in listeners {
            emit_later(listener, detail);
        }
    }

    pub(crate) fn emit_error(&self, message: &str) {
        self.emit(
            "error",
            &object(&[("message", JsValue::from_str(message))]).into(),
        );
    }

    pub(crate) fn tip_json(&self) -> TipJson {
        let headers = self.sync.headers();
        let tip = headers.tip();
        TipJson {
            height: tip.height,
            hash: headers.tip_hash().to_string(),
            time: tip.time,
            bits: tip.bits.0,
            chain_work: hex::encode(headers.tip_work().to_be_bytes()),
        }
    }

    fn tip_value(&self) -> JsValue {
        from_json(&serde_json::to_string(&self.tip_json()).expect("plain data"))
            .unwrap_or(JsValue::NULL)
    }

    /// Emits `tip` when the best header moved since the last call.
    fn announce_tip(&mut self) {
        let hash = self.sync.headers().tip_hash();
        if hash != self.last_tip {
            self.last_tip = hash;
            let tip = self.tip_value();
            self.emit("tip", &tip);
        }
    }

    pub(crate) fn is_banned(&self, peer: &PeerId) -> bool {
        self.banned.contains(peer)
    }

    /// Drops a peer that lied; it is not dialled or asked again this session.
    pub(crate) fn ban(&mut self, peer: PeerId, why: Misbehaviour) {
        self.banned.insert(peer);
        self.peers.remove(&peer);
        self.sync.remove_peer(&peer);
        self.emit_error(&format!("dropped peer {peer}: {why:?}"));
        self.emit_peers();
        self.check_waiters();
    }

    pub(crate) fn peer_connected(&mut self, peer: PeerId, address: Multiaddr) {
        self.peers.insert(
            peer,
            PeerInfo {
                address,
                caught_up: false,
            },
        );
        self.sync.add_peer(peer);
        self.emit_peers();
    }

    /// Forgets every peer (the client stopped).
    pub(crate) fn clear_peers(&mut self) {
        let peers: Vec<PeerId> = self.peers.keys().copied().collect();
        for peer in peers {
            self.peer_disconnected(&peer);
        }
    }

    pub(crate) fn peer_disconnected(&mut self, peer: &PeerId) {
        self.peers.remove(peer);
        self.sync.remove_peer(peer);
        self.emit_peers();
        self.check_waiters();
    }

    fn emit_peers(&self) {
        let peers = self.peers_value();
        self.emit("peers", &peers);
    }

    /// `[{peerId, address, transport}]` of the connected peers.
    pub(crate) fn peers_value(&self) -> JsValue {
        let list = js_sys::Array::new();
        for (peer, info) in &self.peers {
            list.push(
                &object(&[
                    ("peerId", JsValue::from_str(&peer.to_string())),
                    ("address", JsValue::from_str(&info.address.to_string())),
                    (
                        "transport",
                        JsValue::from_str(transport_name(&info.address)),
                    ),
                ])
                .into(),
            );
        }
        list.into()
    }

    /// Connected peers, rotating the first one so requests spread out.
    pub(crate) fn peers_to_ask(&mut self) -> Vec<PeerId> {
        let mut peers: Vec<PeerId> = self.peers.keys().copied().collect();
        peers.sort();
        if !peers.is_empty() {
            let start = self.next_peer % peers.len();
            peers.rotate_left(start);
            self.next_peer = self.next_peer.wrapping_add(1);
        }
        peers
    }

    pub(crate) fn has_peers(&self) -> bool {
        !self.peers.is_empty()
    }

    pub(crate) fn mark_caught_up(&mut self, peer: &PeerId) {
        if let Some(info) = self.peers.get_mut(peer) {
            info.caught_up = true;
        }
        self.check_waiters();
    }

    /// Synced: at least one peer, and every connected peer's headers are in.
    pub(crate) fn is_synced(&self) -> bool {
        !self.peers.is_empty() && self.peers.values().all(|info| info.caught_up)
    }

    pub(crate) fn wait_for_sync(&mut self) -> oneshot::Receiver<()> {
        let (sender, receiver) = oneshot::channel();
        if self.is_synced() {
            let _ = sender.send(());
        } else {
            self.sync_waiters.push(sender);
        }
        receiver
    }

    pub(crate) fn check_waiters(&mut self) {
        if self.is_synced() {
            for waiter in self.sync_waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
    }

    /// Verifies a batch of headers from `peer` with the core. Ok(true): a
    /// full batch, ask again. Also returns the best-chain headers to store.
    pub(crate) fn accept_headers(
        &mut self,
        peer: &PeerId,
        headers: &[Header],
    ) -> (Result<bool, Misbehaviour>, Vec<Header>) {
        let before = self.sync.headers().tip_hash();
        let verdict = self.sync.on_headers(peer, headers, now_ms());
        let changed = self.sync.headers().tip_hash() != before;
        let to_store = match headers.first() {
            Some(first) if changed => self.best_headers_from(first.height),
            _ => Vec::new(),
        };
        if changed {
            let progress = object(&[
                (
                    "height",
                    JsValue::from_f64(self.sync.headers().height() as f64),
                ),
                ("peer", JsValue::from_str(&peer.to_string())),
            ]);
            self.emit("progress", &progress.into());
            self.announce_tip();
        }
        (verdict.map_err(|error| error.misbehaviour()), to_store)
    }

    fn best_headers_from(&self, height: u64) -> Vec<Header> {
        let headers = self.sync.headers();
        (height..=headers.height())
            .filter_map(|height| headers.header_at(height).copied())
            .collect()
    }

    /// A block arrived by gossip: its header joins the verified chain if it
    /// connects and passes the rules. False when it cannot be placed yet.
    pub(crate) fn on_gossiped_block(&mut self, block: &Block) -> (bool, Vec<Header>) {
        let hash = block.hash();
        let before = self.sync.headers().tip_hash();
        self.sync.add_known_header(&block.header, now_ms());
        let known = self.sync.headers().get(&hash).is_some();
        let changed = self.sync.headers().tip_hash() != before;
        let to_store = if changed {
            self.best_headers_from(block.header.height)
        } else {
            Vec::new()
        };
        if known && self.sync.headers().is_on_best_chain(&hash) {
            for tx in &block.transactions {
                let txid = tx.txid();
                if self.pending_ids.remove(&txid) {
                    self.pending.retain(|pending| pending.txid() != txid);
                }
            }
        }
        self.announce_tip();
        (known, to_store)
    }

    /// A transaction arrived by gossip: kept (unverified against any
    /// header) when its signature checks out.
    pub(crate) fn on_gossiped_transaction(&mut self, transaction: Transaction) {
        if transaction
            .check_signed(self.params, &RustCryptoVerifier)
            .is_err()
        {
            return;
        }
        self.add_pending(transaction, true);
    }

    /// Keeps a transaction in the pending list (and tells listeners).
    pub(crate) fn add_pending(&mut self, transaction: Transaction, announce: bool) {
        let txid = transaction.txid();
        if !self.pending_ids.insert(txid) {
            return;
        }
        if self.pending.len() >= MAX_PENDING
            && let Some(oldest) = self.pending.pop_front()
        {
            self.pending_ids.remove(&oldest.txid());
        }
        let json = TransactionJson::new(self.params, &transaction);
        self.pending.push_back(transaction);
        if announce {
            let value = from_json(&serde_json::to_string(&json).expect("plain data"))
                .unwrap_or(JsValue::NULL);
            self.emit("transaction", &value);
        }
    }

    pub(crate) fn pending_value(&self) -> JsValue {
        let list: Vec<TransactionJson> = self
            .pending
            .iter()
            .rev()
            .map(|tx| TransactionJson::new(self.params, tx))
            .collect();
        from_json(&serde_json::to_string(&list).expect("plain data")).unwrap_or(JsValue::NULL)
    }
}
