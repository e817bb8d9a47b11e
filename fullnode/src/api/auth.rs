//! Protected routes: loopback callers, or a bearer token equal to `--api-token`.

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use super::error::ApiError;
use super::extract::client_ip;

/// Lets a request through when it comes from loopback or carries the API token.
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
    match (presented, &state.config.api_token) {
        (None, _) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "this route needs a bearer token or a loopback caller",
        )),
        (Some(token), Some(expected))
            if constant_time_eq(token.as_bytes(), expected.as_bytes()) =>
        {
            Ok(next.run(request).await)
        }
        (Some(_), _) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "the bearer token is not valid",
        )),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
