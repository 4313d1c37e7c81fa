//! Words: quotes, escapes, parameter and command substitutions, backticks.

use super::{Parser, is_meta};
use crate::shell::word::Word;

impl Parser {
    /// One word up to an unquoted metacharacter.
    pub(super) fn word(&mut self) -> Word {
        let mut w = Word {
            literal: true,
            ..Word::default()
        };
        let start = self.i;
        let mut brace_open = false;
        while let Some(c) = self.peek() {
            if (c == '<' || c == '>') && self.peek_at(1) == Some('(') && self.i == start {
                self.i += 2;
                self.substitution();
                w.process_substitution = true;
                w.literal = false;
                w.text.push_str("<(…)");
                continue;
            }
            if is_meta(c) {
                break;
            }
            match c {
                '\\' => {
                    self.i += 1;
                    match self.peek() {
                        Some('\n') => self.i += 1,
                        Some(n) => {
                            w.text.push(n);
                            w.quoted = true;
                            self.i += 1;
                        }
                        None => {}
                    }
                }
                '\'' => {
                    self.i += 1;
                    w.quoted = true;
                    match self.s[self.i..].iter().position(|&c| c == '\'') {
                        Some(n) => {
                            w.text.extend(&self.s[self.i..self.i + n]);
                            self.i += n + 1;
                        }
                        None => {
                            self.problem("unclosed single quote");
                            self.i = self.s.len();
                        }
                    }
                }
                '"' => {
                    self.i += 1;
                    w.quoted = true;
                    self.double_quoted(&mut w);
                }
                '`' => {
                    self.i += 1;
                    self.backtick();
                    w.literal = false;
                    w.text.push_str("`…`");
                }
                '$' => self.dollar(&mut w),
                '~' if self.i == start => {
                    w.tilde = true;
                    w.text.push('~');
                    self.i += 1;
                }
                '*' | '?' | '[' => {
                    w.glob = true;
                    w.text.push(c);
                    self.i += 1;
                }
                '{' => {
                    brace_open = true;
                    w.text.push(c);
                    self.i += 1;
                }
                ',' if brace_open => {
                    w.brace = true;
                    w.text.push(c);
                    self.i += 1;
                }
                '.' if brace_open && self.peek_at(1) == Some('.') => {
                    w.brace = true;
                    w.text.push_str("..");
                    self.i += 2;
                }
                _ => {
                    w.text.push(c);
                    self.i += 1;
                }
            }
        }
        w
    }

    fn double_quoted(&mut self, w: &mut Word) {
        loop {
            let Some(c) = self.peek() else {
                self.problem("unclosed double quote");
                return;
            };
            match c {
                '"' => {
                    self.i += 1;
                    return;
                }
                '\\' => {
                    self.i += 1;
                    match self.peek() {
                        Some(n @ ('$' | '`' | '"' | '\\')) => {
                            w.text.push(n);
                            self.i += 1;
                        }
                        Some('\n') => self.i += 1,
                        _ => w.text.push('\\'),
                    }
                }
                '`' => {
                    self.i += 1;
                    self.backtick();
                    w.literal = false;
                    w.text.push_str("`…`");
                }
                '$' => self.dollar(w),
                _ => {
                    w.text.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// `$` at the cursor: a parameter, `${…}`, `$(…)`, `$((…))`, `$'…'` or a plain `$`.
    fn dollar(&mut self, w: &mut Word) {
        self.i += 1;
        match self.peek() {
            Some('(') if self.peek_at(1) == Some('(') => {
                self.problem("arithmetic expansion `$((…))` is not supported");
                w.literal = false;
                w.text.push_str("$((…))");
                self.i += 2;
                let mut depth = 2usize;
                while let Some(c) = self.peek() {
                    self.i += 1;
                    match c {
                        '(' => depth += 1,
                        ')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            Some('(') => {
                self.i += 1;
                self.substitution();
                w.literal = false;
                w.text.push_str("$(…)");
            }
            Some('{') => {
                self.i += 1;
                let mut depth = 1usize;
                let mut inner = String::new();
                while let Some(c) = self.peek() {
                    self.i += 1;
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    inner.push(c);
                }
                if depth != 0 {
                    self.problem("unclosed `${`");
                }
                if inner.contains('`') || inner.contains("$(") {
                    self.problem("command substitution inside `${…}` is not supported");
                }
                w.literal = false;
                w.text.push_str(&format!("${{{inner}}}"));
            }
            Some('\'') => {
                self.i += 1;
                w.quoted = true;
                let mut escaped = false;
                let mut closed = false;
                while let Some(c) = self.peek() {
                    self.i += 1;
                    if escaped {
                        escaped = false;
                        w.text.push(c);
                        continue;
                    }
                    match c {
                        '\\' => {
                            escaped = true;
                            w.literal = false;
                        }
                        '\'' => {
                            closed = true;
                            break;
                        }
                        _ => w.text.push(c),
                    }
                }
                if !closed {
                    self.problem("unclosed `$'`");
                }
            }
            Some('"') => {
                // Locale translation: treated as a plain double-quoted string.
            }
            // A name or a positional parameter: its characters are read on as the word's text.
            Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
                w.literal = false;
                w.text.push('$');
            }
            Some(c @ ('@' | '*' | '#' | '?' | '-' | '$' | '!')) => {
                w.literal = false;
                w.text.push('$');
                w.text.push(c);
                self.i += 1;
            }
            _ => w.text.push('$'),
        }
    }

    /// `$(…)` / `<(…)` body: commands up to the matching `)`.
    fn substitution(&mut self) {
        let seq_start = self.seq_start;
        self.depth += 1;
        self.list(super::End::Paren);
        self.depth -= 1;
        self.seq_start = seq_start;
    }

    /// Backtick body: unescape `` \` ``, `\\`, `\$` and parse it as its own line.
    fn backtick(&mut self) {
        let mut inner = String::new();
        let mut closed = false;
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                '\\' => match self.peek() {
                    Some(n @ ('`' | '\\' | '$')) => {
                        inner.push(n);
                        self.i += 1;
                    }
                    _ => inner.push('\\'),
                },
                '`' => {
                    closed = true;
                    break;
                }
                _ => inner.push(c),
            }
        }
        if !closed {
            self.problem("unclosed backtick");
        }
        let mut sub = Parser::new(&inner, self.depth + 1);
        sub.list(super::End::Eof);
        self.out.commands.extend(sub.out.commands);
        for p in sub.out.problems {
            self.problem(p);
        }
    }
}
