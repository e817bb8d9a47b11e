use std::time::Duration;

use axum::http::{Method, StatusCode};

use super::{Metrics, Readings, method_label};

fn lines(text: &str) -> Vec<&str> {
    text.lines().filter(|line| !line.starts_with('#')).collect()
}

#[test]
fn readings_and_counters_are_rendered() {
    let metrics = Metrics::default();
    let readings = Readings {
        height: 7,
        tip_age_seconds: 1.5,
        peers: 0,
        mempool_transactions: 2,
        mempool_bytes: 3_400,
        hash_rate: 0.0,
        event_clients: 1,
        event_clients_dropped: 4,
    };
    let text = metrics.render(&readings);
    let samples = lines(&text);
    for expected in [
        "blockchain_height 7",
        "blockchain_tip_age_seconds 1.5",
        "blockchain_peers 0",
        "blockchain_mempool_transactions 2",
        "blockchain_mempool_bytes 3400",
        "blockchain_hash_rate 0",
        "blockchain_blocks_connected_total 0",
        "blockchain_reorgs_total 0",
        "blockchain_transactions_accepted_total 0",
        "blockchain_event_clients 1",
        "blockchain_event_clients_dropped_total 4",
    ] {
        assert!(samples.contains(&expected), "{expected} in\n{text}");
    }
    assert!(text.contains("# TYPE blockchain_blocks_connected_total counter\n"));
    assert!(text.contains("# TYPE blockchain_height gauge\n"));
    assert!(text.ends_with('\n'));
}

#[test]
fn http_requests_are_labelled_by_route_template_method_and_status() {
    let metrics = Metrics::default();
    let blocks = Some("/api/v1/blocks/{height}");
    metrics.observe_http(
        method_label(&Method::GET),
        blocks,
        StatusCode::OK,
        Duration::from_millis(2),
    );
    metrics.observe_http(
        method_label(&Method::GET),
        blocks,
        StatusCode::OK,
        Duration::from_millis(3),
    );
    metrics.observe_http(
        method_label(&Method::GET),
        blocks,
        StatusCode::NOT_FOUND,
        Duration::ZERO,
    );
    metrics.observe_http(
        method_label(&Method::GET),
        None,
        StatusCode::NOT_FOUND,
        Duration::ZERO,
    );
    let odd = Method::from_bytes(b"BREW").expect("a valid extension method");
    metrics.observe_http(
        method_label(&odd),
        None,
        StatusCode::NOT_FOUND,
        Duration::ZERO,
    );

    let text = metrics.render(&Readings::default());
    let samples = lines(&text);
    for expected in [
        r#"blockchain_http_requests_total{method="GET",route="/api/v1/blocks/{height}",status="200"} 2"#,
        r#"blockchain_http_requests_total{method="GET",route="/api/v1/blocks/{height}",status="404"} 1"#,
        r#"blockchain_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        r#"blockchain_http_requests_total{method="other",route="unmatched",status="404"} 1"#,
        r#"blockchain_http_request_duration_seconds_bucket{method="GET",route="/api/v1/blocks/{height}",status="200",le="0.0025"} 1"#,
        r#"blockchain_http_request_duration_seconds_bucket{method="GET",route="/api/v1/blocks/{height}",status="200",le="+Inf"} 2"#,
        r#"blockchain_http_request_duration_seconds_sum{method="GET",route="/api/v1/blocks/{height}",status="200"} 0.005"#,
        r#"blockchain_http_request_duration_seconds_count{method="GET",route="/api/v1/blocks/{height}",status="200"} 2"#,
    ] {
        assert!(samples.contains(&expected), "{expected} in\n{text}");
    }
}

#[test]
fn database_operations_are_timed_and_failures_counted() {
    let metrics = Metrics::default();
    metrics.observe_database("tip", Duration::from_micros(50), true);
    metrics.observe_database("tip", Duration::from_micros(50), false);
    let text = metrics.render(&Readings::default());
    let samples = lines(&text);
    for expected in [
        r#"blockchain_db_operation_duration_seconds_bucket{operation="tip",le="0.0001"} 2"#,
        r#"blockchain_db_operation_duration_seconds_count{operation="tip"} 2"#,
        r#"blockchain_db_errors_total{operation="tip"} 1"#,
    ] {
        assert!(samples.contains(&expected), "{expected} in\n{text}");
    }
}
