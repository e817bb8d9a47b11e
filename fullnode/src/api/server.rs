//! The HTTP server: accepts connections for the router with the limits a
//! public node needs, which `axum::serve` does not offer.
//!
//! - at most [`ServerLimits::max_connections`] connections at once, and at
//!   most [`ServerLimits::max_connections_per_client`] from one client (an
//!   IPv4 address or an IPv6 /64, as the rate limit counts them); a
//!   connection beyond either is closed at once, before any byte is read;
//! - a request head (request line and headers) must arrive within
//!   [`ServerLimits::header_read_timeout`] of the connection becoming ready
//!   for it, so a client that sends its headers a byte at a time
//!   ("slowloris"), or keeps an idle connection open, gives its connection
//!   up instead of holding it; the route timeouts bound what follows;
//! - graceful shutdown: once `shutdown` resolves, no connection is
//!   accepted, and open ones end after their answer in progress.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

use super::client_slots::ClientSlots;
use super::rate_limit::ClientGroup;

/// Connection limits of the HTTP server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one client (IPv4 address, IPv6 /64).
    pub max_connections_per_client: usize,
    /// Longest wait for a request's head.
    pub header_read_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            max_connections_per_client: 128,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then waits for
/// the open connections to finish their answers.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()>,
) {
    let connections = ClientSlots::new(limits.max_connections, limits.max_connections_per_client);
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut refused = 0u64;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(%error, "accepting an HTTP connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(admitted) = connections.take(Some(ClientGroup::of(peer.ip()))) else {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(
                    %peer,
                    refused,
                    "HTTP connection refused: too many open (--max-connections, \
                     --max-connections-per-client)"
                );
            }
            drop(stream);
            continue;
        };
        // No route upgrades its connection (WebSockets are the P2P
        // layer's own listener), so plain HTTP/1.1 connections.
        let connection =
            builder.serve_connection(TokioIo::new(stream), connection_service(&router, peer));
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            // An error here is the client's (reset, bad request head,
            // timeout): the connection ends either way.
            let _ = watched.await;
            drop(admitted);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The router as a hyper service for one connection from `peer`: each request
/// carries the peer's address as axum's `ConnectInfo`.
fn connection_service(
    router: &Router,
    peer: SocketAddr,
) -> TowerToHyperService<
    impl tower::Service<
        hyper::Request<Incoming>,
        Response = axum::response::Response,
        Error = Infallible,
        Future = impl Future + Send,
    > + Clone
    + Send
    + 'static,
> {
    let router = router.clone();
    TowerToHyperService::new(tower::service_fn(
        move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request.map(Body::new))
        },
    ))
}
