//! Judging one call against a policy: hard checks on what the call touches, then the policy's
//! tool rules (denied > ask > allowed) or its defaults; the stricter of the two wins.

use pryx_protocol::ToolKind;
use serde_json::Value;

use crate::commands::{Coverage, allow_coverage, missing_reason, triggers};
use crate::context::CallContext;
use crate::decision::{Action, Decision};
use crate::document::{Policy, ToolRule};
use crate::judge::{Findings, Judge, bad_args, local_entry_names};
use crate::pattern::{domain_matches, tool_matches};
use crate::shell::PathRole;

/// Kinds of the built-in tools.
fn builtin_kind(tool: &str) -> Option<ToolKind> {
    Some(match tool {
        "fs.read" | "fs.list" | "fs.search" => ToolKind::Read,
        "fs.write" | "fs.edit" => ToolKind::Write,
        "shell.exec" => ToolKind::Exec,
        "http.request" => ToolKind::Network,
        // A session's own background processes: reading, waiting for and stopping them.
        "process.list" | "process.output" | "process.wait" | "process.kill" => ToolKind::Read,
        // Input to a running program drives it like a command.
        "process.send" => ToolKind::Exec,
        t if crate::tool_reads::reads_own_files(t) => ToolKind::Read,
        _ => return None,
    })
}

/// Judges one tool call. Every path, command and host in the arguments is judged and the
/// strictest outcome wins (deny beats ask beats allow); the decision names the rule.
pub fn evaluate(policy: &Policy, ctx: &CallContext<'_>) -> Decision {
    let name = &policy.name;
    let workspace = match std::fs::canonicalize(ctx.workspace) {
        Ok(w) if w.is_dir() => w,
        _ => {
            return Decision::new(
                Action::Deny,
                format!("{name}: workspace"),
                "the workspace does not exist or is not a directory",
            )
            .with("workspace", ctx.workspace.to_string_lossy());
        }
    };
    if let Some(root) = policy.workspace_root(ctx.home) {
        let inside = std::fs::canonicalize(&root).is_ok_and(|r| workspace.starts_with(r));
        if !inside {
            return Decision::new(
                Action::Deny,
                format!("{name}: workspace.root"),
                format!(
                    "the session's workspace is not inside the policy's root {}",
                    root.display()
                ),
            )
            .with("workspace", workspace.to_string_lossy());
        }
    }
    if !crate::pattern::valid_tool_pattern(ctx.tool) || ctx.tool.contains('*') {
        return bad_args(policy, ctx.tool, "tool name is not valid");
    }
    if let Some(d) = rate_limit(policy, ctx) {
        return d;
    }

    let mut judge = Judge::new(policy, workspace.clone(), ctx.home);
    let kind = builtin_kind(ctx.tool);
    if let Err(d) = judge_args(&mut judge, ctx, kind) {
        return *d;
    }
    let baseline = baseline(policy, ctx, kind, &judge);
    let ruling = rules(policy, ctx.tool, &judge);
    let (ruled, allowed_by) = match ruling.matched {
        Some(m) => m,
        None => match ruling.short {
            // An allowed rule named every command but not all they can do: say how to allow it.
            Some(short) if baseline.action != Action::Allow => {
                let mut d = short;
                d.action = baseline.action;
                (d, None)
            }
            _ => (baseline, None),
        },
    };
    // What a file-reading tool reads stays under fs.read's rules (a denied path stays denied).
    let fs_read = crate::tool_reads::reads_own_files(ctx.tool)
        .then(|| rules(policy, "fs.read", &judge).matched)
        .flatten();
    let ruled = match fs_read {
        Some((d, _)) => ruled.stricter(d),
        None => ruled,
    };
    code_writes(&mut judge, allowed_by);
    let hard = judge.found.verdict;
    let mut decision = if hard.action >= ruled.action && hard.action != Action::Allow {
        hard
    } else {
        ruled
    };
    // Allowed with code-bearing writes: the rule named every one (else it would ask).
    decision.writes_code_files =
        decision.action == Action::Allow && !judge.found.code_writes.is_empty();
    let mut decision = match ctx.uncontained_shell {
        Some(gap) if decision.action == Action::Allow && kind == Some(ToolKind::Exec) => {
            Decision::new(
                Action::Ask,
                "sandbox",
                format!("shell commands always ask on this machine: {gap}"),
            )
        }
        _ => decision,
    };
    decision.network_ports = crate::shell_network::ports(&judge.found.commands);
    decision
}

fn str_arg<'v>(args: &'v Value, key: &str) -> Result<Option<&'v str>, String> {
    match args.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn judge_args(
    judge: &mut Judge<'_>,
    ctx: &CallContext<'_>,
    kind: Option<ToolKind>,
) -> Result<(), Box<Decision>> {
    let bad = |what: String| Box::new(bad_args(judge.policy, ctx.tool, &what));
    if kind.is_some() && !ctx.args.is_object() {
        return Err(bad("arguments must be a JSON object".to_string()));
    }
    let ws = judge.workspace.clone();
    let required = |key: &str| -> Result<&str, Box<Decision>> {
        str_arg(ctx.args, key)
            .map_err(&bad)?
            .ok_or_else(|| bad(format!("missing `{key}`")))
    };
    match ctx.tool {
        t if crate::tool_reads::reads_own_files(t) => {
            crate::tool_reads::judge_reported_reads(judge, ctx);
        }
        "fs.read" => {
            let p = required("path")?;
            judge.path(p, PathRole::Read, true, false, &ws);
        }
        "fs.list" | "fs.search" => {
            let p = str_arg(ctx.args, "path").map_err(bad)?.unwrap_or(".");
            judge.path(p, PathRole::Read, true, false, &ws);
        }
        "fs.write" | "fs.edit" => {
            let p = required("path")?;
            judge.path(p, PathRole::Write, true, false, &ws);
        }
        "shell.exec" => {
            let command = required("command")?;
            let cwd = match str_arg(ctx.args, "cwd").map_err(bad)? {
                Some(c) => match judge.path(c, PathRole::Read, true, false, &ws) {
                    Some(dir) => dir,
                    None => return Ok(()),
                },
                None => ws.clone(),
            };
            judge.shell(command, &cwd);
        }
        "http.request" => {
            let url = required("url")?;
            judge.url(url, ctx.tool);
            if let Some(method) = str_arg(ctx.args, "method").map_err(bad)?
                && !matches!(
                    method.to_ascii_uppercase().as_str(),
                    "GET" | "HEAD" | "OPTIONS"
                )
                && judge.policy.defaults.write == Action::Deny
            {
                let d = Decision::new(
                    Action::Deny,
                    format!("{}: defaults.write", judge.policy.name),
                    format!("`{method}` requests change things and this policy denies writes"),
                );
                judge.flag(d);
            }
        }
        _ => {
            let write = !ctx.hints.read_only || ctx.hints.destructive;
            judge.unknown_args(ctx.args, write);
            if let Ok(Some(url)) = str_arg(ctx.args, "url") {
                judge.url(url, ctx.tool);
            }
        }
    }
    Ok(())
}

/// What the policy's defaults say when no tool rule matches.
fn baseline(
    policy: &Policy,
    ctx: &CallContext<'_>,
    kind: Option<ToolKind>,
    judge: &Judge<'_>,
) -> Decision {
    let d = &policy.defaults;
    let rule = |what: &str| format!("{}: {what}", policy.name);
    match kind {
        Some(ToolKind::Read) => Decision::new(
            d.read,
            rule("defaults.read"),
            "reading inside the workspace",
        ),
        Some(ToolKind::Write) => Decision::new(
            d.write,
            rule("defaults.write"),
            "writing inside the workspace",
        ),
        Some(ToolKind::Exec) => {
            Decision::new(d.exec, rule("defaults.exec"), "running a shell command")
        }
        Some(ToolKind::Network) => {
            let host = judge.found.host.clone().unwrap_or_default();
            let listed = policy
                .network
                .domains
                .iter()
                .any(|p| host_allowed(p, &judge.found));
            if listed {
                Decision::new(
                    Action::Allow,
                    rule("network.domains"),
                    format!("`{host}` is on the allow-list"),
                )
            } else {
                Decision::new(
                    d.network,
                    rule("defaults.network"),
                    format!("`{host}` is not on the allow-list"),
                )
                .with("host", host)
            }
        }
        None => {
            if ctx.hints.read_only && !ctx.hints.destructive {
                Decision::new(
                    d.read,
                    rule("defaults.read"),
                    format!("`{}` declares itself read-only", ctx.tool),
                )
            } else {
                let unknown = Decision::new(
                    d.unknown,
                    rule("defaults.unknown"),
                    format!("`{}` is not built in and may change things", ctx.tool),
                );
                let (by_kind, what) = match ctx.kind {
                    ToolKind::Read => (d.read, "defaults.read"),
                    ToolKind::Write => (d.write, "defaults.write"),
                    ToolKind::Exec => (d.exec, "defaults.exec"),
                    ToolKind::Network => (d.network, "defaults.network"),
                };
                unknown.stricter(Decision::new(
                    by_kind,
                    rule(what),
                    format!("`{}` is of kind {}", ctx.tool, ctx.kind.as_str()),
                ))
            }
        }
    }
}

/// Whether a domain entry covers the call's host: a local host only by an exact local address
/// (host and port), any other host by [`domain_matches`].
fn host_allowed(pattern: &str, found: &Findings) -> bool {
    match (&found.host, &found.url) {
        (Some(_), Some(url)) if found.local_host => local_entry_names(pattern, url),
        (Some(host), _) => domain_matches(pattern, host),
        (None, _) => false,
    }
}

/// What the tool rules say.
struct Ruling<'p> {
    /// The first matching rule's decision, and the rule when it is an `allowed` one.
    matched: Option<(Decision, Option<&'p ToolRule>)>,
    /// An `allowed` rule that matched but for capabilities its commands do not grant.
    short: Option<Decision>,
}

/// The first matching rule in `denied`, then `ask`, then `allowed`.
fn rules<'p>(policy: &'p Policy, tool: &str, judge: &Judge<'_>) -> Ruling<'p> {
    let lists: [(&str, &Vec<ToolRule>, Action); 3] = [
        ("denied", &policy.tools.denied, Action::Deny),
        ("ask", &policy.tools.ask, Action::Ask),
        ("allowed", &policy.tools.allowed, Action::Allow),
    ];
    let mut short = None;
    for (list, rules, action) in lists {
        for r in rules.iter().filter(|r| tool_matches(&r.pattern, tool)) {
            let rule = format!("{}: tools.{list}[{}]", policy.name, r.pattern);
            match constraints_fit(r, judge, action == Action::Allow) {
                Fit::Yes => {
                    let verb = match action {
                        Action::Allow => "allows",
                        Action::Ask => "asks for",
                        Action::Deny => "denies",
                    };
                    let d = Decision::new(action, rule, format!("the policy {verb} `{tool}`"))
                        .with("tool", tool);
                    let allowed_by = (action == Action::Allow).then_some(r);
                    return Ruling {
                        matched: Some((d, allowed_by)),
                        short,
                    };
                }
                Fit::Short(reason, needed) if short.is_none() => {
                    short = Some(
                        Decision::new(Action::Ask, rule, reason)
                            .with("tool", tool)
                            .with("capabilities", needed),
                    );
                }
                Fit::Short(..) | Fit::No => {}
            }
        }
    }
    Ruling {
        matched: None,
        short,
    }
}

/// How a rule's constraints fit a call.
enum Fit {
    Yes,
    No,
    /// Everything fits but capabilities of named commands: why, and the entries that would
    /// grant them (`awk:exec`).
    Short(String, Vec<String>),
}

/// Kinds of constraint combine with AND. Within a kind, an `allowed` rule needs every command,
/// host and path covered (a command's capabilities included); an `ask`/`denied` rule needs any
/// one to match.
fn constraints_fit(rule: &ToolRule, judge: &Judge<'_>, allowing: bool) -> Fit {
    let c = &rule.constraints;
    let f = &judge.found;
    let mut reasons = Vec::new();
    let mut needed = Vec::new();
    if !c.commands.is_empty() {
        if allowing {
            if f.commands.is_empty() {
                return Fit::No;
            }
            for cmd in &f.commands {
                match allow_coverage(&c.commands, cmd) {
                    Coverage::Allowed => {}
                    Coverage::NotNamed => return Fit::No,
                    Coverage::Missing(missing) => {
                        let name = cmd.words.first().map_or("", String::as_str);
                        reasons.push(missing_reason(name, &missing));
                        for p in missing {
                            let entry = format!("{name}:{}", p.capability);
                            if !needed.contains(&entry) {
                                needed.push(entry);
                            }
                        }
                    }
                }
            }
        } else if !f.commands.iter().any(|cmd| triggers(&c.commands, cmd)) {
            return Fit::No;
        }
    }
    if !c.domains.is_empty() {
        let ok = c.domains.iter().any(|p| host_allowed(p, f));
        if !ok {
            return Fit::No;
        }
    }
    if !c.paths.is_empty() {
        let Ok(set) = build_globs(&c.paths) else {
            return Fit::No;
        };
        let ok = if allowing {
            !f.paths.is_empty() && f.paths.iter().all(|p| set.is_match(p))
        } else {
            f.paths.iter().any(|p| set.is_match(p))
        };
        if !ok {
            return Fit::No;
        }
    }
    if reasons.is_empty() {
        Fit::Yes
    } else {
        Fit::Short(reasons.join("; "), needed)
    }
}

/// Writes to code-bearing files ask, unless the `allowed` rule that allows the call names each
/// in its `paths` (see [`crate::code_files::names`]: `**` does not name `Makefile`).
fn code_writes(judge: &mut Judge<'_>, allowed_by: Option<&ToolRule>) {
    let globs: Vec<(&str, globset::GlobMatcher)> = allowed_by
        .map(|r| r.constraints.paths.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|g| Some((g.as_str(), glob(g).ok()?.compile_matcher())))
        .collect();
    let writes = std::mem::take(&mut judge.found.code_writes);
    for w in &writes {
        let named = globs
            .iter()
            .any(|(text, m)| m.is_match(&w.shown) && crate::code_files::names(text, &w.shown));
        if !named {
            let d = Decision::new(
                Action::Ask,
                format!("{}: code-bearing file", judge.policy.name),
                format!(
                    "writing `{}` makes other commands run code ({}); name it in the `paths` of an allowed rule to let it pass",
                    w.shown, w.runs
                ),
            )
            .with("attempted_path", w.raw.as_str())
            .with("path", w.shown.as_str());
            judge.flag(d);
        }
    }
    judge.found.code_writes = writes;
}

fn glob(g: &str) -> Result<globset::Glob, globset::Error> {
    globset::GlobBuilder::new(g).literal_separator(true).build()
}

fn build_globs(globs: &[String]) -> Result<globset::GlobSet, globset::Error> {
    let mut b = globset::GlobSetBuilder::new();
    for g in globs {
        b.add(glob(g)?);
    }
    b.build()
}

fn rate_limit(policy: &Policy, ctx: &CallContext<'_>) -> Option<Decision> {
    let state = ctx.rate?;
    let limits = &policy.rate_limits;
    if let Some(max) = limits.tool_calls_per_minute {
        let n = state.ledger.count_last_minute(state.now_ms, |_| true);
        if n >= max as usize {
            return Some(
                Decision::new(
                    Action::Deny,
                    format!("{}: rate_limits.tool_calls_per_minute", policy.name),
                    format!("{n} tool calls in the last minute reach the limit of {max}; try again shortly"),
                )
                .with("limit", max)
                .with("count", n),
            );
        }
    }
    for (pattern, max) in &limits.tools {
        if tool_matches(pattern, ctx.tool) {
            let n = state
                .ledger
                .count_last_minute(state.now_ms, |t| tool_matches(pattern, t));
            if n >= *max as usize {
                return Some(
                    Decision::new(
                        Action::Deny,
                        format!("{}: rate_limits.tools[{pattern}]", policy.name),
                        format!("{n} calls of `{pattern}` in the last minute reach the limit of {max}; try again shortly"),
                    )
                    .with("limit", *max)
                    .with("count", n),
                );
            }
        }
    }
    None
}
