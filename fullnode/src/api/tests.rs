//! The REST API, end to end through the router: a real [`Chain`] on a real
//! database, requests sent with `app(state).oneshot(..)` from a mocked client
//! address, and a few through a real socket.
//!
//! One suite, run against both backends: SQLite in a temporary directory and
//! the PostgreSQL server at 127.0.0.1:5432 (a fresh database per test).
//! Without that server the PostgreSQL tests fail, unless
//! `BLOCKCHAIN_SKIP_POSTGRES=1` is set at build time, which reports them
//! as ignored (see the `blockchain-testkit` crate).
//!
//! [`Chain`]: crate::chain::Chain

mod access;
mod bad_input;
mod events;
mod harness;
mod login;
mod metrics;
mod mining;
mod network;
mod openapi;
mod reads;
mod socket;
mod transactions;
mod wallet;
mod webhooks;

use crate::testing::TestDatabase;

// Each test function takes the empty [`TestDatabase`] it runs on.
blockchain_testkit::on_both_backends! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    open: TestDatabase::open;
    reads: [
        status_describes_a_fresh_regtest_node,
        latest_blocks_are_newest_first_within_the_limit_bounds,
        latest_blocks_count_their_transactions,
        health_says_live_and_ready_when_the_database_answers,
        blocks_by_height_and_by_hash_agree,
        headers_come_as_fields_and_raw_bytes,
        unknown_routes_and_methods_answer_json_errors,
        web_app_is_served_at_the_root,
        web_pages_have_their_routes_and_security_headers,
        cors_preflight_is_answered,
    ],
    transactions: [
        signed_transaction_goes_from_pending_to_confirmed_with_proofs,
        history_is_newest_first_and_paged,
        state_proof_shows_an_absent_address,
        replacement_needs_a_higher_fee,
    ],
    bad_input: [
        malformed_transaction_bodies_are_400s,
        invalid_transactions_are_422s_naming_the_field,
        wrong_addresses_are_400s,
        oversized_bodies_are_413s,
        wrong_content_type_is_415,
        bad_paths_and_queries_are_400s_and_unknown_things_404s,
        extreme_numbers_in_paths_and_queries_are_not_500s,
    ],
    wallet: [
        node_side_wallet_is_created_funded_and_spends,
        concurrent_sends_from_one_wallet_all_confirm,
        wallet_requests_are_checked_before_any_key_work,
        wrong_wallet_passwords_are_limited_per_wallet_and_per_client,
    ],
    mining: [
        mining_blocks_on_request_returns_them,
        mining_blocks_request_is_checked,
        concurrent_mining_requests_each_get_best_chain_blocks,
        continuous_mining_starts_and_stops,
    ],
    network: [
        dialled_peers_are_listed,
        invalid_multiaddrs_are_400s,
    ],
    access: [
        protected_routes_need_a_token_from_remote_clients,
        loopback_callers_need_a_token_and_the_cookie_opens_protected_routes,
        pages_of_other_origins_reach_public_routes_only,
        host_names_the_node_does_not_answer_for_are_refused,
        request_bodies_must_be_json,
        without_a_configured_token_remote_callers_stay_out,
        public_routes_need_no_token,
        rate_limit_refuses_after_the_limit_with_headers,
        rate_limit_spares_the_operator_not_loopback,
        a_thousand_clients_of_one_ipv6_64_share_one_limit,
    ],
    openapi: [
        openapi_document_is_served_as_valid_openapi,
        openapi_document_lists_exactly_the_served_routes,
        documented_schemas_describe_real_answers,
        documented_bounds_are_the_bounds_the_node_enforces,
    ],
    events: [
        event_stream_announces_blocks_and_transactions_and_ends_at_stop,
        slow_event_client_is_dropped_while_the_node_keeps_answering,
        event_streams_beyond_the_limit_are_refused,
        one_client_cannot_hold_every_event_stream,
    ],
    metrics: [
        metrics_parse_and_move_when_a_block_is_mined,
        libp2p_metrics_follow_the_peer_to_peer_layer,
    ],
    login: [
        admin_logs_in_and_reaches_protected_routes_remotely,
        each_login_refusal_has_its_status_and_code,
        bad_tokens_are_refused_with_their_codes,
    ],
    webhooks: [
        mined_blocks_and_transactions_are_delivered_signed,
        deliveries_arrive_after_the_receiver_was_down,
        subscriptions_survive_a_node_restart,
        queued_deliveries_survive_a_stop,
        webhook_requests_are_checked,
        https_deliveries_need_a_trusted_certificate,
    ],
    socket: [
        started_node_serves_the_api_and_web_app_and_stops,
        the_api_cookie_opens_protected_routes_and_changes_at_restart,
        socket_errors_are_json_and_the_node_keeps_answering,
        a_slowloris_client_does_not_block_others,
    ],
}
