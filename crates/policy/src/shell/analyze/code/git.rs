//! git: global options and subcommands that run commands, reach the network or apply patches.
//! Hooks and configuration planted in the repository are the code-bearing file rule's concern.

use super::Capability::{Exec, Fetch, Write};
use super::{Args, Found};
use crate::shell::PathRole;

const SETTINGS: &str =
    "runs with settings given on its command line, which can run commands (`{}`)";

/// git [global options] subcommand [arguments].
pub(super) fn inspect(_: &str, args: &Args<'_>, found: &mut Found) {
    let words = args.words;
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let t = w.text.as_str();
        if !t.starts_with('-') {
            break;
        }
        match t {
            "-c" | "--config-env" => {
                found.can(Exec, SETTINGS.replace("{}", t), Some(i));
                i += 2;
            }
            _ if t.starts_with("--config-env=") => {
                found.can(Exec, SETTINGS.replace("{}", "--config-env"), Some(i));
                i += 1;
            }
            _ if t.starts_with("-c") => {
                found.can(Exec, SETTINGS.replace("{}", "-c"), Some(i));
                i += 1;
            }
            _ if t.starts_with("--exec-path=") => {
                found.can(
                    Exec,
                    "runs git commands from the directory it is given (`--exec-path`)",
                    Some(i),
                );
                i += 1;
            }
            "-C" | "--git-dir" | "--work-tree" | "--namespace" | "--super-prefix"
            | "--list-cmds" | "--attr-source" => i += 2,
            _ => i += 1,
        }
    }
    let Some(sub) = words.get(i) else {
        return;
    };
    let at = i;
    let rest = &words[i + 1..];
    // Index (among all arguments) of the first argument that is one of `names`.
    let opt = |names: &[&str]| -> Option<usize> {
        rest.iter()
            .position(|w| names.iter().any(|n| option_is(&w.text, n)))
            .map(|p| at + 1 + p)
    };
    let first_operand = rest
        .iter()
        .position(|w| !w.text.starts_with('-'))
        .map(|p| (rest[p].text.as_str(), at + 1 + p));
    let sub = sub.text.as_str();
    match sub {
        "config" if config_writes(rest) => found.can(
            Exec,
            "sets options, which can make git run commands (`config`)",
            Some(at),
        ),
        "submodule" => match first_operand {
            Some(("foreach", p)) => found.can(
                Exec,
                "runs a command in every submodule (`submodule foreach`)",
                Some(p),
            ),
            Some(("update" | "add" | "sync", p)) => found.can(
                Fetch,
                "fetches from other repositories (`submodule`)",
                Some(p),
            ),
            _ => {}
        },
        "bisect" => {
            if let Some(("run", p)) = first_operand {
                found.can(Exec, "runs a command at every step (`bisect run`)", Some(p));
            }
        }
        "rebase" => {
            if let Some(p) = opt(&["--exec", "-x"]) {
                found.can(
                    Exec,
                    "runs a command after every commit (`--exec`)",
                    Some(p),
                );
            }
        }
        "filter-branch" => found.can(
            Exec,
            "runs the filters it is given as shell commands (`filter-branch`)",
            Some(at),
        ),
        "difftool" | "mergetool" => found.can(
            Exec,
            format!("runs an external diff or merge tool (`{sub}`)"),
            Some(at),
        ),
        "instaweb" | "web--browse" => found.can(
            Exec,
            format!("starts a web server or browser (`{sub}`)"),
            Some(at),
        ),
        "help" => {
            if let Some(p) = opt(&["--web", "-w"]) {
                found.can(Exec, "opens a web browser (`help -w`)", Some(p));
            }
        }
        "grep" => {
            if let Some(p) = opt(&["--open-files-in-pager", "-O"]) {
                found.can(
                    Exec,
                    "opens matches in the program it is given (`-O`)",
                    Some(p),
                );
            }
        }
        "clone" => {
            found.can(Fetch, "fetches from another repository (`clone`)", Some(at));
            if let Some(p) = opt(&["--upload-pack", "-u"]) {
                found.can(
                    Exec,
                    "runs the program it is given for fetching (`--upload-pack`)",
                    Some(p),
                );
            }
            if let Some(p) = opt(&["--template"]) {
                found.can(
                    Exec,
                    "installs hooks from a template directory (`--template`)",
                    Some(p),
                );
            }
            if let Some(p) = opt(&["--config", "-c"]) {
                found.can(Exec, "sets options in the new repository, which can make git run commands (`--config`)", Some(p));
            }
        }
        "fetch" | "pull" | "ls-remote" | "fetch-pack" | "push" | "send-pack" => {
            found.can(
                Fetch,
                format!("reaches another repository (`{sub}`)"),
                Some(at),
            );
            let unsafe_opts: &[&str] = if matches!(sub, "ls-remote") {
                &["--upload-pack", "-u"]
            } else {
                &["--upload-pack", "--receive-pack", "--exec"]
            };
            if let Some(p) = opt(unsafe_opts) {
                found.can(Exec, "runs the program it is given for the transfer (`--upload-pack`, `--receive-pack`)", Some(p));
            }
        }
        "archive" => {
            if let Some(p) = opt(&["--remote"]) {
                found.can(
                    Fetch,
                    "reaches another repository (`archive --remote`)",
                    Some(p),
                );
            }
            if let Some(p) = opt(&["--exec"]) {
                found.can(
                    Exec,
                    "runs the program it is given on the other side (`--exec`)",
                    Some(p),
                );
            }
        }
        "remote" => {
            if let Some(("update", p)) = first_operand {
                found.can(
                    Fetch,
                    "fetches from other repositories (`remote update`)",
                    Some(p),
                );
            }
        }
        "send-email" | "request-pull" | "daemon" | "http-backend" | "imap-send" => {
            found.can(Fetch, format!("reaches the network (`{sub}`)"), Some(at));
            let programs = [
                "--to-cmd",
                "--cc-cmd",
                "--header-cmd",
                "--smtp-server",
                "--sendmail-cmd",
            ];
            if let Some(p) = opt(&programs) {
                found.can(
                    Exec,
                    "runs the program it is given to send mail (`--smtp-server` and the like)",
                    Some(p),
                );
            }
        }
        "init" => {
            if let Some(p) = opt(&["--template"]) {
                found.can(
                    Exec,
                    "installs hooks from a template directory (`--template`)",
                    Some(p),
                );
            }
        }
        "apply" | "am" if opt(&["--check", "--stat", "--numstat", "--summary"]).is_none() => {
            found.can(
                Write,
                format!("changes files named inside the patch (`{sub}`)"),
                Some(at),
            );
        }
        _ => {}
    }
    if let Some(p) = opt(&["--ext-diff"]) {
        found.can(
            Exec,
            "runs an external diff program (`--ext-diff`)",
            Some(p),
        );
    }
    for (k, w) in rest.iter().enumerate() {
        if w.text.starts_with("ext::") {
            found.can(
                Exec,
                "uses a transport that runs a command (`ext::`)",
                Some(at + 1 + k),
            );
        }
        let output = if let Some(f) = w.text.strip_prefix("--output=") {
            Some((f, w))
        } else if w.text == "--output" || w.text == "-o" {
            rest.get(k + 1).map(|v| (v.text.as_str(), v))
        } else {
            None
        };
        if let Some((f, holder)) = output
            && holder.literal
            && matches!(
                sub,
                "diff" | "log" | "show" | "format-patch" | "archive" | "range-diff"
            )
        {
            found.file(f, PathRole::Write, holder.glob);
        }
    }
}

/// Whether `word` is option `name`: the same; `--name=value`; an unambiguous abbreviation of a
/// long one (git accepts them); a short one in a cluster or with its value attached.
fn option_is(word: &str, name: &str) -> bool {
    if let Some(long) = name.strip_prefix("--") {
        let Some(given) = word.strip_prefix("--") else {
            return false;
        };
        let given = given.split_once('=').map_or(given, |(g, _)| g);
        given == long || (given.len() >= 2 && long.starts_with(given))
    } else {
        let letter = name.trim_start_matches('-');
        word.starts_with('-') && !word.starts_with("--") && word[1..].contains(letter)
    }
}

/// Whether `git config …` changes a setting (rather than reading or listing).
fn config_writes(rest: &[crate::shell::word::Word]) -> bool {
    const WRITES: &[&str] = &[
        "--add",
        "--replace-all",
        "--unset",
        "--unset-all",
        "--rename-section",
        "--remove-section",
        "--edit",
        "-e",
    ];
    const READS: &[&str] = &[
        "--get",
        "--get-all",
        "--get-regexp",
        "--get-urlmatch",
        "--get-color",
        "--get-colorbool",
        "--list",
        "-l",
    ];
    const WITH_VALUE: &[&str] = &[
        "-f",
        "--file",
        "--blob",
        "--type",
        "--default",
        "--comment",
        "--value",
    ];
    if rest
        .iter()
        .any(|w| WRITES.iter().any(|n| option_is(&w.text, n)))
    {
        return true;
    }
    let mut operands = Vec::new();
    let mut i = 0;
    while let Some(w) = rest.get(i) {
        let t = w.text.as_str();
        if WITH_VALUE.contains(&t) {
            i += 2;
            continue;
        }
        if !t.starts_with('-') {
            operands.push(t);
        }
        i += 1;
    }
    match operands.first() {
        Some(&("set" | "unset" | "rename-section" | "remove-section" | "edit")) => true,
        Some(&("get" | "list")) => false,
        _ => {
            let reads = rest.iter().any(|w| {
                READS
                    .iter()
                    .any(|n| w.text == *n || w.text.starts_with(&format!("{n}=")))
            });
            !reads && operands.len() >= 2
        }
    }
}
