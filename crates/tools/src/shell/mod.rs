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
pub(crate) use process::kill_group;

const NAME: &str = "shell.exec";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    command: String,
    cwd: Option<String>,
    timeout_ms: Option<u64>,
    /// Start it and return at once with a process id (`process.*` tools follow it).
    #[serde(default)]
    background: bool,
    /// With `background`: regular expressions whose matching output lines are announced.
    #[serde(default)]
    watch: Vec<String>,
}

/// Most watch patterns per process, and characters per pattern.
const MAX_WATCH: usize = 8;
const MAX_PATTERN: usize = 200;

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
        "Run a command with sh -c in the workspace (or cwd inside it). Returns combined stdout/stderr and the exit code. With background: true it returns a process id at once (for servers, watchers, long builds): read it with process.output, wait with process.wait, stop it with process.kill; watch: [regex…] announces matching output lines."
    }

    fn schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "command": {"type": "string"},
                "cwd": {"type": "string"},
                "timeout_ms": {"type": "integer", "minimum": 1},
                "background": {"type": "boolean"},
                "watch": {"type": "array", "items": {"type": "string"}, "maxItems": MAX_WATCH}
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
            args.background.then_some(args.watch.as_slice()),
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

        let (cmd, sandbox) = command_for(&ctx, &args.command, &cwd.abs)?;
        if args.background {
            return start_background(&ctx, &args, cmd, sandbox, &cwd.rel);
        }
        if !args.watch.is_empty() {
            return Err(ToolError::invalid(
                NAME,
                "watch only applies to a background command (background: true)",
            ));
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

/// The command that runs `command` in `cwd` (through the sandbox helper when there is one,
/// with a cleared environment) and the containment it runs under.
fn command_for(
    ctx: &ToolContext,
    command: &str,
    cwd: &std::path::Path,
) -> Result<(tokio::process::Command, &'static str), ToolError> {
    let (mut cmd, sandbox) = match &ctx.sandbox {
        Some(launcher) => {
            let spec = sandbox_spec(ctx, launcher, command, cwd);
            let spec = serde_json::to_string(&spec)
                .map_err(|e| ToolError::Internal(format!("cannot describe the sandbox: {e}")))?;
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
            c.arg("-c").arg(command);
            (c, LandlockSupport::Unsupported.as_str())
        }
    };
    cmd.current_dir(cwd).env_clear();
    for name in &ctx.allowed_env {
        if let Some(value) = std::env::var_os(name) {
            cmd.env(name, value);
        }
    }
    Ok((cmd, sandbox))
}

/// `background: true`: starts the command in the session's process table and says how to
/// follow it.
fn start_background(
    ctx: &ToolContext,
    args: &Args,
    cmd: tokio::process::Command,
    sandbox: &'static str,
    cwd: &str,
) -> Result<ToolOutput, ToolError> {
    let (Some(table), Some(session)) = (&ctx.processes, &ctx.session_id) else {
        return Err(ToolError::invalid(
            NAME,
            "background commands are not available here (no session to keep them in); run it without background",
        ));
    };
    if args.watch.len() > MAX_WATCH {
        return Err(ToolError::invalid(
            NAME,
            format!("at most {MAX_WATCH} watch patterns"),
        ));
    }
    let mut watch = Vec::with_capacity(args.watch.len());
    for p in &args.watch {
        if p.is_empty() || p.chars().count() > MAX_PATTERN {
            return Err(ToolError::invalid(
                NAME,
                format!("a watch pattern must have 1 to {MAX_PATTERN} characters"),
            ));
        }
        let re = regex::RegexBuilder::new(p)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| ToolError::invalid(NAME, format!("watch pattern {p:?}: {e}")))?;
        watch.push(re);
    }
    let info = table.spawn(session, &args.command, cmd, watch)?;
    let pid = info.pid.map(|p| format!(" (pid {p})")).unwrap_or_default();
    Ok(ToolOutput {
        content: format!(
            "started {id}{pid} in the background: {}\nRead its output with process.output {{\"id\": \"{id}\"}}, wait for it with process.wait, stop it with process.kill.",
            args.command,
            id = info.id
        ),
        is_error: false,
        metadata: json!({
            "process_id": info.id,
            "pid": info.pid,
            "background": true,
            "cwd": cwd,
            "sandbox": sandbox,
        }),
    })
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
