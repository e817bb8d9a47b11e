//! Running a node: open storage and the chain, start mining control, serve
//! the API and the web app, stop cleanly on SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::api::{AppState, app};
use crate::auth::AdminAuth;
use crate::auth::cookie::ApiCookie;
use crate::chain::Chain;
use crate::config::Config;
use crate::mempool::MempoolPolicy;
use crate::metrics::{Metrics, TimedStorage};
use crate::mining::MiningControl;
use crate::p2p::Network;
use crate::storage;
use crate::webhooks::Webhooks;

/// Why a node did not start, or did not stop cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The data dir cannot be made or protected.
    #[error("cannot create data dir {}: {source}", .path.display())]
    DataDir {
        /// The data dir.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The database cannot be opened.
    #[error(transparent)]
    Storage(#[from] storage::StorageError),
    /// The stored chain cannot be loaded.
    #[error(transparent)]
    Chain(#[from] crate::chain::OpenError),
    /// Mining (`--mine`) cannot start.
    #[error("cannot start mining: {0}")]
    Mining(#[from] crate::mining::MiningError),
    /// The peer-to-peer layer cannot start.
    #[error(transparent)]
    Network(#[from] crate::p2p::StartError),
    /// The login key cannot be loaded or created.
    #[error(transparent)]
    Auth(#[from] crate::auth::KeyFileError),
    /// The webhook service cannot start.
    #[error(transparent)]
    Webhooks(#[from] crate::webhooks::StartError),
    /// The API cookie cannot be written.
    #[error("cannot write the API cookie in {}: {source}", .path.display())]
    Cookie {
        /// The data dir.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The HTTP server failed while stopping.
    #[error("the HTTP server failed: {0}")]
    Server(#[source] std::io::Error),
    /// The HTTP address cannot be listened on.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The `--http` address.
        addr: String,
        /// The error.
        source: std::io::Error,
    },
}

/// A node that is up: its HTTP address and a way to stop it.
#[derive(Debug)]
pub struct RunningNode {
    /// Where the API listens.
    pub http_addr: SocketAddr,
    /// The chain owner.
    pub chain: Arc<Chain>,
    shutdown: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    mining: Arc<MiningControl>,
    webhooks: Arc<Webhooks>,
    network: Option<Arc<Network>>,
    cookie: ApiCookie,
}

impl RunningNode {
    /// This run's API cookie (`<data dir>/api.cookie`).
    pub fn cookie(&self) -> &ApiCookie {
        &self.cookie
    }

    /// The peer-to-peer layer, when it runs.
    pub fn network(&self) -> Option<&Arc<Network>> {
        self.network.as_ref()
    }

    /// Stops serving and mining, and waits for the server to finish.
    pub async fn stop(self) -> std::io::Result<()> {
        self.mining.stop();
        self.webhooks.stop();
        if let Some(network) = &self.network {
            network.stop().await;
        }
        let _ = self.shutdown.send(true);
        let result = self.server.await.unwrap_or(Ok(()));
        self.chain.storage().close().await;
        self.cookie.remove();
        result
    }
}

/// Starts a node from a resolved configuration.
pub async fn start(config: Config) -> Result<RunningNode, NodeError> {
    let config = Arc::new(config);
    #[cfg(unix)]
    let created = !config.data_dir.exists();
    let data_dir_error = |source| NodeError::DataDir {
        path: config.data_dir.clone(),
        source,
    };
    std::fs::create_dir_all(&config.data_dir).map_err(data_dir_error)?;
    // The data dir holds keys, keystores and the API cookie: a new one is
    // the node user's alone (an existing one keeps the operator's choice).
    #[cfg(unix)]
    if created {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o700))
            .map_err(data_dir_error)?;
    }
    tracing::info!(network = config.network.name(), data_dir = %config.data_dir.display(), db = %storage::redact_url(&config.db_url), "starting");
    let metrics = Arc::new(Metrics::default());
    let storage = storage::open(&config.db_url).await?;
    let storage = Arc::new(TimedStorage::new(storage, Arc::clone(&metrics)));
    let policy = MempoolPolicy {
        max_transactions: config.mempool_max,
        min_relay_fee: config.min_relay_fee,
    };
    let chain = Chain::open_with(config.params(), storage, policy).await?;
    metrics.count_chain_events(&chain);
    let mining = MiningControl::spawn(Arc::clone(&chain), config.threads, config.miner_address);
    if config.mine {
        mining.start(None).await?;
    }
    let network = if !config.bootstrap.is_empty() || !config.listen.is_empty() {
        Some(Network::start(&config, Arc::clone(&chain)).await?)
    } else {
        tracing::info!("no --listen or --bootstrap addresses: peer-to-peer networking is off");
        None
    };
    let auth = Arc::new(AdminAuth::open(&config)?);
    if config.admin_addresses.is_empty() {
        tracing::info!("no --admin-address: login (POST /api/v1/auth/login) refuses everyone");
    }
    let webhooks = Webhooks::start(&chain, &config).await?;
    let cookie = ApiCookie::create(&config.data_dir).map_err(|source| NodeError::Cookie {
        path: config.data_dir.clone(),
        source,
    })?;
    tracing::info!(
        path = %cookie.path().display(),
        "wrote the API cookie: protected routes take `Authorization: Bearer <its contents>`"
    );
    let state = AppState::new(
        Arc::clone(&chain),
        Arc::clone(&mining),
        Arc::clone(&config),
        auth,
        Arc::clone(&webhooks),
    )
    .with_metrics(metrics)
    .with_network(network.clone())
    .with_cookie_token(cookie.token());
    let listen_error = |source| NodeError::Listen {
        addr: config.http.clone(),
        source,
    };
    let listener = TcpListener::bind(&config.http)
        .await
        .map_err(listen_error)?;
    let http_addr = listener.local_addr().map_err(listen_error)?;
    let _ = state.http_addr.set(http_addr);
    if !config.www.join("index.html").is_file() {
        tracing::warn!(www = %config.www.display(), "web app not found: pass --www DIR");
    }
    tracing::info!(
        "HTTP API listening on http://{http_addr}/api/v1 (web app at http://{http_addr}/)"
    );
    let (shutdown, mut stopped) = tokio::sync::watch::channel(false);
    let events = Arc::clone(&state.events);
    let limits = config.server;
    let router = app(state);
    let server = tokio::spawn(async move {
        crate::api::server::serve(listener, router, limits, async move {
            let _ = stopped.wait_for(|stop| *stop).await;
            // Graceful shutdown waits for open answers: end the event streams.
            events.close();
        })
        .await;
        Ok::<(), std::io::Error>(())
    });
    Ok(RunningNode {
        http_addr,
        chain,
        shutdown,
        server,
        mining,
        webhooks,
        network,
        cookie,
    })
}

/// Runs until SIGINT or SIGTERM.
pub async fn run(config: Config) -> Result<(), NodeError> {
    let node = start(config).await?;
    wait_for_signal().await;
    tracing::info!("shutting down");
    node.stop().await.map_err(NodeError::Server)?;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing a SIGTERM handler works");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
