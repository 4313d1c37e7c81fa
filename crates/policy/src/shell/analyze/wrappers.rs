//! Commands that run other commands or change directory: looked through, or asked about.

use super::{PathRole, ShellFacts, assignment, code, command, looks_like_path, script};
use crate::shell::parser::parse;
use crate::shell::word::Word;

pub(super) struct Skipped {
    pub(super) first_index: Option<usize>,
}

/// Skips leading options (those in `with_value` take the next word too); returns the index of
/// the first non-option word.
pub(super) fn skip_options(words: &[Word], with_value: &[&str]) -> Skipped {
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        if t == "--" {
            i += 1;
            break;
        }
        if !t.starts_with('-') || t == "-" {
            break;
        }
        i += if with_value.contains(&t) { 2 } else { 1 };
    }
    Skipped {
        first_index: (i < words.len()).then_some(i),
    }
}

pub(super) fn wrapper(base: &str, rest: &[Word], facts: &mut ShellFacts, depth: usize) {
    let with_value: &[&str] = match base {
        "nice" => &["-n", "--adjustment"],
        "ionice" => &["-c", "-n", "--class", "--classdata"],
        "stdbuf" => &["-i", "-o", "-e"],
        "timeout" => &["-s", "-k", "--signal", "--kill-after"],
        "exec" => &["-a"],
        _ => &[],
    };
    if base == "command" && rest.iter().any(|w| w.text == "-v" || w.text == "-V") {
        facts.run(vec!["command".to_string(), "-v".to_string()]);
        return;
    }
    if base == "ionice"
        && rest
            .iter()
            .any(|w| w.text == "-p" || w.text == "-P" || w.text == "-u")
    {
        facts.ask("`ionice` on other processes");
        return;
    }
    let skipped = skip_options(rest, with_value);
    let mut idx = match skipped.first_index {
        Some(i) => i,
        None => {
            facts.run(vec![base.to_string()]);
            return;
        }
    };
    if base == "timeout" {
        idx += 1; // the duration
        if idx >= rest.len() {
            facts.run(vec![base.to_string()]);
            return;
        }
    }
    command(&rest[idx..], facts, depth + 1);
}

pub(super) fn wrapper_env(rest: &[Word], facts: &mut ShellFacts, depth: usize) {
    let mut i = 0;
    while let Some(w) = rest.get(i) {
        if !w.literal {
            facts.ask(format!(
                "argument `{}` of `env` is computed at run time",
                w.text
            ));
            return;
        }
        let t = w.text.as_str();
        match t {
            "-i" | "-" | "-0" | "--ignore-environment" | "--null" => i += 1,
            "-u" | "--unset" => i += 2,
            "--" => {
                i += 1;
                break;
            }
            // `-u` alone was matched above: here the name is attached.
            _ if t.starts_with("--unset=") || t.starts_with("-u") => i += 1,
            _ if t.starts_with('-') => {
                facts.ask(format!("`env {t}` is not supported"));
                return;
            }
            _ if t.contains('=') && !t.starts_with('=') => {
                assignment(t, facts, true);
                i += 1;
            }
            _ => break,
        }
    }
    if i < rest.len() {
        command(&rest[i..], facts, depth + 1);
    } else {
        facts.run(vec!["env".to_string()]);
    }
}

pub(super) fn shell(base: &str, rest: &[Word], facts: &mut ShellFacts, depth: usize) {
    let mut i = 0;
    let mut dash_c = false;
    while let Some(w) = rest.get(i) {
        let t = w.text.as_str();
        if !w.literal {
            facts.ask(format!(
                "argument `{}` of `{base}` is computed at run time",
                w.text
            ));
            return;
        }
        // A lone `-` ends the options too (POSIX: the first operand, then ignored).
        if t == "--" || t == "-" {
            i += 1;
            break;
        }
        if t == "-o" || t == "+o" || t == "-O" || t == "+O" || t == "--rcfile" || t == "--init-file"
        {
            i += 2;
            continue;
        }
        if (t.starts_with('-') || t.starts_with('+')) && t.len() > 1 {
            if !t.starts_with("--") && t[1..].contains('c') {
                dash_c = true;
            }
            i += 1;
            continue;
        }
        break;
    }
    if base == "busybox" {
        facts.ask("`busybox` runs applets the policy does not look through");
    }
    if dash_c {
        match rest.get(i) {
            Some(w) if w.literal => script(&parse(&w.text), facts, depth + 1),
            Some(w) => facts.ask(format!(
                "`{base} -c` of text computed at run time (`{}`)",
                w.text
            )),
            None => facts.ask(format!("`{base} -c` without a command")),
        }
        return;
    }
    facts.run(vec![base.to_string()]);
    match rest.get(i) {
        Some(w) => {
            facts.ask(format!("`{base}` runs a script file the policy cannot see"));
            if w.literal {
                facts.path(&w.text, PathRole::Read, base, true, w.glob);
            }
        }
        None => facts.ask(format!("`{base}` reads commands from its input")),
    }
}

pub(super) fn change_dir(base: &str, rest: &[Word], facts: &mut ShellFacts) {
    facts.run(
        std::iter::once(base.to_string())
            .chain(rest.iter().map(|w| w.text.clone()))
            .collect(),
    );
    if base == "popd" {
        facts.ask("`popd` returns to a directory the policy cannot see");
        return;
    }
    let target = rest
        .iter()
        .find(|w| !(w.literal && (w.text == "-L" || w.text == "-P" || w.text == "--")));
    match target {
        None => facts.path("~", PathRole::Cd, base, true, false),
        Some(w) if !w.literal || w.brace => {
            facts.ask(format!(
                "`{base}` to a directory computed at run time (`{}`)",
                w.text
            ));
        }
        Some(w) if w.text == "-" => facts.ask(format!(
            "`{base} -` returns to a directory the policy cannot see"
        )),
        Some(w) => facts.path(&w.text, PathRole::Cd, base, true, w.glob),
    }
}

pub(super) fn find(rest: &[Word], facts: &mut ShellFacts, depth: usize) {
    facts.run(
        std::iter::once("find".to_string())
            .chain(rest.iter().map(|w| w.text.clone()))
            .collect(),
    );
    // `-exec` and the like run commands, `-delete` removes, `-fprint` writes: from the table.
    code::inspect("find", rest, facts);
    let mut i = 0;
    let mut writes = false;
    // Starting points come before the first expression.
    while let Some(w) = rest.get(i) {
        let t = w.text.as_str();
        if t.starts_with('-') || t == "(" || t == "!" {
            break;
        }
        if !w.literal {
            facts.ask(format!("argument `{t}` of `find` is computed at run time"));
        } else {
            facts.path(t, PathRole::Read, "find", true, w.glob);
        }
        i += 1;
    }
    if i == 0 {
        facts.path(".", PathRole::Read, "find", true, false);
    }
    while let Some(w) = rest.get(i) {
        let t = w.text.as_str();
        if !w.literal {
            facts.ask(format!(
                "argument `{}` of `find` is computed at run time",
                w.text
            ));
            i += 1;
            continue;
        }
        match t {
            "-exec" | "-execdir" | "-ok" | "-okdir" => {
                let start = i + 1;
                let mut end = start;
                while rest
                    .get(end)
                    .is_some_and(|w| w.text != ";" && w.text != "+")
                {
                    end += 1;
                }
                let inner: Vec<Word> = rest[start.min(end)..end]
                    .iter()
                    .filter(|w| w.text != "{}")
                    .cloned()
                    .collect();
                command(&inner, facts, depth + 1);
                i = end + 1;
            }
            "-delete" => {
                writes = true;
                i += 1;
            }
            "-fprint" | "-fprint0" | "-fprintf" | "-fls" => i += 2,
            _ => {
                if looks_like_path(t) && !t.starts_with('-') {
                    facts.path(t, PathRole::Read, "find", false, w.glob);
                }
                i += 1;
            }
        }
    }
    if writes {
        for p in facts.paths.iter_mut().filter(|p| p.command == "find") {
            p.role = PathRole::Write;
        }
    }
}
