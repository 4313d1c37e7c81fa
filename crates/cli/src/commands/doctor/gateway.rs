//! Checks of the running core: is one up (pid, port, version), is the API token private, and is
//! the API exposed beyond loopback.

use super::report::Check;
use pryx_client::{Client, ClientError};
use pryx_config::DataDir;
use pryx_protocol::api::CoreMetadata;
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

/// How long `/health` may take before the core counts as not answering.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(3);

/// `core`, `api_token` and `exposure`, in that order.
pub fn checks(dir: &DataDir) -> Vec<Check> {
    let (core, running) = core(dir);
    vec![core, token(dir), exposure(running.as_ref())]
}

/// The core's state; returns its metadata when it is running.
fn core(dir: &DataDir) -> (Check, Option<CoreMetadata>) {
    const NAME: &str = "core";
    let meta = match pryx_client::read_metadata(dir) {
        Ok(m) => m,
        Err(ClientError::NotRunning { .. }) => {
            return (
                Check::ok(
                    NAME,
                    "not running (`pryx run` works in-process; `pryx serve` starts one, with the web dashboard: then `pryx dashboard --open`)",
                ),
                None,
            );
        }
        Err(e) => {
            let path = dir.metadata_file();
            return (
                Check::warn(
                    NAME,
                    e.to_string(),
                    format!("if no core is running, delete {}", path.display()),
                ),
                None,
            );
        }
    };
    if !pryx_client::pid_alive(meta.pid) {
        return (
            Check::warn(
                NAME,
                format!(
                    "metadata.json names process {}, which is not running (the core stopped without cleaning up)",
                    meta.pid
                ),
                format!(
                    "start it again with `pryx serve`, or delete {}",
                    dir.metadata_file().display()
                ),
            ),
            None,
        );
    }
    let base = format!(
        "http://{}:{}",
        pryx_client::connect_host(&meta.bind),
        meta.port
    );
    if let Err(e) = health(&base) {
        return (
            Check::warn(
                NAME,
                format!(
                    "process {} is alive but the API on port {} does not answer: {e}",
                    meta.pid, meta.port
                ),
                format!(
                    "check the core's log (logs/core.log), or stop process {} and run `pryx serve` again",
                    meta.pid
                ),
            ),
            Some(meta),
        );
    }
    let ours = env!("CARGO_PKG_VERSION");
    let message = format!(
        "running: pid {}, port {}, version {}, since {}; web dashboard at {base}/ (`pryx dashboard --open` signs a browser in)",
        meta.pid, meta.port, meta.version, meta.started_at
    );
    let check = if meta.version == ours {
        Check::ok(NAME, message)
    } else {
        Check::warn(
            NAME,
            format!("{message}; this pryx is {ours}"),
            "restart the core (`pryx serve`) so that it runs the same version",
        )
    };
    (check, Some(meta))
}

/// Asks the running core of `dir` (if any) through `ask`, waiting 3 s at most; `None` when no
/// core answers.
pub fn ask_core<T, F, Fut>(dir: &DataDir, ask: F) -> Option<T>
where
    F: FnOnce(Client) -> Fut,
    Fut: std::future::Future<Output = Result<T, ClientError>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    runtime.block_on(async {
        let client = Client::discover(dir).await.ok()?;
        tokio::time::timeout(HEALTH_TIMEOUT, ask(client))
            .await
            .ok()?
            .ok()
    })
}

fn health(base: &str) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let client = Client::new(base, "").map_err(|e| e.to_string())?;
    runtime.block_on(async {
        match tokio::time::timeout(HEALTH_TIMEOUT, client.health()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} s", HEALTH_TIMEOUT.as_secs())),
        }
    })
}

/// The bearer token must be readable by its owner only.
fn token(dir: &DataDir) -> Check {
    const NAME: &str = "api_token";
    let path = dir.root().join(pryx_client::TOKEN_FILE);
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Check::ok(NAME, "none yet (`pryx serve` creates it, mode 0600)")
        }
        Err(e) => Check::fail(
            NAME,
            format!("cannot read {}: {e}", path.display()),
            format!(
                "make {} readable by your user only (chmod 600)",
                path.display()
            ),
        ),
        Ok(meta) => {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 == 0 {
                Check::ok(NAME, format!("{} (mode {mode:04o})", path.display()))
            } else {
                Check::fail(
                    NAME,
                    format!(
                        "{} has mode {mode:04o}: other users can read the API token",
                        path.display()
                    ),
                    format!(
                        "chmod 600 {}, then restart the core with a new token (delete the file) if others may have read it",
                        path.display()
                    ),
                )
            }
        }
    }
}

/// Bound beyond loopback is a deliberate choice, reported as a warning.
fn exposure(running: Option<&CoreMetadata>) -> Check {
    const NAME: &str = "exposure";
    let Some(meta) = running else {
        return Check::ok(NAME, "no core running");
    };
    match meta.bind.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => {
            Check::ok(NAME, format!("the API listens on {} only", meta.bind))
        }
        _ => Check::warn(
            NAME,
            format!(
                "the API listens on {}:{}: it is reachable from the network",
                meta.bind, meta.port
            ),
            "unless you mean it, restart `pryx serve` without --bind/--allow-remote; keep the token file secret",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::report::Status;
    use super::*;

    fn meta(bind: &str) -> CoreMetadata {
        CoreMetadata {
            port: 4100,
            pid: 1,
            version: "0.1.0".into(),
            started_at: "t".into(),
            bind: bind.into(),
            launch: None,
        }
    }

    #[test]
    fn exposure_warns_beyond_loopback() {
        assert_eq!(exposure(None).status, Status::Ok);
        assert_eq!(exposure(Some(&meta("127.0.0.1"))).status, Status::Ok);
        assert_eq!(exposure(Some(&meta("::1"))).status, Status::Ok);
        let wide = exposure(Some(&meta("0.0.0.0")));
        assert_eq!(wide.status, Status::Warn);
        assert!(wide.message.contains("0.0.0.0:4100"), "{}", wide.message);
    }

    #[test]
    fn token_mode_is_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::at(tmp.path());
        assert_eq!(token(&dir).status, Status::Ok);
        let path = tmp.path().join("token");
        std::fs::write(&path, "abc").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let c = token(&dir);
        assert_eq!(c.status, Status::Fail);
        assert!(c.hint.unwrap().starts_with("chmod 600 "));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(token(&dir).status, Status::Ok);
    }
}
