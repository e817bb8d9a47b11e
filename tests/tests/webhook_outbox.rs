//! kill -9 while webhook deliveries wait for a receiver that is down: the
//! restarted node sends every one of them (the outbox), in order.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::p2p::wait_until;
use crate::support::node::{NodeOptions, NodeProcess};
use blockchain_testkit::http::request_with_token;
use blockchain_testkit::vectors::vector_address;

/// A receiver on 127.0.0.1 that records each delivery's body and answers
/// 503 while `failing`, 200 otherwise.
struct Receiver {
    addr: SocketAddr,
    failing: Arc<AtomicBool>,
    /// (answered 2xx, X-Webhook-Delivery, body) of every request.
    received: Arc<Mutex<Vec<(bool, String, Value)>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let addr = listener.local_addr().expect("an address");
        let failing = Arc::new(AtomicBool::new(true));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (fail, log) = (Arc::clone(&failing), Arc::clone(&received));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                let mut delivery = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        match name.to_ascii_lowercase().as_str() {
                            "content-length" => length = value.trim().parse().unwrap_or(0),
                            "x-webhook-delivery" => delivery = value.trim().to_owned(),
                            _ => {}
                        }
                    }
                }
                let mut body = vec![0u8; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let ok = !fail.load(Ordering::SeqCst);
                let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                log.lock().expect("not poisoned").push((ok, delivery, body));
                let status = if ok {
                    "200 OK"
                } else {
                    "503 Service Unavailable"
                };
                let _ = reader.get_mut().write_all(
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                        .as_bytes(),
                );
            }
        });
        Receiver {
            addr,
            failing,
            received,
        }
    }

    fn received(&self) -> Vec<(bool, String, Value)> {
        self.received.lock().expect("not poisoned").clone()
    }
}

fn queued(node: &NodeProcess) -> u64 {
    let listed = request_with_token(
        node.addr,
        "GET",
        "/api/v1/webhooks",
        None,
        Some(&node.api_token()),
    )
    .expect("the node answers");
    listed.body["webhooks"][0]["queued"].as_u64().unwrap_or(0)
}

#[test]
fn webhook_deliveries_waiting_at_a_kill_are_sent_after_the_restart() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let receiver = Receiver::start();
    let options = NodeOptions::regtest(dir.path());
    let node = NodeProcess::start(&options);
    let registered = node.post_protected(
        "/api/v1/webhooks",
        &json!({
            "url": format!("http://{}/hook", receiver.addr),
            "events": ["new_block"],
            "secret": "a secret of sixteen bytes or more",
        }),
    );
    assert_eq!(registered.status, 201, "{:?}", registered.body);
    node.mine(&vector_address(0), 3);
    wait_until(
        "three deliveries waiting for the receiver",
        Duration::from_secs(30),
        &[&node],
        || queued(&node) == 3 && !receiver.received().is_empty(),
    );
    let tried = receiver.received().len();
    node.kill();

    receiver.failing.store(false, Ordering::SeqCst);
    let again = NodeProcess::start(&options);
    wait_until(
        "the deliveries after the restart",
        Duration::from_secs(30),
        &[&again],
        || receiver.received().iter().filter(|(ok, ..)| *ok).count() >= 3,
    );
    let delivered: Vec<(String, u64)> = receiver.received()[tried..]
        .iter()
        .filter(|(ok, ..)| *ok)
        .map(|(_, id, body)| {
            (
                id.clone(),
                body["data"]["height"].as_u64().expect("a height"),
            )
        })
        .collect();
    let heights: Vec<u64> = delivered.iter().map(|(_, height)| *height).collect();
    assert_eq!(heights, [1, 2, 3], "every waiting delivery, in order");
    let first_id = &receiver.received()[0].1;
    assert_eq!(
        &delivered[0].0, first_id,
        "the delivery tried before the kill keeps its id"
    );
    wait_until("an empty queue", Duration::from_secs(10), &[&again], || {
        queued(&again) == 0
    });
}
