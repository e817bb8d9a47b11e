//! Where addresses point, and which ones the node learns (docs/SECURITY.md,
//! "Eclipse"): a peer's advertised addresses are kept only when they are no
//! more local than the connection it came in on (a public peer cannot fill
//! the address book with loopback or private addresses), a few per peer;
//! addresses are grouped by network (IPv4 /16, IPv6 /48) so inbound
//! connections can be capped per group and outbound ones spread over them.

use std::net::IpAddr;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

/// Advertised addresses kept per peer.
pub(super) const ADDRESSES_PER_PEER: usize = 4;

/// How far an address reaches, from the most local.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Scope {
    /// This host (127.0.0.0/8, ::1).
    Loopback,
    /// A private or link-local network (10/8, 172.16/12, 192.168/16,
    /// 100.64/10, 169.254/16, fc00::/7, fe80::/10), or unspecified.
    Private,
    /// Anything else, including names (`/dns/…`) and relayed addresses.
    Public,
}

/// The IP address `addr` starts with, if any.
pub(super) fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    match addr.iter().next()? {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    }
}

/// How far `ip` reaches.
pub(super) fn scope_of_ip(ip: IpAddr) -> Scope {
    match ip {
        IpAddr::V4(ip) => {
            let [a, b, ..] = ip.octets();
            if ip.is_loopback() {
                Scope::Loopback
            } else if ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || (a == 100 && (64..128).contains(&b))
            {
                Scope::Private
            } else {
                Scope::Public
            }
        }
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return scope_of_ip(IpAddr::V4(v4));
            }
            let first = ip.segments()[0];
            if ip.is_loopback() {
                Scope::Loopback
            } else if ip.is_unspecified() || first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfe80 {
                Scope::Private
            } else {
                Scope::Public
            }
        }
    }
}

/// How far `addr` reaches (names and other forms count as public).
pub(super) fn scope_of(addr: &Multiaddr) -> Scope {
    ip_of(addr).map_or(Scope::Public, scope_of_ip)
}

/// The network group of `ip`: its /16 for IPv4, its /48 for IPv6. Peers in
/// one group are likely one operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum NetGroup {
    V4([u8; 2]),
    V6([u16; 3]),
}

/// The group of `ip`.
pub(super) fn net_group(ip: IpAddr) -> NetGroup {
    match ip {
        IpAddr::V4(ip) => {
            let [a, b, ..] = ip.octets();
            NetGroup::V4([a, b])
        }
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => net_group(IpAddr::V4(v4)),
            None => {
                let [a, b, c, ..] = ip.segments();
                NetGroup::V6([a, b, c])
            }
        },
    }
}

/// The group of a public `addr` (None for local addresses, which are not
/// grouped: on one host or one LAN, every peer would share a group).
pub(super) fn public_group(addr: &Multiaddr) -> Option<NetGroup> {
    let ip = ip_of(addr)?;
    (scope_of_ip(ip) == Scope::Public).then(|| net_group(ip))
}

/// The addresses of `advertised` worth keeping for a peer whose connection
/// came from `seen_at`: none relayed, none more local than `seen_at` (a
/// public peer's loopback or private addresses point into our own host or
/// network, not to it), at most [`ADDRESSES_PER_PEER`], in the order given.
pub(super) fn addresses_to_keep(seen_at: &Multiaddr, advertised: &[Multiaddr]) -> Vec<Multiaddr> {
    let reach = scope_of(seen_at);
    advertised
        .iter()
        .filter(|addr| !addr.iter().any(|p| matches!(p, Protocol::P2pCircuit)))
        .filter(|addr| scope_of(addr) >= reach)
        .take(ADDRESSES_PER_PEER)
        .cloned()
        .collect()
}

/// `addr` ending in `/p2p/<peer_id>`.
pub(super) fn with_peer_id(mut addr: Multiaddr, peer_id: PeerId) -> Multiaddr {
    if !matches!(addr.iter().last(), Some(Protocol::P2p(_))) {
        addr.push(Protocol::P2p(peer_id));
    }
    addr
}

/// The peer id at the end of `addr`, and the address without it.
pub(super) fn split_peer_id(addr: &Multiaddr) -> (Option<PeerId>, Multiaddr) {
    let mut addr = addr.clone();
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => {
            addr.pop();
            (Some(peer), addr)
        }
        _ => (None, addr),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> Multiaddr {
        text.parse().expect("multiaddr")
    }

    #[test]
    fn scopes_and_groups() {
        assert_eq!(scope_of(&addr("/ip4/127.0.0.1/tcp/1")), Scope::Loopback);
        assert_eq!(scope_of(&addr("/ip6/::1/tcp/1")), Scope::Loopback);
        for private in [
            "/ip4/10.1.2.3/tcp/1",
            "/ip4/192.168.1.1/tcp/1",
            "/ip4/172.16.0.1/tcp/1",
            "/ip4/100.64.0.1/tcp/1",
            "/ip4/169.254.0.1/tcp/1",
            "/ip4/0.0.0.0/tcp/1",
            "/ip6/fd00::1/tcp/1",
            "/ip6/fe80::1/tcp/1",
        ] {
            assert_eq!(scope_of(&addr(private)), Scope::Private, "{private}");
        }
        for public in [
            "/ip4/8.8.8.8/tcp/1",
            "/ip6/2001:db8::1/tcp/1",
            "/dns4/example.com/tcp/1",
        ] {
            assert_eq!(scope_of(&addr(public)), Scope::Public, "{public}");
        }
        let group = |text: &str| public_group(&addr(text));
        assert_eq!(group("/ip4/8.8.1.1/tcp/1"), group("/ip4/8.8.200.7/tcp/9"));
        assert_ne!(group("/ip4/8.8.1.1/tcp/1"), group("/ip4/8.9.1.1/tcp/1"));
        assert_eq!(
            group("/ip6/2001:db8:1:2::1/tcp/1"),
            group("/ip6/2001:db8:1:ffff::9/udp/1/quic-v1")
        );
        assert_ne!(
            group("/ip6/2001:db8:1::1/tcp/1"),
            group("/ip6/2001:db8:2::1/tcp/1")
        );
        assert_eq!(group("/ip4/127.0.0.1/tcp/1"), None, "local: no group");
    }

    /// A public peer cannot fill the address book with loopback or private
    /// addresses (they would point into our own host or network), nor with
    /// many of them; a peer on loopback (tests, one host) keeps its own.
    #[test]
    fn advertised_addresses_no_more_local_than_the_peer_and_a_few_each() {
        let advertised: Vec<Multiaddr> = [
            "/ip4/127.0.0.1/tcp/4001",
            "/ip4/192.168.1.5/tcp/4001",
            "/ip4/8.8.8.8/tcp/4001",
            "/ip4/8.8.8.8/udp/4001/quic-v1",
            "/ip4/8.8.8.8/tcp/4001/p2p-circuit",
            "/ip4/8.8.4.4/tcp/4001",
            "/ip4/8.8.4.4/tcp/4002/ws",
            "/ip4/8.8.4.4/tcp/4003",
        ]
        .map(addr)
        .to_vec();
        let from_public = addresses_to_keep(&addr("/ip4/8.8.8.8/tcp/50000"), &advertised);
        assert_eq!(from_public.len(), ADDRESSES_PER_PEER);
        assert!(
            from_public
                .iter()
                .all(|kept| scope_of(kept) == Scope::Public)
        );
        assert!(
            !from_public
                .iter()
                .any(|kept| kept.to_string().contains("circuit"))
        );
        let from_lan = addresses_to_keep(&addr("/ip4/192.168.1.5/tcp/50000"), &advertised);
        assert_eq!(from_lan[0], advertised[1]);
        let from_loopback = addresses_to_keep(&addr("/ip4/127.0.0.1/tcp/50000"), &advertised);
        assert_eq!(from_loopback[..2], advertised[..2]);
    }

    #[test]
    fn peer_ids_are_added_once_and_split_off() {
        let peer = PeerId::random();
        let bare = addr("/ip4/1.2.3.4/tcp/5");
        let full = with_peer_id(bare.clone(), peer);
        assert_eq!(full.to_string(), format!("/ip4/1.2.3.4/tcp/5/p2p/{peer}"));
        assert_eq!(with_peer_id(full.clone(), PeerId::random()), full);
        assert_eq!(split_peer_id(&full), (Some(peer), bare.clone()));
        assert_eq!(split_peer_id(&bare), (None, bare));
    }
}
