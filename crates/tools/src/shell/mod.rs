//! `shell.exec`: `sh -c` in the workspace with a cleared environment, limits, its own process
//! group and (when a launcher is configured) Landlock.

mod capture;
mod preview;
mod process;

use std::os::unix::process::ExitStatusExt as _;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use pryx_protocol::ToolKind;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::fs::parse_args;
use crate::sandbox::{
    LandlockSupport, Spec, Stage, code_bearing, landlock_status, namespace_status, read_roots,
};
use crate::{Tool, ToolContext, ToolError, ToolOutput, path};
use process::Ending;

const NAME: &str = "shell.exec";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    command: String,
    cwd: Option<String>,
    timeout_ms: Option<u64>,
}

/// Runs a shell command. Non-zero exit is a normal result with `is_error` set; a timeout is a
/// recoverable error carrying the output so far; cancellation is fatal. The process group is
/// killed when the call ends, background jobs included.
#[derive(Debug, Default, Clone, Copy)]
pub struct ShellExec;

#[async_trait]
impl Tool for ShellExec {
    fn name(&self) -> &str {
        NAME
    }

    fn description(&self) -> &str {
        "Run a command with sh -c in the workspace (or cwd inside it). Returns combined stdout/stderr and the exit code."
    }

    fn schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "command": {"type": "string"},
                "cwd": {"type": "string"},
                "timeout_ms": {"type": "integer", "minimum": 1}
            },
            "required": ["command"],
            "additionalProperties": false
        })
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Exec
    }

    /// The command with its working directory, timeout, environment and network.
    async fn preview(&self, args: Value, ctx: ToolContext) -> Result<Option<String>, ToolError> {
        let args: Args = parse_args(NAME, args)?;
        Ok(Some(preview::describe(
            &args.command,
            args.cwd.as_deref(),
            args.timeout_ms,
            &ctx,
        )))
    }

    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let args: Args = parse_args(NAME, args)?;
        if args.command.trim().is_empty() {
            return Err(ToolError::invalid(NAME, "command is empty"));
        }
        if args.command.contains('\0') {
            return Err(ToolError::invalid(NAME, "command contains a NUL byte"));
        }
        let timeout = match args.timeout_ms {
            Some(0) => return Err(ToolError::invalid(NAME, "timeout_ms must be at least 1")),
            Some(ms) => Duration::from_millis(ms).min(ctx.limits.max_timeout),
            None => ctx.limits.default_timeout,
        };
        let cwd = path::resolve(&ctx.workspace, args.cwd.as_deref().unwrap_or("."))?;
        path::refuse_protected(&ctx.protected, &cwd)?;
        if !cwd.abs.is_dir() {
            return Err(ToolError::Io {
                path: cwd.rel,
                message: "is not a directory".into(),
            });
        }

        let (mut cmd, sandbox) = match &ctx.sandbox {
            Some(launcher) => {
                let spec = sandbox_spec(&ctx, launcher, &args.command, &cwd.abs);
                let spec = serde_json::to_string(&spec).map_err(|e| {
                    ToolError::Internal(format!("cannot describe the sandbox: {e}"))
                })?;
                let mut c = tokio::process::Command::new(&launcher.program);
                c.args(&launcher.args).arg(spec);
                let label = if namespace_status(launcher).available {
                    "namespaces"
                } else {
                    landlock_status().support.as_str()
                };
                (c, label)
            }
            None => {
                let mut c = tokio::process::Command::new("/bin/sh");
                c.arg("-c").arg(&args.command);
                (c, LandlockSupport::Unsupported.as_str())
            }
        };
        cmd.current_dir(&cwd.abs).env_clear();
        for name in &ctx.allowed_env {
            if let Some(value) = std::env::var_os(name) {
                cmd.env(name, value);
            }
        }

        let started = Instant::now();
        let done = process::run(cmd, timeout, &ctx.cancel, ctx.limits.output_cap_bytes).await?;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let status = match done.ending {
            Ending::Exited(s) => s,
            Ending::TimedOut => {
                return Err(ToolError::Timeout {
                    after: timeout,
                    output: done.output,
                });
            }
            Ending::Cancelled => return Err(ToolError::Cancelled),
        };
        let mut content = done.output;
        let code = status.code();
        match (code, status.signal()) {
            (Some(0), _) => {}
            (Some(c), _) => content.push_str(&format!("\n[exit code {c}]")),
            (None, Some(sig)) => content.push_str(&format!("\n[killed by signal {sig}]")),
            (None, None) => content.push_str("\n[terminated]"),
        }
        if content.is_empty() {
            content = "(no output)".into();
        }
        Ok(ToolOutput {
            content,
            is_error: code != Some(0),
            metadata: json!({
                "exit_code": code,
                "signal": status.signal(),
                "duration_ms": elapsed_ms,
                "output_bytes": done.bytes,
                "truncated": done.truncated,
                "cwd": cwd.rel,
                "sandbox": sandbox,
            }),
        })
    }
}

/// What the sandbox helper needs for one call: the workspace and what to keep out of or
/// read-only in it, what else may be read, and the network the call was granted.
fn sandbox_spec(
    ctx: &ToolContext,
    launcher: &crate::SandboxLauncher,
    command: &str,
    cwd: &std::path::Path,
) -> Spec {
    let path_var = ctx
        .allowed_env
        .iter()
        .any(|n| n == "PATH")
        .then(|| std::env::var_os("PATH"))
        .flatten();
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    Spec {
        workspace: ctx.workspace.clone(),
        cwd: cwd.to_path_buf(),
        command: command.to_owned(),
        protected: ctx.protected.clone(),
        read_only: if ctx.code_files_writable {
            Vec::new()
        } else {
            code_bearing(&ctx.workspace)
        },
        read_roots: read_roots(path_var.as_deref(), home.as_deref(), &ctx.protected),
        network: ctx.network.clone(),
        assume: launcher.assume,
        stage: Stage::Outer,
        ids: None,
    }
}
