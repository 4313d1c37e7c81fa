//! `fs.edit`: exact text replacement with a diff of what changed.

use async_trait::async_trait;
use pryx_protocol::ToolKind;
use serde::Deserialize;
use serde_json::{Value, json};

use super::confined::Confined;
use super::{blocking, parse_args, unified_diff};
use crate::{Tool, ToolContext, ToolError, ToolOutput, path, trim_output};

const NAME: &str = "fs.edit";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    path: String,
    old_text: String,
    new_text: String,
    #[serde(default)]
    replace_all: bool,
}

/// Replaces `old_text` with `new_text`; the old text must occur exactly once unless
/// `replace_all` is set.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsEdit;

struct Planned {
    wp: path::WorkspacePath,
    new: String,
    diff: String,
    replacements: usize,
}

fn plan(args: Args, ctx: &ToolContext, conf: &Confined) -> Result<Planned, ToolError> {
    if args.old_text.is_empty() {
        return Err(ToolError::invalid(
            NAME,
            "old_text is empty; use fs.write to create a file",
        ));
    }
    let wp = path::resolve(&ctx.workspace, &args.path)?;
    conf.refuse_protected(&wp)?;
    if !wp.exists {
        return Err(ToolError::NotFound { path: wp.rel });
    }
    let old = conf.read_text_to_replace(&wp, ctx.limits.max_file_bytes)?;
    let count = old.matches(&args.old_text).count();
    if count == 0 {
        return Err(ToolError::OldTextNotFound { path: wp.rel });
    }
    if count > 1 && !args.replace_all {
        return Err(ToolError::OldTextAmbiguous {
            path: wp.rel,
            count,
        });
    }
    let new = old.replace(&args.old_text, &args.new_text);
    let diff = unified_diff(&wp.rel, &old, &new);
    Ok(Planned {
        wp,
        new,
        diff,
        replacements: count,
    })
}

/// The diff `fs.edit` would apply, without writing; for approval prompts. Fails the same way
/// the edit would (text absent or ambiguous).
pub async fn preview_edit(args: Value, ctx: ToolContext) -> Result<String, ToolError> {
    let args: Args = parse_args(NAME, args)?;
    // The whole diff: a person approves every line that will be written.
    let planned = blocking(move || plan(args, &ctx, &Confined::new(&ctx)?)).await?;
    Ok(planned.diff)
}

#[async_trait]
impl Tool for FsEdit {
    fn name(&self) -> &str {
        NAME
    }

    fn description(&self) -> &str {
        "Replace old_text with new_text in a file. old_text must match exactly and be unique unless replace_all is true."
    }

    fn schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "old_text": {"type": "string"},
                "new_text": {"type": "string"},
                "replace_all": {"type": "boolean"}
            },
            "required": ["path", "old_text", "new_text"],
            "additionalProperties": false
        })
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Write
    }

    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let args: Args = parse_args(NAME, args)?;
        let cap = ctx.limits.output_cap_bytes;
        let planned = blocking(move || {
            let conf = Confined::new(&ctx)?;
            let p = plan(args, &ctx, &conf)?;
            conf.write_atomic(&p.wp, p.new.as_bytes())?;
            Ok(p)
        })
        .await?;
        let noun = if planned.replacements == 1 {
            "replacement"
        } else {
            "replacements"
        };
        let head = format!(
            "edited {} ({} {noun})\n",
            planned.wp.rel, planned.replacements
        );
        let body = trim_output(&planned.diff, cap.saturating_sub(head.len()));
        Ok(
            ToolOutput::text(format!("{head}{body}")).with_metadata(json!({
                "path": planned.wp.rel,
                "replacements": planned.replacements,
                "diff": trim_output(&planned.diff, cap),
            })),
        )
    }

    async fn preview(&self, args: Value, ctx: ToolContext) -> Result<Option<String>, ToolError> {
        preview_edit(args, ctx).await.map(Some)
    }
}
