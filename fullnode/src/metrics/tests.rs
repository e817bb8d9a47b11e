use std::time::Duration;

use axum::http::{Method, StatusCode};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

use super::exposition::{Exposition, Kind};
use super::{Metrics, Readings, method_label};

fn parsed(text: &str) -> Exposition {
    Exposition::parse(text).unwrap_or_else(|error| panic!("{error} in\n{text}"))
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
    let text = metrics.render(&readings, None);
    let exposition = parsed(&text);
    for (name, expected) in [
        ("blockchain_height", 7.0),
        ("blockchain_tip_age_seconds", 1.5),
        ("blockchain_peers", 0.0),
        ("blockchain_mempool_transactions", 2.0),
        ("blockchain_mempool_bytes", 3400.0),
        ("blockchain_hash_rate", 0.0),
        ("blockchain_blocks_connected_total", 0.0),
        ("blockchain_reorgs_total", 0.0),
        ("blockchain_transactions_accepted_total", 0.0),
        ("blockchain_event_clients", 1.0),
        ("blockchain_event_clients_dropped_total", 4.0),
    ] {
        assert_eq!(
            exposition.value(name, &[]),
            Some(expected),
            "{name} in\n{text}"
        );
    }
    for (family, kind) in [
        ("blockchain_blocks_connected", Kind::Counter),
        ("blockchain_height", Kind::Gauge),
        ("blockchain_tip_age_seconds", Kind::Gauge),
        ("blockchain_event_clients_dropped", Kind::Counter),
    ] {
        assert_eq!(exposition.families[family].kind, kind, "{family}");
    }
    // A family with labels shows once it has a series.
    assert!(
        !exposition
            .families
            .contains_key("blockchain_http_request_duration_seconds"),
        "{text}"
    );
    assert_eq!(
        exposition.families["blockchain_reorgs"].help,
        "Switches of the best chain to another branch."
    );
    // A later scrape shows the readings of its own time.
    let later = metrics.render(
        &Readings {
            height: 8,
            event_clients_dropped: 5,
            ..readings
        },
        None,
    );
    let later = parsed(&later);
    assert_eq!(later.value("blockchain_height", &[]), Some(8.0));
    assert_eq!(
        later.value("blockchain_event_clients_dropped_total", &[]),
        Some(5.0)
    );
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

    let text = metrics.render(&Readings::default(), None);
    let exposition = parsed(&text);
    for (family, kind) in [
        ("blockchain_http_requests", Kind::Counter),
        ("blockchain_http_request_duration_seconds", Kind::Histogram),
    ] {
        assert_eq!(exposition.families[family].kind, kind, "{family}");
    }
    let ok = [
        ("method", "GET"),
        ("route", "/api/v1/blocks/{height}"),
        ("status", "200"),
    ];
    let not_found = [
        ("method", "GET"),
        ("route", "/api/v1/blocks/{height}"),
        ("status", "404"),
    ];
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    let other = [
        ("method", "other"),
        ("route", "unmatched"),
        ("status", "404"),
    ];
    let with_le = |le| {
        let mut labels = ok.to_vec();
        labels.push(("le", le));
        labels
    };
    for (name, labels, expected) in [
        ("blockchain_http_requests_total", &ok[..], 2.0),
        ("blockchain_http_requests_total", &not_found[..], 1.0),
        ("blockchain_http_requests_total", &unmatched[..], 1.0),
        ("blockchain_http_requests_total", &other[..], 1.0),
        (
            "blockchain_http_request_duration_seconds_bucket",
            &with_le("0.0025")[..],
            1.0,
        ),
        (
            "blockchain_http_request_duration_seconds_bucket",
            &with_le("+Inf")[..],
            2.0,
        ),
        (
            "blockchain_http_request_duration_seconds_sum",
            &ok[..],
            0.005,
        ),
        (
            "blockchain_http_request_duration_seconds_count",
            &ok[..],
            2.0,
        ),
    ] {
        assert_eq!(
            exposition.value(name, labels),
            Some(expected),
            "{name} {labels:?} in\n{text}"
        );
    }
}

#[test]
fn database_operations_are_timed_and_failures_counted() {
    let metrics = Metrics::default();
    metrics.observe_database("tip", Duration::from_micros(50), true);
    metrics.observe_database("tip", Duration::from_micros(50), false);
    metrics.observe_database("peers", Duration::from_micros(50), true);
    let text = metrics.render(&Readings::default(), None);
    let exposition = parsed(&text);
    for (family, kind) in [
        ("blockchain_db_errors", Kind::Counter),
        ("blockchain_db_operation_duration_seconds", Kind::Histogram),
    ] {
        assert_eq!(exposition.families[family].kind, kind, "{family}");
    }
    for (name, labels, expected) in [
        (
            "blockchain_db_operation_duration_seconds_bucket",
            &[("operation", "tip"), ("le", "0.0001")][..],
            2.0,
        ),
        (
            "blockchain_db_operation_duration_seconds_count",
            &[("operation", "tip")][..],
            2.0,
        ),
        (
            "blockchain_db_errors_total",
            &[("operation", "tip")][..],
            1.0,
        ),
        // An operation that never failed shows 0 errors.
        (
            "blockchain_db_errors_total",
            &[("operation", "peers")][..],
            0.0,
        ),
    ] {
        assert_eq!(
            exposition.value(name, labels),
            Some(expected),
            "{name} {labels:?} in\n{text}"
        );
    }
}

#[test]
fn the_network_registry_is_rendered_after_the_node_metrics() {
    let metrics = Metrics::default();
    let mut network = Registry::default();
    let dials: Counter = Counter::default();
    network
        .sub_registry_with_prefix("libp2p")
        .register("dials", "Dials.", dials.clone());
    dials.inc_by(3);
    let text = metrics.render(&Readings::default(), Some(&network));
    let exposition = parsed(&text);
    assert_eq!(exposition.value("libp2p_dials_total", &[]), Some(3.0));
    assert_eq!(exposition.value("blockchain_height", &[]), Some(0.0));
    assert!(text.ends_with("libp2p_dials_total 3\n# EOF\n"), "{text}");
}
