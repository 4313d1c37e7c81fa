//! What commands can do beyond what their names say, GTFOBins-style: run arbitrary code
//! (`exec`), write files the path rules do not see (`write`), reach the network (`fetch`).
//! Which commands and options show each is data, in [`table`]; programs in other languages
//! (awk, sed) and git's subcommands are read by their own modules.
//!
//! A write the path rules can see (an option naming the file written, like `sort -o FILE` or
//! `dd of=FILE`) is not a capability: the file is judged as a path written, so the workspace
//! and code-bearing file rules apply to it.

use std::fmt;

use super::{PathRole, ShellFacts};
use crate::shell::word::Word;

mod awk;
mod checks;
mod git;
mod sed;
mod table;

/// A kind of power a command can show, named in an allow-list as `<command>:<capability>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    /// Runs code the policy cannot see: a command string, inline code, a build file's recipes.
    Exec,
    /// Writes files whose names the policy cannot see (named inside a program, taken from an
    /// archive or a server).
    Write,
    /// Reaches the network.
    Fetch,
}

impl Capability {
    pub const ALL: [Capability; 3] = [Capability::Exec, Capability::Write, Capability::Fetch];

    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Exec => "exec",
            Capability::Write => "write",
            Capability::Fetch => "fetch",
        }
    }

    pub fn parse(s: &str) -> Option<Capability> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One capability a command shows, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Power {
    pub capability: Capability,
    /// What the command can do, to follow its name in a sentence:
    /// "program can run commands (`system()`)".
    pub what: String,
    /// Index of the word that shows it among the command's words (0: the name itself). An
    /// allow-list word prefix that includes this word (`python3 -c`) grants the capability.
    pub word: usize,
}

/// How a command's options are written.
#[derive(Debug, Clone, Copy)]
pub(super) struct Syntax {
    /// Short options that take a value: the rest of the word, or else the next word.
    pub short_values: &'static str,
    /// Short options whose value, if any, is the rest of the word (`sed -i.bak`).
    pub short_optional: &'static str,
    /// Long options that take a value: after `=`, or else the next word. Abbreviations count.
    pub long_values: &'static [&'static str],
    /// Long options without a value that an abbreviation of a longer one must not be taken for
    /// (`tar --checkpoint` is not `--checkpoint-action`).
    pub long_flags: &'static [&'static str],
    /// Options end at the first operand: an interpreter's later words belong to its script. An
    /// unknown long option is then taken to have a value, so no option after it is missed.
    pub options_first: bool,
    /// The first word may be a bundle of options without `-` (`tar xzf a.tgz`).
    pub bundled_first: bool,
}

pub(super) const PLAIN: Syntax = Syntax {
    short_values: "",
    short_optional: "",
    long_values: &[],
    long_flags: &[],
    options_first: false,
    bundled_first: false,
};

/// What shows a power.
#[derive(Clone, Copy)]
pub(super) enum When {
    /// Any use, unless one of these options is given (`--version`, `crontab -l`).
    Always(&'static [&'static str]),
    /// One of these options.
    Opt(&'static [&'static str]),
    /// One of these options with a value that passes the test.
    OptValue(&'static [&'static str], fn(&str) -> bool),
    /// An operand starting with one of these, in any case (`EXEC:`, `of=`); the value is the
    /// rest of it.
    Operand(&'static [&'static str]),
    /// An operand that passes the test.
    OperandIf(fn(&str) -> bool),
    /// The first operand is one of these (`deno eval`).
    Sub(&'static [&'static str]),
    /// The operand at this position (from 0); the value is the operand (`uniq IN OUT`).
    NthOperand(usize),
    /// A word exactly like one of these, anywhere (`find -exec`); the value is the next word.
    Word(&'static [&'static str]),
    /// A word starting with one of these (`zip -TT`).
    WordPrefix(&'static [&'static str]),
    /// No operand, or `-`: the program comes from standard input. Not with these options.
    Stdin(&'static [&'static str]),
}

/// What it shows.
#[derive(Clone, Copy)]
pub(super) enum Then {
    /// The capability, with what the command can do; `{}` stands for the option or word.
    Can(Capability, &'static str),
    /// The value is a file written: judged as a path.
    WritesValue,
    /// The value is a file read: judged as a path.
    ReadsValue,
}

#[derive(Clone, Copy)]
pub(super) struct Row(pub When, pub Then);

/// Commands that share option syntax and powers.
pub(super) struct Entry {
    pub names: &'static [&'static str],
    pub syntax: Syntax,
    pub rows: &'static [Row],
    /// Reads what rows cannot: program text, subcommands.
    pub inspect: Option<fn(&str, &Args<'_>, &mut Found)>,
}

/// One argument after reading a command's options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Item<'w> {
    /// `-x` or `--long` (without `=value`), with its value and the index of the word holding
    /// the value, if it takes one.
    Opt {
        name: String,
        value: Option<(&'w str, usize)>,
        at: usize,
    },
    Operand {
        text: &'w str,
        at: usize,
    },
}

/// A command's arguments with their options read.
pub(super) struct Args<'w> {
    pub words: &'w [Word],
    pub items: Vec<Item<'w>>,
    pub syntax: Syntax,
}

impl<'w> Args<'w> {
    pub fn parse(words: &'w [Word], syntax: Syntax) -> Self {
        let mut items = Vec::new();
        let mut i = 0;
        if syntax.bundled_first
            && let Some(w) = words.first()
            && !w.text.is_empty()
            && w.text.chars().all(|c| c.is_ascii_alphabetic())
        {
            // Old-style bundle: each letter that takes a value takes the next word in turn.
            i = 1;
            for c in w.text.chars() {
                let value = if syntax.short_values.contains(c) {
                    let v = words.get(i).map(|v| (v.text.as_str(), i));
                    i += 1;
                    v
                } else {
                    None
                };
                items.push(Item::Opt {
                    name: format!("-{c}"),
                    value,
                    at: 0,
                });
            }
        }
        let mut operands_only = false;
        while let Some(w) = words.get(i) {
            let t = w.text.as_str();
            if operands_only || !t.starts_with('-') || t == "-" {
                items.push(Item::Operand { text: t, at: i });
                operands_only |= syntax.options_first;
                i += 1;
                continue;
            }
            if t == "--" {
                operands_only = true;
                i += 1;
                continue;
            }
            if t.starts_with("--") {
                if let Some((name, v)) = t.split_once('=') {
                    items.push(Item::Opt {
                        name: name.to_string(),
                        value: Some((v, i)),
                        at: i,
                    });
                    i += 1;
                    continue;
                }
                let next = words.get(i + 1).map(|v| (v.text.as_str(), i + 1));
                let value = if syntax
                    .long_values
                    .iter()
                    .any(|l| abbreviates(t, l, &syntax))
                {
                    next
                } else if syntax.options_first && !syntax.long_flags.contains(&t) {
                    // Unknown: it may take the next word, unless that is surely an option.
                    next.filter(|(v, _)| !v.starts_with('-'))
                } else {
                    None
                };
                items.push(Item::Opt {
                    name: t.to_string(),
                    value,
                    at: i,
                });
                i += if value.is_some() { 2 } else { 1 };
                continue;
            }
            let mut next = i + 1;
            for (k, c) in t.char_indices().skip(1) {
                let rest = &t[k + c.len_utf8()..];
                let name = format!("-{c}");
                if syntax.short_values.contains(c) {
                    let value = if rest.is_empty() {
                        let v = words.get(next).map(|v| (v.text.as_str(), next));
                        next += 1;
                        v
                    } else {
                        Some((rest, i))
                    };
                    items.push(Item::Opt { name, value, at: i });
                    break;
                }
                if syntax.short_optional.contains(c) {
                    let value = (!rest.is_empty()).then_some((rest, i));
                    items.push(Item::Opt { name, value, at: i });
                    break;
                }
                items.push(Item::Opt {
                    name,
                    value: None,
                    at: i,
                });
            }
            i = next;
        }
        Args {
            words,
            items,
            syntax,
        }
    }

    /// Options given as `name` (or an abbreviation of it): (value, index of the option word).
    pub fn opt(&self, names: &[&str]) -> Vec<(Option<(&'w str, usize)>, usize)> {
        self.items
            .iter()
            .filter_map(|it| match it {
                Item::Opt { name, value, at }
                    if names.iter().any(|n| abbreviates(name, n, &self.syntax)) =>
                {
                    Some((*value, *at))
                }
                _ => None,
            })
            .collect()
    }

    pub fn has(&self, names: &[&str]) -> bool {
        !self.opt(names).is_empty()
    }

    pub fn operands(&self) -> impl Iterator<Item = (&'w str, usize)> + '_ {
        self.items.iter().filter_map(|it| match it {
            Item::Operand { text, at } => Some((*text, *at)),
            Item::Opt { .. } => None,
        })
    }

    /// Whether the word holding index `at` is plain text (no expansions).
    pub fn literal(&self, at: usize) -> bool {
        self.words.get(at).is_some_and(|w| w.literal && !w.brace)
    }
}

/// Whether option `given` means `wanted`: the same, or (long options) an abbreviation of it
/// that is not itself another option of the command.
fn abbreviates(given: &str, wanted: &str, syntax: &Syntax) -> bool {
    given == wanted
        || (given.len() >= 3
            && given.starts_with("--")
            && wanted.starts_with(given)
            && !syntax.long_flags.contains(&given)
            && !syntax.long_values.contains(&given))
}

/// What inspecting one command found.
#[derive(Debug, Default)]
pub(super) struct Found {
    pub powers: Vec<Power>,
    /// Paths named in options or programs: (path, role, glob).
    pub paths: Vec<(String, PathRole, bool)>,
    pub asks: Vec<String>,
}

/// Files that are not files: standard streams and the null device.
pub(super) const STREAMS: &[&str] = &[
    "-",
    "/dev/null",
    "/dev/stdin",
    "/dev/stdout",
    "/dev/stderr",
    "/dev/fd/0",
    "/dev/fd/1",
    "/dev/fd/2",
];

impl Found {
    /// The capability; `at` is the index (among the arguments) of the word that shows it, or
    /// `None` for the command name.
    pub fn can(&mut self, capability: Capability, what: impl Into<String>, at: Option<usize>) {
        let what = what.into();
        if !self
            .powers
            .iter()
            .any(|p| p.capability == capability && p.what == what)
        {
            self.powers.push(Power {
                capability,
                what,
                word: at.map_or(0, |i| i + 1),
            });
        }
    }

    pub fn file(&mut self, path: &str, role: PathRole, glob: bool) {
        if !path.is_empty() && !STREAMS.contains(&path) {
            self.paths.push((path.to_string(), role, glob));
        }
    }

    pub fn ask(&mut self, reason: impl Into<String>) {
        self.asks.push(reason.into());
    }
}

/// Looks `base` up in the table: exactly, or without a version suffix (`python3.12`).
fn entry(base: &str) -> Option<&'static Entry> {
    let find = |n: &str| {
        table::TABLE
            .iter()
            .flat_map(|group| group.iter())
            .find(|e| e.names.contains(&n))
    };
    find(base).or_else(|| {
        let plain = base.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
        (plain != base && !plain.is_empty())
            .then(|| find(plain))
            .flatten()
    })
}

/// Indices of the words of `rest` that hold program text or other values that are not file
/// names (awk and sed programs, `-F` separators), so they are not judged as paths. Only plain
/// text: a computed word still asks.
pub(super) fn program_words(base: &str, rest: &[Word]) -> Vec<usize> {
    let Some(e) = entry(base) else {
        return Vec::new();
    };
    let args = Args::parse(rest, e.syntax);
    let words = if e.names.contains(&"awk") {
        awk::program_words(&args)
    } else if e.names.contains(&"sed") {
        sed::program_words(&args)
    } else {
        Vec::new()
    };
    words.into_iter().filter(|&i| args.literal(i)).collect()
}

/// What the table says about `base` run with `rest`; the powers go to the command just recorded.
pub(super) fn inspect(base: &str, rest: &[Word], facts: &mut ShellFacts) {
    let Some(entry) = entry(base) else {
        return;
    };
    let found = examine(base, entry, rest);
    for (path, role, glob) in &found.paths {
        facts.path(path, *role, base, true, *glob);
    }
    for reason in found.asks {
        facts.ask(reason);
    }
    if let Some(cmd) = facts.commands.last_mut() {
        for p in found.powers {
            if !cmd.powers.contains(&p) {
                cmd.powers.push(p);
            }
        }
    }
}

fn examine(base: &str, entry: &Entry, rest: &[Word]) -> Found {
    let args = Args::parse(rest, entry.syntax);
    let mut found = Found::default();
    for Row(when, then) in entry.rows {
        for (label, value, at) in hits(*when, &args) {
            match *then {
                Then::Can(cap, what) => found.can(cap, what.replace("{}", &label), at),
                Then::WritesValue | Then::ReadsValue => {
                    let Some((v, vat)) = value else { continue };
                    if !args.literal(vat) {
                        continue;
                    }
                    let role = if matches!(then, Then::WritesValue) {
                        PathRole::Write
                    } else {
                        PathRole::Read
                    };
                    let glob = rest.get(vat).is_some_and(|w| w.glob);
                    found.file(v, role, glob);
                }
            }
        }
    }
    if let Some(f) = entry.inspect {
        f(base, &args, &mut found);
    }
    found
}

/// Where `when` holds: (label for `{}`, value and its word, index of the word that shows it).
type Hit<'w> = (String, Option<(&'w str, usize)>, Option<usize>);

fn hits<'w>(when: When, args: &Args<'w>) -> Vec<Hit<'w>> {
    let first_operand = || args.operands().next();
    match when {
        When::Always(unless) => {
            if args.has(unless) {
                Vec::new()
            } else {
                vec![(String::new(), None, None)]
            }
        }
        When::Opt(names) => args
            .opt(names)
            .into_iter()
            .map(|(value, at)| (option_label(args, at, names), value, Some(at)))
            .collect(),
        When::OptValue(names, test) => args
            .opt(names)
            .into_iter()
            .filter(|(value, _)| value.is_some_and(|(v, _)| test(v)))
            .map(|(value, at)| (option_label(args, at, names), value, Some(at)))
            .collect(),
        When::Operand(prefixes) => args
            .operands()
            .filter_map(|(t, at)| {
                let p = prefixes.iter().find(|p| {
                    t.get(..p.len())
                        .is_some_and(|head| head.eq_ignore_ascii_case(p))
                })?;
                Some((p.to_string(), Some((&t[p.len()..], at)), Some(at)))
            })
            .collect(),
        When::OperandIf(test) => args
            .operands()
            .filter(|(t, _)| test(t))
            .map(|(t, at)| (t.to_string(), None, Some(at)))
            .collect(),
        When::NthOperand(n) => args
            .operands()
            .nth(n)
            .map(|(t, at)| vec![(t.to_string(), Some((t, at)), Some(at))])
            .unwrap_or_default(),
        When::Sub(names) => match first_operand() {
            Some((t, at)) if names.contains(&t) => vec![(t.to_string(), None, Some(at))],
            _ => Vec::new(),
        },
        When::Word(words) => args
            .words
            .iter()
            .enumerate()
            .filter(|(_, w)| words.contains(&w.text.as_str()))
            .map(|(at, w)| {
                let value = args.words.get(at + 1).map(|v| (v.text.as_str(), at + 1));
                (w.text.clone(), value, Some(at))
            })
            .collect(),
        When::WordPrefix(prefixes) => args
            .words
            .iter()
            .enumerate()
            .filter_map(|(at, w)| {
                let p = prefixes.iter().find(|p| w.text.starts_with(*p))?;
                Some((p.to_string(), None, Some(at)))
            })
            .collect(),
        When::Stdin(unless) => match first_operand() {
            _ if args.has(unless) => Vec::new(),
            None => vec![(String::new(), None, None)],
            Some(("-", at)) => vec![("-".to_string(), None, Some(at))],
            // `<(…)`: the code is the output of another command.
            Some((t, at)) if args.words.get(at).is_some_and(|w| w.process_substitution) => {
                vec![(t.to_string(), None, Some(at))]
            }
            Some(_) => Vec::new(),
        },
    }
}

/// The option as the table names it (not as abbreviated), for messages.
fn option_label(args: &Args<'_>, at: usize, names: &[&str]) -> String {
    let given = args.items.iter().find_map(|it| match it {
        Item::Opt { name, at: a, .. }
            if *a == at && names.iter().any(|n| abbreviates(name, n, &args.syntax)) =>
        {
            Some(name.as_str())
        }
        _ => None,
    });
    match given {
        Some(g) => names
            .iter()
            .find(|n| abbreviates(g, n, &args.syntax))
            .map_or_else(|| g.to_string(), |n| n.to_string()),
        None => names.first().map_or_else(String::new, |n| n.to_string()),
    }
}

#[cfg(test)]
mod tests;
