//! One webhook delivery: an HTTP/1.1 POST on a fresh connection, with a
//! deadline; over TLS (rustls, ring) for `https` URLs.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Request, StatusCode, header};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto};
use url::Host;

use super::url::WebhookUrl;

/// Longest a delivery attempt may take, connecting included.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the TLS client could not be set up.
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

/// The TLS client of `https` deliveries: the bundled Mozilla roots
/// (webpki-roots), plus the PEM certificates of `ca_file` when given.
pub fn tls_connector(ca_file: Option<&Path>) -> Result<TlsConnector, CaError> {
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
    let config = ClientConfig::builder_with_provider(Arc::new(crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
}

/// Why an attempt failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(super) enum PostError {
    /// Neither `http` nor `https`.
    #[error("{0} URLs are not supported")]
    UnsupportedScheme(String),
    /// Connecting failed.
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    /// The host is no valid TLS server name.
    #[error("invalid TLS server name: {0}")]
    ServerName(String),
    /// The TLS handshake failed (an untrusted certificate, among others).
    #[error("TLS handshake failed: {0}")]
    Tls(std::io::Error),
    /// The HTTP exchange failed.
    #[error("HTTP error: {0}")]
    Http(#[from] hyper::Error),
    /// The request could not be built.
    #[error("bad request: {0}")]
    Request(#[from] axum::http::Error),
    /// Over [`ATTEMPT_TIMEOUT`].
    #[error("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())]
    Timeout,
}

/// POSTs `body` as JSON to `url` with `headers` (through `tls` for `https`);
/// returns the answer's status (its body is not read: the connection
/// closes on the answer's head).
pub(super) async fn post_json(
    url: &WebhookUrl,
    tls: &TlsConnector,
    headers: &[(&'static str, String)],
    body: Bytes,
) -> Result<StatusCode, PostError> {
    tokio::time::timeout(
        ATTEMPT_TIMEOUT,
        post_json_unbounded(url, tls, headers, body),
    )
    .await
    .map_err(|_| PostError::Timeout)?
}

async fn post_json_unbounded(
    url: &WebhookUrl,
    tls: &TlsConnector,
    headers: &[(&'static str, String)],
    body: Bytes,
) -> Result<StatusCode, PostError> {
    let secure = match url.scheme() {
        "http" => false,
        "https" => true,
        other => return Err(PostError::UnsupportedScheme(other.to_owned())),
    };
    let stream = match url.host() {
        Host::Domain(domain) => TcpStream::connect((domain, url.port())).await,
        Host::Ipv4(ip) => TcpStream::connect((ip, url.port())).await,
        Host::Ipv6(ip) => TcpStream::connect((ip, url.port())).await,
    }
    .map_err(PostError::Connect)?;
    let _ = stream.set_nodelay(true);
    if !secure {
        return exchange(stream, url, headers, body).await;
    }
    let server_name = match url.host() {
        Host::Domain(domain) => ServerName::try_from(domain.to_owned())
            .map_err(|error| PostError::ServerName(format!("{domain}: {error}")))?,
        Host::Ipv4(ip) => ServerName::from(IpAddr::V4(ip)),
        Host::Ipv6(ip) => ServerName::from(IpAddr::V6(ip)),
    };
    let stream = tls
        .connect(server_name, stream)
        .await
        .map_err(PostError::Tls)?;
    exchange(stream, url, headers, body).await
}

/// The HTTP/1.1 exchange on a connected `stream`.
async fn exchange<S>(
    stream: S,
    url: &WebhookUrl,
    headers: &[(&'static str, String)],
    body: Bytes,
) -> Result<StatusCode, PostError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let mut request = Request::post(url.path_and_query())
        .header(header::HOST, url.authority())
        .header(header::CONTENT_TYPE, "application/json")
        .header(
            header::USER_AGENT,
            concat!("blockchain-node/", env!("CARGO_PKG_VERSION")),
        )
        .header(header::CONNECTION, "close");
    for (name, value) in headers {
        request = request.header(*name, value.as_str());
    }
    let request = request.body(Full::new(body))?;
    // The connection is driven here, beside the request, so that it closes
    // with this future, on the answer's head as on a timeout.
    let mut connection = std::pin::pin!(connection);
    let mut answer = std::pin::pin!(sender.send_request(request));
    tokio::select! {
        biased;
        answer = &mut answer => Ok(answer?.status()),
        closed = &mut connection => {
            closed?;
            // It ended cleanly: the answer, or why there is none, was handed over.
            Ok(answer.await?.status())
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    fn tls() -> TlsConnector {
        tls_connector(None).expect("the bundled roots")
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
            &url,
            &tls(),
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
            format!("host: {}", url.authority()),
            "content-type: application/json".to_owned(),
            "x-signature: abc".to_owned(),
            "content-length: 7".to_owned(),
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
        let closed = post_json(&url, &tls(), &[], Bytes::from_static(b"{}")).await;
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
            post_json(&url, &tls(), &[], Bytes::from_static(b"{}")),
        )
        .await;
        assert!(abandoned.is_err(), "no answer came");
        assert_eq!(server.await.expect("the server ends"), 0, "end of stream");

        // Nothing listening; https.
        let refused = {
            let (listener, url) = bind().await;
            drop(listener);
            post_json(&url, &tls(), &[], Bytes::new()).await
        };
        assert!(matches!(refused, Err(PostError::Connect(_))), "{refused:?}");
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
        let failed = post_json(&https, &tls(), &[], Bytes::new()).await;
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
            tls_connector(Some(&missing)),
            Err(CaError::Read { .. })
        ));
        let empty = directory.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").expect("writes");
        assert!(matches!(
            tls_connector(Some(&empty)),
            Err(CaError::Pem { .. })
        ));
    }
}
