//! Shell built-ins that carry command text: `trap` actions and `alias` values are parsed and
//! judged like any command line; calls of functions defined in the same line are recognised.

use super::{ShellFacts, script};
use crate::shell::parser::parse;
use crate::shell::word::{Script, Word};

/// Special built-ins: a POSIX shell finds them before functions, so a call of one of these names
/// is never taken for a function of the same name.
const SPECIAL_BUILTINS: &[&str] = &[
    "break", ":", ".", "continue", "eval", "exec", "exit", "export", "readonly", "return", "set",
    "shift", "times", "trap", "unset", "source",
];

/// Functions whose later calls in `s` are calls of the function (its body is judged where it is
/// defined): names defined for certain (see [`crate::shell::word::FunctionDef`]), with the index
/// of the command from which on they are defined. None if the line could `unset` a function,
/// after which its name runs a program again.
pub(super) fn callable_functions(s: &Script) -> Vec<(&str, usize)> {
    let unsets = s.commands.iter().any(|c| {
        c.words
            .iter()
            .chain(&c.assignments)
            .any(|w| w.text.contains("unset"))
    });
    if unsets {
        return Vec::new();
    }
    s.functions
        .iter()
        .filter(|f| f.unconditional && !SPECIAL_BUILTINS.contains(&f.name.as_str()))
        .map(|f| (f.name.as_str(), f.at))
        .collect()
}

/// `trap [--] action condition…`: the action runs later in this shell, so it is judged now.
/// `trap`, `trap -p`, `trap -l`, `trap - SIG` and `trap '' SIG` run nothing.
pub(super) fn trap(rest: &[Word], facts: &mut ShellFacts, depth: usize) {
    let args = match rest.first() {
        Some(w) if w.literal && w.text == "--" => &rest[1..],
        _ => rest,
    };
    let Some(action) = args.first() else {
        return;
    };
    if !action.literal {
        facts.ask(format!(
            "`trap` action `{}` is computed at run time",
            action.text
        ));
        return;
    }
    let t = action.text.as_str();
    // One operand, or a number first: every operand is a condition to reset (POSIX).
    let resets = args.len() < 2 || (!t.is_empty() && t.chars().all(|c| c.is_ascii_digit()));
    if resets || t.is_empty() || t.starts_with('-') {
        return;
    }
    script(&parse(t), facts, depth + 1);
}

/// `alias name=value…`: a value is command text that may run later, so it is judged now.
pub(super) fn alias(rest: &[Word], facts: &mut ShellFacts, depth: usize) {
    for w in rest {
        if !w.literal {
            facts.ask(format!(
                "`alias` definition `{}` is computed at run time",
                w.text
            ));
            continue;
        }
        if let Some((_, value)) = w.text.split_once('=') {
            script(&parse(value), facts, depth + 1);
        }
    }
}
