//! Tests on option values and operands used by the table, and curl's data files.

use super::{Args, Found};
use crate::shell::PathRole;

/// `host:path`, `user@host:path`, `host::module` or `rsync://…`: a place on another host. Like
/// rsync and tar, a colon counts when it comes before any `/` (which covers every `scheme://`).
pub(super) fn remote(t: &str) -> bool {
    match t.find(':') {
        Some(colon) => colon > 0 && !t[..colon].contains('/'),
        None => false,
    }
}

/// An ssh option (`-o Key=value` or `-o "Key value"`) that runs a local command.
pub(super) fn ssh_command(v: &str) -> bool {
    let key = v
        .split(|c: char| c == '=' || c.is_whitespace())
        .next()
        .unwrap_or("");
    [
        "proxycommand",
        "localcommand",
        "permitlocalcommand",
        "knownhostscommand",
        "match",
        "include",
    ]
    .iter()
    .any(|k| key.eq_ignore_ascii_case(k))
}

/// `perl -M`/`-m` value that is more than `Module` or `Module=list`: it is pasted into code.
pub(super) fn perl_module_code(v: &str) -> bool {
    !v.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | ',' | '.' | '=' | '-' | '+'))
}

/// A `+command` operand of vim: not `+` (last line), `+N` (line N) or `+/pattern`.
pub(super) fn vim_plus(t: &str) -> bool {
    let Some(cmd) = t.strip_prefix('+') else {
        return false;
    };
    !(cmd.is_empty() || cmd.chars().all(|c| c.is_ascii_digit()) || cmd.starts_with('/'))
}

/// A `+command` operand of less/more that is not a line number, a search or `G`/`g`/`F`.
pub(super) fn less_plus(t: &str) -> bool {
    let Some(cmd) = t.strip_prefix('+') else {
        return false;
    };
    let cmd = cmd.strip_prefix('+').unwrap_or(cmd);
    !(cmd.is_empty()
        || cmd.chars().all(|c| c.is_ascii_digit())
        || cmd.starts_with('/')
        || cmd.starts_with('?')
        || matches!(cmd, "G" | "g" | "F"))
}

/// curl reads files named in data and form values (`-d @file`, `-F name=@file`, `-F
/// name=<file`), and sends them: they are judged as paths read.
pub(super) fn curl_files(_: &str, args: &Args<'_>, found: &mut Found) {
    let data = [
        "-d",
        "--data",
        "--data-binary",
        "--data-ascii",
        "--data-urlencode",
        "--json",
        "-F",
        "--form",
        "-H",
        "--header",
        "--variable",
    ];
    for name in data {
        for (value, _) in args.opt(&[name]) {
            let Some((v, at)) = value else { continue };
            if !args.literal(at) {
                continue;
            }
            let file = if let Some(f) = v.strip_prefix('@') {
                Some(f)
            } else if let Some(i) = v.find("=@").or_else(|| v.find("=<")) {
                Some(&v[i + 2..])
            } else if matches!(name, "--data-urlencode" | "--variable") {
                v.find('@').map(|i| &v[i + 1..])
            } else {
                None
            };
            if let Some(f) = file {
                let f = f.split(';').next().unwrap_or(f);
                found.file(f, PathRole::Read, false);
            }
        }
    }
    // `-b file` (no `=`) reads cookies from a file.
    for (value, _) in args.opt(&["-b", "--cookie"]) {
        if let Some((v, at)) = value
            && !v.contains('=')
            && args.literal(at)
        {
            found.file(v, PathRole::Read, false);
        }
    }
}
