//! A recursive-descent reader of POSIX sh syntax, enough to find every command a line runs.
//! It does not execute or expand anything; what it cannot follow becomes a problem (→ ask).

use super::word::{Redirect, RedirectKind, Script, SimpleCommand, Word};

const MAX_DEPTH: usize = 32;
const MAX_LEN: usize = 64 * 1024;

/// Parses a command line.
pub fn parse(src: &str) -> Script {
    let mut p = Parser::new(src, 0);
    if src.len() > MAX_LEN {
        p.problem("command line is too long to analyse");
        return p.out;
    }
    p.list(false);
    p.out
}

struct Parser {
    s: Vec<char>,
    i: usize,
    depth: usize,
    out: Script,
    /// Here-docs whose bodies start after the next newline: (delimiter, strip tabs, quoted).
    pending: Vec<(String, bool, bool)>,
    /// Whether the here-doc operator just read was `<<-`.
    last_heredoc_strip: bool,
}

fn is_meta(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\n' | ';' | '&' | '|' | '<' | '>' | '(' | ')'
    )
}

const RESERVED_SKIP: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time",
];
const RESERVED_UNSUPPORTED: &[&str] = &[
    "for", "case", "esac", "select", "function", "[[", "]]", "coproc", "in",
];

impl Parser {
    fn new(src: &str, depth: usize) -> Self {
        Parser {
            s: src.chars().collect(),
            i: 0,
            depth,
            out: Script::default(),
            pending: Vec::new(),
            last_heredoc_strip: false,
        }
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.s.get(self.i + n).copied()
    }

    fn problem(&mut self, msg: impl Into<String>) {
        let msg = msg.into();
        if !self.out.problems.contains(&msg) {
            self.out.problems.push(msg);
        }
    }

    fn skip_blanks(&mut self) {
        while let Some(c) = self.peek() {
            if c == ' ' || c == '\t' {
                self.i += 1;
            } else if c == '\\' && self.peek_at(1) == Some('\n') {
                self.i += 2;
            } else {
                break;
            }
        }
    }

    /// A list of commands up to the end, or (when `in_parens`) up to the matching `)`.
    fn list(&mut self, in_parens: bool) {
        if self.depth > MAX_DEPTH {
            self.problem("command nests too deeply to analyse");
            self.i = self.s.len();
            return;
        }
        loop {
            self.skip_blanks();
            let Some(c) = self.peek() else {
                if in_parens {
                    self.problem("unclosed `(`");
                }
                if !self.pending.is_empty() {
                    self.problem("here-document without a body");
                    self.pending.clear();
                }
                return;
            };
            match c {
                '\n' => {
                    self.i += 1;
                    self.heredoc_bodies();
                }
                ';' => {
                    self.i += 1;
                    if self.peek() == Some(';') {
                        self.problem("`;;` (case syntax) is not supported");
                        self.i += 1;
                    }
                }
                '&' | '|' => self.i += 1,
                ')' => {
                    self.i += 1;
                    if in_parens {
                        return;
                    }
                    self.problem("unbalanced `)`");
                }
                '(' => {
                    self.i += 1;
                    self.depth += 1;
                    self.list(true);
                    self.depth -= 1;
                }
                '#' => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.i += 1;
                    }
                }
                _ => self.simple_command(),
            }
        }
    }

    fn simple_command(&mut self) {
        let mut cmd = SimpleCommand::default();
        loop {
            self.skip_blanks();
            let Some(c) = self.peek() else { break };
            if c == '#' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.i += 1;
                }
                break;
            }
            if (c == '<' || c == '>') && self.peek_at(1) == Some('(') {
                let w = self.word();
                cmd.words.push(w);
                continue;
            }
            if let Some(kind) = self.redirect_op() {
                self.skip_blanks();
                if self
                    .peek()
                    .is_none_or(|c| is_meta(c) && c != '<' && c != '>')
                {
                    self.problem("redirection without a target");
                    break;
                }
                let target = self.word();
                let kind = match kind {
                    RedirectKind::Descriptor
                        if !(target.literal
                            && (target.text == "-"
                                || target.text.chars().all(|c| c.is_ascii_digit()))) =>
                    {
                        RedirectKind::Write
                    }
                    RedirectKind::HereDoc => {
                        self.pending.push((
                            target.text.clone(),
                            self.last_heredoc_strip,
                            target.quoted,
                        ));
                        RedirectKind::HereDoc
                    }
                    k => k,
                };
                cmd.redirects.push(Redirect { kind, target });
                continue;
            }
            if is_meta(c) {
                if c == '(' {
                    self.problem("`(` inside a command (function definition?) is not supported");
                    self.i += 1;
                    self.depth += 1;
                    self.list(true);
                    self.depth -= 1;
                    continue;
                }
                break;
            }
            let start = self.i;
            let w = self.word();
            if cmd.words.is_empty() {
                let raw: String = self.s[start..self.i].iter().collect();
                if RESERVED_SKIP.contains(&raw.as_str()) {
                    continue;
                }
                if RESERVED_UNSUPPORTED.contains(&raw.as_str()) {
                    self.problem(format!("`{raw}` syntax is not supported"));
                    continue;
                }
                if is_assignment(&raw) {
                    cmd.assignments.push(w);
                    continue;
                }
            }
            cmd.words.push(w);
        }
        if !(cmd.words.is_empty() && cmd.assignments.is_empty() && cmd.redirects.is_empty()) {
            self.out.commands.push(cmd);
        }
    }

    /// Reads a redirection operator (with an optional descriptor number) if one starts here.
    fn redirect_op(&mut self) -> Option<RedirectKind> {
        let start = self.i;
        let mut j = self.i;
        while self.s.get(j).is_some_and(char::is_ascii_digit) {
            j += 1;
        }
        let rest: String = self.s[j..self.s.len().min(j + 3)].iter().collect();
        let (len, kind) = if rest.starts_with("&>>") {
            (3, RedirectKind::Write)
        } else if rest.starts_with("&>") {
            (2, RedirectKind::Write)
        } else if rest.starts_with("<<<") {
            (3, RedirectKind::HereString)
        } else if rest.starts_with("<<-") {
            self.last_heredoc_strip = true;
            (3, RedirectKind::HereDoc)
        } else if rest.starts_with("<<") {
            self.last_heredoc_strip = false;
            (2, RedirectKind::HereDoc)
        } else if rest.starts_with(">>") || rest.starts_with(">|") || rest.starts_with("<>") {
            (2, RedirectKind::Write)
        } else if rest.starts_with(">&") || rest.starts_with("<&") {
            (2, RedirectKind::Descriptor)
        } else if rest.starts_with('>') {
            (1, RedirectKind::Write)
        } else if rest.starts_with('<') {
            (1, RedirectKind::Read)
        } else {
            self.i = start;
            return None;
        };
        if j > start && rest.starts_with('&') {
            // `2&>x` is not one operator: digits end the word.
            return None;
        }
        self.i = j + len;
        Some(kind)
    }

    fn heredoc_bodies(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        for (delim, strip, quoted) in pending {
            let mut found = false;
            let mut body = String::new();
            while self.i < self.s.len() {
                let end = self.s[self.i..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(self.s.len(), |n| self.i + n);
                let line: String = self.s[self.i..end].iter().collect();
                self.i = (end + 1).min(self.s.len());
                let cmp = if strip {
                    line.trim_start_matches('\t')
                } else {
                    line.as_str()
                };
                if cmp == delim {
                    found = true;
                    break;
                }
                body.push_str(&line);
                body.push('\n');
            }
            if !found {
                self.problem("here-document is not terminated");
            }
            if !quoted && (body.contains('`') || body.contains("$(") || body.contains("${")) {
                self.problem("here-document with an unquoted delimiter runs substitutions");
            }
        }
    }

    /// One word up to an unquoted metacharacter.
    fn word(&mut self) -> Word {
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
            Some(c) if c.is_ascii_alphanumeric() || c == '_' => {
                w.literal = false;
                w.text.push('$');
                while let Some(c) = self
                    .peek()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                {
                    w.text.push(c);
                    self.i += 1;
                }
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
        self.depth += 1;
        self.list(true);
        self.depth -= 1;
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
        sub.list(false);
        self.out.commands.extend(sub.out.commands);
        for p in sub.out.problems {
            self.problem(p);
        }
    }
}

/// `NAME=…` with a valid shell name.
fn is_assignment(text: &str) -> bool {
    match text.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && !name.starts_with(|c: char| c.is_ascii_digit())
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        None => false,
    }
}
