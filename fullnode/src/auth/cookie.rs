//! The API cookie, as Bitcoin Core's: a fresh random token in
//! `<data dir>/api.cookie` (one line, mode 0600) at every start, removed at
//! a clean stop. Whoever can read the node's data directory is the
//! operator; a loopback address alone is not a credential.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// File name of the cookie in the data directory.
pub const COOKIE_FILE_NAME: &str = "api.cookie";

/// The token of this run and the file that holds it.
#[derive(Debug)]
pub struct ApiCookie {
    path: PathBuf,
    token: String,
}

impl ApiCookie {
    /// Writes a new token to `<data_dir>/api.cookie` (replacing the last
    /// run's), readable by the node's user only.
    pub fn create(data_dir: &Path) -> std::io::Result<ApiCookie> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random source works");
        let token = hex::encode(bytes);
        let path = data_dir.join(COOKIE_FILE_NAME);
        let temporary = data_dir.join(format!("{COOKIE_FILE_NAME}.tmp"));
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary)?;
        // A temporary file left by a crash keeps its mode: set it again.
        #[cfg(unix)]
        file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        writeln!(file, "{token}")?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temporary, &path)?;
        Ok(ApiCookie { path, token })
    }

    /// The token (what `Authorization: Bearer` must carry).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Where it is written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the file (a clean stop). A file that is gone already is fine.
    pub fn remove(&self) {
        if let Err(error) = std::fs::remove_file(&self.path)
            && error.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), %error, "cannot remove the API cookie");
        }
    }
}
