//! JSON5 metadata read through the `json5` crate into a `serde_json::Value`.
//!
//! Skills written for other agents often keep their `metadata` as JSON5 (comments, trailing
//! commas, unquoted keys, single quotes) inside the YAML frontmatter, sometimes as a string.
//! `NaN`/`Infinity` have no JSON form and read as `null`.
//!
//! The crate recurses once per nesting level without a bound, so a third-party file of ten
//! thousand `[` would overflow the stack; the nesting is measured first and refused past
//! [`MAX_DEPTH`].

use serde_json::Value;

/// Deeper than any real metadata; shallow enough for every thread's stack.
const MAX_DEPTH: usize = 64;

/// Where and why a JSON5 text failed to parse. `line` is 1-based within the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Json5Error {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Json5Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Parses one JSON5 value; anything but whitespace and comments after it is an error.
pub fn parse(text: &str) -> Result<Value, Json5Error> {
    check_depth(text)?;
    json5::from_str::<Value>(text).map_err(|e| {
        let (line, column) = e
            .position()
            .map_or((1, None), |p| (p.line + 1, Some(p.column + 1)));
        let what = e.code().map_or_else(|| e.to_string(), describe);
        let message = match column {
            Some(c) => format!("{what} (column {c})"),
            None => what,
        };
        Json5Error { line, message }
    })
}

/// The crate's error codes in words a skill author can act on.
fn describe(code: json5::ErrorCode) -> String {
    use json5::ErrorCode as C;
    match code {
        C::EofParsingArray | C::ExpectedClosingBracket => {
            "expected `,` or `]` after a value: an array is not closed".into()
        }
        C::EofParsingObject | C::ExpectedClosingBrace => {
            "expected `,` or `}` after a value: an object is not closed".into()
        }
        C::EofParsingComment => "unterminated /* comment: add `*/`".into(),
        C::EofParsingString | C::LineTerminatorInString => {
            "unterminated string: close the quote on the same line (or end the line with `\\`)"
                .into()
        }
        C::EofParsingEscapeSequence | C::InvalidEscapeSequence => {
            "bad escape sequence in a string: use `\\n`, `\\t`, `\\\\`, `\\xHH` or `\\uHHHH`".into()
        }
        C::ExpectedColon => "expected `:` after a key".into(),
        C::ExpectedComma => "expected `,` between values (or the closing `]`/`}`)".into(),
        C::ExpectedIdentifier | C::InvalidKey | C::ExpectedStringOrObject => {
            "expected a key (a name or a quoted string) or `}`".into()
        }
        C::LeadingZero => {
            "malformed number: a number cannot start with `0` (use `0x` for hex)".into()
        }
        C::OverflowParsingNumber => "number is too large".into(),
        C::EofParsingNumber | C::ExpectedNumber => "malformed number".into(),
        C::TrailingCharacters => {
            "unexpected text after the value: only one value is allowed (quote text values)".into()
        }
        C::EofParsingValue | C::EofParsingBool | C::EofParsingNull | C::EofParsingIdentifier => {
            "unexpected end of text: a value is missing".into()
        }
        other => format!("{other}: expected a value (text must be quoted)"),
    }
}

/// Refuses nesting deeper than [`MAX_DEPTH`] before the recursive parser sees it. Brackets in
/// strings and comments do not count; text the parser will refuse anyway may be miscounted,
/// since the parser stops at the first error, before any bracket after it.
fn check_depth(text: &str) -> Result<(), Json5Error> {
    let mut depth = 0usize;
    let mut line = 1usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '[' | '{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Json5Error {
                        line,
                        message: format!(
                            "nesting is too deep (more than {MAX_DEPTH} levels): flatten the value"
                        ),
                    });
                }
            }
            ']' | '}' => depth = depth.saturating_sub(1),
            '"' | '\'' => {
                let mut escaped = false;
                for s in chars.by_ref() {
                    if s == '\n' {
                        line += 1;
                    }
                    if escaped {
                        escaped = false;
                    } else if s == '\\' {
                        escaped = true;
                    } else if s == c {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                // JSON5 ends a line comment at any line terminator, not only `\n`.
                for s in chars.by_ref() {
                    if matches!(s, '\n' | '\r' | '\u{2028}' | '\u{2029}') {
                        line += usize::from(s == '\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut star = false;
                for s in chars.by_ref() {
                    if s == '\n' {
                        line += 1;
                    }
                    if star && s == '/' {
                        break;
                    }
                    star = s == '*';
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    #[test]
    fn reads_plain_json() {
        let v = parse(r#"{"a": [1, 2.5, -3], "b": {"c": null, "d": true}}"#).unwrap();
        assert_eq!(v, json!({"a": [1, 2.5, -3], "b": {"c": null, "d": true}}));
    }

    #[test]
    fn reads_json5_extensions() {
        let text = "{\n  // comment\n  openclaw: { requires: { bins: ['uv',], }, /* c */ },\n  n: +.5, h: 0x1F, s: 'it\\'s', t: \"a\\u0041\",\n}";
        let v = parse(text).unwrap();
        assert_eq!(
            v,
            json!({"openclaw": {"requires": {"bins": ["uv"]}}, "n": 0.5, "h": 31, "s": "it's", "t": "aA"})
        );
    }

    #[test]
    fn nan_and_infinity_read_as_null() {
        assert_eq!(
            parse("[NaN, Infinity, -Infinity]").unwrap(),
            json!([null, null, null])
        );
    }

    #[test]
    fn reports_the_line_of_an_error() {
        let err = parse("{\n  a: 1,\n  b: ?\n}").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("column 6"), "{err}");
        for (text, says) in [
            ("{a: 1", "`}`"),
            ("[1 2]", "`,`"),
            ("{} x", "after the value"),
            ("'open", "unterminated string"),
            ("{a 1}", "`:`"),
            ("/* open", "*/"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.message.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let text = "[".repeat(10_000);
        assert!(parse(&text).unwrap_err().message.contains("deep"));
        let text = format!("{}{}", "{a:".repeat(10_000), "}".repeat(10_000));
        assert!(parse(&text).unwrap_err().message.contains("deep"));
        // Brackets inside strings and comments are text.
        let text = format!("['{}', /* {} */ 1]", "[".repeat(100), "{".repeat(100));
        assert_eq!(parse(&text).unwrap(), json!(["[".repeat(100), 1]));
    }

    #[test]
    fn the_deepest_allowed_nesting_reads() {
        let text = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&text).is_ok());
    }
}

#[cfg(test)]
pub(crate) mod corpus;
#[cfg(test)]
mod differential;
