//! Administrator login: `POST /auth/challenge` hands out a challenge,
//! `POST /auth/login` trades its signature for a token (see [`crate::auth`]).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use blockchain_core::crypto::SIGNATURE_LEN;
use blockchain_core::crypto::public_key::SPKI_LEN;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::ApiJson;
use crate::auth::{ChallengeError, LoginError};
use crate::clock::now_ms;

/// A challenge to sign.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LoginChallenge)]
pub(super) struct ChallengeJson {
    /// Sign its UTF-8 bytes exactly as given:
    /// `blockchain-login:<network>:<64 hex digits>:<expires_at>`.
    #[schema(
        pattern = "^blockchain-login:[a-z]+:[0-9a-f]{64}:[0-9]+$",
        example = "blockchain-login:devnet:5b0c9e3f9d1c4a7e8f2b6a1d0c3e5f7a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e:1764000300000"
    )]
    challenge: String,
    /// When it stops being accepted (ms since the Unix epoch): 5 minutes from now.
    expires_at: u64,
}

/// Get a login challenge
///
/// A random one-time challenge for `POST /auth/login`, valid for 5 minutes.
/// Takes no body (one is ignored).
#[utoipa::path(
    post,
    path = "/auth/challenge",
    tag = "auth",
    operation_id = "create_login_challenge",
    responses(
        (status = 200, description = "A challenge to sign", body = ChallengeJson),
    )
)]
pub(super) async fn challenge(State(state): State<AppState>) -> Json<ChallengeJson> {
    let challenge = state.auth.issue_challenge(now_ms());
    Json(ChallengeJson {
        challenge: challenge.text,
        expires_at: challenge.expires_ms,
    })
}

/// A signed challenge.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = LoginRequest)]
pub(super) struct Login {
    /// The challenge, exactly as `POST /auth/challenge` gave it.
    challenge: String,
    /// The administrator's RSA-3072 public key, SubjectPublicKeyInfo DER, hex.
    #[schema(pattern = "^[0-9a-fA-F]*$")]
    public_key: String,
    /// RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32) over the challenge's UTF-8 bytes, hex.
    #[schema(pattern = "^[0-9a-fA-F]*$")]
    signature: String,
}

/// A token for the protected routes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = LoginToken)]
pub(super) struct TokenJson {
    /// A JWT (HS256); send it as `Authorization: Bearer <token>`.
    token: String,
    /// Always `Bearer`.
    #[schema(value_type = String, example = "Bearer")]
    token_type: &'static str,
    /// The administrator's address: the token's subject.
    address: String,
    /// When it stops being accepted (ms since the Unix epoch).
    expires_at: u64,
}

/// Log in as an administrator
///
/// Checks a signed challenge and answers with a token. A challenge is used
/// up by the first well-formed login request that names it, whatever the
/// outcome.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "auth",
    operation_id = "login",
    request_body = Login,
    responses(
        (status = 200, description = "Logged in", body = TokenJson),
        (status = 400, description = "`MALFORMED_JSON`, `INVALID_REQUEST_BODY` (wrong types, missing or unknown fields), `INVALID_HEX` (`public_key`, `signature`), `INVALID_PUBLIC_KEY` (not an RSA-3072 key with exponent 65537 in canonical SPKI DER)", body = ErrorBody),
        (status = 401, description = "`CHALLENGE_UNKNOWN_OR_USED` (never issued, used, or forgotten), `CHALLENGE_EXPIRED`, `INVALID_SIGNATURE` (not the key's signature over the challenge)", body = ErrorBody),
        (status = 403, description = "`NOT_ADMIN`: a valid signature by a key whose address is not in `--admin-address`", body = ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: body over 64 KiB", body = ErrorBody),
        (status = 415, description = "`UNSUPPORTED_MEDIA_TYPE`: not `Content-Type: application/json`", body = ErrorBody),
    )
)]
pub(super) async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Login>,
) -> Result<Json<TokenJson>, ApiError> {
    let public_key = decode_hex(&body.public_key, "public_key", SPKI_LEN)?;
    let signature = decode_hex(&body.signature, "signature", SIGNATURE_LEN)?;
    let token = state
        .auth
        .login(&body.challenge, &public_key, &signature, now_ms())
        .map_err(login_error)?;
    Ok(Json(TokenJson {
        token: token.token,
        token_type: "Bearer",
        address: token
            .address
            .to_bech32m(state.chain.params().address_prefix),
        expires_at: token.expires_ms,
    }))
}

/// Hex of at most `max_len` bytes.
fn decode_hex(text: &str, field: &'static str, max_len: usize) -> Result<Vec<u8>, ApiError> {
    if text.len() > 2 * max_len {
        return Err(
            ApiError::bad_request("INVALID_HEX", format!("{field} is too long"))
                .with_field(field, format!("longer than {max_len} bytes")),
        );
    }
    hex::decode(text).map_err(|error| {
        ApiError::bad_request("INVALID_HEX", format!("{field} is not valid hex: {error}"))
            .with_field(field, error.to_string())
    })
}

fn login_error(error: LoginError) -> ApiError {
    let message = format!("login refused: {error}");
    let (status, code, field) = match &error {
        LoginError::Challenge(ChallengeError::Expired { .. }) => {
            (StatusCode::UNAUTHORIZED, "CHALLENGE_EXPIRED", "challenge")
        }
        LoginError::Challenge(_) => (
            StatusCode::UNAUTHORIZED,
            "CHALLENGE_UNKNOWN_OR_USED",
            "challenge",
        ),
        LoginError::PublicKey(_) => (StatusCode::BAD_REQUEST, "INVALID_PUBLIC_KEY", "public_key"),
        LoginError::BadSignature => (StatusCode::UNAUTHORIZED, "INVALID_SIGNATURE", "signature"),
        LoginError::NotAdmin(_) => (StatusCode::FORBIDDEN, "NOT_ADMIN", "public_key"),
    };
    ApiError::new(status, code, message).with_field(field, error.to_string())
}
