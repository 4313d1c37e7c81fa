//! From parsed commands to what the policy judges: the commands run (wrappers like `env`,
//! `nohup`, `bash -c` looked through; `eval`, `trap` and `alias` text and function bodies read
//! as commands), what each can do beyond its name ([`Capability`], from the table in `code`),
//! the paths they touch, and the doubts that force a person to look (`ask`) or a refusal
//! (`deny`).

use super::parser::parse;
use super::word::{RedirectKind, Script, SimpleCommand, Word};

mod builtins;
mod code;
mod env;
mod wrappers;
use builtins::{alias, callable_functions, trap};
pub use code::{Capability, Power};
use env::assignment;
use wrappers::{change_dir, find, shell, skip_options, wrapper, wrapper_env};

/// How a command uses a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathRole {
    Read,
    Write,
    /// `cd`/`pushd` target: later relative paths may be relative to it.
    Cd,
}

/// One path a command line touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathUse {
    /// As written, after quote removal.
    pub raw: String,
    pub role: PathRole,
    /// Command (or `>` redirect) it belongs to.
    pub command: String,
    /// True for file commands, redirects and `cd`: outside the workspace → deny; otherwise ask.
    pub strict: bool,
    /// Contains wildcards; the engine also checks what they could match.
    pub glob: bool,
}

/// One command that runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShellCommand {
    /// Its words (wrappers removed); empty if the name is not literal.
    pub words: Vec<String>,
    /// What it can do beyond what its name says: run code, write files the path rules do not
    /// see, reach the network. An allow-list entry must name each (`awk:exec`).
    pub powers: Vec<Power>,
}

/// What a command line would do, for judging.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShellFacts {
    /// Every command that runs.
    pub commands: Vec<ShellCommand>,
    pub paths: Vec<PathUse>,
    /// Reasons a person must approve.
    pub asks: Vec<String>,
    /// Reasons to refuse outright.
    pub denies: Vec<String>,
}

impl ShellFacts {
    fn ask(&mut self, reason: impl Into<String>) {
        let r = reason.into();
        if !self.asks.contains(&r) {
            self.asks.push(r);
        }
    }
    fn deny(&mut self, reason: impl Into<String>) {
        let r = reason.into();
        if !self.denies.contains(&r) {
            self.denies.push(r);
        }
    }
    /// Records a command that runs.
    fn run(&mut self, words: Vec<String>) {
        self.commands.push(ShellCommand {
            words,
            powers: Vec::new(),
        });
    }
    fn path(&mut self, raw: &str, role: PathRole, command: &str, strict: bool, glob: bool) {
        self.paths.push(PathUse {
            raw: raw.to_string(),
            role,
            command: command.to_string(),
            strict,
            glob,
        });
    }
}

const MAX_NESTING: usize = 8;

const PRIVILEGED: &[&str] = &[
    "sudo", "su", "doas", "pkexec", "runuser", "chroot", "nsenter", "unshare", "setpriv", "capsh",
    "setcap",
];
const FILE_WRITE: &[&str] = &[
    "rm", "rmdir", "mv", "cp", "ln", "touch", "mkdir", "chmod", "chown", "chgrp", "tee",
    "truncate", "shred", "install", "dd", "rsync", "unlink", "split", "patch", "mkfifo", "mknod",
    "tar", "zip", "unzip", "gzip", "gunzip", "xz", "unxz", "bzip2", "bunzip2", "chattr", "setfacl",
    "scp",
];
const FILE_READ: &[&str] = &[
    "cat",
    "tac",
    "head",
    "tail",
    "less",
    "more",
    "ls",
    "stat",
    "file",
    "wc",
    "diff",
    "cmp",
    "du",
    "realpath",
    "readlink",
    "nl",
    "od",
    "xxd",
    "hexdump",
    "strings",
    "md5sum",
    "sha1sum",
    "sha256sum",
    "sha512sum",
    "sort",
    "uniq",
    "cut",
    "paste",
    "grep",
    "egrep",
    "fgrep",
    "rg",
    "sed",
    "awk",
    "tree",
    "zcat",
    "bat",
    "base64",
    "jq",
    "source",
    ".",
    "column",
    "fold",
    "fmt",
    "tr",
    "comm",
    "join",
    "look",
    "getfacl",
    "lsattr",
];
const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "busybox",
];
/// Analyses a command line.
pub fn analyze(line: &str) -> ShellFacts {
    let mut facts = ShellFacts::default();
    script(&parse(line), &mut facts, 0);
    facts
}

fn script(s: &Script, facts: &mut ShellFacts, depth: usize) {
    for p in &s.problems {
        facts.ask(format!("shell syntax not understood: {p}"));
    }
    let functions = callable_functions(s);
    for (i, cmd) in s.commands.iter().enumerate() {
        let call = cmd.words.first().is_some_and(|w| {
            functions
                .iter()
                .any(|(name, at)| *at <= i && w.literal && w.text == *name)
        });
        simple(cmd, facts, depth, call);
    }
}

/// One simple command; `function_call` when its name is a function defined earlier in the same
/// line (whose body is judged where it is defined).
fn simple(cmd: &SimpleCommand, facts: &mut ShellFacts, depth: usize, function_call: bool) {
    for a in &cmd.assignments {
        assignment(&a.text, facts, !cmd.words.is_empty());
    }
    let name = cmd
        .words
        .first()
        .map_or("", |w| w.text.as_str())
        .to_string();
    for r in &cmd.redirects {
        let label = format!("{name} redirect");
        match r.kind {
            RedirectKind::Read | RedirectKind::Write => {
                if !r.target.literal || r.target.brace {
                    facts.ask(format!(
                        "redirection target `{}` is computed at run time",
                        r.target.text
                    ));
                    continue;
                }
                let t = r.target.text.as_str();
                let harmless = match r.kind {
                    RedirectKind::Read => matches!(t, "/dev/null" | "/dev/stdin"),
                    _ => matches!(t, "/dev/null" | "/dev/stdout" | "/dev/stderr"),
                };
                if !harmless {
                    let role = if r.kind == RedirectKind::Read {
                        PathRole::Read
                    } else {
                        PathRole::Write
                    };
                    facts.path(t, role, &label, true, r.target.glob);
                }
            }
            RedirectKind::Descriptor | RedirectKind::HereDoc | RedirectKind::HereString => {}
        }
    }
    if !cmd.words.is_empty() && !function_call {
        command(&cmd.words, facts, depth);
    }
}

fn basename(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// Judges one command (its words), looking through wrappers.
fn command(words: &[Word], facts: &mut ShellFacts, depth: usize) {
    if depth > MAX_NESTING {
        facts.ask("commands nest too deeply to analyse");
        return;
    }
    let Some(first) = words.first() else { return };
    if !first.literal || first.glob || first.brace || first.tilde {
        facts.ask(format!(
            "command name `{}` is computed at run time",
            first.text
        ));
        facts.run(Vec::new());
        generic_args(&words[1..], "?", facts, false);
        return;
    }
    let name = first.text.as_str();
    let base = basename(name);
    let rest = &words[1..];
    if PRIVILEGED.contains(&base) {
        facts.deny(format!("`{base}` runs commands with other privileges"));
        return;
    }
    match base {
        "env" => return wrapper_env(rest, facts, depth),
        "nohup" | "builtin" | "setsid" | "time" | "exec" | "command" | "nice" | "ionice"
        | "stdbuf" | "timeout" | "chronic" | "unbuffer" | "caffeinate" => {
            return wrapper(base, rest, facts, depth);
        }
        "xargs" | "parallel" => {
            facts.ask(format!(
                "`{base}` runs a command on arguments read at run time"
            ));
            facts.run(vec![name.to_string()]);
            code::inspect(base, rest, facts);
            let inner = skip_options(
                rest,
                &[
                    "-I",
                    "-i",
                    "-n",
                    "-P",
                    "-d",
                    "-E",
                    "-L",
                    "-s",
                    "-a",
                    "--arg-file",
                ],
            );
            if let Some(idx) = inner.first_index {
                command(&rest[idx..], facts, depth + 1);
            }
            return;
        }
        "eval" => {
            if rest.iter().all(|w| w.literal) {
                let joined: Vec<&str> = rest.iter().map(|w| w.text.as_str()).collect();
                script(&parse(&joined.join(" ")), facts, depth + 1);
            } else {
                facts.ask("`eval` of text computed at run time");
            }
            return;
        }
        "trap" => return trap(rest, facts, depth),
        "alias" => return alias(rest, facts, depth),
        "cd" | "pushd" | "popd" => return change_dir(base, rest, facts),
        "find" => return find(rest, facts, depth),
        _ if SHELLS.contains(&base) => return shell(base, rest, facts, depth),
        _ => {}
    }
    if base == "source" || base == "." {
        facts.ask("sourcing a script runs code the policy cannot see");
    }
    let mut words_out = vec![name.to_string()];
    words_out.extend(rest.iter().map(|w| w.text.clone()));
    facts.run(words_out);
    // awk and sed programs are text, not file names.
    let programs = code::program_words(base, rest);
    let file_args: Vec<Word> = rest
        .iter()
        .enumerate()
        .filter(|(i, _)| !programs.contains(i))
        .map(|(_, w)| w.clone())
        .collect();
    let rest = file_args.as_slice();
    if FILE_WRITE.contains(&base) {
        generic_args(rest, base, facts, true);
        mark_role(facts, PathRole::Write);
    } else if FILE_READ.contains(&base) {
        let write = base == "sed"
            && rest
                .iter()
                .any(|w| w.text.starts_with("-i") || w.text.starts_with("--in-place"));
        generic_args(rest, base, facts, true);
        if write {
            mark_role(facts, PathRole::Write);
        } else {
            mark_role(facts, PathRole::Read);
        }
    } else {
        generic_args(rest, base, facts, false);
    }
    code::inspect(base, &words[1..], facts);
}

/// Sets the role of the paths just added by the current command (those still `Write` by default).
fn mark_role(facts: &mut ShellFacts, role: PathRole) {
    let Some(last_cmd) = facts
        .commands
        .last()
        .and_then(|c| c.words.first())
        .map(|n| basename(n).to_string())
    else {
        return;
    };
    for p in facts.paths.iter_mut().rev() {
        if p.command != last_cmd || p.role == PathRole::Cd {
            break;
        }
        p.role = role;
    }
}

/// Every argument as a possible path: non-option arguments, values of `--opt=value`, `-ovalue`
/// and `key=value` when they look like paths. Computed arguments ask.
fn generic_args(args: &[Word], command: &str, facts: &mut ShellFacts, strict: bool) {
    let mut options_done = false;
    for w in args {
        if w.process_substitution {
            continue;
        }
        if !w.literal {
            facts.ask(format!(
                "argument `{}` of `{command}` is computed at run time",
                w.text
            ));
            continue;
        }
        if w.brace {
            facts.ask(format!(
                "argument `{}` of `{command}` uses brace expansion",
                w.text
            ));
            continue;
        }
        let t = w.text.as_str();
        if t == "--" {
            options_done = true;
            continue;
        }
        if t == "-" || t.is_empty() {
            continue;
        }
        if t.contains("://") {
            if let Some(p) = t.strip_prefix("file://") {
                facts.path(
                    if p.is_empty() { "/" } else { p },
                    PathRole::Read,
                    command,
                    true,
                    false,
                );
            }
            continue;
        }
        if !options_done && t.starts_with('-') {
            let value = if let Some((_, v)) = t.split_once('=') {
                v
            } else if !t.starts_with("--") && t.len() > 2 {
                t.get(2..).unwrap_or("")
            } else {
                ""
            };
            if looks_like_path(value) || (strict && code_bearing(value)) {
                facts.path(value, PathRole::Write, command, strict, w.glob);
            }
            continue;
        }
        if !t.starts_with('/')
            && let Some((key, v)) = t.split_once('=')
            && !key.contains('/')
            && (looks_like_path(v) || (strict && code_bearing(v)))
        {
            facts.path(v, PathRole::Write, command, strict, w.glob);
            continue;
        }
        facts.path(t, PathRole::Write, command, strict, w.glob);
    }
}

fn looks_like_path(v: &str) -> bool {
    v.contains('/') || v.starts_with('~') || v == ".." || v == "."
}

/// A bare name like `Makefile` or `.envrc`: for a file command, an option value naming one is a
/// file it may write (`cp --target-directory=.git`).
fn code_bearing(v: &str) -> bool {
    crate::code_files::code_file(v, false).is_some()
}
