//! The HTTP client of webhook deliveries: one `reqwest` client for every
//! subscriber, HTTP/1.1 over TLS (rustls, ring) for `https` URLs, no proxy,
//! no redirects, a fresh connection and a deadline per attempt.

use std::error::Error as _;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{StatusCode, header};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore, crypto};

use super::StartError;
use super::url::WebhookUrl;

/// Longest a delivery attempt may take, connecting included.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the `--webhook-ca` certificates cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaError {
    /// The `--webhook-ca` file cannot be read.
    #[error("cannot read {path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not PEM, or holds no certificate.
    #[error("{path}: {message}")]
    Pem {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// The TLS settings of `https` deliveries: the bundled Mozilla roots
/// (webpki-roots, no operating-system store), plus the PEM certificates of
/// `ca_file` when given; the ring provider, TLS 1.2 and 1.3.
fn tls_config(ca_file: Option<&Path>) -> Result<ClientConfig, CaError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        let shown = path.display().to_string();
        let pem = std::fs::read(path).map_err(|error| CaError::Read {
            path: shown.clone(),
            error,
        })?;
        let pem_error = |message: String| CaError::Pem {
            path: shown.clone(),
            message,
        };
        let mut added = 0usize;
        for certificate in CertificateDer::pem_slice_iter(&pem) {
            let certificate = certificate.map_err(|error| pem_error(error.to_string()))?;
            roots
                .add(certificate)
                .map_err(|error| pem_error(format!("not a usable CA certificate: {error}")))?;
            added += 1;
        }
        if added == 0 {
            return Err(pem_error("no PEM certificate in the file".into()));
        }
    }
    Ok(
        ClientConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// The client of every delivery, trusting the bundled roots and the
/// certificates of `ca_file` (see [`tls_config`]).
pub(super) fn delivery_client(ca_file: Option<&Path>) -> Result<reqwest::Client, StartError> {
    // `localhost` counts as loopback in the URL policy, so it is pinned to
    // the loopback addresses rather than trusted to the system resolver.
    let loopback = [
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        SocketAddr::from((Ipv6Addr::LOCALHOST, 0)),
    ];
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(tls_config(ca_file)?)
        .http1_only()
        // Deliveries go to the URL the policy allowed: never through a
        // proxy of the environment, never on to where a redirect points.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        // One attempt per call: retries and their backoff are the worker's.
        .retry(reqwest::retry::never())
        // A fresh connection per attempt, closed with it.
        .pool_max_idle_per_host(0)
        .resolve_to_addrs("localhost", &loopback)
        .connect_timeout(ATTEMPT_TIMEOUT)
        .timeout(ATTEMPT_TIMEOUT)
        .tcp_nodelay(true)
        .user_agent(concat!("blockchain-node/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(StartError::Client)?;
    Ok(client)
}

/// Why an attempt failed; each carries the causes' messages.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(super) enum PostError {
    /// Connecting failed.
    #[error("cannot connect: {0}")]
    Connect(String),
    /// The TLS handshake failed (an untrusted certificate, among others).
    #[error("TLS handshake failed: {0}")]
    Tls(String),
    /// The HTTP exchange failed.
    #[error("HTTP error: {0}")]
    Http(String),
    /// Over [`ATTEMPT_TIMEOUT`].
    #[error("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())]
    Timeout,
}

impl From<reqwest::Error> for PostError {
    fn from(error: reqwest::Error) -> PostError {
        let causes = causes(&error);
        if error.is_timeout() {
            PostError::Timeout
        } else if error.is_connect() && is_tls_error(&error) {
            PostError::Tls(causes)
        } else if error.is_connect() {
            PostError::Connect(causes)
        } else {
            PostError::Http(causes)
        }
    }
}

/// The messages of `error`'s causes (reqwest's own only names the URL).
fn causes(error: &reqwest::Error) -> String {
    let mut causes = Vec::new();
    let mut cause = error.source();
    while let Some(error) = cause {
        causes.push(error.to_string());
        cause = error.source();
    }
    if causes.is_empty() {
        error.to_string()
    } else {
        causes.join(": ")
    }
}

/// Whether a rustls error is among `error`'s causes. An `io::Error` hides
/// the error it wraps from `source()` (and hyper-rustls wraps tokio-rustls's
/// `io::Error` in another), hence `get_ref`.
fn is_tls_error(error: &reqwest::Error) -> bool {
    let mut cause = error.source();
    while let Some(error) = cause {
        let mut wrapped: &(dyn std::error::Error + 'static) = error;
        while let Some(inner) = wrapped
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            wrapped = inner;
        }
        if wrapped.is::<rustls::Error>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// POSTs `body` as JSON to `url` with `headers`; returns the answer's
/// status. The answer's body is never read: the connection closes once the
/// head is in, so a receiver cannot make the node buffer anything.
pub(super) async fn post_json(
    client: &reqwest::Client,
    url: &WebhookUrl,
    headers: &[(&'static str, String)],
    body: Bytes,
) -> Result<StatusCode, PostError> {
    let mut request = client
        .post(url.as_str())
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONNECTION, "close");
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let answer = request.body(body).send().await?;
    Ok(answer.status())
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    fn client() -> reqwest::Client {
        delivery_client(None).expect("the bundled roots")
    }

    async fn bind() -> (TcpListener, WebhookUrl) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let address = listener.local_addr().expect("an address");
        let url = WebhookUrl::parse(&format!("http://{address}/hook?x=1")).expect("a URL");
        (listener, url)
    }

    /// Reads one request head and body (the client sends Content-Length).
    async fn read_request(stream: &mut TcpStream) -> String {
        let mut raw = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            let read = stream.read(&mut buffer).await.expect("reads");
            raw.extend_from_slice(&buffer[..read]);
            let text = String::from_utf8_lossy(&raw).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let length: usize = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length: "))
                    .and_then(|value| value.parse().ok())
                    .unwrap_or(0);
                if body.len() >= length {
                    return text;
                }
            }
            assert_ne!(read, 0, "the client hung up mid-request");
        }
    }

    #[tokio::test]
    async fn the_request_is_a_json_post_and_the_status_comes_back() {
        let (listener, url) = bind().await;
        let address = listener.local_addr().expect("an address");
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accepts");
            let request = read_request(&mut stream).await;
            stream
                .write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n")
                .await
                .expect("writes");
            request
        });
        let status = post_json(
            &client(),
            &url,
            &[("x-signature", "abc".to_owned())],
            Bytes::from_static(b"{\"a\":1}"),
        )
        .await
        .expect("an answer");
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        let request = server.await.expect("the server ends");
        assert!(
            request.starts_with("POST /hook?x=1 HTTP/1.1\r\n"),
            "{request}"
        );
        for line in [
            format!("host: {address}"),
            "content-type: application/json".to_owned(),
            "x-signature: abc".to_owned(),
            "content-length: 7".to_owned(),
            "connection: close".to_owned(),
            format!("user-agent: blockchain-node/{}", env!("CARGO_PKG_VERSION")),
        ] {
            assert!(
                request.contains(&format!("\r\n{line}\r\n")),
                "{line} in {request}"
            );
        }
        assert!(request.ends_with("\r\n\r\n{\"a\":1}"), "{request}");
    }

    #[tokio::test]
    async fn failures_are_errors_and_an_abandoned_attempt_closes_its_connection() {
        let (listener, url) = bind().await;
        // Closed without an answer.
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accepts");
            read_request(&mut stream).await;
            listener
        });
        let closed = post_json(&client(), &url, &[], Bytes::from_static(b"{}")).await;
        assert!(matches!(closed, Err(PostError::Http(_))), "{closed:?}");
        // No answer at all: when the attempt is dropped (as on its timeout),
        // the receiver sees the connection close.
        let listener = server.await.expect("the server ends");
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accepts");
            read_request(&mut stream).await;
            let mut rest = [0u8; 16];
            tokio::time::timeout(Duration::from_secs(5), stream.read(&mut rest))
                .await
                .expect("the client closes the connection")
                .expect("reads")
        });
        let abandoned = tokio::time::timeout(
            Duration::from_millis(300),
            post_json(&client(), &url, &[], Bytes::from_static(b"{}")),
        )
        .await;
        assert!(abandoned.is_err(), "no answer came");
        assert_eq!(server.await.expect("the server ends"), 0, "end of stream");

        // Nothing listening.
        let refused = {
            let (listener, url) = bind().await;
            drop(listener);
            post_json(&client(), &url, &[], Bytes::new()).await
        };
        assert!(matches!(refused, Err(PostError::Connect(_))), "{refused:?}");
    }

    #[tokio::test]
    async fn redirects_are_not_followed() {
        let (listener, url) = bind().await;
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accepts");
            read_request(&mut stream).await;
            stream
                .write_all(
                    b"HTTP/1.1 307 Temporary Redirect\r\nlocation: http://10.0.0.1/\r\ncontent-length: 0\r\n\r\n",
                )
                .await
                .expect("writes");
        });
        let status = post_json(&client(), &url, &[], Bytes::from_static(b"{}"))
            .await
            .expect("an answer");
        assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
        server.await.expect("the server ends");
    }

    #[tokio::test]
    async fn localhost_is_reached_on_the_loopback_address() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let port = listener.local_addr().expect("an address").port();
        let url = WebhookUrl::parse(&format!("http://localhost:{port}/")).expect("a URL");
        let server = tokio::spawn(async move {
            let (mut stream, peer) = listener.accept().await.expect("accepts");
            read_request(&mut stream).await;
            stream
                .write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
                .await
                .expect("writes");
            peer
        });
        let status = post_json(&client(), &url, &[], Bytes::new())
            .await
            .expect("an answer");
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(server.await.expect("the server ends").ip().is_loopback());
    }

    #[tokio::test]
    async fn an_https_url_needs_a_tls_server() {
        // A plain HTTP server behind an https URL: the handshake fails.
        let (listener, url) = bind().await;
        let https = WebhookUrl::parse(&url.as_str().replacen("http:", "https:", 1)).expect("a URL");
        let server = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accepts");
            let mut hello = [0u8; 1];
            stream.read_exact(&mut hello).await.expect("a client hello");
            let _ = stream
                .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                .await;
            hello[0]
        });
        let failed = post_json(&client(), &https, &[], Bytes::new()).await;
        assert!(matches!(failed, Err(PostError::Tls(_))), "{failed:?}");
        assert_eq!(
            server.await.expect("the server ends"),
            0x16,
            "a TLS handshake record"
        );
    }

    #[test]
    fn a_bad_ca_file_is_a_clear_error() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let missing = directory.path().join("missing.pem");
        assert!(matches!(
            delivery_client(Some(&missing)),
            Err(StartError::Ca(CaError::Read { .. }))
        ));
        let empty = directory.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").expect("writes");
        assert!(matches!(
            delivery_client(Some(&empty)),
            Err(StartError::Ca(CaError::Pem { .. }))
        ));
    }
}
