//! One webhook delivery: an HTTP/1.1 POST on a fresh connection, with a
//! deadline. Plain `http` only: the node has no TLS client.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Request, StatusCode, header};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use url::Host;

use super::url::WebhookUrl;

/// Longest a delivery attempt may take, connecting included.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an attempt failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(super) enum PostError {
    /// Not an `http` URL.
    #[error("{0} URLs are not supported (no TLS client in this build)")]
    UnsupportedScheme(String),
    /// Connecting failed.
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
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

/// POSTs `body` as JSON to `url` with `headers`; returns the answer's status
/// (its body is not read: the connection closes on the answer's head).
pub(super) async fn post_json(
    url: &WebhookUrl,
    headers: &[(&'static str, String)],
    body: Bytes,
) -> Result<StatusCode, PostError> {
    tokio::time::timeout(ATTEMPT_TIMEOUT, post_json_unbounded(url, headers, body))
        .await
        .map_err(|_| PostError::Timeout)?
}

async fn post_json_unbounded(
    url: &WebhookUrl,
    headers: &[(&'static str, String)],
    body: Bytes,
) -> Result<StatusCode, PostError> {
    if url.scheme() != "http" {
        return Err(PostError::UnsupportedScheme(url.scheme().to_owned()));
    }
    let stream = match url.host() {
        Host::Domain(domain) => TcpStream::connect((domain, url.port())).await,
        Host::Ipv4(ip) => TcpStream::connect((ip, url.port())).await,
        Host::Ipv6(ip) => TcpStream::connect((ip, url.port())).await,
    }
    .map_err(PostError::Connect)?;
    let _ = stream.set_nodelay(true);
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
        let closed = post_json(&url, &[], Bytes::from_static(b"{}")).await;
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
            post_json(&url, &[], Bytes::from_static(b"{}")),
        )
        .await;
        assert!(abandoned.is_err(), "no answer came");
        assert_eq!(server.await.expect("the server ends"), 0, "end of stream");

        // Nothing listening; https.
        let refused = {
            let (listener, url) = bind().await;
            drop(listener);
            post_json(&url, &[], Bytes::new()).await
        };
        assert!(matches!(refused, Err(PostError::Connect(_))), "{refused:?}");
        let https = WebhookUrl::parse("https://127.0.0.1/").expect("a URL");
        assert!(matches!(
            post_json(&https, &[], Bytes::new()).await,
            Err(PostError::UnsupportedScheme(scheme)) if scheme == "https"
        ));
    }
}
