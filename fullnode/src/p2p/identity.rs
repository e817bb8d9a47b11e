//! The node's persistent peer-to-peer identity: its ed25519 key (the peer id)
//! and the WebRTC-direct certificate (the `/certhash/…` browsers dial), both
//! created once in the data dir and reused, so the multiaddrs a browser or a
//! peer saved stay valid across restarts.

use std::io::Write;
use std::path::{Path, PathBuf};

use libp2p::identity::Keypair;
use libp2p_webrtc::tokio::Certificate;

use super::error::IdentityError;

/// File of the identity key (libp2p protobuf encoding).
pub const KEY_FILE: &str = "p2p_identity.key";
/// File of the WebRTC certificate and its private key (PEM).
pub const CERTIFICATE_FILE: &str = "webrtc_certificate.pem";

/// Loads the identity key from `dir`, creating it on first start.
pub fn load_or_create_keypair(dir: &Path) -> Result<Keypair, IdentityError> {
    let path = dir.join(KEY_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => {
            Keypair::from_protobuf_encoding(&bytes).map_err(|error| IdentityError::BadKey {
                path,
                reason: error.to_string(),
            })
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let keypair = Keypair::generate_ed25519();
            let bytes = keypair
                .to_protobuf_encoding()
                .map_err(|error| IdentityError::Create {
                    what: "identity key",
                    reason: error.to_string(),
                })?;
            write_private(&path, &bytes)?;
            Ok(keypair)
        }
        Err(source) => Err(io_error("read", path, source)),
    }
}

/// Loads the WebRTC certificate from `dir`, creating it on first start.
pub fn load_or_create_certificate(dir: &Path) -> Result<Certificate, IdentityError> {
    let path = dir.join(CERTIFICATE_FILE);
    match std::fs::read_to_string(&path) {
        Ok(pem) => Certificate::from_pem(&pem).map_err(|error| IdentityError::BadCertificate {
            path,
            reason: error.to_string(),
        }),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let certificate =
                Certificate::generate(&mut rand::rng()).map_err(|error| IdentityError::Create {
                    what: "WebRTC certificate",
                    reason: error.to_string(),
                })?;
            write_private(&path, certificate.serialize_pem().as_bytes())?;
            Ok(certificate)
        }
        Err(source) => Err(io_error("read", path, source)),
    }
}

fn io_error(action: &'static str, path: PathBuf, source: std::io::Error) -> IdentityError {
    IdentityError::Io {
        action,
        path,
        source,
    }
}

/// Writes a secret file readable by its owner only, atomically.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), IdentityError> {
    let temporary = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&temporary)
        .map_err(|source| io_error("create", temporary.clone(), source))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|source| io_error("write", temporary.clone(), source))?;
    std::fs::rename(&temporary, path).map_err(|source| io_error("write", path.to_owned(), source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_and_certificate_survive_a_restart() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = load_or_create_keypair(dir.path()).expect("created");
        let second = load_or_create_keypair(dir.path()).expect("loaded");
        assert_eq!(first.public().to_peer_id(), second.public().to_peer_id());
        let certificate = load_or_create_certificate(dir.path()).expect("created");
        let again = load_or_create_certificate(dir.path()).expect("loaded");
        assert_eq!(certificate.fingerprint(), again.fingerprint());
    }

    #[test]
    fn a_corrupt_key_file_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(KEY_FILE), b"garbage").expect("write");
        let error = load_or_create_keypair(dir.path()).expect_err("refused");
        assert!(error.to_string().contains("not a libp2p identity key"));
    }
}
