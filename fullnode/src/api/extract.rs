//! Extractors whose rejections use the API's error format.

use std::net::{IpAddr, SocketAddr};

use axum::extract::connect_info::MockConnectInfo;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{Extensions, StatusCode};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// JSON body; malformed JSON, wrong types and unknown fields are a 400, a
/// body over the limit a 413, a wrong content type a 415.
#[derive(Debug)]
pub(super) struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let message = rejection.body_text();
    match rejection {
        JsonRejection::JsonDataError(_) => {
            // `Failed to deserialize the JSON body into the target type: <field>: <reason>`
            let field = error_field(&message, "target type: ").map(str::to_owned);
            let error = ApiError::bad_request("INVALID_REQUEST_BODY", message);
            match field {
                Some(field) => error.with_field(field, "not a valid value"),
                None => error,
            }
        }
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_request("MALFORMED_JSON", message),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "expected Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(rejection) => body_rejection(rejection),
        _ => ApiError::new(rejection.status(), "INVALID_REQUEST_BODY", message),
    }
}

/// A body that could not be read: over the limit (413) or cut short.
pub(super) fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large()
    } else {
        ApiError::new(
            rejection.status(),
            "INVALID_REQUEST_BODY",
            rejection.body_text(),
        )
    }
}

/// Path parameters; one that does not decode (e.g. percent-encoded bytes
/// that are not UTF-8) is a 400.
#[derive(Debug)]
pub(super) struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| ApiPath(value))
            .map_err(|rejection: PathRejection| {
                if rejection.status().is_server_error() {
                    ApiError::internal(rejection.body_text())
                } else {
                    ApiError::new(rejection.status(), "INVALID_PATH", rejection.body_text())
                }
            })
    }
}

/// Query string; bad values are a 400.
#[derive(Debug)]
pub(super) struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| ApiQuery(value))
            .map_err(|rejection: QueryRejection| {
                let message = rejection.body_text();
                let field = query_error_field(&message).map(str::to_owned);
                let error = ApiError::bad_request("INVALID_QUERY", message);
                match field {
                    Some(field) => error.with_field(field, "not a valid value"),
                    None => error,
                }
            })
    }
}

/// Largest value an integer query or path parameter takes: 2^53 − 1, the
/// largest integer a JavaScript number holds exactly. The OpenAPI document
/// states it as the parameter's `maximum`.
pub(super) const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;

/// A query parameter's value (`default` when absent), refused with 400
/// `INVALID_QUERY` naming the field when it is outside `range`: the OpenAPI
/// document gives the same bounds as the parameter's `minimum` and
/// `maximum`, and the node never quietly answers for another value.
pub(super) fn query_value<T>(
    field: &'static str,
    value: Option<T>,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ApiError>
where
    T: PartialOrd + std::fmt::Display + Copy,
{
    let value = value.unwrap_or(default);
    if range.contains(&value) {
        return Ok(value);
    }
    let (min, max) = (range.start(), range.end());
    Err(ApiError::bad_request(
        "INVALID_QUERY",
        format!("{field} must be from {min} to {max}; it is {value}"),
    )
    .with_field(field, format!("out of range {min}–{max}")))
}

/// The parameter a query rejection names: axum words them
/// `Failed to deserialize query string: <field>: <reason>`.
fn query_error_field(message: &str) -> Option<&str> {
    error_field(message, "query string: ")
}

/// The field a rejection's message names after `prefix` (`<prefix><field>: <reason>`).
fn error_field<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let (_, rest) = message.split_once(prefix)?;
    let (field, _) = rest.split_once(": ")?;
    let plain = !field.is_empty()
        && field
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_');
    plain.then_some(field)
}

/// The client's IP address, when known (an extractor for handlers).
#[derive(Clone, Copy, Debug)]
pub(super) struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip_of(&parts.extensions)))
    }
}

/// The client's IP address from a request's extensions: the connection's
/// peer (or, in tests, the one `MockConnectInfo` sets), with an IPv4-mapped
/// IPv6 address read as IPv4 so that a loopback caller on a dual-stack
/// socket counts as loopback.
pub(super) fn client_ip_of(extensions: &Extensions) -> Option<IpAddr> {
    let address = match extensions.get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(address)) => address,
        None => &extensions.get::<MockConnectInfo<SocketAddr>>()?.0,
    };
    Some(address.ip().to_canonical())
}
