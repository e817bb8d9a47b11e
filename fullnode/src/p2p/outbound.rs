//! The node's own connections (docs/SECURITY.md, "Eclipse"): how many it
//! keeps, and whom it dials back when they drop. Inbound peers can fill at
//! most the slots left after [`OUTBOUND_SLOTS`]; whenever the node has
//! fewer than [`FULL_RELAY_OUTBOUND`] outbound peers it dials its
//! bootstrap peers and the known-good peers it remembers again (each with
//! a backoff), new network groups first, so an attacker that cut it off
//! does not keep it cut off.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

use super::addresses::{NetGroup, public_group};

/// Outbound peers the node keeps for blocks and transactions.
pub(super) const FULL_RELAY_OUTBOUND: usize = 8;
/// Outbound peers on top, dialled only from the known-good peers it
/// remembers (anchors): addresses are not learned from them, so peers found
/// through the DHT cannot take these slots.
pub(super) const BLOCK_RELAY_OUTBOUND: usize = 2;
/// Connections reserved for the node's own dials: inbound ones get the rest.
pub(super) const OUTBOUND_SLOTS: u32 = (FULL_RELAY_OUTBOUND + BLOCK_RELAY_OUTBOUND) as u32;
/// Known-good peers kept as dial candidates.
const KNOWN_CANDIDATES: usize = 64;
/// The first wait after a failed or dropped dial; it doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
/// The longest wait between two dials of one candidate.
const MAX_BACKOFF: Duration = Duration::from_secs(120);

/// Where a candidate came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Origin {
    /// `--bootstrap`.
    Bootstrap,
    /// A peer the node dialled before and synced with (storage).
    KnownGood,
}

#[derive(Debug)]
struct Candidate {
    addr: Multiaddr,
    peer: Option<PeerId>,
    origin: Origin,
    next_try: Instant,
    backoff: Duration,
}

/// The addresses the node dials on its own, with their backoffs.
#[derive(Debug, Default)]
pub(super) struct Redialer {
    candidates: Vec<Candidate>,
}

/// The peer id at the end of `addr`, if any.
fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => Some(peer),
        _ => None,
    }
}

impl Redialer {
    /// Adds a candidate (a bootstrap address, or a known-good peer's
    /// address ending in `/p2p/<peer id>`), due at once. Known-good ones are
    /// bounded: the oldest goes.
    pub(super) fn add(&mut self, addr: Multiaddr, origin: Origin, now: Instant) {
        if self
            .candidates
            .iter()
            .any(|candidate| candidate.addr == addr)
        {
            return;
        }
        if origin == Origin::KnownGood {
            let known = self
                .candidates
                .iter()
                .filter(|candidate| candidate.origin == Origin::KnownGood)
                .count();
            if known >= KNOWN_CANDIDATES
                && let Some(oldest) = self
                    .candidates
                    .iter()
                    .position(|candidate| candidate.origin == Origin::KnownGood)
            {
                self.candidates.remove(oldest);
            }
        }
        self.candidates.push(Candidate {
            peer: peer_of(&addr),
            addr,
            origin,
            next_try: now,
            backoff: FIRST_BACKOFF,
        });
    }

    /// Up to `wanted` candidates to dial now, of `origins`: due, not
    /// `connected`, bootstrap ones first, then those outside `used_groups`
    /// (the network groups of the outbound peers). Each is due again after
    /// its backoff, which doubles until a connection to it holds.
    pub(super) fn due(
        &mut self,
        now: Instant,
        wanted: usize,
        origins: &[Origin],
        connected: &HashSet<PeerId>,
        used_groups: &HashSet<NetGroup>,
    ) -> Vec<Multiaddr> {
        let mut order: Vec<usize> = (0..self.candidates.len())
            .filter(|&index| {
                let candidate = &self.candidates[index];
                origins.contains(&candidate.origin)
                    && candidate.next_try <= now
                    && !candidate.peer.is_some_and(|peer| connected.contains(&peer))
            })
            .collect();
        order.sort_by_key(|&index| {
            let candidate = &self.candidates[index];
            let seen_group =
                public_group(&candidate.addr).is_some_and(|group| used_groups.contains(&group));
            (candidate.origin != Origin::Bootstrap, seen_group)
        });
        let mut picked = Vec::new();
        let mut groups = used_groups.clone();
        for index in order {
            if picked.len() >= wanted {
                break;
            }
            let candidate = &mut self.candidates[index];
            if let Some(group) = public_group(&candidate.addr)
                && !groups.insert(group)
                && candidate.origin != Origin::Bootstrap
            {
                // One new dial per group and round: the next round may add more.
                continue;
            }
            candidate.next_try = now + candidate.backoff;
            candidate.backoff = (candidate.backoff * 2).min(MAX_BACKOFF);
            picked.push(candidate.addr.clone());
        }
        picked
    }

    /// A connection to `peer` at `addr` held: its candidates' backoffs
    /// start over, and a bootstrap address learns whose it is.
    pub(super) fn connected(&mut self, peer: PeerId, addr: &Multiaddr) {
        for candidate in &mut self.candidates {
            if candidate.peer.is_none() && without_peer(&candidate.addr) == without_peer(addr) {
                candidate.peer = Some(peer);
            }
            if candidate.peer == Some(peer) {
                candidate.backoff = FIRST_BACKOFF;
            }
        }
    }
}

fn without_peer(addr: &Multiaddr) -> Multiaddr {
    addr.iter()
        .filter(|protocol| !matches!(protocol, Protocol::P2p(_)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str, peer: PeerId) -> Multiaddr {
        let addr: Multiaddr = text.parse().expect("multiaddr");
        addr.with(Protocol::P2p(peer))
    }

    /// A bootstrap peer that goes away is dialled again, with a backoff,
    /// and its backoff starts over once a connection to it holds.
    #[test]
    fn lost_bootstrap_peers_are_dialled_again_with_a_backoff() {
        let mut redialer = Redialer::default();
        let now = Instant::now();
        let peer = PeerId::random();
        let bootstrap = addr("/ip4/127.0.0.1/tcp/4001", peer);
        redialer.add(bootstrap.clone(), Origin::Bootstrap, now);
        let none = HashSet::new();
        let no_groups = HashSet::new();
        let all = [Origin::Bootstrap, Origin::KnownGood];
        assert_eq!(
            redialer.due(now, 8, &all, &none, &no_groups),
            vec![bootstrap.clone()]
        );
        assert!(
            redialer.due(now, 8, &all, &none, &no_groups).is_empty(),
            "backing off"
        );
        let later = now + FIRST_BACKOFF;
        assert_eq!(redialer.due(later, 8, &all, &none, &no_groups).len(), 1);
        assert!(
            redialer
                .due(later + FIRST_BACKOFF, 8, &all, &none, &no_groups)
                .is_empty(),
            "the backoff doubled"
        );
        let connected = HashSet::from([peer]);
        let much_later = now + MAX_BACKOFF * 4;
        assert!(
            redialer
                .due(much_later, 8, &all, &connected, &no_groups)
                .is_empty(),
            "not while connected"
        );
        redialer.connected(peer, &bootstrap);
        assert_eq!(
            redialer.due(much_later, 8, &all, &none, &no_groups).len(),
            1
        );
        assert_eq!(
            redialer
                .due(much_later + FIRST_BACKOFF, 8, &all, &none, &no_groups)
                .len(),
            1,
            "the backoff started over"
        );
    }

    /// Known-good peers are bounded, dialled after the bootstrap ones, and
    /// new network groups first.
    #[test]
    fn known_good_peers_are_bounded_and_new_groups_come_first() {
        let mut redialer = Redialer::default();
        let now = Instant::now();
        for n in 0..(KNOWN_CANDIDATES + 10) {
            let text = format!("/ip4/8.{}.0.1/tcp/4001", n % 200);
            redialer.add(addr(&text, PeerId::random()), Origin::KnownGood, now);
        }
        let known = redialer.candidates.len();
        assert_eq!(known, KNOWN_CANDIDATES);
        let used = HashSet::from([
            public_group(&addr("/ip4/8.20.0.1/tcp/1", PeerId::random())).expect("public")
        ]);
        let bootstrap = addr("/ip4/9.9.9.9/tcp/4001", PeerId::random());
        redialer.add(bootstrap.clone(), Origin::Bootstrap, now);
        let picked = redialer.due(
            now,
            3,
            &[Origin::Bootstrap, Origin::KnownGood],
            &HashSet::new(),
            &used,
        );
        assert_eq!(picked[0], bootstrap);
        assert_eq!(picked.len(), 3);
        let groups: HashSet<_> = picked.iter().filter_map(public_group).collect();
        assert_eq!(groups.len(), 3, "one each from new groups");
        assert!(
            !picked
                .iter()
                .any(|picked| public_group(picked) == used.iter().next().copied())
        );
        let anchors = redialer.due(now, 8, &[Origin::KnownGood], &HashSet::new(), &used);
        assert!(anchors.iter().all(|addr| *addr != bootstrap));
    }
}
