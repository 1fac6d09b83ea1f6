//! A Postgres server of a test's own (initdb into a temporary directory, its own port), for
//! tests that stop and restart the database: the shared server must never go down.
//!
//! Postgres refuses to run as root, so as root the binaries run as the `postgres` user that
//! the distribution's package creates (CI runs as root).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where `initdb`, `pg_ctl` and `postgres` are: `KGDB_TEST_PG_BINDIR`, else the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian's layout), else `pg_config --bindir`.
pub fn postgres_bindir() -> Option<PathBuf> {
    let complete = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(dir) = std::env::var_os("KGDB_TEST_PG_BINDIR").map(PathBuf::from) {
        return complete(&dir).then_some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| complete(dir))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Some(dir);
    }
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    complete(&dir).then_some(dir)
}

fn run(cmd: &mut Command) -> Result<Output, String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(format!(
            "{cmd:?} exited with {}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn id(args: &[&str]) -> Option<u32> {
    let out = Command::new("id").args(args).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

/// A running private server; stopped (immediately) and its directory removed on drop, also
/// when the test fails.
pub struct PrivatePostgres {
    bindir: PathBuf,
    dir: PathBuf,
    port: u16,
    /// As root: run the binaries through `runuser -u postgres`.
    as_postgres: bool,
}

impl PrivatePostgres {
    /// `Ok(None)` when no Postgres binaries are installed (the caller skips, saying so).
    pub fn start() -> Result<Option<Self>, String> {
        let Some(bindir) = postgres_bindir() else {
            return Ok(None);
        };
        let as_postgres = id(&["-u"]) == Some(0);
        stop_orphans(&bindir, as_postgres);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("kgdb-pg-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let server = Self {
            bindir,
            dir,
            port: free_port()?,
            as_postgres,
        };
        if as_postgres {
            let (Some(uid), Some(gid)) = (id(&["-u", "postgres"]), id(&["-g", "postgres"])) else {
                return Err("running as root, and there is no `postgres` user to run a private Postgres server as".into());
            };
            std::os::unix::fs::chown(&server.dir, Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", server.dir.display()))?;
        }
        // No fsync: the instance is thrown away, and durability is not what the tests measure.
        run(server
            .command("initdb")
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "-D",
            ])
            .arg(server.data_dir()))?;
        server.start_again()?;
        Ok(Some(server))
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn command(&self, bin: &str) -> Command {
        let path = self.bindir.join(bin);
        if self.as_postgres {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "postgres", "--"]).arg(path);
            cmd
        } else {
            Command::new(path)
        }
    }

    fn pg_ctl(&self, args: &[&str]) -> Result<(), String> {
        run(self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(args))
        .map(|_| ())
    }

    /// URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Starts the (stopped) server on its port and waits until it accepts connections.
    pub fn start_again(&self) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log");
        self.pg_ctl(&[
            "-w",
            "-t",
            "60",
            "-o",
            &options,
            "-l",
            &log.to_string_lossy(),
            "start",
        ])
    }

    /// `pg_ctl stop -m fast`: sessions are terminated, the server exits; returns once it has.
    pub fn stop_fast(&self) -> Result<(), String> {
        self.pg_ctl(&["-w", "-t", "60", "-m", "fast", "stop"])
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        // It may already be stopped; either way nothing of it may outlive the test.
        let _ = self.pg_ctl(&["-w", "-t", "30", "-m", "immediate", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Stops and removes the instances of test processes that died before their guard ran (a
/// killed test run), so none keeps running.
fn stop_orphans(bindir: &Path, as_postgres: bool) {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("kgdb-pg-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let orphan = PrivatePostgres {
            bindir: bindir.to_path_buf(),
            dir: entry.path(),
            port: 0,
            as_postgres,
        };
        drop(orphan);
    }
}

/// A loopback port nothing listens on at the time of the call.
pub fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}
