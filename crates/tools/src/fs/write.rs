//! `fs.write`: create or replace a file atomically.

use async_trait::async_trait;
use pryx_protocol::ToolKind;
use serde::Deserialize;
use serde_json::{Value, json};

use super::confined::Confined;
use super::{blocking, parse_args, unified_diff};
use crate::{Tool, ToolContext, ToolError, ToolOutput, path};

const NAME: &str = "fs.write";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    path: String,
    content: String,
}

/// Writes a whole file (parents created inside the workspace), atomically.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsWrite;

/// The diff `fs.write` would apply, without writing; for approval prompts.
pub async fn preview_write(args: Value, ctx: ToolContext) -> Result<String, ToolError> {
    let args: Args = parse_args(NAME, args)?;
    let wp = path::resolve(&ctx.workspace, &args.path)?;
    let max = ctx.limits.max_file_bytes;
    // The whole diff: a person approves every line that will be written.
    blocking(move || {
        let conf = Confined::new(&ctx)?;
        let old = current_text(&conf, &wp, max)?;
        Ok(unified_diff(&wp.rel, &old, &args.content))
    })
    .await
}

/// Existing text of the target, empty when it does not exist yet. Refuses what the write
/// would refuse (a protected file, one with other hard links), so no approval is asked for a
/// write that cannot happen.
fn current_text(conf: &Confined, wp: &path::WorkspacePath, max: u64) -> Result<String, ToolError> {
    if wp.exists {
        conf.read_text_to_replace(wp, max)
    } else {
        conf.refuse_protected(wp).map(|()| String::new())
    }
}

#[async_trait]
impl Tool for FsWrite {
    fn name(&self) -> &str {
        NAME
    }

    fn description(&self) -> &str {
        "Create or overwrite a file in the workspace with the given content."
    }

    fn schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "content": {"type": "string"}
            },
            "required": ["path", "content"],
            "additionalProperties": false
        })
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Write
    }

    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let args: Args = parse_args(NAME, args)?;
        let wp = path::resolve(&ctx.workspace, &args.path)?;
        let rel = wp.rel.clone();
        let bytes = args.content.len();
        let created =
            blocking(move || Confined::new(&ctx)?.write_atomic(&wp, args.content.as_bytes()))
                .await?;
        let verb = if created { "created" } else { "overwrote" };
        Ok(
            ToolOutput::text(format!("{verb} {rel} ({bytes} bytes)")).with_metadata(json!({
                "path": rel,
                "bytes": bytes,
                "created": created,
            })),
        )
    }

    async fn preview(&self, args: Value, ctx: ToolContext) -> Result<Option<String>, ToolError> {
        preview_write(args, ctx).await.map(Some)
    }
}
