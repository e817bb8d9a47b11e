//! Database URLs, connection pools and migrations.

use std::path::{Path, PathBuf};
use std::time::Duration;

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

use crate::storage::{Backend, StorageError};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// How long a caller waits for a pooled connection before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// SQLite in WAL mode: one writer at a time, readers alongside it.
const SQLITE_MAX_CONNECTIONS: u32 = 4;
const POSTGRES_MAX_CONNECTIONS: u32 = 10;

/// Run on every new SQLite connection. In WAL mode `synchronous = NORMAL`
/// makes every commit durable against the process being killed (the write is
/// in the OS before the commit returns) and keeps the database consistent on
/// power loss, where the last commits before the cut may be lost (blocks are
/// fetched again from peers, pending transactions re-submitted); syncing on
/// every commit (FULL) would cap acceptance at the disk's sync rate. The busy
/// timeout lets a writer wait for another instead of failing.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = NORMAL; \
     PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 10000;";

/// Characters escaped in the path of a SQLite URL: the ones the URL syntax
/// or sqlx's percent-decoding would otherwise interpret.
const SQLITE_PATH_ESCAPES: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'?')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// `sqlite:///absolute/path?mode=rwc` for a database file (created if missing).
pub(crate) fn sqlite_url_for_file(file: &Path) -> String {
    // A relative path would read as a host name after `sqlite://`.
    let file = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let path = file.to_string_lossy();
    let encoded = utf8_percent_encode(&path, SQLITE_PATH_ESCAPES);
    let separator = if path.starts_with('/') { "" } else { "/" };
    format!("sqlite://{separator}{encoded}?mode=rwc")
}

/// Connects a pool to `url` and brings the schema up to date.
pub(super) async fn connect_pool(url: &str) -> Result<(AnyPool, Backend), StorageError> {
    sqlx::any::install_default_drivers();
    let backend = Backend::from_url(url)?;
    let pool = match backend {
        Backend::Sqlite => {
            let url = sqlite_url_creating_file(url);
            if let Some(directory) = sqlite_file(&url).as_deref().and_then(Path::parent)
                && !directory.as_os_str().is_empty()
            {
                tokio::fs::create_dir_all(directory)
                    .await
                    .map_err(sqlx::Error::Io)?;
            }
            if let Some(file) = sqlite_file(&url) {
                owner_only(&file).map_err(sqlx::Error::Io)?;
            }
            let pool = AnyPoolOptions::new()
                .max_connections(SQLITE_MAX_CONNECTIONS)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .after_connect(|connection, _| {
                    Box::pin(async move {
                        connection.execute(SQLITE_PRAGMAS).await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await?;
            SQLITE_MIGRATIONS.run(&pool).await?;
            pool
        }
        Backend::Postgres => {
            let pool = AnyPoolOptions::new()
                .max_connections(POSTGRES_MAX_CONNECTIONS)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect(url)
                .await?;
            POSTGRES_MIGRATIONS.run(&pool).await?;
            pool
        }
    };
    Ok((pool, backend))
}

/// Adds `mode=rwc` (create the file if missing) unless the URL sets a mode.
fn sqlite_url_creating_file(url: &str) -> String {
    match url.split_once('?') {
        Some((_, query)) if query.split('&').any(|pair| pair.starts_with("mode=")) => {
            url.to_owned()
        }
        Some(_) => format!("{url}&mode=rwc"),
        None => format!("{url}?mode=rwc"),
    }
}

/// Makes the SQLite database at `file` readable and writable by the node's
/// user only (it holds node-side keystores), creating it empty if missing.
/// SQLite gives its write-ahead log and index the database file's mode, and
/// files left by an earlier run are tightened here.
#[cfg(unix)]
fn owner_only(file: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(file)?;
    for suffix in ["", "-wal", "-shm"] {
        let mut path = file.as_os_str().to_owned();
        path.push(suffix);
        match std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_file: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The file a SQLite URL names, parsed as sqlx does (None: in memory).
fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" || query.contains("mode=memory") {
        return None;
    }
    let decoded = percent_decode_str(path).decode_utf8().ok()?;
    Some(PathBuf::from(decoded.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_round_trip_odd_paths() {
        let file = Path::new("/tmp/a dir/odd #?%name.db");
        let url = sqlite_url_for_file(file);
        assert!(url.starts_with("sqlite:///tmp/a%20dir/"), "{url}");
        assert!(url.ends_with("?mode=rwc"), "{url}");
        assert_eq!(sqlite_file(&url).as_deref(), Some(file));
    }

    #[test]
    fn relative_sqlite_paths_become_absolute() {
        let url = sqlite_url_for_file(Path::new("data/devnet/blockchain.db"));
        let file = sqlite_file(&url).expect("a file");
        assert!(file.is_absolute());
        assert!(file.ends_with("data/devnet/blockchain.db"));
    }

    #[test]
    fn create_mode_is_added_only_when_missing() {
        assert_eq!(
            sqlite_url_creating_file("sqlite:a.db"),
            "sqlite:a.db?mode=rwc"
        );
        assert_eq!(
            sqlite_url_creating_file("sqlite:a.db?cache=shared"),
            "sqlite:a.db?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_url_creating_file("sqlite:a.db?mode=ro"),
            "sqlite:a.db?mode=ro"
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite:a.db"), Some(PathBuf::from("a.db")));
    }
}
