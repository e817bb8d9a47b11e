//! Administrator login by signed challenge, and the tokens it issues.
//!
//! An operator asks the node for a challenge, signs the challenge's UTF-8
//! bytes with RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32: the transaction
//! signature scheme) using a wallet key whose address is listed in
//! `--admin-address`, and trades the signature for a JWT. The JWT opens the
//! protected routes until it expires, as long as its address stays listed.
//!
//! Times are passed in (`now_ms`), so tests can issue challenges and tokens
//! that are already expired.

mod challenge;
pub mod cookie;
pub mod jwt;
mod key_file;

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use blockchain_core::Address;
use blockchain_core::crypto::{PublicKeyError, RingVerifier, RsaPublicKey, SignatureVerifier};

use crate::config::Config;
use challenge::ChallengeStore;
pub use challenge::{CHALLENGE_TTL, ChallengeError, MAX_PENDING_CHALLENGES};
use jwt::{Claims, JwtError, JwtKey};
pub use key_file::{KEY_FILE_NAME, KeyFileError};

/// First field of every challenge. It also keeps a signed challenge from
/// ever being a transaction signature: those sign 36 bytes, challenges are
/// longer.
pub const CHALLENGE_PREFIX: &str = "blockchain-login";

/// A challenge to sign, exactly as issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `blockchain-login:<network>:<64 hex digits>:<expires_ms>`.
    pub text: String,
    /// When it stops being accepted (ms since the Unix epoch).
    pub expires_ms: u64,
}

/// A token issued to an administrator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginToken {
    /// The JWT, for `Authorization: Bearer …`.
    pub token: String,
    /// The administrator's address (the token's subject).
    pub address: Address,
    /// When it stops being accepted (ms since the Unix epoch; whole seconds).
    pub expires_ms: u64,
}

/// Why a login was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The challenge cannot be used.
    #[error(transparent)]
    Challenge(#[from] ChallengeError),
    /// The public key breaks the key rules (RSA-3072, exponent 65537, canonical SPKI DER).
    #[error("invalid public key: {0}")]
    PublicKey(#[from] PublicKeyError),
    /// The signature is not the key's over the challenge.
    #[error("signature does not verify over the challenge")]
    BadSignature,
    /// A valid signature by a key whose address is not an administrator's.
    #[error("address {0} is not an administrator")]
    NotAdmin(String),
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Past its expiry.
    #[error("token expired")]
    Expired,
    /// Not a token this node issued for this network, or altered.
    #[error("invalid token: {0}")]
    Invalid(JwtError),
    /// Issued to an address that is no longer an administrator.
    #[error("address {0} is no longer an administrator")]
    NotAdmin(String),
}

/// Challenges, administrators and the token key of one node.
pub struct AdminAuth {
    address_prefix: &'static str,
    network: &'static str,
    issuer: String,
    admins: HashSet<Address>,
    token_ttl: Duration,
    key: JwtKey,
    challenges: Mutex<ChallengeStore>,
}

impl std::fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminAuth")
            .field("issuer", &self.issuer)
            .field("admins", &self.admins.len())
            .field("token_ttl", &self.token_ttl)
            .finish_non_exhaustive()
    }
}

impl AdminAuth {
    /// Login for `config`'s administrators, with the token key of its data
    /// directory (made there on first start).
    pub fn open(config: &Config) -> Result<AdminAuth, KeyFileError> {
        let key = key_file::load_or_create(&config.data_dir.join(KEY_FILE_NAME))?;
        Ok(AdminAuth::new(config, key))
    }

    /// Login for `config`'s administrators with token key `key`.
    pub fn new(config: &Config, key: JwtKey) -> AdminAuth {
        let params = config.params();
        AdminAuth {
            address_prefix: params.address_prefix,
            network: params.name,
            issuer: format!("blockchain-node/{}", params.name),
            admins: config.admin_addresses.iter().copied().collect(),
            token_ttl: config.jwt_ttl,
            key,
            challenges: Mutex::default(),
        }
    }

    /// A new random challenge, valid for [`CHALLENGE_TTL`] from `now_ms`.
    pub fn issue_challenge(&self, now_ms: u64) -> Challenge {
        let mut nonce = [0u8; 32];
        getrandom::fill(&mut nonce).expect("the operating system's random source works");
        let expires_ms = now_ms.saturating_add(CHALLENGE_TTL.as_millis() as u64);
        let text = format!(
            "{CHALLENGE_PREFIX}:{}:{}:{expires_ms}",
            self.network,
            hex::encode(nonce)
        );
        self.challenges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(text.clone(), expires_ms, now_ms);
        Challenge { text, expires_ms }
    }

    /// Checks a signed challenge and issues a token. The challenge is used
    /// up whatever the outcome.
    pub fn login(
        &self,
        challenge: &str,
        public_key_der: &[u8],
        signature: &[u8],
        now_ms: u64,
    ) -> Result<LoginToken, LoginError> {
        self.challenges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take(challenge, now_ms)?;
        let key = RsaPublicKey::from_spki_der(public_key_der)?;
        if !RingVerifier.verify_pss(&key, challenge.as_bytes(), signature) {
            return Err(LoginError::BadSignature);
        }
        let address = key.address();
        if !self.admins.contains(&address) {
            return Err(LoginError::NotAdmin(
                address.to_bech32m(self.address_prefix),
            ));
        }
        Ok(self.issue_token(address, now_ms))
    }

    /// A token for `address`, issued at `now_ms`.
    pub fn issue_token(&self, address: Address, now_ms: u64) -> LoginToken {
        let iat = now_ms / 1000;
        let exp = iat.saturating_add(self.token_ttl.as_secs());
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: address.to_bech32m(self.address_prefix),
            iat,
            exp,
        };
        LoginToken {
            token: self.key.sign(&claims),
            address,
            expires_ms: exp.saturating_mul(1000),
        }
    }

    /// The administrator a token was issued to, if it is valid at `now_ms`
    /// and the address is still an administrator.
    pub fn verify_token(&self, token: &str, now_ms: u64) -> Result<Address, TokenError> {
        let claims = self
            .key
            .verify(token, now_ms / 1000)
            .map_err(|error| match error {
                JwtError::Expired { .. } => TokenError::Expired,
                other => TokenError::Invalid(other),
            })?;
        // The same data dir may have served another network.
        if claims.iss != self.issuer {
            return Err(TokenError::Invalid(JwtError::Malformed("another issuer")));
        }
        let address = Address::from_bech32m(&claims.sub, self.address_prefix)
            .map_err(|_| TokenError::Invalid(JwtError::Malformed("subject is no address")))?;
        if !self.admins.contains(&address) {
            return Err(TokenError::NotAdmin(claims.sub));
        }
        Ok(address)
    }
}

#[cfg(test)]
mod tests;
