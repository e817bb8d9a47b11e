//! The JWT signing key: 32 random bytes in `<data dir>/jwt.key`, made on
//! first start, readable by the node's user only.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::jwt::{JwtKey, KEY_LEN};

/// File name of the key in the data directory.
pub const KEY_FILE_NAME: &str = "jwt.key";

/// The key file could not be read or made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// Reading or writing failed.
    #[error("cannot read or create the JWT key {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not a key.
    #[error(
        "the JWT key {path} holds {len} bytes, not {KEY_LEN}; remove it to make a new key \
         (tokens issued so far stop working)"
    )]
    WrongLength { path: PathBuf, len: usize },
}

/// Reads the key at `path`, or makes one there if the file is missing.
pub(super) fn load_or_create(path: &Path) -> Result<JwtKey, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            warn_if_others_can_read(path);
            let key: [u8; KEY_LEN] =
                bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| KeyFileError::WrongLength {
                        path: path.to_owned(),
                        len: bytes.len(),
                    })?;
            Ok(JwtKey::new(key))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; KEY_LEN];
            getrandom::fill(&mut key).expect("the operating system's random source works");
            write_new(path, &key).map_err(io)?;
            tracing::info!(path = %path.display(), "created a new JWT signing key");
            Ok(JwtKey::new(key))
        }
        Err(error) => Err(io(error)),
    }
}

/// Writes `key` to a temporary file (mode 0600) and renames it into place,
/// so a crash never leaves a half-written key.
fn write_new(path: &Path, key: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension("key.tmp");
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary)?;
    file.write_all(key)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temporary, path)?;
    if let Some(directory) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        // Makes the rename durable; not every platform can open a directory.
        if let Ok(directory) = std::fs::File::open(directory) {
            let _ = directory.sync_all();
        }
    }
    Ok(())
}

fn warn_if_others_can_read(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(metadata) = std::fs::metadata(path)
            && metadata.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{:o}", metadata.permissions().mode() & 0o777),
                "the JWT key is readable by other users: chmod 600 it"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_private_and_then_reused() {
        let directory = tempfile::tempdir().expect("tempdir");
        let path = directory.path().join(KEY_FILE_NAME);
        let made = load_or_create(&path).expect("made");
        let bytes = std::fs::read(&path).expect("the file exists");
        assert_eq!(bytes.len(), KEY_LEN);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let claims = super::super::jwt::Claims {
            iss: "i".into(),
            sub: "s".into(),
            iat: 1,
            exp: 10,
        };
        let reloaded = load_or_create(&path).expect("reloaded");
        assert_eq!(
            reloaded.verify(&made.sign(&claims), 2),
            Ok(claims),
            "the same key"
        );
        assert_eq!(
            std::fs::read_dir(directory.path()).expect("list").count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn a_damaged_key_file_is_an_error() {
        let directory = tempfile::tempdir().expect("tempdir");
        let path = directory.path().join(KEY_FILE_NAME);
        std::fs::write(&path, b"short").expect("write");
        assert!(matches!(
            load_or_create(&path),
            Err(KeyFileError::WrongLength { len: 5, .. })
        ));
        let missing_dir = directory.path().join("missing").join(KEY_FILE_NAME);
        assert!(matches!(
            load_or_create(&missing_dir),
            Err(KeyFileError::Io { .. })
        ));
    }
}
