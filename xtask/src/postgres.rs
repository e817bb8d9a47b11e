//! The tests need a PostgreSQL at 127.0.0.1:5432 (user `postgres`, trust
//! auth, database `test`). When none answers, start one: the machine's
//! cluster through `pg_ctlcluster`, else a throwaway cluster under
//! target/postgres made with `initdb`; else say how to get one.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{root, run_cmd};

const ADDRESS: &str = "127.0.0.1:5432";

fn reachable() -> bool {
    let address: SocketAddr = ADDRESS.parse().expect("constant address");
    TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok()
}

fn wait_until_reachable() -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !reachable() {
        if Instant::now() > deadline {
            bail!("PostgreSQL did not start listening on {ADDRESS}");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

/// Debian's server binaries, newest version first.
fn server_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
}

/// Makes sure the tests' PostgreSQL answers (no-op when it already does or
/// when BLOCKCHAIN_SKIP_POSTGRES=1).
pub(crate) fn ensure() -> Result<()> {
    if reachable() || std::env::var("BLOCKCHAIN_SKIP_POSTGRES").is_ok_and(|value| value == "1") {
        return Ok(());
    }
    if let Ok(output) = Command::new("pg_lsclusters").arg("--no-header").output() {
        let listing = String::from_utf8_lossy(&output.stdout);
        if let Some(version) = listing.split_whitespace().next() {
            eprintln!("starting the machine's PostgreSQL {version} cluster");
            run_cmd(Command::new("pg_ctlcluster").args([
                "--skip-systemctl-redirect",
                version,
                "main",
                "start",
            ]))?;
            return wait_until_reachable();
        }
    }
    let Some(bin) = server_bin_dir() else {
        bail!(
            "the tests need PostgreSQL at {ADDRESS} (user postgres, trust auth, database test) and none answers; \
             install it (`apt-get install -y postgresql`) and run this again, point the tests at another server with \
             BLOCKCHAIN_TEST_POSTGRES=postgres://user@host:port/db, or skip those tests with BLOCKCHAIN_SKIP_POSTGRES=1"
        );
    };
    throwaway_cluster(&bin)
}

fn throwaway_cluster(bin: &Path) -> Result<()> {
    let dir = root().join("target").join("postgres");
    let data = dir.join("data");
    // initdb and postgres refuse to run as root: use the postgres system user if we are root.
    let as_postgres = |program: &Path| {
        let mut command = if is_root() {
            Command::new("runuser")
        } else {
            Command::new(program)
        };
        if is_root() {
            command.args(["-u", "postgres", "--"]).arg(program);
        }
        command
    };
    if !data.join("PG_VERSION").is_file() {
        std::fs::create_dir_all(&dir).context("creating target/postgres")?;
        if is_root() {
            run_cmd(Command::new("chown").args(["-R", "postgres"]).arg(&dir))?;
        }
        eprintln!(
            "creating a throwaway PostgreSQL cluster in {}",
            data.display()
        );
        run_cmd(
            as_postgres(&bin.join("initdb"))
                .args(["-A", "trust", "-U", "postgres", "-D"])
                .arg(&data),
        )?;
    }
    let log = dir.join("server.log");
    run_cmd(
        as_postgres(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(&log)
            .args([
                "-o",
                "-c listen_addresses=127.0.0.1 -c port=5432 -k /tmp",
                "-w",
                "start",
            ]),
    )?;
    wait_until_reachable()?;
    // The tests connect to database `test`; create it (an error when it exists is fine).
    let _ = as_postgres(&bin.join("createdb"))
        .args(["-h", "127.0.0.1", "-U", "postgres", "test"])
        .status();
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}
