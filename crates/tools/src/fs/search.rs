//! `fs.search`: regex search over workspace files, honouring .gitignore.

use std::io::BufRead as _;

use async_trait::async_trait;
use pryx_protocol::ToolKind;
use serde::Deserialize;
use serde_json::{Value, json};

use super::confined::{Confined, Opened};
use super::{blocking, looks_binary, parse_args, walk};
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
/// files are skipped, as are binary and oversized files and protected directories.
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
        let overrides = match &args.glob {
            Some(glob) => {
                let mut ov = ignore::overrides::OverrideBuilder::new(&wp.abs);
                ov.add(glob)
                    .map_err(|e| ToolError::invalid(NAME, format!("bad glob: {e}")))?;
                Some(
                    ov.build()
                        .map_err(|e| ToolError::invalid(NAME, format!("bad glob: {e}")))?,
                )
            }
            None => None,
        };
        let max = ctx.limits.max_results;
        let max_file = ctx.limits.max_file_bytes;
        let cap = ctx.limits.output_cap_bytes;
        let cancel = ctx.cancel.clone();
        let (lines, total, files) = blocking(move || {
            let conf = Confined::new(&ctx)?;
            conf.refuse_protected(&wp)?;
            if !wp.exists {
                return Err(ToolError::NotFound { path: wp.rel });
            }
            let mut lines = Vec::new();
            let mut total = 0usize;
            let mut files = 0usize;
            let mut search = |file: std::fs::File, meta: &std::fs::Metadata, rel: &str| {
                if meta.len() > max_file {
                    return;
                }
                let found = search_file(file, &re, rel, &mut lines, max);
                total += found;
                files += usize::from(found > 0);
            };
            match conf.open_dir_or_file(&wp)? {
                Opened::File(file, meta) => search(file, &meta, &wp.rel),
                Opened::Dir(dir) => {
                    let opts = walk::Options {
                        max_depth: None,
                        hidden: false,
                        skip_names: &[],
                        overrides,
                    };
                    walk::walk(&conf, &dir, &wp.abs, &opts, &cancel, &mut |entry| {
                        if entry.kind != walk::Kind::File {
                            return Ok(());
                        }
                        let rel = path::display_rel(conf.workspace(), entry.abs);
                        // Unreadable, special, protected or swapped files are skipped quietly.
                        if let Ok((file, meta)) = conf.open_file_at(entry.dir, entry.name, &rel) {
                            search(file, &meta, &rel);
                        }
                        Ok(())
                    })?;
                }
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
    file: std::fs::File,
    re: &regex::Regex,
    rel: &str,
    out: &mut Vec<String>,
    max: usize,
) -> usize {
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
