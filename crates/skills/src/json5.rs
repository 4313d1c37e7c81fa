//! A small JSON5 reader producing `serde_json::Value`.
//!
//! Skills written for other agents often keep their `metadata` as JSON5 (comments, trailing
//! commas, unquoted keys, single quotes) inside the YAML frontmatter, sometimes as a string.
//! `NaN`/`Infinity` have no JSON form and read as `null`.

use serde_json::{Map, Number, Value};

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
    let mut p = Parser {
        chars: text.chars().collect(),
        pos: 0,
        depth: 0,
    };
    p.skip_ws()?;
    let v = p.value()?;
    p.skip_ws()?;
    if p.pos < p.chars.len() {
        return Err(p.err("unexpected text after the value"));
    }
    Ok(v)
}

const MAX_DEPTH: usize = 64;

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn err(&self, message: &str) -> Json5Error {
        let end = self.pos.min(self.chars.len());
        let line = 1 + self.chars[..end].iter().filter(|c| **c == '\n').count();
        Json5Error {
            line,
            message: message.to_string(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    fn skip_ws(&mut self) -> Result<(), Json5Error> {
        loop {
            match self.peek() {
                Some(c) if c.is_whitespace() || c == '\u{feff}' => self.pos += 1,
                Some('/') => match self.chars.get(self.pos + 1) {
                    Some('/') => {
                        while let Some(c) = self.bump() {
                            if c == '\n' {
                                break;
                            }
                        }
                    }
                    Some('*') => {
                        self.pos += 2;
                        loop {
                            match self.bump() {
                                Some('*') if self.peek() == Some('/') => {
                                    self.pos += 1;
                                    break;
                                }
                                Some(_) => {}
                                None => return Err(self.err("unterminated /* comment")),
                            }
                        }
                    }
                    _ => return Ok(()),
                },
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self) -> Result<Value, Json5Error> {
        match self.peek() {
            Some('{') => self.nested(Self::object),
            Some('[') => self.nested(Self::array),
            Some(q @ ('"' | '\'')) => self.string(q).map(Value::String),
            Some(c) if c.is_ascii_digit() || matches!(c, '-' | '+' | '.') => self.number(),
            Some(c) if is_ident_start(c) => {
                let word = self.ident();
                match word.as_str() {
                    "true" => Ok(Value::Bool(true)),
                    "false" => Ok(Value::Bool(false)),
                    "null" | "NaN" | "Infinity" => Ok(Value::Null),
                    _ => Err(self.err(&format!("unexpected word `{word}`"))),
                }
            }
            Some(c) => Err(self.err(&format!("unexpected character `{c}`"))),
            None => Err(self.err("unexpected end of text")),
        }
    }

    fn nested(
        &mut self,
        f: fn(&mut Self) -> Result<Value, Json5Error>,
    ) -> Result<Value, Json5Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("nesting is too deep"));
        }
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn object(&mut self) -> Result<Value, Json5Error> {
        self.pos += 1; // '{'
        let mut map = Map::new();
        loop {
            self.skip_ws()?;
            match self.peek() {
                Some('}') => {
                    self.pos += 1;
                    return Ok(Value::Object(map));
                }
                Some(q @ ('"' | '\'')) => {
                    let key = self.string(q)?;
                    self.member(&mut map, key)?;
                }
                Some(c) if is_ident_start(c) => {
                    let key = self.ident();
                    self.member(&mut map, key)?;
                }
                Some(_) => return Err(self.err("expected a key or `}`")),
                None => return Err(self.err("unterminated object: missing `}`")),
            }
            self.skip_ws()?;
            match self.bump() {
                Some(',') => {}
                Some('}') => return Ok(Value::Object(map)),
                _ => return Err(self.err("expected `,` or `}` after a value")),
            }
        }
    }

    fn member(&mut self, map: &mut Map<String, Value>, key: String) -> Result<(), Json5Error> {
        self.skip_ws()?;
        if self.bump() != Some(':') {
            return Err(self.err(&format!("expected `:` after key `{key}`")));
        }
        self.skip_ws()?;
        let v = self.value()?;
        map.insert(key, v);
        Ok(())
    }

    fn array(&mut self) -> Result<Value, Json5Error> {
        self.pos += 1; // '['
        let mut items = Vec::new();
        loop {
            self.skip_ws()?;
            if self.peek() == Some(']') {
                self.pos += 1;
                return Ok(Value::Array(items));
            }
            if self.peek().is_none() {
                return Err(self.err("unterminated array: missing `]`"));
            }
            items.push(self.value()?);
            self.skip_ws()?;
            match self.bump() {
                Some(',') => {}
                Some(']') => return Ok(Value::Array(items)),
                _ => return Err(self.err("expected `,` or `]` after a value")),
            }
        }
    }

    fn ident(&mut self) -> String {
        let mut s = String::new();
        while let Some(c) = self.peek() {
            if is_ident_start(c) || c.is_ascii_digit() {
                s.push(c);
                self.pos += 1;
            } else {
                break;
            }
        }
        s
    }

    fn string(&mut self, quote: char) -> Result<String, Json5Error> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.err("unterminated string")),
                Some(c) if c == quote => return Ok(out),
                Some('\n') => return Err(self.err("line break inside a string")),
                Some('\\') => match self.bump() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some('r') => out.push('\r'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('v') => out.push('\u{b}'),
                    Some('0') => out.push('\0'),
                    Some('\n') => {}
                    Some('x') => out.push(self.hex_char(2)?),
                    Some('u') => out.push(self.hex_char(4)?),
                    Some(c) => out.push(c),
                    None => return Err(self.err("unterminated string")),
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn hex_char(&mut self, digits: usize) -> Result<char, Json5Error> {
        let mut code = 0u32;
        for _ in 0..digits {
            let d = self
                .bump()
                .and_then(|c| c.to_digit(16))
                .ok_or_else(|| self.err("bad escape sequence"))?;
            code = code * 16 + d;
        }
        Ok(char::from_u32(code).unwrap_or('\u{fffd}'))
    }

    fn number(&mut self) -> Result<Value, Json5Error> {
        let start = self.pos;
        let negative = match self.peek() {
            Some('-') => {
                self.pos += 1;
                true
            }
            Some('+') => {
                self.pos += 1;
                false
            }
            _ => false,
        };
        if self.peek().is_some_and(is_ident_start) {
            let word = self.ident();
            return match word.as_str() {
                "Infinity" | "NaN" => Ok(Value::Null),
                _ => Err(self.err("malformed number")),
            };
        }
        if self.peek() == Some('0') && matches!(self.chars.get(self.pos + 1), Some('x' | 'X')) {
            self.pos += 2;
            let digits = self.ident();
            let n =
                i64::from_str_radix(&digits, 16).map_err(|_| self.err("malformed hex number"))?;
            return Ok(Value::Number(Number::from(if negative { -n } else { n })));
        }
        while let Some(c) = self.peek() {
            let exponent_sign =
                matches!(c, '+' | '-') && matches!(self.chars.get(self.pos - 1), Some('e' | 'E'));
            if c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E') || exponent_sign {
                self.pos += 1;
            } else {
                break;
            }
        }
        let raw: String = self.chars[start..self.pos]
            .iter()
            .filter(|c| **c != '+')
            .collect();
        let mut fixed = raw.replace("-.", "-0.");
        if fixed.starts_with('.') {
            fixed.insert(0, '0');
        }
        if fixed.ends_with('.') {
            fixed.push('0');
        }
        if let Ok(i) = fixed.parse::<i64>() {
            return Ok(Value::Number(Number::from(i)));
        }
        fixed
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| self.err("malformed number"))
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

#[cfg(test)]
mod tests {
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
    fn reports_the_line_of_an_error() {
        let err = parse("{\n  a: 1,\n  b: ?\n}").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(parse("{a: 1").is_err());
        assert!(parse("[1 2]").is_err());
        assert!(parse("{} x").is_err());
        assert!(parse("'open").is_err());
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let text = "[".repeat(10_000);
        assert!(parse(&text).unwrap_err().message.contains("deep"));
    }
}
