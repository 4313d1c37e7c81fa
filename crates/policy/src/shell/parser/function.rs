//! Function definitions (`name() { …; }`, `function name { …; }`) and the reserved words that
//! open and close groups, so the parser knows whether a definition surely takes effect.

use super::{End, Parser};
use crate::shell::word::{FunctionDef, SimpleCommand, Word};

impl Parser {
    /// Keeps count of `{ }` groups and `if`/`while`/`until` blocks opened at command position.
    pub(super) fn reserved(&mut self, raw: &str) {
        match raw {
            "{" => self.braces += 1,
            "}" => self.braces = self.braces.saturating_sub(1),
            "if" | "while" | "until" => self.compound += 1,
            "fi" | "done" => self.compound = self.compound.saturating_sub(1),
            _ => {}
        }
    }

    /// At `(` after the one word of `cmd`: reads `name() body` and returns true, or returns
    /// false with the cursor unchanged if this is not a definition.
    pub(super) fn posix_function(&mut self, cmd: &SimpleCommand) -> bool {
        let [w] = cmd.words.as_slice() else {
            return false;
        };
        if !cmd.assignments.is_empty() || !cmd.redirects.is_empty() || !function_name(w) {
            return false;
        }
        let save = self.i;
        self.i += 1;
        self.skip_blanks();
        if self.peek() != Some(')') {
            self.i = save;
            return false;
        }
        self.i += 1;
        let top = self.depth == 0
            && self.compound == 0
            && self.braces == 0
            && self.in_function == 0
            && self.seq_start;
        self.function_body(w.text.clone(), top);
        true
    }

    /// After the reserved word `function`: `function name [()] body`. The body is read like any
    /// other, but the definition never counts as certain: `/bin/sh` may be a shell without
    /// this syntax, where the name later runs a program.
    pub(super) fn keyword_function(&mut self) {
        self.skip_blanks();
        let w = self.word();
        if !function_name(&w) {
            self.problem("`function` without a plain name is not supported");
            return;
        }
        self.skip_blanks();
        if self.peek() == Some('(') {
            self.i += 1;
            self.skip_blanks();
            if self.peek() != Some(')') {
                self.problem("`function` name followed by `(` without `)`");
                return;
            }
            self.i += 1;
        }
        self.function_body(w.text, false);
    }

    fn function_body(&mut self, name: String, top: bool) {
        loop {
            self.skip_blanks();
            if self.peek() == Some('\n') {
                self.i += 1;
            } else {
                break;
            }
        }
        let at = self.out.commands.len();
        self.in_function += 1;
        let understood = match self.peek() {
            Some('{')
                if self
                    .peek_at(1)
                    .is_none_or(|c| matches!(c, ' ' | '\t' | '\n')) =>
            {
                self.i += 1;
                self.braces += 1;
                let level = self.braces;
                self.list(End::Brace(level));
                true
            }
            Some('(') => {
                self.i += 1;
                self.depth += 1;
                self.list(End::Paren);
                self.depth -= 1;
                true
            }
            _ => {
                self.problem("a function body other than `{ …; }` or `( … )` is not supported");
                false
            }
        };
        self.in_function -= 1;
        // A definition that is piped or put in the background happens in another process.
        self.skip_blanks();
        let elsewhere = match self.peek() {
            Some('|') => self.peek_at(1) != Some('|'),
            Some('&') => self.peek_at(1) != Some('&'),
            _ => false,
        };
        self.out.functions.push(FunctionDef {
            name,
            at,
            unconditional: top && understood && !elsewhere,
        });
    }
}

/// A word that can name a function: plain text without quotes or expansions.
fn function_name(w: &Word) -> bool {
    w.literal
        && !w.quoted
        && !w.glob
        && !w.brace
        && !w.tilde
        && !w.text.is_empty()
        && !w.text.starts_with(|c: char| c.is_ascii_digit() || c == '-')
        && w.text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}
