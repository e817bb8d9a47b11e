//! A minimal HTTP/1.1 client for loopback servers: one request per
//! connection (`Connection: close`), read to the end, over std's blocking
//! sockets ([`send`], [`request`], [`get`], [`post`]) or tokio's ([`send_async`]).
//! No client crate, so nothing hides what goes over the wire.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// How long a blocking request waits for its whole answer.
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// An answer, read in full.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as JSON; a string when it is not JSON, null when empty.
    pub body: Value,
    /// The body's bytes (de-chunked).
    pub raw: Vec<u8>,
}

impl Response {
    /// A header's value (the first of that name, any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as text, for messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// The body as JSON; panics when it is not.
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.raw)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.text()))
    }
}

/// The request's bytes up to the body: `Host`, `Connection: close`, then
/// `headers`, then `Content-Length` when there is a body or the method is POST.
fn head(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> String {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    head
}

/// Sends one request with `headers` and `body` (blocking).
pub fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.write_all(head(addr, method, path, headers, body).as_bytes())?;
    // The server may answer (e.g. 413) before reading the whole body.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

/// [`send`] on a tokio socket, for async tests.
pub async fn send_async(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(head(addr, method, path, headers, body).as_bytes())
        .await?;
    // The server may answer (e.g. 413) before reading the whole body.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    parse_response(&raw)
}

/// Sends `body` as JSON, if any; Err when the connection fails (e.g. the
/// server is down).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> std::io::Result<Response> {
    request_with_token(addr, method, path, body, None)
}

/// [`request`] with `Authorization: Bearer <token>` when a token is given.
pub fn request_with_token(
    addr: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> std::io::Result<Response> {
    let bearer = token.map(|token| format!("Bearer {token}"));
    let mut headers = Vec::new();
    if body.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    if let Some(bearer) = &bearer {
        headers.push(("Authorization", bearer.as_str()));
    }
    let payload = body.map(Value::to_string).unwrap_or_default();
    send(addr, method, path, &headers, payload.as_bytes())
}

/// GET, expecting an answer.
#[track_caller]
pub fn get(addr: SocketAddr, path: &str) -> Response {
    request(addr, "GET", path, None).unwrap_or_else(|error| panic!("GET {path}: {error}"))
}

/// POST JSON, expecting an answer.
#[track_caller]
pub fn post(addr: SocketAddr, path: &str, body: &Value) -> Response {
    request(addr, "POST", path, Some(body)).unwrap_or_else(|error| panic!("POST {path}: {error}"))
}

/// An answer from its bytes: status line, headers, body (de-chunked when
/// sent chunked).
pub fn parse_response(raw: &[u8]) -> std::io::Result<Response> {
    let invalid = |what: &str| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{what} in {:?}", String::from_utf8_lossy(raw)),
        )
    };
    let split = find(raw, b"\r\n\r\n").ok_or_else(|| invalid("no end of head"))?;
    let head =
        std::str::from_utf8(&raw[..split]).map_err(|_| invalid("a head that is not text"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid("no status"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("transfer-encoding") && value.eq_ignore_ascii_case("chunked")
    });
    let raw = if chunked {
        dechunk(&raw[split + 4..]).ok_or_else(|| invalid("a broken chunked body"))?
    } else {
        raw[split + 4..].to_vec()
    };
    let body = if raw.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&raw)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&raw).into_owned()))
    };
    Ok(Response {
        status,
        headers,
        body,
        raw,
    })
}

/// The body of a chunked transfer, up to its last chunk.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = find(raw, b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(body);
        }
        let start = line_end + 2;
        body.extend_from_slice(raw.get(start..start + size)?);
        raw = raw.get(start + size + 2..)?;
    }
}

/// Where `needle` first starts in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
