//! Inbound connections capped per IP address and per network group
//! (IPv4 /16, IPv6 /48), so one host or one operator cannot take every
//! inbound slot (docs/SECURITY.md, "Eclipse"). A `NetworkBehaviour` that
//! refuses a connection before its handshake when its address is over a
//! cap, and counts the ones established.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::IpAddr;
use std::task::{Context, Poll};

use libp2p::PeerId;
use libp2p::core::{ConnectedPoint, Endpoint, Multiaddr, transport::PortUse};
use libp2p::swarm::behaviour::ConnectionEstablished;
use libp2p::swarm::{
    ConnectionClosed, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler,
    THandlerInEvent, THandlerOutEvent, ToSwarm, dummy,
};

use super::addresses::{NetGroup, ip_of, public_group};

/// Default inbound connections from one IP address (`--max-inbound-per-ip`):
/// enough for a few nodes and browser pages on one host.
pub const DEFAULT_MAX_INBOUND_PER_IP: usize = 16;
/// Inbound connections from one public network group, at least (the
/// per-IP cap when that is higher). Local addresses are not grouped.
pub(super) const MAX_INBOUND_PER_GROUP: usize = 32;

/// The caps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InboundCaps {
    /// Inbound connections from one IP address.
    pub per_ip: usize,
    /// Inbound connections from one public /16 (IPv4) or /48 (IPv6).
    pub per_group: usize,
}

impl InboundCaps {
    /// The caps for `per_ip` connections from one address.
    pub fn per_ip(per_ip: usize) -> Self {
        Self {
            per_ip,
            per_group: MAX_INBOUND_PER_GROUP.max(per_ip),
        }
    }
}

/// Inbound connections established, by address and group.
#[derive(Debug)]
pub(super) struct InboundCounts {
    caps: InboundCaps,
    connections: HashMap<ConnectionId, (IpAddr, Option<NetGroup>)>,
    per_ip: HashMap<IpAddr, usize>,
    per_group: HashMap<NetGroup, usize>,
}

impl InboundCounts {
    pub(super) fn new(caps: InboundCaps) -> Self {
        Self {
            caps,
            connections: HashMap::new(),
            per_ip: HashMap::new(),
            per_group: HashMap::new(),
        }
    }

    /// Whether one more connection from `remote` stays within the caps.
    pub(super) fn admits(&self, remote: &Multiaddr) -> Result<(), InboundCapReached> {
        let Some(ip) = ip_of(remote) else {
            return Ok(());
        };
        if self.per_ip.get(&ip).copied().unwrap_or(0) >= self.caps.per_ip {
            return Err(InboundCapReached::Address(ip));
        }
        if let Some(group) = public_group(remote)
            && self.per_group.get(&group).copied().unwrap_or(0) >= self.caps.per_group
        {
            return Err(InboundCapReached::Group(ip));
        }
        Ok(())
    }

    /// An inbound connection from `remote` was established.
    pub(super) fn opened(&mut self, id: ConnectionId, remote: &Multiaddr) {
        let Some(ip) = ip_of(remote) else {
            return;
        };
        let group = public_group(remote);
        *self.per_ip.entry(ip).or_insert(0) += 1;
        if let Some(group) = group {
            *self.per_group.entry(group).or_insert(0) += 1;
        }
        self.connections.insert(id, (ip, group));
    }

    /// A connection closed (inbound or not).
    pub(super) fn closed(&mut self, id: ConnectionId) {
        let Some((ip, group)) = self.connections.remove(&id) else {
            return;
        };
        decrement(&mut self.per_ip, &ip);
        if let Some(group) = group {
            decrement(&mut self.per_group, &group);
        }
    }
}

fn decrement<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: &K) {
    if let Some(count) = counts.get_mut(key) {
        *count -= 1;
        if *count == 0 {
            counts.remove(key);
        }
    }
}

/// Why an inbound connection was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(super) enum InboundCapReached {
    /// Its address has as many inbound connections as allowed.
    #[error("too many inbound connections from {0}")]
    Address(IpAddr),
    /// Its network group has as many inbound connections as allowed.
    #[error("too many inbound connections from the network of {0}")]
    Group(IpAddr),
}

/// The behaviour: refuses inbound connections over the caps.
#[derive(Debug)]
pub struct InboundLimits {
    counts: InboundCounts,
}

impl InboundLimits {
    /// Limits with these caps.
    pub fn new(caps: InboundCaps) -> Self {
        Self {
            counts: InboundCounts::new(caps),
        }
    }
}

impl NetworkBehaviour for InboundLimits {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        _: ConnectionId,
        _: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        self.counts.admits(remote).map_err(ConnectionDenied::new)
    }

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        // Checked again: several may have been pending at once.
        self.counts.admits(remote).map_err(ConnectionDenied::new)?;
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionEstablished(ConnectionEstablished {
                connection_id,
                endpoint: ConnectedPoint::Listener { send_back_addr, .. },
                ..
            }) => self.counts.opened(connection_id, send_back_addr),
            FromSwarm::ConnectionClosed(ConnectionClosed { connection_id, .. }) => {
                self.counts.closed(connection_id);
            }
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> Multiaddr {
        text.parse().expect("multiaddr")
    }

    #[test]
    fn inbound_connections_are_capped_per_address_and_per_public_group() {
        let mut counts = InboundCounts::new(InboundCaps {
            per_ip: 2,
            per_group: 3,
        });
        let id = ConnectionId::new_unchecked;
        let sybil = addr("/ip4/8.8.8.8/tcp/50000");
        counts.opened(id(1), &sybil);
        counts.opened(id(2), &addr("/ip4/8.8.8.8/udp/50001/quic-v1"));
        assert_eq!(
            counts.admits(&sybil),
            Err(InboundCapReached::Address("8.8.8.8".parse().expect("ip")))
        );
        let neighbour = addr("/ip4/8.8.4.4/tcp/1");
        assert!(counts.admits(&neighbour).is_ok());
        counts.opened(id(3), &neighbour);
        assert_eq!(
            counts.admits(&addr("/ip4/8.8.9.9/tcp/1")),
            Err(InboundCapReached::Group("8.8.9.9".parse().expect("ip"))),
            "the /16 is full"
        );
        assert!(counts.admits(&addr("/ip4/9.9.9.9/tcp/1")).is_ok());
        counts.closed(id(1));
        assert!(counts.admits(&sybil).is_ok(), "room again");
        assert!(counts.admits(&addr("/dns4/example.com/tcp/1")).is_ok());
    }

    /// Local addresses are not grouped (every test node and browser page
    /// on one host shares 127.0.0.1): only the per-address cap applies.
    #[test]
    fn loopback_has_the_per_address_cap_only() {
        let mut counts = InboundCounts::new(InboundCaps::per_ip(40));
        for n in 0..40 {
            let remote = addr("/ip4/127.0.0.1/tcp/1");
            assert!(counts.admits(&remote).is_ok(), "{n}");
            counts.opened(ConnectionId::new_unchecked(n), &remote);
        }
        assert!(counts.admits(&addr("/ip4/127.0.0.1/tcp/2")).is_err());
        assert!(counts.admits(&addr("/ip4/127.0.0.2/tcp/2")).is_ok());
    }
}
