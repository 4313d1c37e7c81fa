//! `fs.read`: a text file, whole or a line range.

use std::io::BufRead as _;

use async_trait::async_trait;
use pryx_protocol::ToolKind;
use serde::Deserialize;
use serde_json::{Value, json};

use super::confined::{Confined, read_text_from};
use super::{blocking, looks_binary, parse_args};
use crate::{Tool, ToolContext, ToolError, ToolOutput, path, trim_output};

const NAME: &str = "fs.read";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Args {
    path: String,
    start_line: Option<usize>,
    end_line: Option<usize>,
}

/// Reads a text file (optionally lines `start_line..=end_line`, 1-based). Binary files are
/// refused; whole files over `limits.max_file_bytes` must be read by range.
#[derive(Debug, Default, Clone, Copy)]
pub struct FsRead;

#[async_trait]
impl Tool for FsRead {
    fn name(&self) -> &str {
        NAME
    }

    fn description(&self) -> &str {
        "Read a text file in the workspace, optionally only lines start_line..end_line (1-based, inclusive)."
    }

    fn schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "start_line": {"type": "integer", "minimum": 1},
                "end_line": {"type": "integer", "minimum": 1}
            },
            "required": ["path"],
            "additionalProperties": false
        })
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Read
    }

    async fn execute(&self, args: Value, ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let args: Args = parse_args(NAME, args)?;
        if args.start_line == Some(0) || args.end_line == Some(0) {
            return Err(ToolError::invalid(NAME, "line numbers start at 1"));
        }
        if let (Some(s), Some(e)) = (args.start_line, args.end_line)
            && e < s
        {
            return Err(ToolError::invalid(NAME, "end_line is before start_line"));
        }
        let wp = path::resolve(&ctx.workspace, &args.path)?;
        let max = ctx.limits.max_file_bytes;
        let cap = ctx.limits.output_cap_bytes;
        let ranged = args.start_line.is_some() || args.end_line.is_some();
        let start = args.start_line.unwrap_or(1);
        let end = args.end_line;
        let rel = wp.rel.clone();
        let (text, total_lines) = blocking(move || {
            let conf = Confined::new(&ctx)?;
            let (file, meta) = conf.open_file(&wp)?;
            if ranged && meta.len() > max {
                read_range_streaming(file, &wp.rel, start, end)
            } else {
                let all = read_text_from(file, &meta, &wp.rel, max)?;
                select_lines(&all, &wp.rel, start, end)
            }
        })
        .await?;
        let bytes = text.len();
        let content = trim_output(&text, cap).into_owned();
        let truncated = content.len() != bytes;
        let last = end.map_or(total_lines, |e| e.min(total_lines));
        Ok(ToolOutput::text(content).with_metadata(json!({
            "path": rel,
            "start_line": start,
            "end_line": last,
            "total_lines": total_lines,
            "bytes": bytes,
            "truncated": truncated,
        })))
    }
}

/// Picks lines `start..=end` of `text`; returns them and the file's line count.
fn select_lines(
    text: &str,
    rel: &str,
    start: usize,
    end: Option<usize>,
) -> Result<(String, usize), ToolError> {
    let total = text.split_inclusive('\n').count();
    if start == 1 && end.is_none() {
        return Ok((text.to_owned(), total));
    }
    if start > total.max(1) {
        return Err(past_end(rel, start, total));
    }
    let take = end.map_or(usize::MAX, |e| e + 1 - start);
    let picked: String = text
        .split_inclusive('\n')
        .skip(start - 1)
        .take(take)
        .collect();
    Ok((picked, total))
}

/// Reads a line range of a file too large to load whole; the line count it reports is the
/// last line read when it stops early.
fn read_range_streaming(
    file: std::fs::File,
    rel: &str,
    start: usize,
    end: Option<usize>,
) -> Result<(String, usize), ToolError> {
    let mut reader = std::io::BufReader::new(file);
    let first = reader.fill_buf().map_err(|e| ToolError::io(rel, &e))?;
    if looks_binary(first) {
        return Err(ToolError::BinaryFile {
            path: rel.to_owned(),
        });
    }
    let mut out = Vec::new();
    let mut line = Vec::new();
    let mut n = 0;
    loop {
        line.clear();
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| ToolError::io(rel, &e))?;
        if read == 0 {
            break;
        }
        n += 1;
        if n >= start {
            out.extend_from_slice(&line);
        }
        if end.is_some_and(|e| n >= e) {
            break;
        }
    }
    if start > n.max(1) {
        return Err(past_end(rel, start, n));
    }
    let text = String::from_utf8(out).map_err(|_| ToolError::BinaryFile {
        path: rel.to_owned(),
    })?;
    Ok((text, n))
}

fn past_end(rel: &str, start: usize, total: usize) -> ToolError {
    ToolError::invalid(
        NAME,
        format!("start_line {start} is past the end of {rel} ({total} lines)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_inclusive_ranges() {
        let t = "a\nb\nc\nd\n";
        assert_eq!(
            select_lines(t, "f", 2, Some(3)).unwrap(),
            ("b\nc\n".into(), 4)
        );
        assert_eq!(select_lines(t, "f", 3, None).unwrap(), ("c\nd\n".into(), 4));
        assert_eq!(
            select_lines(t, "f", 4, Some(99)).unwrap(),
            ("d\n".into(), 4)
        );
        assert!(select_lines(t, "f", 5, None).is_err());
        assert_eq!(
            select_lines("", "f", 1, Some(3)).unwrap(),
            (String::new(), 0)
        );
        assert_eq!(select_lines("x", "f", 1, Some(1)).unwrap(), ("x".into(), 1));
    }
}
