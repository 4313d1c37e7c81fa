//! A recursive-descent reader of POSIX sh syntax, enough to find every command a line runs.
//! It does not execute or expand anything; what it cannot follow becomes a problem (→ ask).

use super::word::{Redirect, RedirectKind, Script, SimpleCommand};

mod function;
mod lex;

const MAX_DEPTH: usize = 32;
const MAX_LEN: usize = 64 * 1024;

/// Parses a command line.
pub fn parse(src: &str) -> Script {
    let mut p = Parser::new(src, 0);
    if src.len() > MAX_LEN {
        p.problem("command line is too long to analyse");
        return p.out;
    }
    p.list(End::Eof);
    p.out
}

/// Where a list of commands ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Eof,
    /// The matching `)`.
    Paren,
    /// The `}` that brings the open braces below this count (a function body).
    Brace(usize),
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
    /// `{` groups open.
    braces: usize,
    /// `if`/`while`/`until` open.
    compound: usize,
    /// Function bodies open.
    in_function: usize,
    /// The next command starts a new list item (after the start, `;`, a newline or `&`), not
    /// after `&&`, `||` or `|`.
    seq_start: bool,
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
const RESERVED_UNSUPPORTED: &[&str] =
    &["for", "case", "esac", "select", "[[", "]]", "coproc", "in"];

impl Parser {
    fn new(src: &str, depth: usize) -> Self {
        Parser {
            s: src.chars().collect(),
            i: 0,
            depth,
            out: Script::default(),
            pending: Vec::new(),
            last_heredoc_strip: false,
            braces: 0,
            compound: 0,
            in_function: 0,
            seq_start: true,
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

    /// A list of commands up to `end`.
    fn list(&mut self, end: End) {
        if self.depth > MAX_DEPTH {
            self.problem("command nests too deeply to analyse");
            self.i = self.s.len();
            return;
        }
        self.seq_start = true;
        loop {
            if let End::Brace(level) = end
                && self.braces < level
            {
                return;
            }
            self.skip_blanks();
            let Some(c) = self.peek() else {
                match end {
                    End::Paren => self.problem("unclosed `(`"),
                    End::Brace(_) => self.problem("unclosed `{`"),
                    End::Eof => {}
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
                    self.seq_start = true;
                }
                ';' => {
                    self.i += 1;
                    // The second `;` is read as a separator of its own next.
                    if self.peek() == Some(';') {
                        self.problem("`;;` (case syntax) is not supported");
                    }
                    self.seq_start = true;
                }
                '&' => {
                    // `&&` continues an and-or list; a lone `&` ends a list item.
                    let and = self.peek_at(1) == Some('&');
                    self.i += if and { 2 } else { 1 };
                    self.seq_start = !and;
                }
                '|' => {
                    let two = matches!(self.peek_at(1), Some('|' | '&'));
                    self.i += if two { 2 } else { 1 };
                    self.seq_start = false;
                }
                ')' => {
                    self.i += 1;
                    if end == End::Paren {
                        return;
                    }
                    self.problem("unbalanced `)`");
                }
                '(' => {
                    self.i += 1;
                    self.depth += 1;
                    self.list(End::Paren);
                    self.depth -= 1;
                    self.seq_start = false;
                }
                // A comment where a command may start is one (`simple_command` skips it).
                _ => {
                    self.simple_command();
                    self.seq_start = false;
                }
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
                // `#` after a redirection operator starts a comment in bash, leaving the
                // redirection without its target: a syntax error, not a file named `#…`.
                if self
                    .peek()
                    .is_none_or(|c| (is_meta(c) && c != '<' && c != '>') || c == '#')
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
                    if self.posix_function(&cmd) {
                        return;
                    }
                    self.problem("`(` inside a command is not supported");
                    self.i += 1;
                    self.depth += 1;
                    self.list(End::Paren);
                    self.depth -= 1;
                    continue;
                }
                break;
            }
            let start = self.i;
            let w = self.word();
            if cmd.words.is_empty() {
                let raw: String = self.s[start..self.i].iter().collect();
                // A reserved word counts only as the first word: after an assignment or a
                // redirection bash runs a program of that name (`A=1 fi` runs `fi`).
                let first = cmd.assignments.is_empty() && cmd.redirects.is_empty();
                if first && RESERVED_SKIP.contains(&raw.as_str()) {
                    self.reserved(&raw);
                    continue;
                }
                if first && raw == "function" {
                    self.keyword_function();
                    return;
                }
                if first && RESERVED_UNSUPPORTED.contains(&raw.as_str()) {
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
