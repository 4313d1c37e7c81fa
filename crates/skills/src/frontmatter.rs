//! Splitting `SKILL.md` into frontmatter and body, and reading the frontmatter.
//!
//! YAML is tried first. Skills written for other agents are often not valid YAML (an unquoted
//! `description: Use when: ...`, or a JSON5 `metadata` block with trailing commas), so a strict
//! line reader follows: top-level `key: value` lines, with indented blocks read as JSON5.

use crate::json5_text;
use serde_json::{Map, Value};

/// The two parts of a `SKILL.md`.
#[derive(Debug, Clone, PartialEq)]
pub struct Split<'a> {
    /// Text between the `---` lines.
    pub frontmatter: &'a str,
    /// Markdown after the closing `---`.
    pub body: &'a str,
    /// 1-based line of the first frontmatter line in the file.
    pub first_line: usize,
    /// 1-based line where the body starts.
    pub body_line: usize,
}

/// A frontmatter problem at a 1-based line of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontmatterError {
    pub line: usize,
    pub message: String,
}

/// Separates the frontmatter from the body.
pub fn split(text: &str) -> Result<Split<'_>, FrontmatterError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "---" {
        return Err(FrontmatterError {
            line: 1,
            message: "SKILL.md must start with YAML frontmatter: a `---` line, `name:` and `description:`, then `---`".into(),
        });
    }
    let start = first.len();
    let mut offset = start;
    for (line_no, line) in (2..).zip(lines) {
        if matches!(line.trim_end(), "---" | "...") {
            return Ok(Split {
                frontmatter: &text[start..offset],
                body: &text[offset + line.len()..],
                first_line: 2,
                body_line: line_no + 1,
            });
        }
        offset += line.len();
    }
    Err(FrontmatterError {
        line: 1,
        message: "the frontmatter is never closed: add a `---` line after it".into(),
    })
}

/// The frontmatter as a JSON object, plus a warning when the lenient reader had to be used.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub fields: Map<String, Value>,
    pub warning: Option<String>,
}

/// Reads the frontmatter text; `first_line` maps its lines to file lines for errors.
pub fn parse(frontmatter: &str, first_line: usize) -> Result<Parsed, FrontmatterError> {
    if frontmatter.trim().is_empty() {
        return Err(FrontmatterError {
            line: first_line,
            message: "the frontmatter is empty; it needs at least `name:` and `description:`"
                .into(),
        });
    }
    let yaml_err = match serde_yaml_ng::from_str::<Value>(frontmatter) {
        Ok(Value::Object(fields)) => {
            return Ok(Parsed {
                fields,
                warning: None,
            });
        }
        Ok(_) => FrontmatterError {
            line: first_line,
            message: "the frontmatter must be a mapping of `key: value` lines".into(),
        },
        Err(e) => FrontmatterError {
            // Errors found at the end of the input point at the last frontmatter line.
            line: first_line
                + e.location()
                    .map_or(0, |l| l.line().saturating_sub(1))
                    .min(frontmatter.lines().count().saturating_sub(1)),
            message: format!("invalid YAML: {}", strip_location(&e.to_string())),
        },
    };
    match lenient(frontmatter, first_line) {
        Ok(fields) => Ok(Parsed {
            fields,
            warning: Some(format!(
                "line {}: frontmatter is not valid YAML ({}); read it with the simple `key: value` reader; quote values containing `: ` to fix",
                yaml_err.line, yaml_err.message
            )),
        }),
        Err(_) => Err(yaml_err),
    }
}

fn strip_location(msg: &str) -> String {
    msg.split(" at line ").next().unwrap_or(msg).to_string()
}

/// Strict line reader used when YAML fails.
fn lenient(text: &str, first_line: usize) -> Result<Map<String, Value>, FrontmatterError> {
    let mut fields = Map::new();
    let mut pending: Option<(String, usize, String)> = None; // key, line, block text
    let lines: Vec<&str> = text.lines().collect();
    for (i, raw) in lines.iter().enumerate() {
        let line_no = first_line + i;
        let bad = |m: &str| FrontmatterError {
            line: line_no,
            message: m.to_string(),
        };
        if raw.trim().is_empty() || raw.trim_start().starts_with('#') && !raw.starts_with(' ') {
            if let Some((_, _, block)) = pending.as_mut() {
                block.push('\n');
            }
            continue;
        }
        if raw.starts_with([' ', '\t']) {
            match pending.as_mut() {
                Some((_, _, block)) => {
                    block.push_str(raw);
                    block.push('\n');
                    continue;
                }
                None => return Err(bad("unexpected indented line")),
            }
        }
        if let Some((key, at, block)) = pending.take() {
            fields.insert(key, block_value(&block, at)?);
        }
        let (key, value) = raw
            .split_once(':')
            .ok_or_else(|| bad("expected `key: value`"))?;
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(bad("expected `key: value`"));
        }
        let value = value.trim();
        if value.is_empty() {
            pending = Some((key.to_string(), line_no, String::new()));
        } else {
            fields.insert(key.to_string(), scalar(value).map_err(|m| bad(&m))?);
        }
    }
    if let Some((key, at, block)) = pending.take() {
        fields.insert(key, block_value(&block, at)?);
    }
    Ok(fields)
}

fn block_value(block: &str, key_line: usize) -> Result<Value, FrontmatterError> {
    if block.trim().is_empty() {
        return Ok(Value::Null);
    }
    json5_text::parse(block).map_err(|e| FrontmatterError {
        line: key_line + e.line,
        message: format!("invalid JSON5 block: {}", e.message),
    })
}

fn scalar(value: &str) -> Result<Value, String> {
    if value.starts_with(['{', '[']) {
        return json5_text::parse(value)
            .map_err(|e| format!("invalid inline value: {}", e.message));
    }
    for q in ['"', '\''] {
        if let Some(rest) = value.strip_prefix(q) {
            return match rest.strip_suffix(q) {
                Some(inner) if q == '"' => json5_text::parse(value)
                    .or_else(|_| Ok(Value::String(inner.to_string())))
                    .map_err(|e: json5_text::Json5Error| e.message),
                Some(inner) => Ok(Value::String(inner.replace("''", "'"))),
                None => Err("unterminated quoted value".into()),
            };
        }
    }
    Ok(match value {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" | "~" => Value::Null,
        _ => Value::String(value.to_string()),
    })
}

/// The file line of a top-level `key:` in the frontmatter, for pointing errors at it.
pub fn key_line(frontmatter: &str, first_line: usize, key: &str) -> usize {
    frontmatter
        .lines()
        .position(|l| {
            l.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with(':'))
        })
        .map_or(first_line, |i| first_line + i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splits_frontmatter_and_body() {
        let s = split("---\nname: a\ndescription: b\n---\n# Body\n").unwrap();
        assert_eq!(s.frontmatter, "name: a\ndescription: b\n");
        assert_eq!(s.body, "# Body\n");
        assert_eq!(s.body_line, 5);
    }

    #[test]
    fn missing_or_unclosed_frontmatter_is_an_error() {
        assert_eq!(split("# no frontmatter").unwrap_err().line, 1);
        assert!(
            split("---\nname: a\n")
                .unwrap_err()
                .message
                .contains("never closed")
        );
    }

    #[test]
    fn yaml_is_read_first() {
        let p = parse("name: a\ndescription: \"b: c\"\nmetadata:\n  x: 1\n", 2).unwrap();
        assert_eq!(p.fields["metadata"], json!({"x": 1}));
        assert!(p.warning.is_none());
    }

    #[test]
    fn openclaw_block_json5_metadata_reads() {
        let fm = "name: gemini\ndescription: Use Gemini\nmetadata:\n  {\n    \"openclaw\":\n      {\n        \"requires\": { \"bins\": [\"gemini\"] },\n      },\n  }\n";
        let p = parse(fm, 2).unwrap();
        assert_eq!(
            p.fields["metadata"],
            json!({"openclaw": {"requires": {"bins": ["gemini"]}}})
        );
    }

    #[test]
    fn unquoted_colon_falls_back_with_a_warning() {
        let p = parse("name: a\ndescription: Use when: the user asks\n", 2).unwrap();
        assert_eq!(p.fields["description"], json!("Use when: the user asks"));
        assert!(p.warning.unwrap().contains("not valid YAML"));
    }

    #[test]
    fn malformed_frontmatter_reports_the_yaml_line() {
        let err = parse("name: a\ndescription: [unclosed\n", 2).unwrap_err();
        assert!(err.message.contains("invalid YAML"), "{}", err.message);
        assert_eq!(
            err.line, 3,
            "points at the unclosed value, not past the frontmatter"
        );
        let err = parse("name: a\nthis is not a key\n  - oops\n", 2).unwrap_err();
        assert!(err.message.contains("YAML"));
    }

    #[test]
    fn finds_key_lines() {
        assert_eq!(key_line("name: a\ndescription: b\n", 2, "description"), 3);
        assert_eq!(key_line("name: a\n", 2, "missing"), 2);
    }
}
