//! Webhook subscriptions (see [`crate::webhooks`]): register, list, delete.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{ApiJson, ApiPath};
use crate::webhooks::{MAX_SECRET_LEN, MIN_SECRET_LEN, RegisterError, Subscription, WebhookEvent};

/// An event a webhook can receive.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = WebhookEvent)]
pub(super) enum EventName {
    /// The best tip moved forward: `data` is `{hash, height}`.
    NewBlock,
    /// A transaction entered the mempool: `data` is `{txid}`.
    NewTransaction,
    /// The best chain switched branches: `data` is `{old_tip, new_tip, fork_height, height}`.
    Reorg,
}

impl From<EventName> for WebhookEvent {
    fn from(name: EventName) -> Self {
        match name {
            EventName::NewBlock => WebhookEvent::NewBlock,
            EventName::NewTransaction => WebhookEvent::NewTransaction,
            EventName::Reorg => WebhookEvent::Reorg,
        }
    }
}

impl From<WebhookEvent> for EventName {
    fn from(event: WebhookEvent) -> Self {
        match event {
            WebhookEvent::NewBlock => EventName::NewBlock,
            WebhookEvent::NewTransaction => EventName::NewTransaction,
            WebhookEvent::Reorg => EventName::Reorg,
        }
    }
}

/// A subscription to make.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = WebhookRequest)]
pub(super) struct Register {
    /// Where to POST deliveries: a loopback `http` or `https` URL, or one under a
    /// prefix the node's `--webhook-allow` lists.
    #[schema(example = "http://127.0.0.1:9000/hooks/node")]
    url: String,
    /// What to receive (at least one).
    events: Vec<EventName>,
    /// Key of the deliveries' `X-Signature` (hex of HMAC-SHA256 of the
    /// body), 16 to 256 bytes. Never shown again.
    #[schema(min_length = 16, max_length = 256)]
    secret: String,
}

/// A subscription (its secret is never shown).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Webhook)]
pub(super) struct WebhookJson {
    /// Its id, 32 hex digits.
    #[schema(pattern = "^[0-9a-f]{32}$")]
    id: String,
    /// Where deliveries go.
    url: String,
    /// What it receives.
    events: Vec<EventName>,
    /// When it was made (ms since the Unix epoch).
    created_at: u64,
    /// Deliveries waiting to be sent (at most 1000).
    queued: usize,
    /// Deliveries dropped because 1000 were already waiting.
    dropped: u64,
}

impl From<Subscription> for WebhookJson {
    fn from(subscription: Subscription) -> Self {
        WebhookJson {
            id: subscription.id,
            url: subscription.url,
            events: subscription.events.into_iter().map(Into::into).collect(),
            created_at: subscription.created_ms,
            queued: subscription.queued,
            dropped: subscription.dropped,
        }
    }
}

/// Every subscription.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct WebhookList {
    /// Oldest first.
    webhooks: Vec<WebhookJson>,
    /// Subscriptions in `webhooks`.
    count: usize,
}

/// Register a webhook
///
/// From now on, each event of `events` is POSTed to `url` as JSON
/// `{event, data, timestamp}` with `X-Signature`, `X-Webhook-Event`,
/// `X-Webhook-Id` and `X-Webhook-Delivery` headers, retried with
/// exponential backoff until the receiver answers 2xx. The subscription
/// survives restarts.
#[utoipa::path(
    post,
    path = "/webhooks",
    tag = "webhooks",
    operation_id = "create_webhook",
    request_body = Register,
    security(("api_token" = [])),
    responses(
        (status = 201, description = "Registered", body = WebhookJson),
        (status = 400, description = "`MALFORMED_JSON`, `INVALID_REQUEST_BODY` (wrong types, missing or unknown fields, unknown event), `INVALID_URL` (not an absolute http or https URL without credentials or fragment, or over 2048 characters), `INVALID_EVENTS` (none), `INVALID_SECRET` (not 16 to 256 bytes)", body = ErrorBody),
        (status = 401, description = "`UNAUTHORIZED`: no bearer token (a loopback address is not a credential); `INVALID_TOKEN`, `TOKEN_EXPIRED`: a bad login token", body = ErrorBody),
        (status = 403, description = "`FORBIDDEN`: a wrong bearer token; `NOT_ADMIN`: a login token of an address no longer an administrator; `WEBHOOK_URL_NOT_ALLOWED`: neither loopback nor under a `--webhook-allow` prefix", body = ErrorBody),
        (status = 409, description = "`TOO_MANY_WEBHOOKS`: the node keeps at most 100", body = ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: body over 64 KiB", body = ErrorBody),
        (status = 415, description = "`UNSUPPORTED_MEDIA_TYPE`: not `Content-Type: application/json`", body = ErrorBody),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
pub(super) async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Register>,
) -> Result<(StatusCode, Json<WebhookJson>), ApiError> {
    let events: Vec<WebhookEvent> = body.events.into_iter().map(Into::into).collect();
    let subscription = state
        .webhooks
        .register(&body.url, &events, body.secret)
        .await
        .map_err(register_error)?;
    Ok((StatusCode::CREATED, Json(subscription.into())))
}

fn register_error(error: RegisterError) -> ApiError {
    let message = error.to_string();
    let (status, code, field) = match error {
        RegisterError::Storage(error) => return error.into(),
        RegisterError::Url(_) => (StatusCode::BAD_REQUEST, "INVALID_URL", "url"),
        RegisterError::NotAllowed(_) => (StatusCode::FORBIDDEN, "WEBHOOK_URL_NOT_ALLOWED", "url"),
        RegisterError::NoEvents => (StatusCode::BAD_REQUEST, "INVALID_EVENTS", "events"),
        RegisterError::Secret => (StatusCode::BAD_REQUEST, "INVALID_SECRET", "secret"),
        RegisterError::TooMany => (StatusCode::CONFLICT, "TOO_MANY_WEBHOOKS", "url"),
    };
    ApiError::new(status, code, message.clone()).with_field(field, message)
}

/// List webhooks
#[utoipa::path(
    get,
    path = "/webhooks",
    tag = "webhooks",
    operation_id = "list_webhooks",
    security(("api_token" = [])),
    responses(
        (status = 200, description = "Every subscription, oldest first", body = WebhookList),
        (status = 401, description = "`UNAUTHORIZED`: no bearer token (a loopback address is not a credential); `INVALID_TOKEN`, `TOKEN_EXPIRED`: a bad login token", body = ErrorBody),
        (status = 403, description = "`FORBIDDEN`: a wrong bearer token; `NOT_ADMIN`: a login token of an address no longer an administrator", body = ErrorBody),
    )
)]
pub(super) async fn list(State(state): State<AppState>) -> Json<WebhookList> {
    let webhooks: Vec<WebhookJson> = state.webhooks.list().into_iter().map(Into::into).collect();
    Json(WebhookList {
        count: webhooks.len(),
        webhooks,
    })
}

/// Delete a webhook
///
/// Ends the subscription; deliveries still queued for it are dropped.
#[utoipa::path(
    delete,
    path = "/webhooks/{id}",
    tag = "webhooks",
    operation_id = "delete_webhook",
    params(("id" = String, Path, description = "The subscription's id")),
    security(("api_token" = [])),
    responses(
        (status = 200, description = "Deleted; the subscription as it was", body = WebhookJson),
        (status = 400, description = "`INVALID_PATH`: not UTF-8", body = ErrorBody),
        (status = 401, description = "`UNAUTHORIZED`: no bearer token (a loopback address is not a credential); `INVALID_TOKEN`, `TOKEN_EXPIRED`: a bad login token", body = ErrorBody),
        (status = 403, description = "`FORBIDDEN`: a wrong bearer token; `NOT_ADMIN`: a login token of an address no longer an administrator", body = ErrorBody),
        (status = 404, description = "`WEBHOOK_NOT_FOUND`", body = ErrorBody),
        (status = 503, description = "`NOT_READY`: the database is busy", body = ErrorBody),
    )
)]
pub(super) async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<WebhookJson>, ApiError> {
    match state.webhooks.delete(&id).await? {
        Some(subscription) => Ok(Json(subscription.into())),
        None => Err(
            ApiError::not_found("WEBHOOK_NOT_FOUND", format!("no webhook has id {id:?}"))
                .with_field("id", "unknown"),
        ),
    }
}

/// The secret's bounds, as the schema states them.
const _: () = assert!(MIN_SECRET_LEN == 16 && MAX_SECRET_LEN == 256);
