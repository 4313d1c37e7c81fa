//! Hard checks on what a call touches: paths (inside the workspace or an allowed place),
//! shell command lines, and URLs. These apply whatever the tool rules say.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::decision::{Action, Decision};
use crate::document::Policy;
use crate::network::{LocalAddress, Target, classify_url};
use crate::path::{PathProblem, has_other_links, resolve_path};
use crate::shell::{PathRole, ShellCommand, ShellFacts, analyze};

/// Everything learned about a call, for the hard verdict and for rule constraints.
pub(crate) struct Findings {
    /// The strictest hard verdict so far (starts as allow).
    pub verdict: Decision,
    /// Resolved paths, as shown to path globs (workspace-relative inside, absolute outside).
    pub paths: Vec<String>,
    /// Commands of a shell line, with what each can do.
    pub commands: Vec<ShellCommand>,
    /// Code-bearing files written; they ask unless the allowing rule names them.
    pub code_writes: Vec<CodeWrite>,
    /// Host of a network call.
    pub host: Option<String>,
    /// The host is loopback / private (never matched by wildcard allow-lists).
    pub local_host: bool,
    /// The URL of a network call, for matching exact local addresses (host and port).
    pub url: Option<url::Url>,
}

/// A write to a file that makes other commands run code.
pub(crate) struct CodeWrite {
    pub raw: String,
    /// As shown to path globs.
    pub shown: String,
    /// What runs it.
    pub runs: &'static str,
}

pub(crate) struct Judge<'a> {
    pub policy: &'a Policy,
    pub workspace: PathBuf,
    pub home: Option<&'a Path>,
    pub outside: Vec<(PathBuf, bool)>,
    pub found: Findings,
}

const MAX_CWDS: usize = 16;

/// How deep the arguments of a tool that is not built in are looked into; deeper ones ask.
const MAX_ARG_DEPTH: usize = 8;

impl<'a> Judge<'a> {
    pub fn new(policy: &'a Policy, workspace: PathBuf, home: Option<&'a Path>) -> Self {
        let outside = policy
            .workspace
            .allow_outside
            .iter()
            .filter_map(|o| {
                let p = crate::document::expand_tilde(&o.path, home)?;
                Some((std::fs::canonicalize(p).ok()?, o.write))
            })
            .collect();
        Judge {
            policy,
            workspace,
            home,
            outside,
            found: Findings {
                verdict: Decision::new(
                    Action::Allow,
                    format!("{}: no objection", policy.name),
                    "nothing to object to",
                ),
                paths: Vec::new(),
                commands: Vec::new(),
                code_writes: Vec::new(),
                host: None,
                local_host: false,
                url: None,
            },
        }
    }

    pub fn flag(&mut self, d: Decision) {
        let v = std::mem::replace(
            &mut self.found.verdict,
            Decision::new(Action::Allow, "", ""),
        );
        self.found.verdict = v.stricter(d);
    }

    pub(crate) fn rule(&self, what: &str) -> String {
        format!("{}: {what}", self.policy.name)
    }

    /// Judges one path; returns the resolved path if it is usable as a base (inside or allowed).
    pub fn path(
        &mut self,
        raw: &str,
        role: PathRole,
        strict: bool,
        glob: bool,
        base: &Path,
    ) -> Option<PathBuf> {
        let resolved = match resolve_path(raw, base, self.home) {
            Ok(p) => p,
            Err(problem) => {
                let (action, rule) = match problem {
                    PathProblem::Nul | PathProblem::Empty | PathProblem::SymlinkLoop => {
                        (Action::Deny, "invalid path")
                    }
                    PathProblem::Special(_) => (Action::Deny, "path outside workspace"),
                    PathProblem::Tilde | PathProblem::DotDotAfterMissing | PathProblem::Io(_) => {
                        (Action::Ask, "path cannot be resolved")
                    }
                };
                let d = Decision::new(
                    action,
                    self.rule(rule),
                    format!("{problem}: `{}`", raw.escape_debug()),
                )
                .with("attempted_path", raw);
                self.flag(d);
                return None;
            }
        };
        let shown = self.shown(&resolved);
        self.found.paths.push(shown.clone());
        let details = |d: Decision| {
            d.with("attempted_path", raw)
                .with("resolved_path", resolved.to_string_lossy())
        };
        if glob {
            self.glob_links(&resolved, raw);
        }
        let writing = role == PathRole::Write;
        if resolved.starts_with(&self.workspace) {
            if writing && has_other_links(&resolved) {
                let d = Decision::new(
                    Action::Ask,
                    self.rule("hard-linked file"),
                    format!(
                        "`{raw}` has other hard links and may change a file outside the workspace"
                    ),
                );
                self.flag(details(d));
            }
            if writing && strict {
                self.code_write(raw, &shown, glob.then_some(resolved.as_path()));
            }
            return Some(resolved);
        }
        if let Some((_, can_write)) = self
            .outside
            .iter()
            .find(|(root, _)| resolved.starts_with(root))
        {
            if writing && !can_write {
                let d = Decision::new(
                    Action::Deny,
                    self.rule("workspace.allow_outside (read-only)"),
                    format!("`{raw}` is in a read-only place outside the workspace"),
                );
                self.flag(details(d));
                return None;
            }
            if writing && has_other_links(&resolved) {
                let d = Decision::new(
                    Action::Ask,
                    self.rule("hard-linked file"),
                    format!("`{raw}` has other hard links"),
                );
                self.flag(details(d));
            }
            if writing && strict {
                self.code_write(raw, &shown, glob.then_some(resolved.as_path()));
            }
            return Some(resolved);
        }
        let (action, reason) = if strict {
            (Action::Deny, format!("`{raw}` is outside the workspace"))
        } else {
            (
                Action::Ask,
                format!("argument `{raw}` may refer to a path outside the workspace"),
            )
        };
        let d = Decision::new(action, self.rule("path outside workspace"), reason);
        self.flag(details(d));
        None
    }

    /// Notes a write to a code-bearing file. A path with wildcards (`glob`: the resolved
    /// pattern) counts as itself (what the shell uses when nothing matches) and as each existing
    /// file it matches; if it matches too many to list, as any code-bearing file it could match.
    fn code_write(&mut self, raw: &str, shown: &str, glob: Option<&Path>) {
        let mut found: Vec<(String, &'static str)> = crate::code_files::code_file(shown, false)
            .map(|runs| (shown.to_string(), runs))
            .into_iter()
            .collect();
        match glob.map(expand_glob) {
            Some(Some(matches)) => found.extend(matches.iter().filter_map(|m| {
                // A match may be a link: what counts is where the write lands.
                let real = resolve_path(&m.to_string_lossy(), &self.workspace, self.home)
                    .unwrap_or_else(|_| m.clone());
                let shown = self.shown(&real);
                let runs = crate::code_files::code_file(&shown, false)?;
                Some((shown, runs))
            })),
            Some(None) => found.extend(
                crate::code_files::code_file(shown, true).map(|runs| (shown.to_string(), runs)),
            ),
            None => {}
        }
        for (shown, runs) in found {
            if !self.found.code_writes.iter().any(|w| w.shown == shown) {
                self.found.code_writes.push(CodeWrite {
                    raw: raw.to_string(),
                    shown,
                    runs,
                });
            }
        }
    }

    /// A resolved path as path globs see it: workspace-relative inside, absolute outside.
    pub(crate) fn shown(&self, resolved: &Path) -> String {
        match resolved.strip_prefix(&self.workspace) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
            Ok(rel) => rel.to_string_lossy().into_owned(),
            Err(_) => resolved.to_string_lossy().into_owned(),
        }
    }

    /// A wildcard could match a symlink leading elsewhere: ask if its directory holds any.
    fn glob_links(&mut self, resolved: &Path, raw: &str) {
        let comps: Vec<_> = resolved.components().collect();
        let Some(first) = comps
            .iter()
            .position(|c| c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
        else {
            return;
        };
        let dir: PathBuf = comps[..first].iter().collect();
        let has_link = first + 1 < comps.len()
            || std::fs::read_dir(&dir)
                .map(|rd| {
                    rd.filter_map(Result::ok)
                        .any(|e| e.file_type().is_ok_and(|t| t.is_symlink()))
                })
                .unwrap_or(true);
        if has_link {
            let d = Decision::new(
                Action::Ask,
                self.rule("wildcard"),
                format!("wildcard `{raw}` may match a symbolic link leading elsewhere"),
            )
            .with("attempted_path", raw);
            self.flag(d);
        }
    }

    /// Judges a shell line run in `cwd`.
    pub fn shell(&mut self, line: &str, cwd: &Path) {
        if line.contains('\0') {
            self.flag(Decision::new(
                Action::Deny,
                self.rule("invalid command"),
                "command contains a NUL byte",
            ));
            return;
        }
        if line.trim().is_empty() {
            self.flag(Decision::new(
                Action::Deny,
                self.rule("invalid command"),
                "command is empty",
            ));
            return;
        }
        let facts: ShellFacts = analyze(line);
        for reason in &facts.denies {
            let d = Decision::new(Action::Deny, self.rule("shell"), reason.clone())
                .with("command", line);
            self.flag(d);
        }
        for reason in &facts.asks {
            let d = Decision::new(Action::Ask, self.rule("shell"), reason.clone())
                .with("command", line);
            self.flag(d);
        }
        let mut bases = vec![cwd.to_path_buf()];
        for use_ in &facts.paths {
            for base in bases.clone() {
                let role = if use_.role == PathRole::Cd {
                    PathRole::Read
                } else {
                    use_.role
                };
                let resolved = self.path(&use_.raw, role, use_.strict, use_.glob, &base);
                if use_.role == PathRole::Cd
                    && let Some(dir) = resolved
                    && !bases.contains(&dir)
                {
                    if bases.len() >= MAX_CWDS {
                        let d = Decision::new(
                            Action::Ask,
                            self.rule("shell"),
                            "too many directory changes to follow",
                        );
                        self.flag(d);
                    } else {
                        bases.push(dir);
                    }
                }
            }
        }
        for remote in crate::shell_network::remotes(&facts.commands) {
            if let Some(target) = crate::network::classify_host(&remote.url) {
                self.address(&target, &remote.url, &remote.raw, "shell.exec");
            }
        }
        self.found.commands = facts.commands;
    }

    /// Judges a URL given to `tool`: scheme, forbidden and local addresses. A local address
    /// passes without asking only when the policy lists it exactly, host and port
    /// ([`Policy::local_addresses`]).
    pub fn url(&mut self, raw: &str, tool: &str) {
        let (target, url) = match classify_url(raw) {
            Ok(parsed) => parsed,
            Err(reason) => {
                let d =
                    Decision::new(Action::Deny, self.rule("invalid url"), reason).with("url", raw);
                self.flag(d);
                return;
            }
        };
        self.address(&target, &url, raw, tool);
        match target {
            Target::Forbidden(host, _) | Target::Host(host) => self.found.host = Some(host),
            Target::Local(host, _) => {
                self.found.local_host = true;
                self.found.host = Some(host);
            }
        }
        self.found.url = Some(url);
    }

    /// The address rules shared by every tool that connects: forbidden addresses are denied,
    /// local ones ask unless the policy lists that exact address for `tool`.
    fn address(&mut self, target: &Target, url: &url::Url, raw: &str, tool: &str) {
        match target {
            Target::Forbidden(host, why) => {
                let d = Decision::new(
                    Action::Deny,
                    self.rule("forbidden address"),
                    format!("`{host}` is never reachable ({why})"),
                )
                .with("url", raw)
                .with("host", host.clone());
                self.flag(d);
            }
            Target::Local(host, why) => {
                let listed = self
                    .policy
                    .local_addresses(tool)
                    .iter()
                    .any(|a| a.names(url));
                if !listed {
                    let port = url.port_or_known_default().unwrap_or(0);
                    let d = Decision::new(
                        Action::Ask,
                        self.rule("local address"),
                        format!(
                            "`{host}` is on this machine or the local network ({why}); list `{host}:{port}` in network.domains to reach exactly that address without asking"
                        ),
                    )
                    .with("url", raw)
                    .with("host", host.clone());
                    self.flag(d);
                }
            }
            Target::Host(_) => {}
        }
    }

    /// Judges any path-like value in the arguments of a tool that is not built in: values of
    /// path-like keys strictly, other strings when they look like a path outside.
    pub fn unknown_args(&mut self, args: &serde_json::Value, write: bool) {
        let role = if write {
            PathRole::Write
        } else {
            PathRole::Read
        };
        self.unknown_value(args, role, false, 0);
    }

    /// `depth`: how many objects and arrays hold `value`.
    fn unknown_value(
        &mut self,
        value: &serde_json::Value,
        role: PathRole,
        strict: bool,
        depth: usize,
    ) {
        use serde_json::Value;
        const KEYS: &[&str] = &[
            "path",
            "paths",
            "file",
            "files",
            "filename",
            "file_path",
            "filepath",
            "dir",
            "directory",
            "cwd",
            "root",
            "source",
            "destination",
            "src",
            "dst",
            "dest",
            "target",
            "output",
            "input",
            "location",
        ];
        if matches!(value, Value::Array(_) | Value::Object(_)) && depth > MAX_ARG_DEPTH {
            let d = Decision::new(
                Action::Ask,
                self.rule("arguments"),
                format!(
                    "arguments nested deeper than {MAX_ARG_DEPTH} levels are not inspected for paths"
                ),
            );
            self.flag(d);
            return;
        }
        match value {
            Value::String(s) => {
                let ws = self.workspace.clone();
                self.unknown_string(s, role, strict, &ws);
            }
            Value::Array(items) => {
                for item in items {
                    self.unknown_value(item, role, strict, depth + 1);
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    let key = k.to_ascii_lowercase();
                    let strict = KEYS.contains(&key.as_str()) || key.ends_with("path");
                    self.unknown_value(v, role, strict, depth + 1);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    fn unknown_string(&mut self, s: &str, role: PathRole, strict: bool, ws: &Path) {
        if let Some(p) = s.strip_prefix("file://") {
            self.path(if p.is_empty() { "/" } else { p }, role, true, false, ws);
        } else if strict
            || s.starts_with('/')
            || s.starts_with("~/")
            || s.starts_with("../")
            || s.contains('\0')
        {
            self.path(s, role, strict, false, ws);
        }
    }
}

/// The existing files a resolved path with wildcards matches (a superset: `*` also matches
/// names starting with `.`); `None` if there are too many to list.
fn expand_glob(pattern: &Path) -> Option<Vec<PathBuf>> {
    const MAX: usize = 1024;
    let mut current = vec![PathBuf::from("/")];
    for comp in pattern.components().skip(1) {
        let part = comp.as_os_str();
        let text = part.to_string_lossy();
        if !text.contains(['*', '?', '[']) {
            for p in &mut current {
                p.push(part);
            }
            continue;
        }
        let Ok(glob) = globset::Glob::new(&text) else {
            return None;
        };
        let m = glob.compile_matcher();
        let mut next = Vec::new();
        for dir in &current {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for e in entries.flatten() {
                if m.is_match(e.file_name()) {
                    next.push(dir.join(e.file_name()));
                    if next.len() > MAX {
                        return None;
                    }
                }
            }
        }
        current = next;
    }
    Some(
        current
            .into_iter()
            .filter(|p| p.exists() || p.is_symlink())
            .collect(),
    )
}

/// A decision for malformed arguments.
pub(crate) fn bad_args(policy: &Policy, tool: &str, what: &str) -> Decision {
    Decision::new(
        Action::Deny,
        format!("{}: invalid arguments", policy.name),
        format!("`{tool}`: {what}"),
    )
    .with("tool", json!(tool))
}

/// Whether a domain entry is an exact local address naming `url`'s host and port.
pub(crate) fn local_entry_names(entry: &str, url: &url::Url) -> bool {
    matches!(LocalAddress::parse(entry), Ok(Some(a)) if a.names(url))
}
