//! A small HTTP/1.1 load generator in the spirit of wrk: keep-alive
//! connections, one GET in flight on each, responses parsed with httparse and
//! read to the end of their Content-Length. Built into the bench so that it
//! needs no outside tool and loads every server it is pointed at the same way.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Most response headers parsed.
const MAX_HEADERS: usize = 32;

/// Open connections to one server, all asking for one path.
#[derive(Debug)]
pub(crate) struct HttpLoad {
    connections: Vec<Connection>,
}

#[derive(Debug)]
struct Connection {
    stream: TcpStream,
    request: Vec<u8>,
    buffer: Vec<u8>,
}

impl HttpLoad {
    /// Opens `connections` keep-alive connections to `server` for `GET path`.
    pub(crate) async fn connect(server: SocketAddr, path: &str, connections: usize) -> HttpLoad {
        let request = format!("GET {path} HTTP/1.1\r\nHost: {server}\r\n\r\n").into_bytes();
        let mut opened = Vec::with_capacity(connections);
        for _ in 0..connections {
            let stream = TcpStream::connect(server)
                .await
                .unwrap_or_else(|error| panic!("connecting to {server}: {error}"));
            stream.set_nodelay(true).expect("TCP_NODELAY can be set");
            opened.push(Connection {
                stream,
                request: request.clone(),
                buffer: Vec::with_capacity(4096),
            });
        }
        HttpLoad {
            connections: opened,
        }
    }

    /// Sends `requests` requests spread evenly over the connections, each
    /// answered 200 before its connection sends the next; returns the time
    /// from the first request to the last response.
    pub(crate) async fn run(&mut self, requests: u64) -> Duration {
        let count = self.connections.len() as u64;
        let started = Instant::now();
        let tasks: Vec<_> = self
            .connections
            .drain(..)
            .zip(0..)
            .map(|(mut connection, index)| {
                let share = requests / count + u64::from(index < requests % count);
                tokio::spawn(async move {
                    for _ in 0..share {
                        connection.get().await;
                    }
                    connection
                })
            })
            .collect();
        for task in tasks {
            self.connections
                .push(task.await.expect("a load connection panicked"));
        }
        started.elapsed()
    }
}

impl Connection {
    /// One request and its whole response.
    async fn get(&mut self) {
        self.stream
            .write_all(&self.request)
            .await
            .expect("the server reads requests");
        self.buffer.clear();
        let (head, body) = loop {
            self.read_more().await;
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut response = httparse::Response::new(&mut headers);
            match response
                .parse(&self.buffer)
                .expect("the server answers HTTP/1.1")
            {
                httparse::Status::Partial => continue,
                httparse::Status::Complete(head) => {
                    assert_eq!(response.code, Some(200), "the server answers 200 OK");
                    let length = response
                        .headers
                        .iter()
                        .find(|header| header.name.eq_ignore_ascii_case("content-length"))
                        .and_then(|header| std::str::from_utf8(header.value).ok())
                        .and_then(|value| value.parse::<usize>().ok())
                        .expect("the server sends a Content-Length");
                    break (head, length);
                }
            }
        };
        while self.buffer.len() < head + body {
            self.read_more().await;
        }
        assert_eq!(self.buffer.len(), head + body, "one response per request");
    }

    async fn read_more(&mut self) {
        let read = self
            .stream
            .read_buf(&mut self.buffer)
            .await
            .expect("the server keeps the connection open");
        assert!(read > 0, "the server closed a keep-alive connection");
    }
}
