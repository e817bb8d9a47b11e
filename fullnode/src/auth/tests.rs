//! Login and tokens without the HTTP layer, with the RSA vector keys of
//! core/tests/data/rsa.json.

use blockchain_core::crypto::SigningKey;
use blockchain_core::params::REGTEST;

use blockchain_testkit::vectors::vector_signing_key;

use super::*;
use crate::config::Cli;

const NOW: u64 = 1_764_000_000_000;

fn config(network: &str, admins: &[&SigningKey]) -> Config {
    let prefix = if network == "regtest" {
        REGTEST.address_prefix
    } else {
        blockchain_core::params::DEVNET.address_prefix
    };
    Config::resolve(Cli {
        network: Some(network.into()),
        admin_address: admins
            .iter()
            .map(|key| key.public_key().address().to_bech32m(prefix))
            .collect(),
        jwt_ttl: Some(600),
        ..Cli::default()
    })
    .expect("a valid configuration")
}

fn auth(admins: &[&SigningKey]) -> AdminAuth {
    AdminAuth::new(&config("regtest", admins), JwtKey::new([9; jwt::KEY_LEN]))
}

fn sign(key: &SigningKey, text: &str) -> Vec<u8> {
    key.sign_pss(&mut rand::rngs::SysRng, text.as_bytes())
        .expect("signing works")
}

fn spki(key: &SigningKey) -> Vec<u8> {
    key.public_key().to_spki_der()
}

#[test]
fn challenges_are_random_and_name_network_and_expiry() {
    let auth = auth(&[]);
    let first = auth.issue_challenge(NOW);
    let second = auth.issue_challenge(NOW);
    assert_ne!(first.text, second.text);
    assert_eq!(first.expires_ms, NOW + CHALLENGE_TTL.as_millis() as u64);
    let fields: Vec<&str> = first.text.split(':').collect();
    assert_eq!(fields.len(), 4, "{}", first.text);
    assert_eq!(fields[0], CHALLENGE_PREFIX);
    assert_eq!(fields[1], "regtest");
    assert_eq!(fields[2].len(), 64);
    assert!(fields[2].bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(fields[3], first.expires_ms.to_string());
}

#[test]
fn an_admin_logs_in_once_per_challenge_and_the_token_verifies() {
    let admin = vector_signing_key(0);
    let auth = auth(&[&admin]);
    let challenge = auth.issue_challenge(NOW);
    let signature = sign(&admin, &challenge.text);
    let token = auth
        .login(&challenge.text, &spki(&admin), &signature, NOW + 1)
        .expect("logged in");
    assert_eq!(token.address, admin.public_key().address());
    assert_eq!(token.expires_ms, NOW + 600_000);
    assert_eq!(
        auth.verify_token(&token.token, NOW + 599_999),
        Ok(admin.public_key().address())
    );
    assert_eq!(
        auth.verify_token(&token.token, NOW + 600_000),
        Err(TokenError::Expired)
    );
    // The same signed challenge again.
    assert_eq!(
        auth.login(&challenge.text, &spki(&admin), &signature, NOW + 2),
        Err(LoginError::Challenge(ChallengeError::UnknownOrUsed))
    );
}

#[test]
fn each_bad_login_is_refused_for_its_reason() {
    let (admin, other) = (vector_signing_key(0), vector_signing_key(1));
    let auth = auth(&[&admin]);

    let challenge = auth.issue_challenge(NOW);
    let signature = sign(&admin, &challenge.text);
    let expired_at = challenge.expires_ms;
    assert_eq!(
        auth.login(&challenge.text, &spki(&admin), &signature, expired_at),
        Err(LoginError::Challenge(ChallengeError::Expired {
            expires_ms: expired_at
        }))
    );

    // Signed by another key, or over other text, or not a signature at all.
    for (index, signature) in [
        sign(&other, "x"),
        vec![0; 384],
        Vec::new(),
        sign(&admin, "blockchain-login:regtest:00:1"),
    ]
    .into_iter()
    .enumerate()
    {
        let challenge = auth.issue_challenge(NOW);
        assert_eq!(
            auth.login(&challenge.text, &spki(&admin), &signature, NOW),
            Err(LoginError::BadSignature),
            "{index}"
        );
    }
    // A valid signature by a key that is not an admin's.
    let challenge = auth.issue_challenge(NOW);
    let signature = sign(&other, &challenge.text);
    assert_eq!(
        auth.login(&challenge.text, &spki(&other), &signature, NOW),
        Err(LoginError::NotAdmin(
            other
                .public_key()
                .address()
                .to_bech32m(REGTEST.address_prefix)
        ))
    );
    // A key that breaks the key rules.
    let challenge = auth.issue_challenge(NOW);
    assert!(matches!(
        auth.login(&challenge.text, b"not a key", &signature, NOW),
        Err(LoginError::PublicKey(_))
    ));
    // A challenge this node never issued, even when well signed.
    let made_up = format!(
        "{CHALLENGE_PREFIX}:regtest:{}:{}",
        "0".repeat(64),
        NOW + 1000
    );
    assert_eq!(
        auth.login(&made_up, &spki(&admin), &sign(&admin, &made_up), NOW),
        Err(LoginError::Challenge(ChallengeError::UnknownOrUsed))
    );
}

#[test]
fn tokens_need_this_key_this_network_and_a_current_admin() {
    let (admin, other) = (vector_signing_key(0), vector_signing_key(1));
    let key = JwtKey::new([9; jwt::KEY_LEN]);
    let auth = AdminAuth::new(&config("regtest", &[&admin]), key.clone());
    let token = auth.issue_token(admin.public_key().address(), NOW).token;

    let other_key = AdminAuth::new(
        &config("regtest", &[&admin]),
        JwtKey::new([1; jwt::KEY_LEN]),
    );
    assert_eq!(
        other_key.verify_token(&token, NOW),
        Err(TokenError::Invalid(JwtError::BadSignature))
    );
    let devnet = AdminAuth::new(&config("devnet", &[&admin]), key.clone());
    assert!(matches!(
        devnet.verify_token(&token, NOW),
        Err(TokenError::Invalid(_))
    ));
    let demoted = AdminAuth::new(&config("regtest", &[&other]), key);
    assert!(matches!(
        demoted.verify_token(&token, NOW),
        Err(TokenError::NotAdmin(_))
    ));
    assert!(matches!(
        auth.verify_token("not.a.token", NOW),
        Err(TokenError::Invalid(_))
    ));
}
