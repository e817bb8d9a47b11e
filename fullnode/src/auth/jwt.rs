//! JSON Web Tokens (RFC 7519) signed with HMAC-SHA256 (`HS256`), the one
//! algorithm the node issues and accepts: a token naming any other
//! algorithm, `none` included, is invalid.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Length of the HMAC key.
pub const KEY_LEN: usize = 32;

/// The header of every token: `{"alg":"HS256","typ":"JWT"}`, base64url.
const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
/// Longest token read: far above what the node issues, so a huge header
/// costs no decoding work.
const MAX_TOKEN_LEN: usize = 1024;

/// What a token says. Times are seconds since the Unix epoch (RFC 7519's
/// NumericDate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// Issuer: this node and its network.
    pub iss: String,
    /// Subject: the administrator's bech32m address.
    pub sub: String,
    /// Issued at.
    pub iat: u64,
    /// Expires at: the token is refused from this second on.
    pub exp: u64,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwtError {
    /// Not three base64url parts, another header, or claims of another shape.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// The signature is not this node's.
    #[error("token signature does not verify")]
    BadSignature,
    /// Past its `exp`.
    #[error("token expired at {exp}")]
    Expired { exp: u64 },
}

/// The HMAC key tokens are signed with.
#[derive(Clone)]
pub struct JwtKey([u8; KEY_LEN]);

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKey(..)")
    }
}

impl JwtKey {
    /// A key from its bytes.
    pub fn new(bytes: [u8; KEY_LEN]) -> JwtKey {
        JwtKey(bytes)
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }

    /// The compact serialization of a token holding `claims`.
    pub fn sign(&self, claims: &Claims) -> String {
        let payload = serde_json::to_vec(claims).expect("claims serialize");
        let mut token = format!("{HEADER}.{}", URL_SAFE_NO_PAD.encode(payload));
        let mut mac = self.mac();
        mac.update(token.as_bytes());
        let signature = mac.finalize().into_bytes();
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        token
    }

    /// The claims of a token this key signed, unless it expired by `now_secs`.
    /// The signature is checked (in constant time) before anything else is read.
    pub fn verify(&self, token: &str, now_secs: u64) -> Result<Claims, JwtError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JwtError::Malformed("too long"));
        }
        let (signed, signature) = token
            .rsplit_once('.')
            .ok_or(JwtError::Malformed("not three parts"))?;
        let (header, payload) = signed
            .split_once('.')
            .ok_or(JwtError::Malformed("not three parts"))?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| JwtError::Malformed("signature is not base64url"))?;
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| JwtError::BadSignature)?;
        // Only tokens this node made get here, and it makes one header.
        if header != HEADER {
            return Err(JwtError::Malformed("unexpected header"));
        }
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| JwtError::Malformed("claims are not base64url"))?;
        let claims: Claims = serde_json::from_slice(&payload)
            .map_err(|_| JwtError::Malformed("claims are not the expected JSON"))?;
        if now_secs >= claims.exp {
            return Err(JwtError::Expired { exp: claims.exp });
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            iss: "blockchain-node/regtest".into(),
            sub: "rblk1example".into(),
            iat: 1_764_000_000,
            exp: 1_764_003_600,
        }
    }

    #[test]
    fn header_constant_is_the_hs256_header() {
        assert_eq!(
            URL_SAFE_NO_PAD.decode(HEADER).expect("base64url"),
            br#"{"alg":"HS256","typ":"JWT"}"#
        );
    }

    /// RFC 7515 appendix A.1's key and signing input: our HMAC matches it.
    #[test]
    fn signature_matches_rfc_7515_example() {
        let key = URL_SAFE_NO_PAD
            .decode(
                "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow",
            )
            .expect("the RFC's key");
        let signing_input = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.\
            eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any length");
        mac.update(signing_input.as_bytes());
        assert_eq!(
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
    }

    #[test]
    fn signed_tokens_verify_until_they_expire() {
        let key = JwtKey::new([7; KEY_LEN]);
        let token = key.sign(&claims());
        assert_eq!(token.matches('.').count(), 2);
        assert_eq!(key.verify(&token, claims().iat), Ok(claims()));
        assert_eq!(key.verify(&token, claims().exp - 1), Ok(claims()));
        assert_eq!(
            key.verify(&token, claims().exp),
            Err(JwtError::Expired { exp: claims().exp })
        );
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let key = JwtKey::new([7; KEY_LEN]);
        let token = key.sign(&claims());
        let now = claims().iat;
        assert_eq!(
            JwtKey::new([8; KEY_LEN]).verify(&token, now),
            Err(JwtError::BadSignature)
        );
        // Another subject, same signature.
        let (_, signature) = token.rsplit_once('.').expect("three parts");
        let mut other = claims();
        other.sub = "rblk1someoneelse".into();
        let forged = format!(
            "{HEADER}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other).expect("json"))
        );
        assert_eq!(key.verify(&forged, now), Err(JwtError::BadSignature));
        // alg "none", no signature.
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims()).expect("json"))
        );
        assert_eq!(key.verify(&none, now), Err(JwtError::BadSignature));
        for garbage in [
            "",
            "abc",
            "a.b",
            "a.b.c",
            "..",
            "a.b.!!!",
            &"x".repeat(2000),
        ] {
            assert!(key.verify(garbage, now).is_err(), "{garbage}");
        }
        // A flipped bit anywhere breaks it.
        for index in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[index] = if bytes[index] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).expect("ASCII");
            if tampered != token {
                assert!(key.verify(&tampered, now).is_err(), "index {index}");
            }
        }
    }
}
