//! `--load`: the REST API of a running node under paced public traffic, as
//! deployed (default rate limit and connection caps; only the minimum relay
//! fee is waived, for the prepared transactions: see [`run`]).
//!
//! [`DEFAULT_CLIENTS`] clients, each from its own loopback address
//! (127.0.0.2, 127.0.0.3, …: the node counts a client per IPv4 address),
//! each on one keep-alive connection with one request in flight, send one
//! request every [`PERIOD`] (20 a second, the rate limit's average) for
//! `--seconds`: a rotation of GET /status, GET /blocks/latest?limit=10,
//! GET /wallet/{address}/balance and POST /transactions (the prepared
//! transactions, each submitted once, every sender's by one client in nonce
//! order). Every answer's latency (request written → body read) and status
//! are kept; only 2xx and 429 are allowed. The result goes to
//! `<target>/load/result.json` (or `$BLOCKCHAIN_LOAD_RESULT`) for
//! `cargo xtask bench`.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use blockchain_core::{Address, Transaction};
use blockchain_node::api::json::SubmitTransaction;
use blockchain_node::config::Cli;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::MissedTickBehavior;

use crate::fixture::{PARAMS, fixture};

/// The row's id in `cargo xtask bench`.
const ID: &str = "api/load_200_clients";
/// Clients unless `--clients` says otherwise.
const DEFAULT_CLIENTS: usize = 200;
/// Seconds of traffic unless `--seconds` says otherwise.
const DEFAULT_SECONDS: u64 = 60;
/// Time between two requests of one client: 20 a second, the default rate
/// limit (1,200 a minute) spread evenly.
const PERIOD: Duration = Duration::from_millis(50);
/// The latency goal: p99 of the 2xx answers.
const GOAL_P99_MS: f64 = 50.0;
/// Most clients: the node holds 1,024 HTTP connections in all.
const MAX_CLIENTS: usize = 1000;
/// The first client's address; client `i` binds to this + `i`.
const FIRST_CLIENT_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// Where `cargo xtask bench` asks for the result.
const RESULT_VAR: &str = "BLOCKCHAIN_LOAD_RESULT";
/// Most response headers parsed.
const MAX_HEADERS: usize = 32;
/// Failures printed and kept in the result, at most.
const FAILURES_SHOWN: usize = 20;

/// The routes of the mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Route {
    Status,
    Blocks,
    Balance,
    Submit,
}

impl Route {
    fn name(self) -> &'static str {
        match self {
            Route::Status => "status",
            Route::Blocks => "blocks_latest",
            Route::Balance => "balance",
            Route::Submit => "submit_transaction",
        }
    }
}

/// Request `n` of a client is `MIX[n % 10]`: 40 % status, 20 % latest
/// blocks, 30 % balance, 10 % submission (status once the client has no
/// transaction left, or never had one).
const MIX: [Route; 10] = [
    Route::Status,
    Route::Balance,
    Route::Blocks,
    Route::Status,
    Route::Balance,
    Route::Submit,
    Route::Status,
    Route::Blocks,
    Route::Balance,
    Route::Status,
];

/// What `--load` was given.
#[derive(Debug, Clone, Copy)]
struct Options {
    seconds: u64,
    clients: usize,
}

impl Options {
    /// Parses the bench's arguments (`--bench`, which cargo adds, is ignored).
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options {
            seconds: DEFAULT_SECONDS,
            clients: DEFAULT_CLIENTS,
        };
        let mut args = args.iter().skip(1);
        while let Some(arg) = args.next() {
            let mut number = |name: &str| -> Result<u64, String> {
                args.next()
                    .and_then(|value| value.parse::<u64>().ok())
                    .filter(|value| *value > 0)
                    .ok_or_else(|| format!("{name} takes a positive whole number"))
            };
            match arg.as_str() {
                "--load" | "--bench" => {}
                "--seconds" => options.seconds = number("--seconds")?,
                "--clients" => {
                    let clients = number("--clients")?;
                    if clients > MAX_CLIENTS as u64 {
                        return Err(format!("--clients is at most {MAX_CLIENTS}"));
                    }
                    options.clients = clients as usize;
                }
                other => {
                    return Err(format!(
                        "unknown argument `{other}` (--load takes --seconds N and --clients N)"
                    ));
                }
            }
        }
        Ok(options)
    }
}

/// Runs the load scenario with the bench's arguments: success when every
/// answer was 2xx or 429.
pub(crate) fn main(args: &[String]) -> ExitCode {
    let options = match Options::parse(args) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("node bench --load: {error}");
            return ExitCode::from(2);
        }
    };
    // Signed before the node starts (the first use builds the fixture).
    fixture();
    let summary = crate::runtime().block_on(run(options));
    println!("{}", summary.human());
    let path = result_path();
    match write_result(&path, &summary) {
        Ok(()) => println!("{ID}: result in {}", path.display()),
        Err(error) => {
            eprintln!("{ID}: could not write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
    }
    if summary.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "{ID}: {} answers other than 2xx or 429 (or connection errors), first ones:",
            summary.failures.len()
        );
        for failure in summary.failures.iter().take(FAILURES_SHOWN) {
            eprintln!("  {failure}");
        }
        ExitCode::FAILURE
    }
}

/// `$BLOCKCHAIN_LOAD_RESULT`, else `<target>/load/result.json` (the target
/// directory is the parent of cargo's scratch directory for benchmarks).
fn result_path() -> PathBuf {
    if let Some(path) = std::env::var_os(RESULT_VAR) {
        return PathBuf::from(path);
    }
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .map_or(tmp.clone(), PathBuf::from)
        .join("load")
        .join("result.json")
}

/// What one client sends: the same requests every client sends, and its own
/// transactions.
#[derive(Debug)]
struct Plan {
    /// Its index: its address and its place in the balance rotation.
    index: usize,
    /// Its submissions, in nonce order (only the first [`fixture::SENDERS`]
    /// clients have any).
    submissions: Vec<Vec<u8>>,
}

/// The requests every client picks from.
#[derive(Debug)]
struct Requests {
    status: Vec<u8>,
    blocks: Vec<u8>,
    /// GET balance of each sender and recipient of the fixture.
    balances: Vec<Vec<u8>>,
}

fn get(host: &str, path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").into_bytes()
}

fn submission(host: &str, transaction: &Transaction) -> Vec<u8> {
    let body = serde_json::to_string(&SubmitTransaction::of(PARAMS, transaction))
        .expect("a transaction body serializes");
    let mut request = format!(
        "POST /api/v1/transactions HTTP/1.1\r\nHost: {host}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body.as_bytes());
    request
}

fn prepare(server: SocketAddr, clients: usize) -> (Requests, Vec<Plan>) {
    let host = server.to_string();
    let mut addresses: Vec<Address> = Vec::new();
    for transaction in fixture().transactions() {
        let sender = Address::from_spki_der(&transaction.from);
        if !addresses.contains(&sender) {
            addresses.push(sender);
        }
        addresses.push(transaction.to);
    }
    let requests = Requests {
        status: get(&host, "/api/v1/status"),
        blocks: get(&host, "/api/v1/blocks/latest?limit=10"),
        balances: addresses
            .iter()
            .map(|address| {
                let path = format!(
                    "/api/v1/wallet/{}/balance",
                    address.to_bech32m(PARAMS.address_prefix)
                );
                get(&host, &path)
            })
            .collect(),
    };
    let mut queues = fixture().queues_by_sender().into_iter();
    let plans = (0..clients)
        .map(|index| Plan {
            index,
            submissions: queues
                .next()
                .unwrap_or_default()
                .iter()
                .map(|transaction| submission(&host, transaction))
                .collect(),
        })
        .collect();
    (requests, plans)
}

/// One answer, or a request that got none.
#[derive(Debug, Clone, Copy)]
struct Sample {
    route: Route,
    /// None: a connection error.
    status: Option<u16>,
    latency: Duration,
}

/// What a client saw.
#[derive(Debug, Default)]
struct Log {
    samples: Vec<Sample>,
    failures: Vec<String>,
    /// When its last answer came.
    finished: Option<Instant>,
}

async fn run(options: Options) -> Summary {
    // The prepared transactions pay 10 units, under the default minimum relay
    // fee (a unit a byte, ~870 for a payment): the rule is waived, as it is
    // for the mempool benchmark. It is one multiplication per submission.
    let (node, directory) = crate::start_node_with(Cli {
        min_relay_fee: Some(0),
        ..Cli::default()
    })
    .await;
    let server = node.http_addr;
    let (requests, plans) = prepare(server, options.clients);
    let requests = Arc::new(requests);
    let first = u32::from(FIRST_CLIENT_IP);
    let mut connections = Vec::with_capacity(plans.len());
    for plan in &plans {
        let ip = Ipv4Addr::from(first + plan.index as u32);
        let stream = connect(ip, server)
            .await
            .unwrap_or_else(|error| panic!("connecting from {ip} to {server}: {error}"));
        connections.push(Connection::new(ip, stream));
    }
    eprintln!(
        "{ID}: {} clients ({}–{}) connected to {server}; {} s of traffic, one request \
         every {} ms each",
        plans.len(),
        FIRST_CLIENT_IP,
        Ipv4Addr::from(first + plans.len() as u32 - 1),
        options.seconds,
        PERIOD.as_millis()
    );

    let started = Instant::now() + Duration::from_millis(100);
    let end = started + Duration::from_secs(options.seconds);
    let count = plans.len() as u32;
    let tasks: Vec<_> = plans
        .into_iter()
        .zip(connections)
        .map(|(plan, connection)| {
            // Clients are spread evenly over the period, as independent
            // users are, rather than all sending at the same instant.
            let offset = PERIOD * plan.index as u32 / count;
            let requests = Arc::clone(&requests);
            tokio::spawn(client(
                plan,
                connection,
                requests,
                server,
                started + offset,
                end,
            ))
        })
        .collect();
    let mut logs = Vec::with_capacity(tasks.len());
    for task in tasks {
        logs.push(task.await.expect("a load client does not panic"));
    }
    let finished = logs
        .iter()
        .filter_map(|log| log.finished)
        .max()
        .unwrap_or(end);
    let elapsed = finished.saturating_duration_since(started);
    node.stop().await.expect("the node stops cleanly");
    drop(directory);
    Summary::new(options, logs, elapsed)
}

/// A TCP connection to `server` from `ip`.
async fn connect(ip: Ipv4Addr, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((ip, 0)))?;
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// One client's paced requests until `end`.
async fn client(
    mut plan: Plan,
    mut connection: Connection,
    requests: Arc<Requests>,
    server: SocketAddr,
    start: Instant,
    end: Instant,
) -> Log {
    let mut log = Log::default();
    let mut submissions = std::mem::take(&mut plan.submissions).into_iter();
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::from_std(start), PERIOD);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let balances = requests.balances.len();
    for n in 0usize.. {
        ticks.tick().await;
        if Instant::now() >= end {
            break;
        }
        // The rotation starts at a different place for each client.
        let submission;
        let (route, request): (Route, &[u8]) = match MIX[(n + plan.index) % MIX.len()] {
            Route::Status => (Route::Status, &requests.status),
            Route::Blocks => (Route::Blocks, &requests.blocks),
            Route::Balance => (
                Route::Balance,
                &requests.balances[(plan.index * 17 + n) % balances],
            ),
            Route::Submit => match submissions.next() {
                Some(next) => {
                    submission = next;
                    (Route::Submit, &submission)
                }
                None => (Route::Status, &requests.status),
            },
        };
        let sent = Instant::now();
        let answer = connection.exchange(server, request).await;
        record(&mut log, route, sent, answer, connection.ip);
    }
    log
}

fn record(
    log: &mut Log,
    route: Route,
    sent: Instant,
    answer: Result<Answer, String>,
    ip: Ipv4Addr,
) {
    let now = Instant::now();
    let latency = now.duration_since(sent);
    log.finished = Some(now);
    match answer {
        Ok(answer) => {
            if !(200..300).contains(&answer.status) && answer.status != 429 {
                log.failures.push(format!(
                    "{} from {ip}: {} {}",
                    route.name(),
                    answer.status,
                    String::from_utf8_lossy(&answer.body)
                ));
            }
            log.samples.push(Sample {
                route,
                status: Some(answer.status),
                latency,
            });
        }
        Err(error) => {
            log.failures
                .push(format!("{} from {ip}: {error}", route.name()));
            log.samples.push(Sample {
                route,
                status: None,
                latency,
            });
        }
    }
}

/// A response's status and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Vec<u8>,
}

/// A client's keep-alive connection, opened again after an error or a
/// `Connection: close`.
#[derive(Debug)]
struct Connection {
    ip: Ipv4Addr,
    stream: Option<TcpStream>,
    buffer: Vec<u8>,
}

impl Connection {
    fn new(ip: Ipv4Addr, stream: TcpStream) -> Connection {
        Connection {
            ip,
            stream: Some(stream),
            buffer: Vec::with_capacity(16 * 1024),
        }
    }

    /// Sends `request` and reads its whole response.
    async fn exchange(&mut self, server: SocketAddr, request: &[u8]) -> Result<Answer, String> {
        if self.stream.is_none() {
            let stream = connect(self.ip, server)
                .await
                .map_err(|error| format!("reconnecting: {error}"))?;
            self.stream = Some(stream);
        }
        let answer = self.exchange_on_stream(request).await;
        if !matches!(answer, Ok((_, true))) {
            self.stream = None;
        }
        answer.map(|(answer, _)| answer)
    }

    /// The answer, and whether the connection stays open.
    async fn exchange_on_stream(&mut self, request: &[u8]) -> Result<(Answer, bool), String> {
        let stream = self.stream.as_mut().expect("connected above");
        stream
            .write_all(request)
            .await
            .map_err(|error| format!("writing the request: {error}"))?;
        self.buffer.clear();
        let (head, length, status, keep_alive) = loop {
            read_more(stream, &mut self.buffer).await?;
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut response = httparse::Response::new(&mut headers);
            match response.parse(&self.buffer) {
                Err(error) => return Err(format!("not an HTTP/1.1 response: {error}")),
                Ok(httparse::Status::Partial) => continue,
                Ok(httparse::Status::Complete(head)) => {
                    let header = |name: &str| {
                        response
                            .headers
                            .iter()
                            .find(|header| header.name.eq_ignore_ascii_case(name))
                            .and_then(|header| std::str::from_utf8(header.value).ok())
                    };
                    let length = header("content-length")
                        .and_then(|value| value.trim().parse::<usize>().ok())
                        .ok_or("a response without Content-Length")?;
                    let keep_alive = !header("connection")
                        .is_some_and(|value| value.eq_ignore_ascii_case("close"));
                    let status = response.code.ok_or("a response without a status")?;
                    break (head, length, status, keep_alive);
                }
            }
        };
        while self.buffer.len() < head + length {
            read_more(stream, &mut self.buffer).await?;
        }
        if self.buffer.len() != head + length {
            return Err("more bytes than the response announced".into());
        }
        Ok((
            Answer {
                status,
                body: self.buffer[head..].to_vec(),
            },
            keep_alive,
        ))
    }
}

async fn read_more(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Result<(), String> {
    match stream.read_buf(buffer).await {
        Ok(0) => Err("the server closed the connection".into()),
        Ok(_) => Ok(()),
        Err(error) => Err(format!("reading the response: {error}")),
    }
}

/// Latencies of a set of answers.
#[derive(Debug, Clone, Copy, Default)]
struct Latencies {
    count: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

impl Latencies {
    fn of(mut latencies: Vec<Duration>) -> Latencies {
        latencies.sort_unstable();
        let ms = |duration: &Duration| duration.as_secs_f64() * 1e3;
        // Nearest rank: the smallest latency at least `p` of them do not exceed.
        let rank = |p: f64| {
            latencies
                .get(((p * latencies.len() as f64).ceil() as usize).saturating_sub(1))
                .map_or(0.0, ms)
        };
        Latencies {
            count: latencies.len(),
            p50_ms: rank(0.50),
            p99_ms: rank(0.99),
            max_ms: latencies.last().map_or(0.0, ms),
        }
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "count": self.count,
            "p50_ms": self.p50_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
        })
    }
}

/// The figures of a run.
#[derive(Debug)]
struct Summary {
    options: Options,
    elapsed: Duration,
    requests: usize,
    all: Latencies,
    ok: Latencies,
    by_status: BTreeMap<String, usize>,
    by_route: BTreeMap<Route, Latencies>,
    failures: Vec<String>,
}

impl Summary {
    fn new(options: Options, logs: Vec<Log>, elapsed: Duration) -> Summary {
        let samples: Vec<Sample> = logs.iter().flat_map(|log| log.samples.clone()).collect();
        let failures = logs.into_iter().flat_map(|log| log.failures).collect();
        let mut by_status = BTreeMap::new();
        for sample in &samples {
            let key = sample
                .status
                .map_or("connection_error".to_string(), |status| status.to_string());
            *by_status.entry(key).or_insert(0) += 1;
        }
        let latencies = |keep: &dyn Fn(&Sample) -> bool| {
            Latencies::of(
                samples
                    .iter()
                    .filter(|sample| keep(sample))
                    .map(|sample| sample.latency)
                    .collect(),
            )
        };
        let by_route = [Route::Status, Route::Blocks, Route::Balance, Route::Submit]
            .into_iter()
            .map(|route| (route, latencies(&|sample| sample.route == route)))
            .collect();
        Summary {
            options,
            elapsed,
            requests: samples.len(),
            all: latencies(&|_| true),
            ok: latencies(&|sample| sample.status.is_some_and(|s| (200..300).contains(&s))),
            by_status,
            by_route,
            failures,
        }
    }

    fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn count_where(&self, keep: impl Fn(&str) -> bool) -> usize {
        self.by_status
            .iter()
            .filter(|(status, _)| keep(status))
            .map(|(_, count)| count)
            .sum()
    }

    fn ok_count(&self) -> usize {
        self.count_where(|status| status.starts_with('2') && status.len() == 3)
    }

    fn rate_limited(&self) -> usize {
        self.count_where(|status| status == "429")
    }

    fn human(&self) -> String {
        let verdict = if !self.failures.is_empty() {
            "FAILED (answers other than 2xx/429)"
        } else if self.ok.p99_ms <= GOAL_P99_MS {
            "ok"
        } else {
            "MISSED"
        };
        let mut text = format!(
            "{ID}: {} clients × {} req/s for {:.1} s: {} requests, {:.0} req/s; latency \
             p50 {:.2} ms, p99 {:.2} ms (2xx: {:.2} ms), max {:.1} ms; 2xx {}, 429 {}, \
             other {}; goal p99 ≤ {GOAL_P99_MS} ms: {verdict}",
            self.options.clients,
            1000 / PERIOD.as_millis(),
            self.elapsed.as_secs_f64(),
            self.requests,
            self.throughput(),
            self.all.p50_ms,
            self.all.p99_ms,
            self.ok.p99_ms,
            self.all.max_ms,
            self.ok_count(),
            self.rate_limited(),
            self.failures.len(),
        );
        for (route, latencies) in &self.by_route {
            text.push_str(&format!(
                "\n  {:<18} {:>8} requests, p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms",
                route.name(),
                latencies.count,
                latencies.p50_ms,
                latencies.p99_ms,
                latencies.max_ms
            ));
        }
        text.push_str(&format!("\n  statuses: {:?}", self.by_status));
        text
    }

    fn json(&self) -> serde_json::Value {
        let unix_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let routes: serde_json::Map<String, serde_json::Value> = self
            .by_route
            .iter()
            .map(|(route, latencies)| (route.name().to_string(), latencies.json()))
            .collect();
        serde_json::json!({
            "id": ID,
            "unix_time": unix_time,
            "clients": self.options.clients,
            "requests_per_second_per_client": 1000 / PERIOD.as_millis(),
            "seconds": self.options.seconds,
            "elapsed_s": self.elapsed.as_secs_f64(),
            "requests": self.requests,
            "throughput_rps": self.throughput(),
            "p50_ms": self.all.p50_ms,
            "p99_ms": self.all.p99_ms,
            "max_ms": self.all.max_ms,
            "p99_2xx_ms": self.ok.p99_ms,
            "goal_p99_ms": GOAL_P99_MS,
            "status_counts": self.by_status,
            "ok_2xx": self.ok_count(),
            "rate_limited_429": self.rate_limited(),
            "failures": self.failures.len(),
            "first_failures": self.failures.iter().take(FAILURES_SHOWN).collect::<Vec<_>>(),
            "routes": routes,
        })
    }
}

fn write_result(path: &std::path::Path, summary: &Summary) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let text = serde_json::to_string_pretty(&summary.json()).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}
