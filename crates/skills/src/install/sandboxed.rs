//! Package managers run like `shell.exec` commands: through the shell sandbox, with a cleared
//! environment plus an allow-list (no provider keys, no secrets), web ports only, and the
//! skill's tools folder as the only place they may write.

use super::{InstallError, Step, quote};
use pryx_tools::{DEFAULT_ALLOWED_ENV, Network, SandboxLauncher, ToolContext};
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// Longest a package manager may run.
const INSTALL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// How package managers are started.
#[derive(Debug, Clone, Default)]
pub struct Runner {
    /// The sandbox helper; `None` runs them with the cleared environment only (where the
    /// machine cannot contain commands; the caller says so before asking).
    pub sandbox: Option<SandboxLauncher>,
}

impl Runner {
    /// Runs one [`Step::Package`] with `prefix` as its only writable folder, created fresh
    /// (an existing one is removed first when `replace` is set). Returns its output.
    pub(super) async fn run(
        &self,
        step: &Step,
        prefix: &Path,
        replace: bool,
    ) -> Result<String, InstallError> {
        let Step::Package {
            program, args, env, ..
        } = step
        else {
            return Ok(String::new());
        };
        let io = |e: std::io::Error| InstallError::Io {
            path: prefix.display().to_string(),
            message: e.to_string(),
        };
        if replace && std::fs::symlink_metadata(prefix).is_ok() {
            std::fs::remove_dir_all(prefix).map_err(io)?;
        }
        std::fs::create_dir_all(prefix.join(".home")).map_err(io)?;
        let mut line = String::new();
        for (k, v) in env {
            line.push_str(&format!("{k}={} ", quote(v)));
        }
        line.push_str(&quote(&program.display().to_string()));
        for a in args {
            line.push(' ');
            line.push_str(&quote(a));
        }
        let mut ctx = ToolContext::new(prefix).map_err(|e| InstallError::Io {
            path: prefix.display().to_string(),
            message: e.to_string(),
        })?;
        ctx.allowed_env = DEFAULT_ALLOWED_ENV
            .iter()
            .filter(|n| **n != "HOME")
            .map(|n| (*n).to_string())
            .collect();
        ctx.network = Network::Ports {
            ports: vec![80, 443],
        };
        ctx.sandbox = self.sandbox.clone();
        ctx.limits.max_timeout = INSTALL_TIMEOUT;
        ctx.limits.output_cap_bytes = 64 * 1024;
        let shown = step.to_string();
        let timeout_ms = u64::try_from(INSTALL_TIMEOUT.as_millis()).unwrap_or(u64::MAX);
        let out = pryx_tools::builtins()
            .into_iter()
            .find(|t| t.name() == "shell.exec")
            .ok_or_else(|| InstallError::Command {
                command: shown.clone(),
                message: "the shell tool is missing from this build".into(),
            })?
            .execute(json!({"command": line, "timeout_ms": timeout_ms}), ctx)
            .await
            .map_err(|e| InstallError::Command {
                command: shown.clone(),
                message: e.to_string(),
            })?;
        if out.is_error {
            return Err(InstallError::Command {
                command: shown,
                message: format!("the package manager failed:\n{}", out.content.trim_end()),
            });
        }
        Ok(out.content)
    }
}
