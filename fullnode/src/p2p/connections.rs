//! The peers connected now: their connections' endpoints, the addresses
//! they listen on, their latency, which ones we dialled, and which of those
//! fill the block-relay-only slots.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};

use super::ConnectedPeer;
use super::addresses::{NetGroup, public_group};

/// One connected peer.
#[derive(Debug, Default)]
pub(super) struct PeerInfo {
    /// The remote addresses of our connections to it.
    pub(super) endpoints: Vec<Multiaddr>,
    /// The addresses it listens on, as kept from identify.
    pub(super) listen_addrs: Vec<Multiaddr>,
    /// Last ping round trip.
    pub(super) latency: Option<Duration>,
    /// Open connections.
    connections: usize,
    /// We dialled it (one of our outbound peers).
    pub(super) outbound: bool,
}

/// Connected peers, and the block-relay-only ones among those we dial.
#[derive(Debug, Default)]
pub(super) struct Connections {
    peers: HashMap<PeerId, PeerInfo>,
    /// Peers dialled into the block-relay-only slots (connected or being dialled).
    anchors: HashSet<PeerId>,
}

impl Connections {
    /// A connection to `peer` at `remote` is up; `dialer`: we dialled it.
    pub(super) fn established(&mut self, peer: PeerId, remote: Multiaddr, dialer: bool) {
        let info = self.peers.entry(peer).or_default();
        info.connections += 1;
        info.outbound |= dialer;
        if !info.endpoints.contains(&remote) {
            info.endpoints.push(remote);
        }
    }

    /// A connection to `peer` closed, `remaining` still open; true when
    /// that was its last (it is forgotten, anchor slot included).
    pub(super) fn closed(&mut self, peer: &PeerId, remaining: u32) -> bool {
        if remaining == 0 {
            self.peers.remove(peer);
            self.anchors.remove(peer);
            return true;
        }
        if let Some(info) = self.peers.get_mut(peer) {
            info.connections = info.connections.saturating_sub(1);
        }
        false
    }

    /// A dial to `peer` failed: its anchor slot is free again unless a
    /// connection to it is up anyway.
    pub(super) fn dial_failed(&mut self, peer: &PeerId) {
        if !self.peers.contains_key(peer) {
            self.anchors.remove(peer);
        }
    }

    pub(super) fn get(&self, peer: &PeerId) -> Option<&PeerInfo> {
        self.peers.get(peer)
    }

    pub(super) fn contains(&self, peer: &PeerId) -> bool {
        self.peers.contains_key(peer)
    }

    pub(super) fn len(&self) -> usize {
        self.peers.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    /// Every connected peer id.
    pub(super) fn peer_ids(&self) -> impl Iterator<Item = PeerId> + '_ {
        self.peers.keys().copied()
    }

    pub(super) fn set_latency(&mut self, peer: &PeerId, rtt: Duration) {
        if let Some(info) = self.peers.get_mut(peer) {
            info.latency = Some(rtt);
        }
    }

    pub(super) fn set_listen_addrs(&mut self, peer: &PeerId, addrs: &[Multiaddr]) {
        if let Some(info) = self.peers.get_mut(peer) {
            info.listen_addrs = addrs.to_vec();
        }
    }

    /// `peer` is being dialled into a block-relay-only slot.
    pub(super) fn add_anchor(&mut self, peer: PeerId) {
        self.anchors.insert(peer);
    }

    /// Whether `peer` is (or is being dialled as) block-relay-only.
    pub(super) fn is_anchor(&self, peer: &PeerId) -> bool {
        self.anchors.contains(peer)
    }

    /// Block-relay-only peers connected now.
    pub(super) fn connected_anchors(&self) -> usize {
        self.anchors
            .iter()
            .filter(|peer| self.peers.contains_key(peer))
            .count()
    }

    /// Outbound peers outside the block-relay-only slots.
    pub(super) fn full_relay_outbound(&self) -> usize {
        self.peers
            .iter()
            .filter(|(peer, info)| info.outbound && !self.anchors.contains(peer))
            .count()
    }

    /// The public network groups of our outbound peers.
    pub(super) fn outbound_groups(&self) -> HashSet<NetGroup> {
        self.peers
            .values()
            .filter(|info| info.outbound)
            .flat_map(|info| info.endpoints.iter().filter_map(public_group))
            .collect()
    }

    /// The peers as the rest of the node sees them: endpoints first, then
    /// the listen addresses not among them.
    pub(super) fn view(&self) -> Vec<ConnectedPeer> {
        self.peers
            .iter()
            .map(|(peer, info)| {
                let mut addrs = info.endpoints.clone();
                for addr in &info.listen_addrs {
                    if !addrs.contains(addr) {
                        addrs.push(addr.clone());
                    }
                }
                ConnectedPeer {
                    peer_id: *peer,
                    addrs,
                    latency: info.latency,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> Multiaddr {
        text.parse().expect("multiaddr")
    }

    #[test]
    fn a_peer_is_forgotten_with_its_last_connection() {
        let mut connections = Connections::default();
        let peer = PeerId::random();
        connections.established(peer, addr("/ip4/8.8.8.8/tcp/1"), true);
        connections.established(peer, addr("/ip4/8.8.8.8/udp/1/quic-v1"), false);
        connections.add_anchor(peer);
        assert_eq!(
            connections.get(&peer).expect("connected").endpoints.len(),
            2
        );
        assert!(!connections.closed(&peer, 1));
        assert!(connections.contains(&peer) && connections.is_anchor(&peer));
        assert!(connections.closed(&peer, 0));
        assert!(connections.is_empty());
        assert!(!connections.is_anchor(&peer), "its anchor slot is free");
    }

    #[test]
    fn anchors_are_outbound_but_not_full_relay() {
        let mut connections = Connections::default();
        let (full, anchor, inbound) = (PeerId::random(), PeerId::random(), PeerId::random());
        connections.established(full, addr("/ip4/8.8.8.8/tcp/1"), true);
        connections.add_anchor(anchor);
        assert_eq!(connections.connected_anchors(), 0, "still being dialled");
        connections.established(anchor, addr("/ip4/9.9.9.9/tcp/1"), true);
        connections.established(inbound, addr("/ip4/7.7.7.7/tcp/1"), false);
        assert_eq!(connections.full_relay_outbound(), 1);
        assert_eq!(connections.connected_anchors(), 1);
        let groups = connections.outbound_groups();
        assert_eq!(groups.len(), 2, "both outbound /16s, not the inbound one");
        assert!(!groups.contains(&public_group(&addr("/ip4/7.7.7.7/tcp/1")).expect("public")));
    }

    #[test]
    fn a_failed_dial_frees_an_anchor_slot_only_when_not_connected() {
        let mut connections = Connections::default();
        let (dialling, connected) = (PeerId::random(), PeerId::random());
        connections.add_anchor(dialling);
        connections.add_anchor(connected);
        connections.established(connected, addr("/ip4/8.8.8.8/tcp/1"), true);
        connections.dial_failed(&dialling);
        connections.dial_failed(&connected);
        assert!(!connections.is_anchor(&dialling));
        assert!(connections.is_anchor(&connected));
    }

    #[test]
    fn private_outbound_addresses_form_no_group() {
        let mut connections = Connections::default();
        connections.established(PeerId::random(), addr("/ip4/10.0.0.1/tcp/1"), true);
        connections.established(PeerId::random(), addr("/ip4/127.0.0.1/tcp/1"), true);
        assert!(connections.outbound_groups().is_empty());
    }

    #[test]
    fn the_view_lists_endpoints_then_new_listen_addresses() {
        let mut connections = Connections::default();
        let peer = PeerId::random();
        let endpoint = addr("/ip4/8.8.8.8/tcp/1");
        let listen = addr("/ip4/8.8.8.8/tcp/2");
        connections.established(peer, endpoint.clone(), false);
        connections.set_listen_addrs(&peer, &[endpoint.clone(), listen.clone()]);
        connections.set_latency(&peer, Duration::from_millis(7));
        let view = connections.view();
        assert_eq!(
            view,
            vec![ConnectedPeer {
                peer_id: peer,
                addrs: vec![endpoint, listen],
                latency: Some(Duration::from_millis(7)),
            }]
        );
    }
}
