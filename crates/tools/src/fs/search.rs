//! `fs.search`: regex search over workspace files, honouring .gitignore.

use std::io::BufRead as _;

use async_trait::async_trait;
use pryx_protocol::ToolKind;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{blocking, looks_binary, parse_args};
use crate::{Tool, ToolContext, ToolError, ToolOutput, path, trim_output};

const NAME: &str = "fs.search";
/// Longest matched line shown; longer ones are cut with `…`.
const MAX_LINE_CHARS: usize = 300;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    pattern: String,
    #[serde(default = "dot")]
    path: String,
    glob: Option<String>,
}

fn dot() -> String {
    ".".into()
}

/// Searches file contents with a regex; prints `path:line: text` per match. Hidden and ignored
/// files are skipped, as are binary and oversized files.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsSearch;

#[async_trait]
impl Tool for FsSearch {
    fn name(&self) -> &str {
        NAME
    }

    fn description(&self) -> &str {
        "Search file contents by regex under path (default \".\"), optionally only files matching glob. Honours .gitignore."
    }

    fn schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "pattern": {"type": "string"},
                "path": {"type": "string"},
                "glob": {"type": "string"}
            },
            "required": ["pattern"],
            "additionalProperties": false
        })
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Read
    }

    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let args: Args = parse_args(NAME, args)?;
        let re = regex::Regex::new(&args.pattern)
            .map_err(|e| ToolError::invalid(NAME, format!("bad regex: {e}")))?;
        let wp = path::resolve(&ctx.workspace, &args.path)?;
        if !wp.exists {
            return Err(ToolError::NotFound { path: wp.rel });
        }
        let mut builder = ignore::WalkBuilder::new(&wp.abs);
        builder
            .require_git(false)
            .follow_links(false)
            .sort_by_file_name(|a, b| a.cmp(b));
        if let Some(glob) = &args.glob {
            let mut ov = ignore::overrides::OverrideBuilder::new(&wp.abs);
            ov.add(glob)
                .map_err(|e| ToolError::invalid(NAME, format!("bad glob: {e}")))?;
            let ov = ov
                .build()
                .map_err(|e| ToolError::invalid(NAME, format!("bad glob: {e}")))?;
            builder.overrides(ov);
        }
        let max = ctx.limits.max_results;
        let max_file = ctx.limits.max_file_bytes;
        let cap = ctx.limits.output_cap_bytes;
        let ws = ctx.workspace.clone();
        let cancel = ctx.cancel.clone();
        let (lines, total, files) = blocking(move || {
            let mut lines = Vec::new();
            let mut total = 0usize;
            let mut files = 0usize;
            for entry in builder.build() {
                if cancel.is_cancelled() {
                    return Err(ToolError::Cancelled);
                }
                let Ok(entry) = entry else { continue };
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    continue;
                }
                if entry.metadata().map_or(true, |m| m.len() > max_file) {
                    continue;
                }
                let rel = path::display_rel(&ws, entry.path());
                let found = search_file(entry.path(), &re, &rel, &mut lines, max);
                total += found;
                files += usize::from(found > 0);
            }
            Ok((lines, total, files))
        })
        .await?;
        let shown = lines.len();
        let mut text = lines.join("\n");
        if total == 0 {
            text = "no matches".into();
        } else if total > shown {
            text.push_str(&format!(
                "\n[{shown} of {total} matches shown; narrow the pattern, path or glob]"
            ));
        }
        Ok(
            ToolOutput::text(trim_output(&text, cap).into_owned()).with_metadata(json!({
                "matches": total,
                "files": files,
                "shown": shown,
            })),
        )
    }
}

/// Appends matches of one file to `out` (up to `max` lines overall); returns the match count.
fn search_file(
    abs: &std::path::Path,
    re: &regex::Regex,
    rel: &str,
    out: &mut Vec<String>,
    max: usize,
) -> usize {
    let Ok(file) = std::fs::File::open(abs) else {
        return 0;
    };
    let mut reader = std::io::BufReader::new(file);
    match reader.fill_buf() {
        Ok(head) if !looks_binary(head) => {}
        _ => return 0,
    }
    let mut count = 0;
    for (i, line) in reader.lines().enumerate() {
        // Invalid UTF-8 mid-file: treat the rest as binary.
        let Ok(line) = line else { break };
        if re.is_match(&line) {
            count += 1;
            if out.len() < max {
                out.push(format!("{rel}:{}: {}", i + 1, shorten(&line)));
            }
        }
    }
    count
}

fn shorten(line: &str) -> String {
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((idx, _)) => format!("{}…", &line[..idx]),
        None => line.to_owned(),
    }
}
