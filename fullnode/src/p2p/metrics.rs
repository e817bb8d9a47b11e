//! The peer-to-peer layer's metrics, recorded from the swarm's events:
//! libp2p's own ([`libp2p::metrics`]: connections, gossipsub, Kademlia,
//! identify, ping) and, as libp2p records none for request-response, the
//! sync protocol's requests, responses and failures. They live in the
//! network's registry, which `GET /metrics` renders after the node's.

use libp2p::metrics::{Metrics as Libp2pMetrics, Recorder};
use libp2p::request_response::{self, InboundFailure, OutboundFailure};
use libp2p::swarm::SwarmEvent;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use super::behaviour::BehaviourEvent;

/// Everything the event loop records.
pub(super) struct NetworkMetrics {
    libp2p: Libp2pMetrics,
    sync: SyncMetrics,
}

impl std::fmt::Debug for NetworkMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkMetrics").finish_non_exhaustive()
    }
}

impl NetworkMetrics {
    /// Metrics registered in `registry`, all named `libp2p_…`.
    pub(super) fn new(registry: &mut Registry) -> Self {
        Self {
            libp2p: Libp2pMetrics::new(registry),
            sync: SyncMetrics::new(
                registry
                    .sub_registry_with_prefix("libp2p")
                    .sub_registry_with_prefix("request_response"),
            ),
        }
    }

    /// Counts `event`: the swarm's own, then the protocol's it carries.
    pub(super) fn record(&self, event: &SwarmEvent<BehaviourEvent>) {
        self.libp2p.record(event);
        let SwarmEvent::Behaviour(event) = event else {
            return;
        };
        match event {
            BehaviourEvent::Identify(event) => self.libp2p.record(event),
            BehaviourEvent::Ping(event) => self.libp2p.record(event),
            BehaviourEvent::Kad(event) => self.libp2p.record(event),
            BehaviourEvent::Gossipsub(event) => self.libp2p.record(event),
            BehaviourEvent::Sync(event) => self.sync.record(event),
            // Connection limits and blocking report through the swarm events.
            BehaviourEvent::Blocked(never) | BehaviourEvent::Limits(never) => match *never {},
            BehaviourEvent::Inbound(never) => match *never {},
        }
    }
}

/// The label of a failed request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FailureLabels {
    error: &'static str,
}

/// Counts of the sync protocol (libp2p request-response).
#[derive(Debug)]
struct SyncMetrics {
    requests_received: Counter,
    responses_sent: Counter,
    responses_received: Counter,
    outbound_failures: Family<FailureLabels, Counter>,
    inbound_failures: Family<FailureLabels, Counter>,
}

impl SyncMetrics {
    fn new(registry: &mut Registry) -> Self {
        let metrics = Self {
            requests_received: Counter::default(),
            responses_sent: Counter::default(),
            responses_received: Counter::default(),
            outbound_failures: Family::default(),
            inbound_failures: Family::default(),
        };
        registry.register(
            "requests_received",
            "Requests received from peers",
            metrics.requests_received.clone(),
        );
        registry.register(
            "responses_sent",
            "Responses sent to peers' requests",
            metrics.responses_sent.clone(),
        );
        registry.register(
            "responses_received",
            "Responses received to our requests",
            metrics.responses_received.clone(),
        );
        registry.register(
            "outbound_failures",
            "Our requests that got no response, by error",
            metrics.outbound_failures.clone(),
        );
        registry.register(
            "inbound_failures",
            "Peers' requests that got no response, by error",
            metrics.inbound_failures.clone(),
        );
        metrics
    }

    fn record<Request, Response>(&self, event: &request_response::Event<Request, Response>) {
        match event {
            request_response::Event::Message { message, .. } => match message {
                request_response::Message::Request { .. } => self.requests_received.inc(),
                request_response::Message::Response { .. } => self.responses_received.inc(),
            },
            request_response::Event::ResponseSent { .. } => self.responses_sent.inc(),
            request_response::Event::OutboundFailure { error, .. } => {
                let error = match error {
                    OutboundFailure::DialFailure => "dial_failure",
                    OutboundFailure::Timeout => "timeout",
                    OutboundFailure::ConnectionClosed => "connection_closed",
                    OutboundFailure::UnsupportedProtocols => "unsupported_protocols",
                    OutboundFailure::Io(_) => "io",
                };
                self.outbound_failures
                    .get_or_create(&FailureLabels { error })
                    .inc()
            }
            request_response::Event::InboundFailure { error, .. } => {
                let error = match error {
                    InboundFailure::Timeout => "timeout",
                    InboundFailure::ConnectionClosed => "connection_closed",
                    InboundFailure::UnsupportedProtocols => "unsupported_protocols",
                    InboundFailure::ResponseOmission => "response_omission",
                    InboundFailure::Io(_) => "io",
                };
                self.inbound_failures
                    .get_or_create(&FailureLabels { error })
                    .inc()
            }
        };
    }
}
