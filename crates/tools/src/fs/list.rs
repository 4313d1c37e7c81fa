//! `fs.list`: directory entries, optionally recursive (respecting .gitignore).

use async_trait::async_trait;
use pryx_protocol::ToolKind;
use serde::Deserialize;
use serde_json::{Value, json};

use super::confined::{Confined, Opened};
use super::{blocking, parse_args, walk};
use crate::{Tool, ToolContext, ToolError, ToolOutput, path, trim_output};

const NAME: &str = "fs.list";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    #[serde(default = "dot")]
    path: String,
    #[serde(default)]
    recursive: bool,
}

fn dot() -> String {
    ".".into()
}

/// Lists a directory: one workspace-relative path per line, `/` after directories and `@` after
/// symlinks (which are never followed). Recursive listing skips `.git` and ignored files;
/// protected directories are left out without a trace.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsList;

#[async_trait]
impl Tool for FsList {
    fn name(&self) -> &str {
        NAME
    }

    fn description(&self) -> &str {
        "List a directory in the workspace (default \".\"); recursive honours .gitignore."
    }

    fn schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "recursive": {"type": "boolean"}
            },
            "additionalProperties": false
        })
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Read
    }

    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let args: Args = parse_args(NAME, args)?;
        let wp = path::resolve(&ctx.workspace, &args.path)?;
        let max = ctx.limits.max_results;
        let cap = ctx.limits.output_cap_bytes;
        let cancel = ctx.cancel.clone();
        let (entries, total) = blocking(move || {
            let conf = Confined::new(&ctx)?;
            conf.refuse_protected(&wp)?;
            if !wp.exists {
                return Err(ToolError::NotFound { path: wp.rel });
            }
            let dir = match conf.open_dir_or_file(&wp)? {
                Opened::Dir(dir) => dir,
                Opened::File(..) => {
                    return Err(ToolError::Io {
                        path: wp.rel,
                        message: "is not a directory; use fs.read".into(),
                    });
                }
            };
            let opts = walk::Options {
                max_depth: if args.recursive { None } else { Some(1) },
                hidden: true,
                skip_names: &[".git"],
                overrides: None,
            };
            let mut lines = Vec::new();
            let mut total = 0usize;
            walk::walk(&conf, &dir, &wp.abs, &opts, &cancel, &mut |entry| {
                total += 1;
                if lines.len() < max {
                    let suffix = match entry.kind {
                        walk::Kind::Symlink => "@",
                        walk::Kind::Dir => "/",
                        walk::Kind::File | walk::Kind::Other => "",
                    };
                    let rel = path::display_rel(conf.workspace(), entry.abs);
                    lines.push(format!("{rel}{suffix}"));
                }
                Ok(())
            })?;
            Ok((lines, total))
        })
        .await?;
        let shown = entries.len();
        let mut text = entries.join("\n");
        if total > shown {
            text.push_str(&format!(
                "\n[{shown} of {total} entries shown; list a subdirectory to see more]"
            ));
        }
        if total == 0 {
            text = "(empty directory)".into();
        }
        Ok(
            ToolOutput::text(trim_output(&text, cap).into_owned()).with_metadata(json!({
                "entries": total,
                "shown": shown,
            })),
        )
    }
}
