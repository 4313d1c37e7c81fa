//! `pryx doctor` for the surfaces of a running core (the dashboard's Diagnostics page,
//! `GET /doctor`): the same checks, run by this binary as `pryx doctor --json` on this data dir,
//! so what the page says is exactly what the command says.

use crate::core::Core;
use crate::error::CoreError;
use pryx_protocol::api::{DoctorCheck, DoctorReport};
use std::time::{Duration, Instant};

/// The checks never take longer than this (the online model call is not made here).
const LIMIT: Duration = Duration::from_secs(30);

impl Core {
    pub async fn doctor(&self) -> Result<DoctorReport, CoreError> {
        let exe = std::env::current_exe()
            .map_err(|e| CoreError::Internal(format!("cannot find the pryx executable: {e}")))?;
        let started = Instant::now();
        let run = tokio::process::Command::new(&exe)
            .args(["doctor", "--json"])
            .env(pryx_config::HOME_ENV, self.dir().root())
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output();
        let out = match tokio::time::timeout(LIMIT, run).await {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => {
                return Err(CoreError::Internal(format!(
                    "cannot run {} doctor: {e}",
                    exe.display()
                )));
            }
            Err(_) => {
                return Err(CoreError::Internal(format!(
                    "pryx doctor did not finish within {} s",
                    LIMIT.as_secs()
                )));
            }
        };
        // A failed check exits 1 with the report all the same.
        let checks: Vec<DoctorCheck> = serde_json::from_slice(&out.stdout).map_err(|e| {
            let err = String::from_utf8_lossy(&out.stderr);
            CoreError::Internal(format!(
                "pryx doctor gave no report ({e}): {}",
                err.trim().chars().take(500).collect::<String>()
            ))
        })?;
        Ok(DoctorReport {
            checks,
            took_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
    }
}
