//! Random paths through a workspace with links leading out, `..`, missing parts and absolute
//! jumps: resolving never panics, a path that resolves outside is never allowed, and a path is
//! judged the same as the place it resolves to; a shell line of allowed commands touching such a
//! path is never allowed either.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use pryx_policy::{Action, CallContext, Decision, Policy, evaluate, parse_policy, resolve_path};
use pryx_protocol::ToolKind;
use serde_json::json;

struct Tree {
    _dir: tempfile::TempDir,
    ws: PathBuf,
    home: PathBuf,
    policy: Policy,
}

fn tree() -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let home = root.join("home");
    let ws = home.join("ws");
    std::fs::create_dir_all(ws.join("src/deep")).unwrap();
    std::fs::create_dir_all(root.join("secret")).unwrap();
    std::fs::write(ws.join("src/main.rs"), "").unwrap();
    std::fs::write(root.join("secret/key"), "").unwrap();
    symlink(root.join("secret"), ws.join("out")).unwrap();
    symlink(ws.join("src"), ws.join("in")).unwrap();
    symlink("..", ws.join("src/up")).unwrap();
    symlink(root.join("secret/missing"), ws.join("dangling")).unwrap();
    let policy = parse_policy(
        "name: t\ntools:\n  allowed:\n    - fs.read\n    - fs.write: {paths: ['**']}\n",
        Path::new("t.yaml"),
    )
    .unwrap();
    Tree {
        _dir: dir,
        ws,
        home,
        policy,
    }
}

fn judge(t: &Tree, tool: &str, path: &str) -> Decision {
    let (kind, args) = if tool == "fs.read" {
        (ToolKind::Read, json!({ "path": path }))
    } else {
        (ToolKind::Write, json!({ "path": path, "content": "" }))
    };
    evaluate(
        &t.policy,
        &CallContext::new(tool, kind, &args, &t.ws, Some(&t.home)),
    )
}

fn part() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        ".", "..", "src", "deep", "main.rs", "out", "in", "up", "dangling", "missing", "key", "ws",
        "home", "secret",
    ])
}

/// A path: relative, absolute, or under `~`, from the parts above.
fn raw_path() -> impl Strategy<Value = (u8, Vec<&'static str>)> {
    (0u8..3, prop::collection::vec(part(), 1..7))
}

fn spell(t: &Tree, start: u8, parts: &[&str]) -> String {
    let rel = parts.join("/");
    match start {
        0 => rel,
        1 => format!("{}/{rel}", t.ws.display()),
        _ => format!("~/{rel}"),
    }
}

#[test]
fn outside_is_never_allowed_and_a_path_is_judged_as_where_it_leads() {
    let t = tree();
    // `PROPTEST_CASES` runs more.
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::default());
    let result = runner.run(&raw_path(), |(start, parts)| {
        let raw = spell(&t, start, &parts);
        let resolved = resolve_path(&raw, &t.ws, Some(&t.home));
        for tool in ["fs.read", "fs.write"] {
            let d = judge(&t, tool, &raw);
            match &resolved {
                Ok(p) if !p.starts_with(&t.ws) => {
                    prop_assert_ne!(
                        d.action,
                        Action::Allow,
                        "{} {} -> {}: {:?}",
                        tool,
                        raw,
                        p.display(),
                        d
                    );
                }
                Ok(p) => {
                    let direct = judge(&t, tool, &p.display().to_string());
                    prop_assert_eq!(
                        d.action,
                        direct.action,
                        "{} {} -> {}",
                        tool,
                        raw,
                        p.display()
                    );
                }
                Err(_) => prop_assert_ne!(d.action, Action::Allow, "{} {}: {:?}", tool, raw, d),
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// A shell line of allowed file commands whose path arguments are spelled from the parts above,
/// the first one sometimes written through a redirection.
fn shell_line() -> impl Strategy<Value = (&'static str, Vec<(u8, Vec<&'static str>)>, bool)> {
    (
        prop::sample::select(vec![
            "cat",
            "ls",
            "cp",
            "touch",
            "rm",
            "sed -i s/a/b/",
            "head",
        ]),
        prop::collection::vec(raw_path(), 1..4),
        any::<bool>(),
    )
}

#[test]
fn a_shell_line_touching_a_path_outside_is_never_allowed() {
    let t = tree();
    let policy = parse_policy(
        "name: t\ntools:\n  allowed:\n    - shell.exec: {commands: [cat, ls, cp, touch, rm, sed, head], paths: ['**']}\n",
        Path::new("t.yaml"),
    )
    .unwrap();
    // 64 lines by default: this binary runs once per mutant (scripts/mutants.sh), and each line
    // is a full evaluation. `PROPTEST_CASES` runs more (4,000 found nothing).
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(cases));
    let result = runner.run(&shell_line(), |(command, raw_paths, redirect)| {
        let spelled: Vec<String> = raw_paths
            .iter()
            .map(|(start, parts)| spell(&t, *start, parts))
            .collect();
        let line = if redirect {
            format!("{command} {} > {}", spelled[1..].join(" "), spelled[0])
        } else {
            format!("{command} {}", spelled.join(" "))
        };
        let outside = spelled.iter().find(|raw| {
            resolve_path(raw, &t.ws, Some(&t.home)).map_or(true, |p| !p.starts_with(&t.ws))
        });
        if let Some(raw) = outside {
            let args = json!({ "command": line });
            let d = evaluate(
                &policy,
                &CallContext::new("shell.exec", ToolKind::Exec, &args, &t.ws, Some(&t.home)),
            );
            prop_assert_ne!(
                d.action,
                Action::Allow,
                "{} ({} is outside): {:?}",
                line,
                raw,
                d
            );
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
