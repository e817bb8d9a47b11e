//! The API's error answer: `{"error": true, "code", "message", "details"}`
//! with a fitting status. Internal errors are logged, never shown.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

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
    /// The field at fault, if any.
    pub field: Option<String>,
    /// Why the field is at fault.
    pub reason: Option<String>,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
            reason: None,
        }
    }

    /// Names the field at fault and why.
    pub fn with_field(mut self, field: impl Into<String>, reason: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self.reason = Some(reason.into());
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
        let details = match (&self.field, &self.reason) {
            (None, None) => serde_json::Value::Null,
            _ => json!({ "field": self.field, "reason": self.reason }),
        };
        let body = json!({ "error": true, "code": self.code, "message": self.message, "details": details });
        (self.status, Json(body)).into_response()
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> Self {
        match error {
            StorageError::Database(sqlx::Error::PoolTimedOut) => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "NOT_READY",
                "the database is busy; try again",
            ),
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
