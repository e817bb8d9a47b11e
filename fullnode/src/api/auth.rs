//! Protected routes: loopback callers, or a bearer token that is the static
//! `--api-token` or a login token (JWT) of a current administrator.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::error::ApiError;
use super::extract::client_ip;
use crate::auth::TokenError;
use crate::clock::now_ms;

/// Lets a request through when it comes from loopback or carries a valid token.
pub(super) async fn require_protected(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let loopback = client_ip(&mut request)
        .await
        .is_some_and(|ip| ip.is_loopback());
    if loopback {
        return Ok(next.run(request).await);
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    let Some(token) = presented else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "this route needs a bearer token or a loopback caller",
        ));
    };
    if let Some(expected) = &state.config.api_token
        && constant_time_eq(token.as_bytes(), expected.as_bytes())
    {
        return Ok(next.run(request).await);
    }
    // A JWT is three dot-separated parts; anything else was meant as the API token.
    if token.split('.').count() != 3 {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "the bearer token is not valid",
        ));
    }
    match state.auth.verify_token(token, now_ms()) {
        Ok(_) => Ok(next.run(request).await),
        Err(TokenError::Expired) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "TOKEN_EXPIRED",
            "the login token has expired; log in again",
        )),
        Err(error @ TokenError::NotAdmin(_)) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "NOT_ADMIN",
            error.to_string(),
        )),
        Err(error @ TokenError::Invalid(_)) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_TOKEN",
            error.to_string(),
        )),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
