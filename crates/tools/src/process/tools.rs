//! The `process.*` tools: a session's view of its own background processes.

use super::{ProcessTable, Status, Stream};
use crate::fs::parse_args;
use crate::{Tool, ToolContext, ToolError, ToolOutput};
use async_trait::async_trait;
use pryx_protocol::ToolKind;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// Lines `process.output` returns at most, unless asked for fewer.
const MAX_LINES: usize = 200;

/// The five tools, in name order.
pub fn tools() -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(ProcessKill),
        Arc::new(ProcessList),
        Arc::new(ProcessOutput),
        Arc::new(ProcessSend),
        Arc::new(ProcessWait),
    ]
}

fn table<'a>(tool: &str, ctx: &'a ToolContext) -> Result<(&'a ProcessTable, &'a str), ToolError> {
    match (&ctx.processes, &ctx.session_id) {
        (Some(t), Some(s)) => Ok((t, s.as_str())),
        _ => Err(ToolError::invalid(
            tool,
            "there are no background processes here (no session to keep them in)",
        )),
    }
}

fn id_schema(extra: Value) -> Value {
    let mut props = json!({"id": {"type": "string", "description": "process id, e.g. p1"}});
    if let (Some(p), Some(e)) = (props.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            p.insert(k.clone(), v.clone());
        }
    }
    json!({"type": "object", "properties": props, "required": ["id"], "additionalProperties": false})
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IdArgs {
    id: String,
}

fn describe(status: Status) -> String {
    status.describe()
}

/// `process.list`: the session's background processes with their last lines.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessList;

#[async_trait]
impl Tool for ProcessList {
    fn name(&self) -> &str {
        "process.list"
    }
    fn description(&self) -> &str {
        "List this session's background processes: id, command, status and their last output lines."
    }
    fn schema(&self) -> Value {
        json!({"type": "object", "properties": {}, "additionalProperties": false})
    }
    fn kind(&self) -> ToolKind {
        ToolKind::Read
    }
    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct NoArgs {}
        let _: NoArgs = parse_args(self.name(), args)?;
        let (table, session) = table(self.name(), &ctx)?;
        let list = table.list(session, 10);
        if list.is_empty() {
            return Ok(ToolOutput::text(
                "no background processes in this session; start one with shell.exec and background: true",
            ));
        }
        let mut out = String::new();
        for p in &list {
            out.push_str(&format!(
                "{} · {} · {} · stdout {} lines, stderr {} lines\n",
                p.id,
                describe(p.status),
                p.command,
                p.stdout_lines,
                p.stderr_lines
            ));
            for l in &p.stdout_tail {
                out.push_str(&format!("  | {l}\n"));
            }
            for l in &p.stderr_tail {
                out.push_str(&format!("  ! {l}\n"));
            }
        }
        Ok(ToolOutput::text(out.trim_end().to_string()))
    }
}

/// `process.output`: lines of one stream from an offset.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessOutput;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputArgs {
    id: String,
    #[serde(default)]
    offset: u64,
    stream: Option<Stream>,
    max_lines: Option<usize>,
}

#[async_trait]
impl Tool for ProcessOutput {
    fn name(&self) -> &str {
        "process.output"
    }
    fn description(&self) -> &str {
        "Read a background process's output: lines of stdout (or stderr) from offset (a line number, 0 first); the answer gives the offset to go on from."
    }
    fn schema(&self) -> Value {
        id_schema(json!({
            "offset": {"type": "integer", "minimum": 0},
            "stream": {"type": "string", "enum": ["stdout", "stderr"]},
            "max_lines": {"type": "integer", "minimum": 1, "maximum": MAX_LINES}
        }))
    }
    fn kind(&self) -> ToolKind {
        ToolKind::Read
    }
    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let args: OutputArgs = parse_args(self.name(), args)?;
        let (table, session) = table(self.name(), &ctx)?;
        let stream = args.stream.unwrap_or(Stream::Stdout);
        let max = args.max_lines.unwrap_or(MAX_LINES).clamp(1, MAX_LINES);
        let info = table.info(session, &args.id, 0)?;
        let read = table.output(session, &args.id, stream, args.offset, max)?;
        let next = read.from + read.lost + read.lines.len() as u64;
        let mut out = format!(
            "{} · {} · {} lines {}–{} of {} (next offset {next})\n",
            args.id,
            describe(info.status),
            stream.as_str(),
            read.from,
            next,
            read.total
        );
        if read.lost > 0 {
            out.push_str(&format!("[{} older lines are no longer kept]\n", read.lost));
        }
        for l in &read.lines {
            out.push_str(l);
            out.push('\n');
        }
        if read.lines.is_empty() {
            out.push_str("(no new lines)\n");
        }
        Ok(ToolOutput {
            content: out.trim_end().to_string(),
            is_error: false,
            metadata: json!({"next_offset": next, "total": read.total, "lost": read.lost}),
        })
    }
}

/// `process.wait`: until the process ends or a timeout.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessWait;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaitArgs {
    id: String,
    timeout_ms: Option<u64>,
}

#[async_trait]
impl Tool for ProcessWait {
    fn name(&self) -> &str {
        "process.wait"
    }
    fn description(&self) -> &str {
        "Wait for a background process to end (at most timeout_ms, default 30000); returns its status and last lines."
    }
    fn schema(&self) -> Value {
        id_schema(json!({"timeout_ms": {"type": "integer", "minimum": 1}}))
    }
    fn kind(&self) -> ToolKind {
        ToolKind::Read
    }
    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let args: WaitArgs = parse_args(self.name(), args)?;
        let (table, session) = table(self.name(), &ctx)?;
        let timeout =
            Duration::from_millis(args.timeout_ms.unwrap_or(30_000)).min(ctx.limits.max_timeout);
        let status = table.wait(session, &args.id, timeout, &ctx.cancel).await?;
        let info = table.info(session, &args.id, 20)?;
        let mut out = match status {
            Status::Running => format!(
                "{} is still running after {} ms",
                args.id,
                timeout.as_millis()
            ),
            s => format!("{} {}", args.id, describe(s)),
        };
        for l in &info.stdout_tail {
            out.push_str(&format!("\n| {l}"));
        }
        for l in &info.stderr_tail {
            out.push_str(&format!("\n! {l}"));
        }
        let is_error = matches!(status, Status::Exited { code: Some(c), .. } if c != 0);
        Ok(ToolOutput {
            content: out,
            is_error,
            metadata: json!({"status": describe(status)}),
        })
    }
}

/// `process.kill`: stops the process and everything it started.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessKill;

#[async_trait]
impl Tool for ProcessKill {
    fn name(&self) -> &str {
        "process.kill"
    }
    fn description(&self) -> &str {
        "Stop a background process of this session and everything it started."
    }
    fn schema(&self) -> Value {
        id_schema(json!({}))
    }
    fn kind(&self) -> ToolKind {
        ToolKind::Read
    }
    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let args: IdArgs = parse_args(self.name(), args)?;
        let (table, session) = table(self.name(), &ctx)?;
        let status = table.kill(session, &args.id).await?;
        Ok(ToolOutput::text(match status {
            Status::Killed => format!("{} killed", args.id),
            s => format!("{} had already {}", args.id, describe(s)),
        }))
    }
}

/// `process.send`: writes to the process's standard input.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessSend;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendArgs {
    id: String,
    input: String,
    newline: Option<bool>,
}

#[async_trait]
impl Tool for ProcessSend {
    fn name(&self) -> &str {
        "process.send"
    }
    fn description(&self) -> &str {
        "Write input to a background process's stdin (a newline is added unless newline: false)."
    }
    fn schema(&self) -> Value {
        id_schema(json!({"input": {"type": "string"}, "newline": {"type": "boolean"}}))
    }
    fn kind(&self) -> ToolKind {
        ToolKind::Exec
    }
    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let args: SendArgs = parse_args(self.name(), args)?;
        if args.input.len() > 64 * 1024 {
            return Err(ToolError::invalid(self.name(), "input is over 64 KB"));
        }
        let (table, session) = table(self.name(), &ctx)?;
        let mut input = args.input;
        if args.newline.unwrap_or(true) {
            input.push('\n');
        }
        let n = table.send(session, &args.id, &input).await?;
        Ok(ToolOutput::text(format!("sent {n} bytes to {}", args.id)))
    }
}
