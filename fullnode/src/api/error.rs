//! The API's error answer: `{"error": true, "code", "message", "details"}`
//! with a fitting status. Internal errors are logged, never shown.

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{BoxError, Json};
use serde::Serialize;
use utoipa::ToSchema;

use crate::chain::{SubmitBlockError, SubmitTxError};
use crate::mempool::MempoolError;
use crate::storage::StorageError;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// For people.
    pub message: String,
    /// The field at fault and why, if a single field is.
    pub details: Option<ErrorDetails>,
    /// Seconds to wait before trying again (`Retry-After`), if known.
    pub retry_after: Option<u64>,
}

/// An error answer: the body of every 4xx and 5xx status.
// What `ApiError` sends, and its schema in the OpenAPI document (named `ApiError`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = ApiError)]
pub struct ErrorBody {
    /// Always `true`.
    pub error: bool,
    /// Stable machine-readable code, e.g. `TRANSACTION_VALIDATION_FAILED`
    /// (docs/API.md lists them with their statuses).
    #[schema(value_type = String, example = "BLOCK_NOT_FOUND")]
    pub code: &'static str,
    /// For people.
    pub message: String,
    /// The field at fault and why; null when no single field is at fault.
    #[schema(required = true)]
    pub details: Option<ErrorDetails>,
}

/// The field an error answer blames.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ErrorDetails {
    /// Name of the body field, path or query parameter at fault.
    pub field: String,
    /// Why it is at fault.
    pub reason: String,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    /// Says how many seconds to wait before trying again (`Retry-After`).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Names the field at fault and why.
    pub fn with_field(mut self, field: impl Into<String>, reason: impl Into<String>) -> Self {
        self.details = Some(ErrorDetails {
            field: field.into(),
            reason: reason.into(),
        });
        self
    }

    /// 400: malformed input.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404: unknown thing.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 422: well-formed but invalid.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 413: the request body is over [`super::BODY_LIMIT`].
    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!(
                "request body is too large (at most {} bytes)",
                super::BODY_LIMIT
            ),
        )
    }

    /// 500, logged; the client sees a generic message.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "internal error; see the node's log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: true,
            code: self.code,
            message: self.message,
            details: self.details,
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}

/// The answers of the tower-http layers (the route timeouts' 408, the body
/// limit's 413, a caught panic's 500: none of them JSON) in the API's error
/// format, keeping their headers and extensions; every other answer as it
/// is. The one place those answers get their codes.
pub(super) fn api_error_answers<B>(response: Response<B>) -> Response
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    let error = match response.status() {
        _ if is_json => None,
        StatusCode::REQUEST_TIMEOUT => Some(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "REQUEST_TIMEOUT",
            "the request took too long",
        )),
        StatusCode::PAYLOAD_TOO_LARGE => Some(ApiError::payload_too_large()),
        // Logged where it happened (the panic handler).
        StatusCode::INTERNAL_SERVER_ERROR => Some(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "internal error; see the node's log",
        )),
        _ => None,
    };
    let Some(error) = error else {
        return response.map(Body::new);
    };
    let (mut parts, _) = response.into_parts();
    let (api, body) = error.into_response().into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.extend(api.headers);
    Response::from_parts(parts, body)
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        Self::from(&error)
    }
}

impl From<&StorageError> for ApiError {
    fn from(error: &StorageError) -> Self {
        match error {
            StorageError::Database(sqlx::Error::PoolTimedOut) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "NOT_READY",
                "the database is busy; try again",
            ),
            StorageError::BatchFailed(error) => Self::from(error.as_ref()),
            other => Self::internal(other),
        }
    }
}

impl From<SubmitTxError> for ApiError {
    fn from(error: SubmitTxError) -> Self {
        match error {
            SubmitTxError::Invalid(error) => Self::invalid(
                "TRANSACTION_VALIDATION_FAILED",
                format!("transaction rejected: {error}"),
            )
            .with_field(tx_error_field(&error), error.to_string()),
            SubmitTxError::Rejected(error) => {
                let (status, code, field) = match &error {
                    MempoolError::AlreadyKnown(_) => {
                        (StatusCode::CONFLICT, "TRANSACTION_ALREADY_KNOWN", "txid")
                    }
                    MempoolError::ReplacementUnderpriced { .. } => {
                        (StatusCode::CONFLICT, "REPLACEMENT_UNDERPRICED", "fee")
                    }
                    MempoolError::FeeTooLow { .. } => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "TRANSACTION_VALIDATION_FAILED",
                        "fee",
                    ),
                    MempoolError::NonceTooLow { .. } | MempoolError::NonceGap { .. } => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "TRANSACTION_VALIDATION_FAILED",
                        "nonce",
                    ),
                    MempoolError::InsufficientFunds { .. } => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "INSUFFICIENT_FUNDS",
                        "amount",
                    ),
                    MempoolError::Full { .. } => {
                        (StatusCode::SERVICE_UNAVAILABLE, "MEMPOOL_FULL", "fee")
                    }
                    MempoolError::Coinbase => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "TRANSACTION_VALIDATION_FAILED",
                        "sender",
                    ),
                };
                Self::new(status, code, format!("transaction rejected: {error}"))
                    .with_field(field, error.to_string())
            }
            SubmitTxError::Storage(error) => error.into(),
        }
    }
}

fn tx_error_field(error: &blockchain_core::transaction::TxError) -> &'static str {
    use blockchain_core::transaction::TxError;
    match error {
        TxError::PublicKey(_) | TxError::UnexpectedCoinbase => "sender",
        TxError::BadSignature => "signature",
        TxError::ZeroAmount
        | TxError::AmountOverflow
        | TxError::Overspend { .. }
        | TxError::BalanceOverflow => "amount",
        TxError::WrongNonce { .. } | TxError::NonceOverflow => "nonce",
        _ => "transaction",
    }
}

impl From<SubmitBlockError> for ApiError {
    fn from(error: SubmitBlockError) -> Self {
        match error {
            SubmitBlockError::Storage(error) => error.into(),
            SubmitBlockError::Duplicate(_) => Self::new(
                StatusCode::CONFLICT,
                "BLOCK_ALREADY_KNOWN",
                error.to_string(),
            ),
            other => Self::invalid("BLOCK_VALIDATION_FAILED", other.to_string()),
        }
    }
}
