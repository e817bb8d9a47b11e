//! GET /status: read from memory (the chain's tip status, the miner's and
//! the network's counters), never from the database, and cheap: it is the
//! route monitors poll.

use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::watch;
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::json::difficulty;
use crate::p2p::{Network, NetworkView};

/// The node at a glance.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = NodeStatus)]
pub(super) struct Status<'a> {
    /// Network name: `devnet` or `regtest`.
    #[schema(value_type = String)]
    network: &'static str,
    /// Best-chain height.
    height: u64,
    /// Blocks in the best chain, genesis included (the seed API's name: height + 1).
    blocks_count: u64,
    /// Best block's hash, hex.
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    tip_hash: &'a str,
    /// Best block's compact target.
    bits: u32,
    /// Best block's pow_limit / target.
    difficulty: f64,
    /// pow_limit / target of the next block (the seed API's name; as `GET /mining/status`).
    current_difficulty: f64,
    /// Best chain's cumulative work, 256-bit big-endian hex.
    #[schema(value_type = String, pattern = "^[0-9a-f]{64}$")]
    chain_work: &'a str,
    /// Best block's time (ms since the Unix epoch).
    last_block_time: u64,
    /// Mean seconds between the last 100 mined blocks (genesis left out; 0 below height 2).
    average_block_time: f64,
    /// Transactions in the mempool.
    mempool_size: usize,
    /// Their encoded size in bytes.
    mempool_bytes: usize,
    /// Connected peers.
    peers_count: usize,
    /// This node's libp2p peer id (null when the node runs without peer-to-peer listeners or bootstrap peers).
    #[schema(value_type = Option<String>, required = true)]
    peer_id: Option<&'a str>,
    /// Full peer-to-peer multiaddrs to dial this node at, with `/p2p/<peer id>` (and `/certhash/…` for WebRTC-direct).
    #[schema(value_type = Vec<String>)]
    listen_addrs: &'a [String],
    /// The HTTP server's address, once bound.
    #[schema(value_type = Option<String>, required = true)]
    http_addr: Option<&'a str>,
    /// Whether continuous mining is on.
    is_mining: bool,
    /// Hashes per second of the miner threads.
    hash_rate: f64,
    /// Seconds since the node started.
    uptime_seconds: u64,
    /// The node's version.
    #[schema(value_type = String)]
    version: &'static str,
}

/// The node at a glance
///
/// Chain tip, mempool, peers and miner.
#[utoipa::path(
    get,
    path = "/status",
    tag = "node",
    operation_id = "get_status",
    responses(
        (status = 200, description = "The node's status", body = Status),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
pub(super) async fn status(State(state): State<AppState>) -> Response {
    let params = state.chain.params();
    let tip = state.chain.status();
    let mut tip_hash = [0u8; 64];
    let mut chain_work = [0u8; 64];
    let listen_addrs = state
        .network
        .as_ref()
        .map(|network| state.status_cache.listen_addrs(network));
    let status = Status {
        network: params.name,
        height: tip.header.height,
        blocks_count: tip.header.height + 1,
        tip_hash: hex_str(&tip.hash.0, &mut tip_hash),
        bits: tip.header.bits.0,
        difficulty: difficulty(params, tip.header.bits),
        current_difficulty: difficulty(params, tip.next_bits),
        chain_work: hex_str(&tip.chain_work.to_be_bytes(), &mut chain_work),
        last_block_time: tip.header.time,
        average_block_time: tip.average_block_time,
        mempool_size: tip.mempool_size,
        mempool_bytes: tip.mempool_bytes,
        peers_count: state
            .network
            .as_ref()
            .map_or(0, |network| network.peers_count()),
        peer_id: state.network.as_ref().map(|network| network.peer_id_text()),
        listen_addrs: listen_addrs.as_deref().unwrap_or_default(),
        http_addr: state.status_cache.http_addr(&state),
        is_mining: state.mining.is_mining(),
        hash_rate: state.mining.hash_rate(),
        uptime_seconds: state.started.elapsed().as_secs(),
        version: env!("CARGO_PKG_VERSION"),
    };
    // One buffer of the right size, where axum's `Json` starts at 128 bytes
    // and grows: the listen addresses make the answer about a kilobyte.
    let mut body = Vec::with_capacity(STATUS_CAPACITY);
    match serde_json::to_writer(&mut body, &status) {
        Ok(()) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(error) => ApiError::internal(error).into_response(),
    }
}

/// Bytes reserved for the answer.
const STATUS_CAPACITY: usize = 2048;

/// `bytes` (32) as lowercase hex in `buffer`.
fn hex_str<'a>(bytes: &[u8; 32], buffer: &'a mut [u8; 64]) -> &'a str {
    hex::encode_to_slice(bytes, buffer).expect("64 hex digits fit 32 bytes");
    std::str::from_utf8(buffer).expect("hex digits are ASCII")
}

/// Texts of the status that change rarely, made once and kept.
#[derive(Debug, Default)]
pub(super) struct StatusCache {
    http_addr: OnceLock<Box<str>>,
    listen_addrs: OnceLock<ListenAddrs>,
}

impl StatusCache {
    /// The HTTP server's address as text, once it is bound.
    fn http_addr(&self, state: &AppState) -> Option<&str> {
        if let Some(text) = self.http_addr.get() {
            return Some(text);
        }
        let address = state.http_addr.get()?;
        Some(self.http_addr.get_or_init(|| address.to_string().into()))
    }

    /// The network's listen addresses as text, made again only after its
    /// view changed (formatting a multiaddr with its peer id and
    /// certificate hash encodes them in base58 and multibase).
    fn listen_addrs(&self, network: &Arc<Network>) -> Arc<[String]> {
        self.listen_addrs
            .get_or_init(|| ListenAddrs::new(network))
            .current(network)
    }
}

#[derive(Debug)]
struct ListenAddrs {
    /// A view receiver of our own, to learn of changes, and the text of
    /// the listen addresses when it last looked.
    seen: Mutex<(watch::Receiver<NetworkView>, Arc<[String]>)>,
}

impl ListenAddrs {
    fn new(network: &Network) -> Self {
        let mut changes = network.watch();
        changes.mark_unchanged();
        Self {
            seen: Mutex::new((changes, network.listen_addrs_text().into())),
        }
    }

    fn current(&self, network: &Network) -> Arc<[String]> {
        let mut seen = self
            .seen
            .lock()
            .expect("the status cache lock is never poisoned");
        let (changes, text) = &mut *seen;
        // Closed: the network stopped, its last view stays.
        if changes.has_changed().unwrap_or(false) {
            changes.mark_unchanged();
            *text = network.listen_addrs_text().into();
        }
        Arc::clone(text)
    }
}
