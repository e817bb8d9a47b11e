//! A lying peer for the misbehaviour tests: the node's own `Behaviour`
//! (identify, ping, Kademlia, gossipsub, the sync protocol) on a swarm of its
//! own (TCP, noise, yamux), which answers sync requests and gossips with
//! invalid headers and blocks, and records what the peers it lied to did.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use blockchain_core::header::check_proof_of_work;
use blockchain_core::params::REGTEST;
use blockchain_core::state::proof::ProofEnd;
use blockchain_core::state::{Account, StateProof, state_key};
use blockchain_core::sync_message::{MAX_HEADERS, SyncRequest, SyncResponse};
use blockchain_core::{Address, Block, Encode, Header, MerkleHash, Params, Transaction};
use blockchain_node::p2p::behaviour::{Behaviour, BehaviourEvent, ProtocolNames};
use futures::StreamExt;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm, gossipsub, noise, request_response, yamux};
use tokio::sync::mpsc;

/// How a liar lies.
#[derive(Clone, Debug)]
pub(crate) enum Lie {
    /// Every headers request: a chain on genesis whose proof of work fails.
    BrokenProofOfWork,
    /// Headers requests: these headers (after the asker's locator); blocks
    /// requests: those headers over a coinbase that is not what their merkle
    /// roots commit to.
    ForgedBodies(Vec<Header>),
    /// To every peer subscribing to the blocks topic: bytes that do not
    /// decode as a block.
    GossipGarbage,
    /// To every peer subscribing to the blocks topic: a block on genesis
    /// with valid proof of work and a merkle root its transactions do not have.
    GossipInvalidBlock,
    /// Not a lie: to every peer subscribing to the transactions topic, these
    /// valid transactions in reverse order (gossip keeps no order).
    GossipReversed(Vec<Transaction>),
    /// Not a lie: this chain (on genesis, in height order) served by sync,
    /// and its last block gossiped to every peer subscribing to the blocks
    /// topic; e.g. blocks stamped by a clock that runs ahead of the node's.
    Chain(Vec<Block>),
    /// To every peer subscribing to the blocks topic: these blocks (blocks
    /// with unknown parents, cheap side branches…), [`FLOOD_BURST`] every
    /// [`FLOOD_TICK`]; every sync request answered with nothing.
    GossipFlood(Vec<Block>),
    /// Headers requests: these (honest) headers; account proof requests: the
    /// last of them with a proof of a made-up balance that does not lead to
    /// its state root.
    ForgedAccountProof(Vec<Header>),
}

/// What a liar saw of one remote peer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Seen {
    /// Connections open now.
    pub(crate) open: usize,
    /// Connections closed so far.
    pub(crate) closed: usize,
    /// Dials to it that failed.
    pub(crate) dial_failures: usize,
    /// Lies sent to it (answers and gossip).
    pub(crate) lies: usize,
    /// Headers requests it answered.
    pub(crate) headers_answered: usize,
    /// Flood blocks published while it was connected.
    pub(crate) flooded: usize,
}

/// Flood blocks published at once.
pub(crate) const FLOOD_BURST: usize = 20;
/// How often a burst of flood blocks goes out.
pub(crate) const FLOOD_TICK: Duration = Duration::from_millis(10);

/// A lying peer listening on 127.0.0.1; stops when dropped.
#[derive(Debug)]
pub(crate) struct EvilPeer {
    pub(crate) peer_id: PeerId,
    /// Its TCP address, ending in `/p2p/<peer id>`.
    pub(crate) addr: Multiaddr,
    /// Its WebSocket address (for browsers), ending in `/p2p/<peer id>`.
    pub(crate) ws_addr: Multiaddr,
    seen: Arc<Mutex<HashMap<PeerId, Seen>>>,
    dials: mpsc::UnboundedSender<Multiaddr>,
    asks: mpsc::UnboundedSender<Ask>,
    // Owns the swarm's task: dropping it stops the liar.
    runtime: tokio::runtime::Runtime,
}

impl EvilPeer {
    /// Starts a liar on the regtest protocol names.
    pub(crate) fn start(lie: Lie) -> EvilPeer {
        EvilPeer::start_on(&REGTEST, lie)
    }

    /// Starts a liar on the protocol names of `params`'s network.
    pub(crate) fn start_on(params: &'static Params, lie: Lie) -> EvilPeer {
        let runtime = super::peer_runtime();
        let names = ProtocolNames::for_network(params.name).expect("protocol names");
        let (swarm, addr, ws_addr) = runtime.block_on(listen(&names));
        let peer_id = *swarm.local_peer_id();
        let seen = Arc::new(Mutex::new(HashMap::new()));
        let (dials, dial_queue) = mpsc::unbounded_channel();
        let (asks, ask_queue) = mpsc::unbounded_channel();
        let liar = Liar {
            swarm,
            names,
            lie,
            seen: Arc::clone(&seen),
            gossiped: 0,
            flood: std::collections::VecDeque::new(),
            asked: HashMap::new(),
        };
        runtime.spawn(liar.run(dial_queue, ask_queue));
        EvilPeer {
            peer_id,
            addr,
            ws_addr,
            seen,
            dials,
            asks,
            runtime,
        }
    }

    /// What it saw of `peer` so far.
    pub(crate) fn seen(&self, peer: &PeerId) -> Seen {
        self.seen
            .lock()
            .expect("seen lock")
            .get(peer)
            .copied()
            .unwrap_or_default()
    }

    /// Dials `addr` (the outcome shows in [`EvilPeer::seen`]).
    pub(crate) fn dial(&self, addr: Multiaddr) {
        self.dials.send(addr).expect("the liar runs");
    }

    /// Sends `request` to the connected `peer` and waits for its answer
    /// (None when the request failed).
    pub(crate) fn ask(&self, peer: PeerId, request: SyncRequest) -> Option<SyncResponse> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.asks
            .send((peer, request, answer))
            .expect("the liar runs");
        self.runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(30), answered).await })
            .ok()?
            .ok()
    }
}

async fn listen(names: &ProtocolNames) -> (Swarm<Behaviour>, Multiaddr, Multiaddr) {
    let mut swarm = super::tcp_swarm_builder!()
        .with_websocket(noise::Config::new, yamux::Config::default)
        .await
        .expect("WebSocket transport")
        .with_behaviour(|keypair| {
            Behaviour::new(keypair, names).map_err(Box::<dyn std::error::Error + Send + Sync>::from)
        })
        .expect("the node's behaviour")
        .with_swarm_config(|config| config.with_idle_connection_timeout(Duration::from_secs(120)))
        .build();
    for addr in ["/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/tcp/0/ws"] {
        swarm
            .listen_on(addr.parse().expect("multiaddr"))
            .expect("listening");
    }
    let (tcp, ws) = tokio::time::timeout(Duration::from_secs(10), async {
        let (mut tcp, mut ws) = (None, None);
        while tcp.is_none() || ws.is_none() {
            if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
                if address
                    .iter()
                    .any(|protocol| matches!(protocol, Protocol::Ws(_)))
                {
                    ws = Some(address);
                } else {
                    tcp = Some(address);
                }
            }
        }
        (tcp.expect("tcp"), ws.expect("ws"))
    })
    .await
    .expect("the liar listens within 10 s");
    let peer_id = *swarm.local_peer_id();
    (
        swarm,
        tcp.with(Protocol::P2p(peer_id)),
        ws.with(Protocol::P2p(peer_id)),
    )
}

struct Liar {
    swarm: Swarm<Behaviour>,
    names: ProtocolNames,
    lie: Lie,
    seen: Arc<Mutex<HashMap<PeerId, Seen>>>,
    /// Gossip messages published: each one different (gossip drops repeats).
    gossiped: u8,
    /// Flood blocks still to publish, encoded.
    flood: std::collections::VecDeque<Vec<u8>>,
    /// Requests sent for [`EvilPeer::ask`], waiting for their answers.
    asked: HashMap<request_response::OutboundRequestId, tokio::sync::oneshot::Sender<SyncResponse>>,
}

/// A request to send for [`EvilPeer::ask`], and where its answer goes.
type Ask = (
    PeerId,
    SyncRequest,
    tokio::sync::oneshot::Sender<SyncResponse>,
);

impl Liar {
    async fn run(
        mut self,
        mut dials: mpsc::UnboundedReceiver<Multiaddr>,
        mut asks: mpsc::UnboundedReceiver<Ask>,
    ) {
        let mut flood_tick = tokio::time::interval(FLOOD_TICK);
        loop {
            tokio::select! {
                _ = flood_tick.tick(), if !self.flood.is_empty() => self.flood_burst(),
                Some((peer, request, answer)) = asks.recv() => {
                    let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
                    self.asked.insert(id, answer);
                }
                Some(addr) = dials.recv() => {
                    if let Err(error) = self.swarm.dial(addr) {
                        eprintln!("liar {}: cannot dial: {error}", self.swarm.local_peer_id());
                    }
                }
                event = self.swarm.select_next_some() => self.on_event(event),
            }
        }
    }

    fn note(&self, peer: PeerId, update: impl FnOnce(&mut Seen)) {
        update(
            self.seen
                .lock()
                .expect("seen lock")
                .entry(peer)
                .or_default(),
        );
    }

    fn on_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished { peer_id, .. } => {
                self.note(peer_id, |seen| seen.open += 1);
            }
            SwarmEvent::ConnectionClosed { peer_id, .. } => self.note(peer_id, |seen| {
                seen.open = seen.open.saturating_sub(1);
                seen.closed += 1;
            }),
            SwarmEvent::OutgoingConnectionError {
                peer_id: Some(peer_id),
                ..
            } => self.note(peer_id, |seen| seen.dial_failures += 1),
            SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            })) => {
                let headers = matches!(request, SyncRequest::GetHeaders { .. });
                let (response, lied) = self.answer(request);
                self.note(peer, |seen| {
                    seen.lies += usize::from(lied);
                    seen.headers_answered += usize::from(headers);
                });
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, response);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Sync(request_response::Event::Message {
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            })) => {
                if let Some(answer) = self.asked.remove(&request_id) {
                    let _ = answer.send(response);
                }
            }
            SwarmEvent::Behaviour(BehaviourEvent::Sync(
                request_response::Event::OutboundFailure { request_id, .. },
            )) => {
                self.asked.remove(&request_id);
            }
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Subscribed {
                peer_id,
                topic,
            })) if topic == self.names.blocks.hash() => self.gossip_to(peer_id),
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Subscribed {
                topic,
                ..
            })) if topic == self.names.transactions.hash() => self.gossip_transactions(),
            _ => {}
        }
    }

    /// The answer to `request`, and whether it is a lie.
    fn answer(&self, request: SyncRequest) -> (SyncResponse, bool) {
        match (&self.lie, request) {
            (Lie::BrokenProofOfWork, SyncRequest::GetHeaders { .. }) => {
                (SyncResponse::Headers(made_up_chain(10, false)), true)
            }
            (
                Lie::ForgedBodies(headers) | Lie::ForgedAccountProof(headers),
                SyncRequest::GetHeaders { locator, max },
            ) => {
                let start = locator
                    .iter()
                    .find_map(|hash| headers.iter().position(|header| header.hash() == *hash))
                    .map_or(0, |index| index + 1);
                let count = (max as usize).min(MAX_HEADERS);
                let answer = headers.iter().skip(start).take(count).copied().collect();
                (SyncResponse::Headers(answer), false)
            }
            (Lie::Chain(chain), SyncRequest::GetHeaders { locator, max }) => {
                let start = locator
                    .iter()
                    .find_map(|hash| chain.iter().position(|block| block.hash() == *hash))
                    .map_or(0, |index| index + 1);
                let count = (max as usize).min(MAX_HEADERS);
                let answer = chain
                    .iter()
                    .skip(start)
                    .take(count)
                    .map(|block| block.header)
                    .collect();
                (SyncResponse::Headers(answer), false)
            }
            (Lie::Chain(chain), SyncRequest::GetBlocks { hashes }) => {
                let blocks = hashes
                    .iter()
                    .filter_map(|hash| chain.iter().find(|block| block.hash() == *hash))
                    .cloned()
                    .collect();
                (SyncResponse::Blocks(blocks), false)
            }
            (Lie::ForgedBodies(headers), SyncRequest::GetBlocks { hashes }) => {
                let blocks: Vec<Block> = hashes
                    .iter()
                    .filter_map(|hash| headers.iter().find(|header| header.hash() == *hash))
                    .map(|header| forged_block(*header))
                    .collect();
                let lied = !blocks.is_empty();
                (SyncResponse::Blocks(blocks), lied)
            }
            (Lie::ForgedAccountProof(headers), SyncRequest::GetAccountProof { address }) => {
                let Some(tip) = headers.last() else {
                    return (SyncResponse::Error("no headers".into()), false);
                };
                let proof = StateProof {
                    depth: 0,
                    bitmap: [0; 32],
                    siblings: Vec::new(),
                    end: ProofEnd::Leaf {
                        key: state_key(&address),
                        account: Account {
                            balance: blockchain_core::Amount(1_000_000 * 100_000_000),
                            nonce: 0,
                        },
                    },
                };
                (
                    SyncResponse::AccountProof {
                        header: *tip,
                        proof,
                    },
                    true,
                )
            }
            // Otherwise an honest peer with nothing to offer.
            (_, SyncRequest::GetHeaders { .. }) => (SyncResponse::Headers(Vec::new()), false),
            (_, SyncRequest::GetBlocks { .. }) => (SyncResponse::Blocks(Vec::new()), false),
            (_, _) => (SyncResponse::Error("not served".into()), false),
        }
    }

    fn gossip_transactions(&mut self) {
        let Lie::GossipReversed(transactions) = &self.lie else {
            return;
        };
        for transaction in transactions.iter().rev() {
            let topic = self.names.transactions.clone();
            let bytes = transaction.encode();
            if let Err(error) = self.swarm.behaviour_mut().gossipsub.publish(topic, bytes) {
                eprintln!(
                    "peer {}: cannot publish: {error}",
                    self.swarm.local_peer_id()
                );
            }
        }
    }

    /// Publishes the next [`FLOOD_BURST`] flood blocks.
    fn flood_burst(&mut self) {
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for _ in 0..FLOOD_BURST {
            let Some(bytes) = self.flood.pop_front() else {
                break;
            };
            let topic = self.names.blocks.clone();
            match self.swarm.behaviour_mut().gossipsub.publish(topic, bytes) {
                Ok(_) => {
                    for peer in &peers {
                        self.note(*peer, |seen| {
                            seen.lies += 1;
                            seen.flooded += 1;
                        });
                    }
                }
                Err(error) => eprintln!(
                    "liar {}: cannot publish: {error}",
                    self.swarm.local_peer_id()
                ),
            }
        }
    }

    fn gossip_to(&mut self, peer: PeerId) {
        if let Lie::GossipFlood(blocks) = &self.lie {
            if self.flood.is_empty() {
                self.flood = blocks.iter().map(Encode::encode).collect();
            }
            return;
        }
        self.gossiped = self.gossiped.wrapping_add(1);
        let bytes = match &self.lie {
            Lie::Chain(chain) => match chain.last() {
                Some(tip) => tip.encode(),
                None => return,
            },
            Lie::GossipGarbage => {
                let mut bytes: Vec<u8> = (0..256).map(|_| rand::random::<u8>()).collect();
                // A header version that does not exist: never a block, whatever follows.
                bytes[..4].copy_from_slice(&[0xff; 4]);
                bytes
            }
            Lie::GossipInvalidBlock => {
                let genesis = REGTEST.genesis_header();
                let header = mine_child(&genesis, MerkleHash([self.gossiped; 32]), true);
                forged_block(header).encode()
            }
            _ => return,
        };
        let lie = !matches!(self.lie, Lie::Chain(_));
        let topic = self.names.blocks.clone();
        match self.swarm.behaviour_mut().gossipsub.publish(topic, bytes) {
            Ok(_) => self.note(peer, |seen| seen.lies += usize::from(lie)),
            Err(error) => eprintln!(
                "liar {}: cannot publish: {error}",
                self.swarm.local_peer_id()
            ),
        }
    }
}

/// `header` over a coinbase: a body its merkle root does not commit to.
fn forged_block(header: Header) -> Block {
    let coinbase = Transaction::coinbase(
        Address([0xee; 20]),
        REGTEST.initial_reward,
        header.height,
        header.time,
    );
    let block = Block {
        header,
        transactions: vec![coinbase],
    };
    assert_ne!(block.compute_merkle_root(), header.merkle_root, "a forgery");
    block
}

/// The child of `parent` with `merkle_root`, one second later, whose proof
/// of work holds (`valid_pow`) or fails.
fn mine_child(parent: &Header, merkle_root: MerkleHash, valid_pow: bool) -> Header {
    let mut header = Header {
        version: Header::VERSION,
        height: parent.height + 1,
        prev_hash: parent.hash(),
        merkle_root,
        state_root: MerkleHash::ZERO,
        time: parent.time + 1_000,
        // Regtest never retargets.
        bits: REGTEST.genesis_bits,
        nonce: 0,
    };
    while check_proof_of_work(&REGTEST, &header.hash(), header.bits).is_ok() != valid_pow {
        header.nonce += 1;
    }
    header
}

/// `length` regtest headers on genesis, all meeting their proof of work
/// (`valid_pow`) or all failing it, over a merkle root no body has.
pub(crate) fn made_up_chain(length: u64, valid_pow: bool) -> Vec<Header> {
    let mut parent = REGTEST.genesis_header();
    let mut chain = Vec::new();
    for _ in 0..length {
        let header = mine_child(&parent, MerkleHash([0xab; 32]), valid_pow);
        chain.push(header);
        parent = header;
    }
    chain
}
