//! Finding the core of a data dir: `metadata.json` says where it listens, the `token` file holds
//! the bearer token, and the core must be alive and answering.

use crate::error::ClientError;
use crate::rest::Client;
use pryx_config::DataDir;
use pryx_protocol::api::CoreMetadata;
use std::net::IpAddr;

/// Name of the API token file in the data dir (written by `pryx serve`, mode 0600).
pub const TOKEN_FILE: &str = "token";

/// A core found through its data dir.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub client: Client,
    pub metadata: CoreMetadata,
}

/// Reads `metadata.json`; `NotRunning` when there is none.
pub fn read_metadata(dir: &DataDir) -> Result<CoreMetadata, ClientError> {
    let path = dir.metadata_file();
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ClientError::NotRunning {
                dir: dir.root().to_path_buf(),
            });
        }
        Err(e) => {
            return Err(ClientError::Metadata {
                path,
                detail: e.to_string(),
            });
        }
    };
    serde_json::from_slice(&bytes).map_err(|e| ClientError::Metadata {
        path,
        detail: e.to_string(),
    })
}

/// Reads the API token of the data dir.
pub fn read_token(dir: &DataDir) -> Result<String, ClientError> {
    let path = dir.root().join(TOKEN_FILE);
    let token = std::fs::read_to_string(&path).map_err(|e| ClientError::Token {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    let token = token.trim();
    if token.is_empty() {
        return Err(ClientError::Token {
            path,
            detail: "the file is empty".into(),
        });
    }
    Ok(token.to_string())
}

/// Whether a process with this pid exists (one owned by another user counts).
pub fn pid_alive(pid: u32) -> bool {
    let Ok(signed) = i32::try_from(pid) else {
        return false;
    };
    let Some(pid) = rustix::process::Pid::from_raw(signed) else {
        return false;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(e) => e == rustix::io::Errno::PERM,
    }
}

/// The address to connect to for a core bound on `bind`: a wildcard bind is reached on loopback.
pub fn connect_host(bind: &str) -> String {
    match bind.parse::<IpAddr>() {
        Ok(ip) if ip.is_unspecified() => "127.0.0.1".to_string(),
        Ok(IpAddr::V6(ip)) => format!("[{ip}]"),
        Ok(IpAddr::V4(ip)) => ip.to_string(),
        Err(_) => "127.0.0.1".to_string(),
    }
}

impl Client {
    /// The running core of `dir`: reads `metadata.json` and the token, checks that the process
    /// is alive and that `/health` answers.
    pub async fn discover(dir: &DataDir) -> Result<Client, ClientError> {
        Ok(Self::discover_with_metadata(dir).await?.client)
    }

    /// As [`Client::discover`], also returning what `metadata.json` says.
    pub async fn discover_with_metadata(dir: &DataDir) -> Result<Discovered, ClientError> {
        let metadata = read_metadata(dir)?;
        if !pid_alive(metadata.pid) {
            return Err(ClientError::Stale { pid: metadata.pid });
        }
        let token = read_token(dir)?;
        let base = format!("http://{}:{}", connect_host(&metadata.bind), metadata.port);
        let client = Client::new(&base, token)?;
        client.health().await?;
        Ok(Discovered { client, metadata })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_bogus_pids_are_not() {
        assert!(pid_alive(std::process::id()));
        assert!(!pid_alive(0));
        assert!(!pid_alive(u32::MAX));
        assert!(!pid_alive(4_000_000));
    }

    #[test]
    fn wildcard_binds_are_reached_on_loopback() {
        assert_eq!(connect_host("0.0.0.0"), "127.0.0.1");
        assert_eq!(connect_host("::"), "127.0.0.1");
        assert_eq!(connect_host("127.0.0.1"), "127.0.0.1");
        assert_eq!(connect_host("::1"), "[::1]");
        assert_eq!(connect_host("10.1.2.3"), "10.1.2.3");
    }

    #[test]
    fn missing_metadata_means_not_running() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::at(tmp.path());
        assert!(matches!(
            read_metadata(&dir),
            Err(ClientError::NotRunning { .. })
        ));
        std::fs::write(dir.metadata_file(), "{").unwrap();
        assert!(matches!(
            read_metadata(&dir),
            Err(ClientError::Metadata { .. })
        ));
        assert!(matches!(read_token(&dir), Err(ClientError::Token { .. })));
    }
}
