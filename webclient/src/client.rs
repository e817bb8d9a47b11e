//! The `LightClient` class of DESIGN §5: the JS-facing half. Each method
//! asks peers through the network task and checks every answer with the
//! core against the verified header chain; a peer whose answer does not
//! verify is dropped and the next one is asked.

use std::cell::RefCell;
use std::rc::Rc;

use blockchain_core::crypto::RustCryptoVerifier;
use blockchain_core::header_chain::HeaderChain;
use blockchain_core::light::{
    ProofError, check_account_proof, check_block_and_signatures_against_header,
    check_transaction_proof,
};
use blockchain_core::sync::{Misbehaviour, SyncManager};
use blockchain_core::sync_message::{SyncRequest, SyncResponse};
use blockchain_core::{Block, BlockHash, Decode, Encode, Header, Transaction, Txid};
use blockchain_p2p::ProtocolNames;
use futures::FutureExt;
use futures::channel::mpsc;
use libp2p::{Multiaddr, PeerId};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::error::{ClientError, ErrorCode, Result};
use crate::header_store::{HeaderStore, MEMORY_WINDOW};
use crate::js::{from_json, get, object};
use crate::json::{BlockJson, HeaderJson, TransactionJson};
use crate::network::{Command, Driver, ask, build_swarm};
use crate::slots::{REQUESTS_IN_FLIGHT, Slots};
pub(crate) use crate::state::State;
use crate::wallet::{network_params, parse_address};

/// Most headers one `headers()` call returns.
const MAX_HEADERS_PER_CALL: u64 = 2000;
/// Default for `waitForSync`.
const DEFAULT_SYNC_TIMEOUT_MS: u32 = 60_000;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
export interface Tip { height: number; hash: string; time: number; bits: number; chainWork: string; }
export interface Header { index: number; hash: string; previous_hash: string; merkle_root: string;
  state_root: string; timestamp: number; bits: number; difficulty: number; nonce: number; raw: string;
  verified: boolean; }
export interface SignedTransaction { txid: string; version: number; sender: string;
  sender_address: string | null; recipient: string; amount: number; fee: number; nonce: number;
  timestamp: number; signature: string; }
export interface Block { index: number; timestamp: number; previous_hash: string; hash: string;
  nonce: number; merkle_root: string; state_root: string; bits: number; difficulty: number;
  chain_work: string; size: number; confirmations: number; transactions: SignedTransaction[];
  verified: boolean; }
export interface PeerInfo { peerId: string; address: string; transport: "websocket" | "webrtc-direct"; }
export interface TransactionInfo { transaction: SignedTransaction; blockHeight: number;
  blockHash: string; confirmations: number; verified: boolean; }
export interface AccountInfo { address: string; balance: number; nonce: number; height: number;
  stateRoot: string; verified: boolean; }
export interface StartOptions { network: string; bootstrap: string[]; persist?: boolean; }
"#;

/// Verifies raw headers (128 bytes each, consecutive, from block 1 of
/// `network`) with the core's header rules (proof of work, difficulty,
/// linkage, median time past) and returns how many there were. Throws
/// `VERIFICATION_FAILED` naming the first bad header. For tools that fetch
/// headers elsewhere (GET /api/v1/headers) and for benchmarks.
#[wasm_bindgen(js_name = verifyHeaders)]
pub fn verify_headers(network: String, raw: &[u8]) -> core::result::Result<u32, JsValue> {
    let params = network_params(&network)?;
    if !raw.len().is_multiple_of(Header::SIZE) {
        return Err(ClientError::new(
            ErrorCode::InvalidArgument,
            format!(
                "{} bytes is not a whole number of 128-byte headers",
                raw.len()
            ),
        )
        .into());
    }
    let headers = raw
        .chunks(Header::SIZE)
        .map(Header::decode)
        .collect::<core::result::Result<Vec<_>, _>>()
        .map_err(|error| ClientError::new(ErrorCode::VerificationFailed, error.to_string()))?;
    let mut chain = HeaderChain::new(params).with_window(MEMORY_WINDOW);
    for batch in headers.chunks(blockchain_core::sync_message::MAX_HEADERS) {
        chain
            .accept_headers(batch, crate::js::now_ms())
            .map_err(|error| ClientError::new(ErrorCode::VerificationFailed, error.to_string()))?;
    }
    Ok(headers.len() as u32)
}

/// The header store and what it holds, or nothing when IndexedDB fails
/// (private windows may refuse it): then the client works from memory.
async fn open_store(
    params: &'static blockchain_core::Params,
) -> (Option<HeaderStore>, Option<HeaderChain>) {
    let store = match HeaderStore::open(params).await {
        Ok(store) => store,
        Err(error) => {
            web_sys::console::warn_1(&JsValue::from_str(&format!("no header storage: {error}")));
            return (None, None);
        }
    };
    match store.load().await {
        Ok(chain) => (Some(store), chain),
        Err(error) => {
            web_sys::console::warn_1(&JsValue::from_str(&format!(
                "stored headers unreadable: {error}"
            )));
            (Some(store), None)
        }
    }
}

/// The light client.
#[wasm_bindgen]
#[derive(Debug)]
pub struct LightClient {
    state: Rc<RefCell<State>>,
    commands: mpsc::Sender<Command>,
    slots: Rc<Slots>,
}

fn json_value<T: serde::Serialize>(value: &T) -> Result<JsValue> {
    from_json(&serde_json::to_string(value).expect("plain data serialises"))
}

fn promise<F>(future: F) -> js_sys::Promise
where
    F: core::future::Future<Output = Result<JsValue>> + 'static,
{
    future_to_promise(future.map(|result| result.map_err(JsValue::from)))
}

#[wasm_bindgen]
impl LightClient {
    /// Starts a client: `{network, bootstrap: [multiaddr…], persist?}`.
    #[wasm_bindgen(unchecked_return_type = "Promise<LightClient>")]
    pub fn start(
        #[wasm_bindgen(unchecked_param_type = "StartOptions")] options: JsValue,
    ) -> js_sys::Promise {
        future_to_promise(async move {
            Self::start_inner(options)
                .await
                .map(JsValue::from)
                .map_err(JsValue::from)
        })
    }

    async fn start_inner(options: JsValue) -> Result<LightClient> {
        let network = get(&options, "network").as_string().ok_or_else(|| {
            ClientError::new(
                ErrorCode::InvalidArgument,
                "options.network must be a string",
            )
        })?;
        let params = network_params(&network)?;
        let bootstrap_value = get(&options, "bootstrap");
        if !js_sys::Array::is_array(&bootstrap_value) {
            return Err(ClientError::new(
                ErrorCode::InvalidArgument,
                "options.bootstrap must be an array of multiaddrs",
            ));
        }
        let mut bootstrap = Vec::new();
        for value in js_sys::Array::from(&bootstrap_value).iter() {
            let text = value.as_string().unwrap_or_default();
            let address: Multiaddr = text.parse().map_err(|error| {
                ClientError::new(
                    ErrorCode::InvalidArgument,
                    format!("bootstrap address {text:?}: {error}"),
                )
            })?;
            bootstrap.push(address);
        }
        if bootstrap.is_empty() {
            return Err(ClientError::new(ErrorCode::NoPeers, "no bootstrap address"));
        }
        let names = ProtocolNames::for_network(params.name)
            .map_err(|error| ClientError::new(ErrorCode::InvalidArgument, error.to_string()))?;
        let persist = get(&options, "persist").as_bool().unwrap_or(true);
        let (store, resumed) = if persist {
            open_store(params).await
        } else {
            (None, None)
        };
        let headers = resumed
            .unwrap_or_else(|| HeaderChain::new(params))
            .with_window(MEMORY_WINDOW);
        let tip = (headers.tip_hash(), headers.height());
        let state = Rc::new(RefCell::new(State::new(
            params,
            SyncManager::new(headers, tip),
            store,
        )));
        let swarm =
            build_swarm(&names).map_err(|error| ClientError::new(ErrorCode::Internal, error))?;
        let (commands, receiver) = mpsc::channel(64);
        let driver = Driver::new(swarm, names, state.clone(), bootstrap);
        wasm_bindgen_futures::spawn_local(driver.run(receiver));
        Ok(LightClient {
            state,
            commands,
            slots: Slots::new(REQUESTS_IN_FLIGHT),
        })
    }

    /// Adds a listener for "tip", "progress", "peers", "transaction" or "error".
    pub fn on(
        &self,
        event: String,
        listener: js_sys::Function,
    ) -> core::result::Result<(), JsValue> {
        if !matches!(
            event.as_str(),
            "tip" | "progress" | "peers" | "transaction" | "error"
        ) {
            return Err(ClientError::new(
                ErrorCode::InvalidArgument,
                format!("unknown event {event:?}"),
            )
            .into());
        }
        self.state.borrow_mut().add_listener(event, listener);
        Ok(())
    }

    /// Resolves with the verified tip once every connected peer's headers
    /// are in (`TIMEOUT` after `timeoutMs`, `NO_PEERS` without any peer).
    #[wasm_bindgen(js_name = waitForSync, unchecked_return_type = "Promise<Tip>")]
    pub fn wait_for_sync(&self, timeout_ms: Option<u32>) -> js_sys::Promise {
        let state = self.state.clone();
        promise(async move {
            let waiter = state.borrow_mut().wait_for_sync();
            let timeout = gloo_timers::future::TimeoutFuture::new(
                timeout_ms.unwrap_or(DEFAULT_SYNC_TIMEOUT_MS),
            );
            futures::select! {
                _ = waiter.fuse() => json_value(&state.borrow().tip_json()),
                _ = timeout.fuse() => Err(if state.borrow().has_peers() {
                    ClientError::new(ErrorCode::Timeout, "headers are still syncing")
                } else {
                    ClientError::new(ErrorCode::NoPeers, "no peer could be reached")
                }),
            }
        })
    }

    /// The verified tip: `{height, hash, time, bits, chainWork}`.
    #[wasm_bindgen(unchecked_return_type = "Tip")]
    pub fn tip(&self) -> JsValue {
        json_value(&self.state.borrow().tip_json()).unwrap_or(JsValue::NULL)
    }

    /// The connected peers.
    #[wasm_bindgen(unchecked_return_type = "PeerInfo[]")]
    pub fn peers(&self) -> JsValue {
        self.state.borrow().peers_value()
    }

    /// Verified best-chain headers from `fromHeight`, at most `count` (≤ 2000).
    #[wasm_bindgen(unchecked_return_type = "Promise<Header[]>")]
    pub fn headers(&self, from_height: f64, count: f64) -> js_sys::Promise {
        let state = self.state.clone();
        promise(async move {
            if !(from_height >= 0.0 && from_height.fract() == 0.0 && count >= 0.0) {
                return Err(ClientError::new(
                    ErrorCode::InvalidArgument,
                    "fromHeight and count must be whole numbers ≥ 0",
                ));
            }
            let from = from_height as u64;
            let count = (count as u64).min(MAX_HEADERS_PER_CALL);
            let (params, lowest, store) = {
                let state = state.borrow();
                (
                    state.params,
                    state.sync.headers().lowest_height(),
                    state.store.clone(),
                )
            };
            // Below the window in memory: the stored (verified) best chain.
            let mut list: Vec<Header> = Vec::new();
            if from < lowest
                && let Some(store) = store
            {
                list = store.range(from, count.min(lowest - from)).await?;
            }
            let state = state.borrow();
            let chain = state.sync.headers();
            let next = from + list.len() as u64;
            list.extend(
                (next..from.saturating_add(count))
                    .map_while(|height| chain.header_at(height))
                    .copied(),
            );
            let list: Vec<HeaderJson> = list
                .iter()
                .map(|header| HeaderJson::new(params, header))
                .collect();
            json_value(&list)
        })
    }

    /// A block by height or hash, checked against its verified header: the
    /// header hash, the transactions against its merkle root, every
    /// structure rule that needs no state and every signature.
    #[wasm_bindgen(js_name = getBlock, unchecked_return_type = "Promise<Block>")]
    pub fn get_block(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number | string")] height_or_hash: JsValue,
    ) -> js_sys::Promise {
        let this = self.handle();
        promise(async move { this.get_block_inner(height_or_hash).await })
    }

    /// A confirmed transaction with its inclusion proof checked against a
    /// verified best-chain header.
    #[wasm_bindgen(js_name = getTransaction, unchecked_return_type = "Promise<TransactionInfo>")]
    pub fn get_transaction(&self, txid: String) -> js_sys::Promise {
        let this = self.handle();
        promise(async move { this.get_transaction_inner(txid).await })
    }

    /// An account's balance and nonce, proven against the verified tip's state root.
    #[wasm_bindgen(js_name = getAccount, unchecked_return_type = "Promise<AccountInfo>")]
    pub fn get_account(&self, address: String) -> js_sys::Promise {
        let this = self.handle();
        promise(async move { this.get_account_inner(address).await })
    }

    /// Transactions seen by gossip (signatures checked, not verified
    /// against any header), newest first.
    #[wasm_bindgen(js_name = pendingTransactions, unchecked_return_type = "SignedTransaction[]")]
    pub fn pending_transactions(&self) -> JsValue {
        self.state.borrow().pending_value()
    }

    /// Checks a signed transaction and publishes it to the network; resolves with its txid.
    #[wasm_bindgen(unchecked_return_type = "Promise<string>")]
    pub fn broadcast(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SignedTransaction")] tx: JsValue,
    ) -> js_sys::Promise {
        let this = self.handle();
        promise(async move { this.broadcast_inner(tx).await })
    }

    /// Closes every connection and stops the client.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn stop(&self) -> js_sys::Promise {
        let commands = self.commands.clone();
        promise(async move {
            let _ = ask(&commands, |done| Command::Stop { done }).await;
            Ok(JsValue::UNDEFINED)
        })
    }

    fn handle(&self) -> Handle {
        Handle {
            state: self.state.clone(),
            commands: self.commands.clone(),
            slots: self.slots.clone(),
        }
    }
}

/// Rounds of asking every peer while they answer `busy`.
const BUSY_ROUNDS: u32 = 3;
/// The wait before the next round (times the round number).
const BUSY_RETRY_MS: u32 = 250;

/// What an async method needs, owned (a JS promise outlives `&self`).
struct Handle {
    state: Rc<RefCell<State>>,
    commands: mpsc::Sender<Command>,
    slots: Rc<Slots>,
}

/// Why asking one peer gave nothing usable.
enum Answer<T> {
    Verified(T),
    /// It does not have it.
    Missing,
    /// Unreachable or failed: ask another.
    Failed,
}

impl Handle {
    async fn request(&self, peer: PeerId, request: SyncRequest) -> Option<SyncResponse> {
        let answer = ask(&self.commands, |reply| Command::Request {
            peer,
            request,
            reply,
        })
        .await?;
        answer.ok()
    }

    fn drop_peer(&self, peer: PeerId, why: Misbehaviour, error: &ProofError) {
        self.state
            .borrow()
            .emit_error(&format!("peer {peer} failed verification: {error}"));
        let _ = self.commands.clone().try_send(Command::Drop { peer, why });
    }

    /// Asks peers in turn until one answer verifies. `check` turns a
    /// response into a verified value or names the lie.
    async fn ask_peers<T>(
        &self,
        request: SyncRequest,
        what: &str,
        mut check: impl FnMut(&State, SyncResponse) -> core::result::Result<Option<T>, ProofError>,
    ) -> Result<T> {
        let _slot = self.slots.take().await;
        let mut lied = false;
        let mut missing = false;
        for round in 0..BUSY_ROUNDS {
            let peers = self.state.borrow_mut().peers_to_ask();
            if peers.is_empty() {
                return Err(ClientError::new(ErrorCode::NoPeers, "no connected peer"));
            }
            let mut busy = false;
            for peer in peers {
                let answer = match self.request(peer, request.clone()).await {
                    None => Answer::Failed,
                    // Busy or failing storage: not a lie; ask another.
                    Some(SyncResponse::Error(_)) => {
                        busy = true;
                        Answer::Failed
                    }
                    Some(response) => match check(&self.state.borrow(), response) {
                        Ok(Some(value)) => Answer::Verified(value),
                        Ok(None) => Answer::Missing,
                        Err(error) => {
                            lied = true;
                            self.drop_peer(peer, Misbehaviour::InvalidBlock, &error);
                            Answer::Failed
                        }
                    },
                };
                match answer {
                    Answer::Verified(value) => return Ok(value),
                    Answer::Missing => {
                        missing = true;
                        // It may name a header we have not reached: catch up with it.
                        let _ = self
                            .commands
                            .clone()
                            .try_send(Command::SyncHeaders { peer });
                    }
                    Answer::Failed => {}
                }
            }
            if !busy || missing || lied || round + 1 == BUSY_ROUNDS {
                break;
            }
            // Every peer that answered was busy: ask again in a moment.
            gloo_timers::future::TimeoutFuture::new(BUSY_RETRY_MS * (round + 1)).await;
        }
        Err(if missing {
            ClientError::new(ErrorCode::NotFound, format!("{what} not found"))
        } else if lied {
            ClientError::new(
                ErrorCode::VerificationFailed,
                format!("no peer gave a {what} that verifies"),
            )
        } else {
            ClientError::new(
                ErrorCode::NoPeers,
                format!("no peer answered for the {what}"),
            )
        })
    }

    /// A verified best-chain header by height: in memory, or stored below the window.
    async fn best_header_at(&self, height: u64) -> Result<Option<Header>> {
        let (in_memory, lowest, store) = {
            let state = self.state.borrow();
            let chain = state.sync.headers();
            (
                chain.header_at(height).copied(),
                chain.lowest_height(),
                state.store.clone(),
            )
        };
        if in_memory.is_some() || height >= lowest {
            return Ok(in_memory);
        }
        match store {
            Some(store) => Ok(store.range(height, 1).await?.pop()),
            None => Ok(None),
        }
    }

    async fn get_block_inner(&self, height_or_hash: JsValue) -> Result<JsValue> {
        if let Some(height) = height_or_hash.as_f64()
            && height >= 0.0
            && height.fract() == 0.0
            && let Some(header) = self.best_header_at(height as u64).await?
        {
            return self.fetch_block(header.hash(), header.height).await;
        }
        let hash = {
            let state = self.state.borrow();
            let chain = state.sync.headers();
            let header = if let Some(height) = height_or_hash.as_f64() {
                if !(height >= 0.0 && height.fract() == 0.0) {
                    return Err(ClientError::new(
                        ErrorCode::InvalidArgument,
                        "a height is a whole number ≥ 0",
                    ));
                }
                chain.header_at(height as u64).copied()
            } else if let Some(text) = height_or_hash.as_string() {
                let hash: BlockHash = text.parse().map_err(|_| {
                    ClientError::new(ErrorCode::InvalidArgument, "a block hash is 64 hex digits")
                })?;
                chain.get(&hash).copied()
            } else {
                return Err(ClientError::new(
                    ErrorCode::InvalidArgument,
                    "getBlock takes a height or a hash",
                ));
            };
            header.ok_or_else(|| {
                ClientError::new(ErrorCode::NotFound, "no such block in the verified headers")
            })?
        };
        self.fetch_block(hash.hash(), hash.height).await
    }

    /// Downloads the block `hash` (at `height` of the verified best chain or
    /// a known branch) and checks it against that header.
    async fn fetch_block(&self, hash: BlockHash, height: u64) -> Result<JsValue> {
        let block: Block = self
            .ask_peers(
                SyncRequest::GetBlocks { hashes: vec![hash] },
                "block",
                |state, response| {
                    let SyncResponse::Blocks(mut blocks) = response else {
                        return Ok(None);
                    };
                    let Some(block) = blocks.pop() else {
                        return Ok(None);
                    };
                    check_block_and_signatures_against_header(
                        state.params,
                        &block,
                        &hash,
                        &RustCryptoVerifier,
                    )?;
                    Ok(Some(block))
                },
            )
            .await?;
        let state = self.state.borrow();
        let chain = state.sync.headers();
        let work = chain.chain_work(&hash).unwrap_or_default();
        let on_best = chain.is_on_best_chain(&hash) || height < chain.lowest_height();
        let confirmations = if on_best {
            chain.height() - height + 1
        } else {
            0
        };
        json_value(&BlockJson::new(state.params, &block, work, confirmations))
    }

    async fn get_transaction_inner(&self, txid: String) -> Result<JsValue> {
        let txid: Txid = txid
            .parse()
            .map_err(|_| ClientError::new(ErrorCode::InvalidArgument, "a txid is 64 hex digits"))?;
        let request = SyncRequest::GetTransactionProof { txid };
        let proof = self
            .ask_peers(request, "transaction", |state, response| {
                let SyncResponse::TransactionProof(Some(proof)) = response else {
                    return Ok(None);
                };
                let chain = state.sync.headers();
                if proof.header.height < chain.lowest_height() {
                    // Older than the window: the header is checked against
                    // the stored chain below.
                    check_transaction_proof(&proof, &txid, |_| true)?;
                    return Ok(Some(proof));
                }
                if chain.get(&proof.header.hash()).is_none() {
                    // Confirmed in a block our headers have not reached yet.
                    return Ok(None);
                }
                check_transaction_proof(&proof, &txid, |hash| chain.is_on_best_chain(hash))?;
                Ok(Some(proof))
            })
            .await?;
        let stored = self.best_header_at(proof.header.height).await?;
        if stored.map(|header| header.hash()) != Some(proof.header.hash()) {
            return Err(ClientError::new(
                ErrorCode::VerificationFailed,
                "the proof's block is not in the verified headers",
            ));
        }
        let state = self.state.borrow();
        let height = proof.header.height;
        let confirmations = state.sync.headers().height() - height + 1;
        let detail = object(&[
            (
                "transaction",
                json_value(&TransactionJson::new(state.params, &proof.transaction))?,
            ),
            ("blockHeight", JsValue::from_f64(height as f64)),
            (
                "blockHash",
                JsValue::from_str(&proof.header.hash().to_string()),
            ),
            ("confirmations", JsValue::from_f64(confirmations as f64)),
            ("verified", JsValue::TRUE),
        ]);
        Ok(detail.into())
    }

    async fn get_account_inner(&self, address_text: String) -> Result<JsValue> {
        let params = self.state.borrow().params;
        let address = parse_address(params, &address_text)?;
        let request = SyncRequest::GetAccountProof { address };
        let (header, account) = self
            .ask_peers(request, "account", |state, response| {
                let SyncResponse::AccountProof { header, proof } = response else {
                    return Ok(None);
                };
                let chain = state.sync.headers();
                if chain.get(&header.hash()).is_none() {
                    // A tip our headers have not reached yet: try the next peer.
                    return Ok(None);
                }
                let account = check_account_proof(&header, &proof, &address, |hash| {
                    chain.is_on_best_chain(hash)
                })?;
                Ok(Some((header, account)))
            })
            .await?;
        let (balance, nonce) = account.map_or((0, 0), |account| {
            (account.balance.to_units(), account.nonce)
        });
        Ok(object(&[
            (
                "address",
                JsValue::from_str(&address.to_bech32m(params.address_prefix)),
            ),
            ("balance", JsValue::from_f64(balance as f64)),
            ("nonce", JsValue::from_f64(nonce as f64)),
            ("height", JsValue::from_f64(header.height as f64)),
            (
                "stateRoot",
                JsValue::from_str(&header.state_root.to_string()),
            ),
            ("verified", JsValue::TRUE),
        ])
        .into())
    }

    async fn broadcast_inner(&self, tx: JsValue) -> Result<JsValue> {
        let params = self.state.borrow().params;
        let transaction = transaction_from_js(params, &tx)?;
        transaction
            .check_signed(params, &RustCryptoVerifier)
            .map_err(|error| ClientError::new(ErrorCode::Rejected, error.to_string()))?;
        let txid = transaction.txid();
        let data = transaction.encode();
        // Right after connecting, the peer's subscriptions may not have
        // arrived yet: retry for a few seconds before giving up.
        let mut last_error = String::from("no peer");
        for _ in 0..20 {
            let data = data.clone();
            match ask(&self.commands, |reply| Command::Publish { data, reply }).await {
                Some(Ok(())) => {
                    self.state.borrow_mut().add_pending(transaction, false);
                    return Ok(JsValue::from_str(&txid.to_string()));
                }
                Some(Err(error)) if error.contains("Duplicate") => {
                    return Ok(JsValue::from_str(&txid.to_string()));
                }
                Some(Err(error)) => last_error = error,
                None => break,
            }
            gloo_timers::future::TimeoutFuture::new(500).await;
        }
        Err(ClientError::new(
            ErrorCode::NoPeers,
            format!("could not publish: {last_error}"),
        ))
    }
}

/// A signed transaction from its JSON object (DESIGN §3).
fn transaction_from_js(params: &blockchain_core::Params, tx: &JsValue) -> Result<Transaction> {
    let text = |field: &str| -> Result<String> {
        get(tx, field).as_string().ok_or_else(|| {
            ClientError::new(
                ErrorCode::InvalidArgument,
                format!("{field} must be a string"),
            )
        })
    };
    let bytes = |field: &str| -> Result<Vec<u8>> {
        hex::decode(text(field)?).map_err(|_| {
            ClientError::new(ErrorCode::InvalidArgument, format!("{field} must be hex"))
        })
    };
    let version = get(tx, "version").as_f64().unwrap_or(1.0);
    if version != 1.0 {
        return Err(ClientError::new(
            ErrorCode::InvalidArgument,
            "version must be 1",
        ));
    }
    Ok(Transaction {
        version: Transaction::VERSION,
        from: bytes("sender")?,
        to: parse_address(params, &text("recipient")?)?,
        amount: blockchain_core::Amount(crate::js::whole_units(&get(tx, "amount"), "amount")?),
        fee: blockchain_core::Amount(crate::js::whole_units(&get(tx, "fee"), "fee")?),
        nonce: crate::js::whole_units(&get(tx, "nonce"), "nonce")?,
        time: crate::js::whole_units(&get(tx, "timestamp"), "timestamp")?,
        signature: bytes("signature")?,
    })
}
