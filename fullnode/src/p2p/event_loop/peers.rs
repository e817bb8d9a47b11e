//! The loop's peer handling: connections up and down, what identify
//! tells, dialling (outbound slots, block-relay-only slots, the DHT),
//! penalties and bans, and the view the rest of the node watches.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use blockchain_core::sync::Misbehaviour;
use libp2p::core::ConnectedPoint;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::{Multiaddr, PeerId, identify};

use super::EventLoop;
use crate::clock::now_ms;
use crate::p2p::addresses::{addresses_to_keep, public_group, split_peer_id, with_peer_id};
use crate::p2p::error::DialRefusal;
use crate::p2p::outbound::{BLOCK_RELAY_OUTBOUND, FULL_RELAY_OUTBOUND, Origin};
use crate::storage::StoredPeer;

impl EventLoop {
    pub(super) fn on_connected(&mut self, peer: PeerId, endpoint: ConnectedPoint) {
        let addr = endpoint.get_remote_address().clone();
        if endpoint.is_dialer() {
            self.redialer.connected(peer, &addr);
        }
        self.connections
            .established(peer, addr, endpoint.is_dialer());
        tracing::debug!(%peer, "connected");
        self.publish_view();
    }

    pub(super) fn on_disconnected(&mut self, peer: PeerId, remaining: u32) {
        if self.connections.closed(&peer, remaining) {
            self.upload.forget(&peer);
            self.sync.remove_peer(&peer);
            self.step_sync();
            tracing::debug!(%peer, "disconnected");
        }
        self.publish_view();
    }

    /// Dials `addr`; `remember` adds it to the DHT routing table too.
    pub(super) fn dial_addr(&mut self, addr: Multiaddr, remember: bool) -> Result<(), DialRefusal> {
        let (peer, bare) = split_peer_id(&addr);
        if let Some(peer) = peer {
            if self.book.is_banned(&peer) {
                return Err(DialRefusal::Banned(peer));
            }
            if remember {
                self.swarm.behaviour_mut().kad.add_address(&peer, bare);
            }
        }
        self.swarm
            .dial(addr)
            .map_err(|error| DialRefusal::Swarm(error.to_string()))
    }

    /// The DHT learned `peer`: dialled while full-relay outbound slots are
    /// free, one outbound peer per public network group.
    pub(super) fn on_routing_updated(&mut self, peer: PeerId, addresses: Vec<Multiaddr>) {
        if self.connections.contains(&peer)
            || self.connections.full_relay_outbound() >= FULL_RELAY_OUTBOUND
            || self.book.is_banned(&peer)
            || peer == *self.swarm.local_peer_id()
        {
            return;
        }
        let groups = self.connections.outbound_groups();
        if addresses
            .iter()
            .filter_map(public_group)
            .any(|group| groups.contains(&group))
        {
            return;
        }
        tracing::debug!(%peer, "dialling a peer found in the DHT");
        let options = DialOpts::peer_id(peer).addresses(addresses).build();
        let _ = self.swarm.dial(options);
    }

    pub(super) fn on_identified(&mut self, peer: PeerId, info: identify::Info) {
        let kad = info.protocols.contains(&self.names.kad);
        let sync = info.protocols.contains(&self.names.sync);
        let Some(connection) = self.connections.get(&peer) else {
            return;
        };
        let outbound = connection.outbound;
        let first = connection.listen_addrs.is_empty();
        // Only a few addresses, none more local than the connection: a
        // public peer cannot point our address book into our own network.
        let listen = match connection.endpoints.first() {
            Some(seen_at) => addresses_to_keep(seen_at, &info.listen_addrs),
            None => Vec::new(),
        };
        // Addresses are not learned from block-relay-only peers.
        let learn = !self.connections.is_anchor(&peer);
        if kad && learn {
            let wanted = self.connections.full_relay_outbound() < FULL_RELAY_OUTBOUND;
            let behaviour = self.swarm.behaviour_mut();
            for addr in &listen {
                behaviour.kad.add_address(&peer, addr.clone());
            }
            if first && wanted {
                // A new DHT peer: look for our neighbours through it now.
                let _ = behaviour.kad.bootstrap();
            }
        }
        self.connections.set_listen_addrs(&peer, &listen);
        if sync {
            self.sync.add_peer(peer);
            self.ask_headers(peer);
            // Known-good peers are the ones we chose to dial.
            if outbound && learn && !listen.is_empty() {
                self.remember(peer, &listen);
            }
        }
        self.publish_view();
    }

    /// Stores `peer` as known-good, in the background.
    fn remember(&self, peer: PeerId, listen: &[Multiaddr]) {
        let stored = StoredPeer {
            peer_id: peer.to_string(),
            addrs: listen
                .iter()
                .map(|addr| with_peer_id(addr.clone(), peer).to_string())
                .collect(),
            last_seen_ms: now_ms(),
        };
        let chain = Arc::clone(&self.chain);
        tokio::spawn(async move {
            if let Err(error) = chain.storage().save_peer(&stored).await {
                tracing::debug!(%error, "cannot remember a peer");
            }
        });
    }

    pub(super) fn penalize(&mut self, peer: PeerId, what: Misbehaviour) {
        if self.book.penalize(peer, what, Instant::now()) {
            tracing::warn!(%peer, reason = ?what, "banning peer for {} s", crate::p2p::peers::BAN_DURATION.as_secs());
            let behaviour = self.swarm.behaviour_mut();
            behaviour.blocked.block_peer(peer);
            behaviour.gossipsub.blacklist_peer(&peer);
            behaviour.kad.remove_peer(&peer);
            self.sync.remove_peer(&peer);
            self.admission.peer_banned(&peer);
            self.publish_view();
        }
    }

    /// Ends bans that are over, dials for missing outbound slots, walks the DHT.
    pub(super) fn tick_peers(&mut self) {
        for peer in self.book.tick(Instant::now()) {
            tracing::info!(%peer, "ban ended");
            let behaviour = self.swarm.behaviour_mut();
            behaviour.blocked.unblock_peer(peer);
            behaviour.gossipsub.remove_blacklisted_peer(&peer);
        }
        self.dial_more();
        if self.connections.full_relay_outbound() < FULL_RELAY_OUTBOUND
            && !self.connections.is_empty()
        {
            // A random walk (and, every minute, a bootstrap) finds more peers.
            let kad = &mut self.swarm.behaviour_mut().kad;
            kad.get_closest_peers(PeerId::random());
            if self.ticks.is_multiple_of(12) {
                let _ = kad.bootstrap();
            }
        }
    }

    /// Dials bootstrap and known-good peers again while outbound
    /// connections are missing (the DHT finds more meanwhile), and
    /// known-good peers into the block-relay-only slots.
    pub(super) fn dial_more(&mut self) {
        let now = Instant::now();
        let mut excluded: HashSet<PeerId> = self.connections.peer_ids().collect();
        excluded.extend(self.book.banned());
        let groups = self.connections.outbound_groups();
        let missing = FULL_RELAY_OUTBOUND.saturating_sub(self.connections.full_relay_outbound());
        let all = [Origin::Bootstrap, Origin::KnownGood];
        for addr in self.redialer.due(now, missing, &all, &excluded, &groups) {
            tracing::debug!(%addr, "dialling for an outbound slot");
            let _ = self.swarm.dial(addr);
        }
        let missing = BLOCK_RELAY_OUTBOUND.saturating_sub(self.connections.connected_anchors());
        if missing > 0 {
            let due = self
                .redialer
                .due(now, missing, &[Origin::KnownGood], &excluded, &groups);
            for addr in due {
                let (Some(peer), _) = split_peer_id(&addr) else {
                    continue;
                };
                tracing::debug!(%addr, "dialling a block-relay-only peer");
                self.connections.add_anchor(peer);
                let _ = self.swarm.dial(addr);
            }
        }
    }

    pub(super) fn publish_view(&mut self) {
        let peers = self.connections.view();
        let header_height = self.sync.header_height();
        let banned = self.book.banned_count();
        self.view.send_if_modified(|view| {
            let changed =
                view.peers != peers || view.header_height != header_height || view.banned != banned;
            view.peers = peers;
            view.header_height = header_height;
            view.banned = banned;
            changed
        });
    }
}
