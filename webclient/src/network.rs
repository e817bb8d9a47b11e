//! The libp2p side of the light client: the browser swarm (WebSocket and
//! WebRTC-direct; noise, yamux, identify, ping, gossipsub and the sync
//! protocol) and the task that drives it. Headers-first sync runs here,
//! through the core's `SyncManager`; every other request comes from the
//! JS-facing half (`client`) as a [`Command`].

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use blockchain_core::sync::Misbehaviour;
use blockchain_core::sync_message::{SyncRequest, SyncResponse};
use blockchain_core::{Block, Decode, Transaction};
use blockchain_p2p::{ProtocolNames, SyncCodec, gossipsub_config};
use futures::channel::{mpsc, oneshot};
use futures::{FutureExt, StreamExt};
use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::transport::Boxed;
use libp2p::core::upgrade::Version;
use libp2p::identity::Keypair;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport};
use libp2p::swarm::{NetworkBehaviour, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, Transport, gossipsub, identify, noise, ping, yamux};

use crate::state::State;

/// How long a request to a peer may take.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(20);
/// How often the driver checks that it has peers (and redials when not).
const TICK: Duration = Duration::from_secs(3);

/// What the JS-facing half asks of the network task.
#[derive(Debug)]
pub(crate) enum Command {
    /// Send a sync request to `peer`; the answer (or why there is none) comes back.
    Request {
        peer: PeerId,
        request: SyncRequest,
        reply: oneshot::Sender<Result<SyncResponse, String>>,
    },
    /// Publish an encoded transaction on the transactions topic.
    Publish {
        data: Vec<u8>,
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Ask `peer` for headers after our tip (a proof named a header we lack).
    SyncHeaders { peer: PeerId },
    /// A peer lied: disconnect it and do not dial it again this session.
    Drop { peer: PeerId, why: Misbehaviour },
    /// Close every connection and end the task.
    Stop { done: oneshot::Sender<()> },
}

/// The browser's behaviours.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    identify: identify::Behaviour,
    ping: ping::Behaviour,
    gossipsub: gossipsub::Behaviour,
    sync: request_response::Behaviour<SyncCodec>,
}

impl core::fmt::Debug for Behaviour {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Behaviour").finish_non_exhaustive()
    }
}

fn behaviour(
    keypair: &Keypair,
    names: &ProtocolNames,
) -> Result<Behaviour, Box<dyn std::error::Error + Send + Sync>> {
    let mut gossipsub = gossipsub::Behaviour::new(
        gossipsub::MessageAuthenticity::Signed(keypair.clone()),
        gossipsub_config()?,
    )?;
    gossipsub.subscribe(&names.blocks)?;
    gossipsub.subscribe(&names.transactions)?;
    let identify = identify::Behaviour::new(
        identify::Config::new(names.identify.clone(), keypair.public()).with_agent_version(
            format!("blockchain-webclient/{}", env!("CARGO_PKG_VERSION")),
        ),
    );
    let sync = request_response::Behaviour::with_codec(
        SyncCodec,
        [(names.sync.clone(), ProtocolSupport::Full)],
        request_response::Config::default().with_request_timeout(REQUEST_TIMEOUT),
    );
    Ok(Behaviour {
        identify,
        ping: ping::Behaviour::new(ping::Config::new().with_interval(Duration::from_secs(15))),
        gossipsub,
        sync,
    })
}

/// WebSocket (upgraded with noise and yamux) or WebRTC-direct (which
/// brings its own encryption and multiplexing).
fn transport(keypair: &Keypair) -> Result<Boxed<(PeerId, StreamMuxerBox)>, noise::Error> {
    let websocket = libp2p::websocket_websys::Transport::default()
        .upgrade(Version::V1Lazy)
        .authenticate(noise::Config::new(keypair)?)
        .multiplex(yamux::Config::default());
    let webrtc = libp2p::webrtc_websys::Transport::new(libp2p::webrtc_websys::Config::new(keypair));
    Ok(websocket
        .or_transport(webrtc)
        .map(|either, _| match either {
            futures::future::Either::Left((peer, muxer)) => (peer, StreamMuxerBox::new(muxer)),
            futures::future::Either::Right((peer, muxer)) => (peer, StreamMuxerBox::new(muxer)),
        })
        .boxed())
}

/// A swarm with a fresh identity for this page.
pub(crate) fn build_swarm(names: &ProtocolNames) -> Result<Swarm<Behaviour>, String> {
    let swarm = libp2p::SwarmBuilder::with_new_identity()
        .with_wasm_bindgen()
        .with_other_transport(|keypair| {
            transport(keypair).map_err(Box::<dyn std::error::Error + Send + Sync>::from)
        })
        .map_err(|error| format!("transport: {error}"))?
        .with_behaviour(|keypair| behaviour(keypair, names))
        .map_err(|error| format!("behaviour: {error}"))?
        .with_swarm_config(|config| config.with_idle_connection_timeout(Duration::from_secs(600)))
        .build();
    Ok(swarm)
}

/// "websocket" or "webrtc-direct", from a dialled address.
pub(crate) fn transport_name(address: &Multiaddr) -> &'static str {
    if address
        .iter()
        .any(|protocol| matches!(protocol, libp2p::multiaddr::Protocol::WebRTCDirect))
    {
        "webrtc-direct"
    } else {
        "websocket"
    }
}

/// The task that owns the swarm.
pub(crate) struct Driver {
    swarm: Swarm<Behaviour>,
    names: ProtocolNames,
    state: Rc<RefCell<State>>,
    bootstrap: Vec<Multiaddr>,
    /// Requests made for the JS half, by id.
    requests: HashMap<OutboundRequestId, oneshot::Sender<Result<SyncResponse, String>>>,
    /// Headers requests of the sync, by id.
    header_requests: HashMap<OutboundRequestId, PeerId>,
    /// Best-chain headers learned by gossip, stored at the next chance.
    pending_store: Vec<blockchain_core::Header>,
    /// Banned peers to disconnect at the next turn of the loop.
    to_disconnect: Vec<PeerId>,
}

impl Driver {
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        names: ProtocolNames,
        state: Rc<RefCell<State>>,
        bootstrap: Vec<Multiaddr>,
    ) -> Self {
        Self {
            swarm,
            names,
            state,
            bootstrap,
            requests: HashMap::new(),
            header_requests: HashMap::new(),
            pending_store: Vec::new(),
            to_disconnect: Vec::new(),
        }
    }

    fn dial_bootstrap(&mut self) {
        for address in self.bootstrap.clone() {
            let banned = address.iter().any(|protocol| match protocol {
                libp2p::multiaddr::Protocol::P2p(peer) => self.state.borrow().is_banned(&peer),
                _ => false,
            });
            if banned {
                continue;
            }
            if let Err(error) = self.swarm.dial(address.clone()) {
                self.state
                    .borrow_mut()
                    .emit_error(&format!("dialling {address}: {error}"));
            }
        }
    }

    /// Runs until [`Command::Stop`] (or every handle is gone).
    pub(crate) async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        self.dial_bootstrap();
        let mut tick = gloo_timers::future::IntervalStream::new(TICK.as_millis() as u32).fuse();
        loop {
            futures::select! {
                event = self.swarm.select_next_some() => {
                    self.on_swarm_event(event).await;
                    if !self.to_disconnect.is_empty() {
                        crate::js::yield_to_browser().await;
                        for peer in core::mem::take(&mut self.to_disconnect) {
                            let _ = self.swarm.disconnect_peer_id(peer);
                        }
                    }
                    if !self.pending_store.is_empty() {
                        self.store_headers(&[]).await;
                    }
                }
                command = commands.next() => match command {
                    Some(Command::Stop { done }) => {
                        self.close_connections().await;
                        let _ = done.send(());
                        break;
                    }
                    Some(command) => self.on_command(command),
                    None => break,
                },
                _ = tick.next() => {
                    if self.swarm.connected_peers().next().is_none() {
                        self.dial_bootstrap();
                    }
                    // Gossip can miss a block (a subscription not yet known
                    // to the peer, a dropped message): ask every peer for
                    // headers after our tip now and then (a no-op while a
                    // request to it is in flight).
                    let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
                    for peer in peers {
                        self.request_headers(peer);
                    }
                    self.state.borrow_mut().check_waiters();
                }
            }
        }
    }

    /// Closes every connection and drives the swarm until they are closed
    /// (at most a few seconds): dropping a swarm with open browser sockets
    /// leaves their callbacks pointing at freed closures.
    async fn close_connections(&mut self) {
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in peers {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        let mut deadline = gloo_timers::future::TimeoutFuture::new(3000).fuse();
        while self.swarm.connected_peers().next().is_some() {
            futures::select! {
                _ = self.swarm.select_next_some() => {}
                _ = deadline => break,
            }
        }
        self.state.borrow_mut().clear_peers();
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Request {
                peer,
                request,
                reply,
            } => {
                let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
                self.requests.insert(id, reply);
            }
            Command::Publish { data, reply } => {
                let topic = self.names.transactions.clone();
                let result = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .publish(topic, data)
                    .map(|_| ())
                    .map_err(|error| error.to_string());
                let _ = reply.send(result);
            }
            Command::SyncHeaders { peer } => self.request_headers(peer),
            Command::Drop { peer, why } => {
                self.state.borrow_mut().ban(peer, why);
                let _ = self.swarm.disconnect_peer_id(peer);
            }
            Command::Stop { .. } => {}
        }
    }

    fn request_headers(&mut self, peer: PeerId) {
        let request = self.state.borrow_mut().sync.headers_request(&peer);
        if let Some(request) = request {
            let id = self.swarm.behaviour_mut().sync.send_request(&peer, request);
            self.header_requests.insert(id, peer);
        }
    }

    async fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id, endpoint, ..
            } => {
                if self.state.borrow().is_banned(&peer_id) {
                    let _ = self.swarm.disconnect_peer_id(peer_id);
                    return;
                }
                let address = endpoint.get_remote_address().clone();
                self.state.borrow_mut().peer_connected(peer_id, address);
                self.request_headers(peer_id);
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => self.state.borrow_mut().peer_disconnected(&peer_id),
            SwarmEvent::OutgoingConnectionError { error, .. } => {
                self.state
                    .borrow_mut()
                    .emit_error(&format!("connection failed: {error}"));
            }
            SwarmEvent::Behaviour(BehaviourEvent::Sync(event)) => self.on_sync_event(event).await,
            SwarmEvent::Behaviour(BehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            })) => {
                let acceptance = self.on_gossip(propagation_source, &message);
                // A light client relays nothing it has not fully validated.
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&message_id, &propagation_source, acceptance);
            }
            _ => {}
        }
    }

    async fn on_sync_event(&mut self, event: request_response::Event<SyncRequest, SyncResponse>) {
        match event {
            request_response::Event::Message {
                peer,
                message:
                    request_response::Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                if let Some(reply) = self.requests.remove(&request_id) {
                    let _ = reply.send(Ok(response));
                } else if self.header_requests.remove(&request_id).is_some() {
                    self.on_headers(peer, response).await;
                }
            }
            request_response::Event::Message {
                message:
                    request_response::Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                // A light client serves nothing; an empty headers answer
                // tells a node's sync there is nothing to fetch here.
                let response = match request {
                    SyncRequest::GetHeaders { .. } => SyncResponse::Headers(Vec::new()),
                    _ => SyncResponse::Error("a light client serves no blocks or proofs".into()),
                };
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, response);
            }
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                if let Some(reply) = self.requests.remove(&request_id) {
                    let _ = reply.send(Err(error.to_string()));
                } else if self.header_requests.remove(&request_id).is_some() {
                    let mut state = self.state.borrow_mut();
                    state.sync.headers_failed(&peer);
                    state.mark_caught_up(&peer);
                }
            }
            _ => {}
        }
    }

    /// Writes new best-chain headers to IndexedDB (in order: one write at a time).
    async fn store_headers(&mut self, headers: &[blockchain_core::Header]) {
        let mut headers = headers.to_vec();
        if !self.pending_store.is_empty() {
            let mut pending = core::mem::take(&mut self.pending_store);
            pending.retain(|header| {
                headers
                    .first()
                    .is_none_or(|first| header.height < first.height)
            });
            pending.extend(headers);
            headers = pending;
        }
        if headers.is_empty() {
            return;
        }
        let (store, work) = {
            let state = self.state.borrow();
            (state.store.clone(), state.sync.headers().tip_work())
        };
        if let Some(store) = store
            && let Err(error) = store.save(&headers, work).await
        {
            self.state
                .borrow()
                .emit_error(&format!("storing headers: {error}"));
        }
    }

    async fn on_headers(&mut self, peer: PeerId, response: SyncResponse) {
        let SyncResponse::Headers(headers) = response else {
            self.state.borrow_mut().mark_caught_up(&peer);
            return;
        };
        let (verdict, to_store) = self.state.borrow_mut().accept_headers(&peer, &headers);
        if matches!(verdict, Ok(true)) {
            // Ask for the next batch first: it travels while this one is written.
            self.request_headers(peer);
        }
        self.store_headers(&to_store).await;
        match verdict {
            // Let the page render between batches: one batch is one task.
            Ok(true) => crate::js::yield_to_browser().await,
            Ok(false) => self.state.borrow_mut().mark_caught_up(&peer),
            Err(Misbehaviour::Unhelpful) => self.state.borrow_mut().mark_caught_up(&peer),
            Err(why) => {
                self.state.borrow_mut().ban(peer, why);
                // Closed from the loop, not from inside this connection's
                // own event: closing a browser socket while its answer is
                // being handled breaks websocket-websys's callbacks.
                self.to_disconnect.push(peer);
            }
        }
    }

    fn on_gossip(
        &mut self,
        source: PeerId,
        message: &gossipsub::Message,
    ) -> gossipsub::MessageAcceptance {
        if message.topic == self.names.blocks.hash() {
            let Ok(block) = Block::decode(&message.data) else {
                return gossipsub::MessageAcceptance::Reject;
            };
            let (known, to_store) = self.state.borrow_mut().on_gossiped_block(&block);
            self.pending_store.extend(to_store);
            if !known {
                // A block we cannot place yet: our headers are behind.
                self.request_headers(source);
            }
        } else if message.topic == self.names.transactions.hash() {
            let Ok(transaction) = Transaction::decode(&message.data) else {
                return gossipsub::MessageAcceptance::Reject;
            };
            self.state.borrow_mut().on_gossiped_transaction(transaction);
        }
        gossipsub::MessageAcceptance::Ignore
    }
}

/// Sends `command` and awaits its answer, or `None` if the task is gone.
pub(crate) async fn ask<T>(
    commands: &mpsc::Sender<Command>,
    make: impl FnOnce(oneshot::Sender<T>) -> Command,
) -> Option<T> {
    let (reply, answer) = oneshot::channel();
    commands.clone().try_send(make(reply)).ok()?;
    answer.map(Result::ok).await
}
