//! Protected routes: a bearer token that is this run's API cookie
//! (`<data dir>/api.cookie`), the static `--api-token`, or a login token
//! (JWT) of a current administrator; never from a cross-origin page. A
//! loopback address alone is not a credential: any web page the operator
//! opens can reach 127.0.0.1, and behind a reverse proxy every client is
//! loopback.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::auth::TokenError;
use crate::clock::now_ms;

/// Marks an answer of a protected route: it gets no CORS headers, so no
/// other origin's page may read it (api/middleware.rs).
#[derive(Clone, Copy, Debug)]
pub(super) struct NoCors;

/// Lets a request through when it carries a valid token and does not come
/// from another origin's page.
pub(super) async fn require_protected(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = match admit(&state, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    };
    response.extensions_mut().insert(NoCors);
    response
}

/// Whether `Origin`, when sent, is the origin the request was sent to.
/// Browsers send `Origin` with every cross-origin request and with
/// same-origin ones other than GET; tools send none.
pub(super) fn same_origin_or_none(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(host) = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
    else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|authority| authority.eq_ignore_ascii_case(host))
}

fn admit(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    if !same_origin_or_none(headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "CROSS_ORIGIN",
            "protected routes do not answer pages of other origins",
        ));
    }
    let Some(token) = bearer_token(headers) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "this route needs `Authorization: Bearer <token>`: the token in <data dir>/api.cookie, \
             the --api-token, or a login token",
        ));
    };
    let matches = |expected: &str| tokens_match(token, expected);
    if state.cookie_token.as_deref().is_some_and(matches)
        || state.config.api_token.as_deref().is_some_and(matches)
    {
        return Ok(());
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
        Ok(_) => Ok(()),
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

/// The token of an `Authorization: Bearer <token>` header.
pub(super) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// Whether a presented token is `expected`, in time that does not depend on
/// where they differ.
pub(super) fn tokens_match(presented: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    presented.as_bytes().ct_eq(expected.as_bytes()).into()
}
