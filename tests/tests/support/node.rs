//! A `blockchain-node` child process.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use blockchain_testkit::http;
use blockchain_testkit::wait::wait_until;

/// The node binary, built once per test run (a no-op when up to date).
fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| built("blockchain-node"))
}

/// The command-line client `blockchain-cli`, built once per test run.
pub(crate) fn cli_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| built("blockchain-cli"))
}

/// The path of blockchain-node's binary `name`, built first.
fn built(name: &str) -> PathBuf {
    {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "blockchain-node", "--bin", name])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building {name} failed");
        // This test binary is target/<profile>/deps/<name>; the node is target/<profile>/blockchain-node.
        let exe = std::env::current_exe().expect("test binary path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("target/<profile>");
        let path = profile_dir.join(name);
        assert!(path.is_file(), "{} missing", path.display());
        path
    }
}

/// A running node process; killed when dropped.
#[derive(Debug)]
pub(crate) struct NodeProcess {
    child: Child,
    pub(crate) addr: SocketAddr,
    pub(crate) log: PathBuf,
    pub(crate) data_dir: PathBuf,
}

/// How to start a node.
#[derive(Clone, Debug)]
pub(crate) struct NodeOptions {
    /// `regtest` (every test's default) or `devnet`.
    pub(crate) network: &'static str,
    pub(crate) data_dir: PathBuf,
    pub(crate) db: Option<String>,
    pub(crate) extra: Vec<String>,
}

impl NodeOptions {
    pub(crate) fn regtest(data_dir: &Path) -> Self {
        Self {
            network: "regtest",
            data_dir: data_dir.to_path_buf(),
            db: None,
            extra: Vec::new(),
        }
    }
}

impl NodeProcess {
    /// Starts a node (regtest unless `options` say otherwise) on a free port
    /// and waits until its API answers.
    pub(crate) fn start(options: &NodeOptions) -> NodeProcess {
        std::fs::create_dir_all(&options.data_dir).expect("data dir");
        let log = options.data_dir.join(format!(
            "node-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut command = Command::new(binary());
        command
            .args([
                "--network",
                options.network,
                "--http",
                "127.0.0.1:0",
                "--threads",
                "1",
            ])
            .arg("--data-dir")
            .arg(&options.data_dir)
            .args(&options.extra)
            // TEST_NODE_LOG (e.g. `info,blockchain_node=debug`) to debug a test.
            .env(
                "BLOCKCHAIN_LOG",
                std::env::var("TEST_NODE_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log handle"))
            .stderr(log_file);
        if let Some(db) = &options.db {
            command.arg("--db").arg(db);
        }
        // The tests poll from 127.0.0.1, which the rate limit counts like any
        // client (1200 requests a minute): off unless a test sets it. The
        // limit itself is tested in fullnode's API tests.
        if !options.extra.iter().any(|arg| arg == "--rate-limit") {
            command.args(["--rate-limit", "0"]);
        }
        // Never the default ports (4001–4003): tests run side by side.
        if !options.extra.iter().any(|arg| arg == "--listen") {
            command.args(["--listen", "/ip4/127.0.0.1/tcp/0"]);
        }
        let child = command.spawn().expect("node starts");
        let addr = wait_for_address(&log, Duration::from_secs(60));
        let node = NodeProcess {
            child,
            addr,
            log,
            data_dir: options.data_dir.clone(),
        };
        wait_until(
            "the node's API to answer",
            Duration::from_secs(30),
            || format!("; log:\n{}", node.log_text()),
            || http::request(node.addr, "GET", "/api/v1/status", None).is_ok(),
        );
        node
    }

    /// This run's API cookie token (`<data dir>/api.cookie`), which opens
    /// the protected routes.
    pub(crate) fn api_token(&self) -> String {
        let path = self.data_dir.join("api.cookie");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
            .trim()
            .to_owned()
    }

    /// POSTs `body` to a protected route with the cookie token.
    pub(crate) fn post_protected(&self, path: &str, body: &serde_json::Value) -> http::Response {
        http::request_with_token(self.addr, "POST", path, Some(body), Some(&self.api_token()))
            .unwrap_or_else(|error| panic!("POST {path}: {error}"))
    }

    /// Mines `count` blocks paying `address` now (`POST /api/v1/mining/blocks`).
    pub(crate) fn mine(&self, address: &str, count: u32) -> serde_json::Value {
        let body = serde_json::json!({ "miner_address": address, "count": count });
        let answer = self.post_protected("/api/v1/mining/blocks", &body);
        assert_eq!(answer.status, 201, "{:?}", answer.body);
        answer.body
    }

    /// `GET /api/v1/status`.
    pub(crate) fn status(&self) -> serde_json::Value {
        let answer = http::get(self.addr, "/api/v1/status");
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        answer.body
    }

    /// Best height.
    pub(crate) fn height(&self) -> u64 {
        self.status()["height"].as_u64().expect("height")
    }

    /// The first listen multiaddr whose text contains `transport` (e.g. "/tcp/", "/ws/").
    pub(crate) fn listen_addr(&self, transport: &str) -> String {
        let status = self.status();
        status["listen_addrs"]
            .as_array()
            .expect("listen_addrs")
            .iter()
            .filter_map(|addr| addr.as_str())
            .find(|addr| {
                addr.contains(transport) && (transport.contains("ws") || !addr.contains("/ws"))
            })
            .unwrap_or_else(|| panic!("no {transport} address in {status}"))
            .to_string()
    }

    /// Peer ids of the connected peers.
    pub(crate) fn connected_peers(&self) -> Vec<String> {
        let answer = http::get(self.addr, "/api/v1/network/peers");
        answer.body["peers"]
            .as_array()
            .map(|peers| {
                peers
                    .iter()
                    .filter(|peer| peer["connected"] == true)
                    .filter_map(|peer| peer["peer_id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Its process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its resident memory (`VmRSS`), in bytes.
    pub(crate) fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("the node's /proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| {
                value
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .expect("VmRSS in kB")
            * 1024
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL: no chance to clean up.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for a clean exit; returns the exit code.
    pub(crate) fn terminate(mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for_address(log: &Path, timeout: Duration) -> SocketAddr {
    let deadline = Instant::now() + timeout;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(rest) = text.split("HTTP API listening on http://").nth(1) {
            let addr = rest.split('/').next().unwrap_or_default();
            return addr
                .parse()
                .unwrap_or_else(|_| panic!("bad address {addr:?} in log"));
        }
        assert!(
            Instant::now() < deadline,
            "node did not start; log:\n{text}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
