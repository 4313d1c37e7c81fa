//! The hard checks on what a call touches, each stated as the behaviour it protects, under
//! policies that would otherwise allow the call: only the check itself can make it ask or deny.
//! (Each test here fails when its check is switched off or inverted: see docs/testing.md.)

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use pryx_policy::{Action, CallContext, Decision, Policy, evaluate, parse_policy};
use pryx_protocol::ToolKind;
use serde_json::{Value, json};

struct Env {
    _dir: tempfile::TempDir,
    root: PathBuf,
    ws: PathBuf,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let ws = root.join("w");
    for d in ["src", ".git/hooks", "plain"] {
        std::fs::create_dir_all(ws.join(d)).unwrap();
    }
    std::fs::write(ws.join("src/main.rs"), "").unwrap();
    std::fs::write(ws.join("Makefile"), "").unwrap();
    std::fs::write(ws.join(".git/config"), "").unwrap();
    std::fs::write(ws.join("plain/note"), "").unwrap();
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::create_dir_all(root.join("secret")).unwrap();
    std::fs::write(root.join("secret/key"), "").unwrap();
    Env {
        _dir: dir,
        root,
        ws,
    }
}

fn policy(yaml: &str) -> Policy {
    parse_policy(yaml, Path::new("t.yaml")).unwrap()
}

fn call(p: &Policy, ws: &Path, tool: &str, kind: ToolKind, args: Value) -> Decision {
    evaluate(p, &CallContext::new(tool, kind, &args, ws, None))
}

fn read(p: &Policy, ws: &Path, path: &str) -> Decision {
    call(p, ws, "fs.read", ToolKind::Read, json!({ "path": path }))
}

fn write(p: &Policy, ws: &Path, path: &str) -> Decision {
    call(
        p,
        ws,
        "fs.write",
        ToolKind::Write,
        json!({ "path": path, "content": "" }),
    )
}

fn shell(p: &Policy, ws: &Path, cmd: &str) -> Decision {
    call(
        p,
        ws,
        "shell.exec",
        ToolKind::Exec,
        json!({ "command": cmd }),
    )
}

/// A user who lets the agent read, write and run everyday commands anywhere in the workspace.
fn trusting() -> Policy {
    policy(
        "name: t\ntools:\n  allowed:\n    - fs.read\n    - fs.list\n    - fs.write: {paths: ['**']}\n    - shell.exec: {commands: [cd, cat, echo, ls], paths: ['**']}\n",
    )
}

/// The same, with `dir` outside the workspace allowed (`write`: writable too).
fn trusting_outside(dir: &Path, write: bool) -> Policy {
    policy(&format!(
        "name: t\nworkspace:\n  allow_outside: [{{path: '{dir}', write: {write}}}]\ntools:\n  allowed:\n    - fs.read\n    - fs.write: {{paths: ['**', '{dir}/**']}}\n",
        dir = dir.display()
    ))
}

fn is(d: &Decision, action: Action, rule: &str) {
    assert_eq!((d.action, d.rule.as_str()), (action, rule), "{d:?}");
}

#[test]
fn a_write_to_a_file_with_a_second_hard_link_asks_and_reading_it_does_not() {
    let e = env();
    std::fs::hard_link(e.root.join("secret/key"), e.ws.join("alias")).unwrap();
    let p = trusting();
    is(
        &write(&p, &e.ws, "alias"),
        Action::Ask,
        "t: hard-linked file",
    );
    is(
        &read(&p, &e.ws, "alias"),
        Action::Allow,
        "t: tools.allowed[fs.read]",
    );
    // An ordinary file is written without asking.
    is(
        &write(&p, &e.ws, "src/main.rs"),
        Action::Allow,
        "t: tools.allowed[fs.write]",
    );

    // The same in a writable place outside the workspace.
    let data = e.root.join("data");
    std::fs::write(data.join("own"), "").unwrap();
    std::fs::hard_link(e.root.join("secret/key"), data.join("alias")).unwrap();
    let p = trusting_outside(&data, true);
    let alias = data.join("alias").display().to_string();
    is(
        &write(&p, &e.ws, &alias),
        Action::Ask,
        "t: hard-linked file",
    );
    is(
        &read(&p, &e.ws, &alias),
        Action::Allow,
        "t: tools.allowed[fs.read]",
    );
    let own = data.join("own").display().to_string();
    is(
        &write(&p, &e.ws, &own),
        Action::Allow,
        "t: tools.allowed[fs.write]",
    );
}

#[test]
fn reading_a_code_bearing_file_does_not_ask_writing_it_does() {
    let e = env();
    let p = trusting();
    for path in ["Makefile", ".git/config"] {
        is(
            &read(&p, &e.ws, path),
            Action::Allow,
            "t: tools.allowed[fs.read]",
        );
        is(&write(&p, &e.ws, path), Action::Ask, "t: code-bearing file");
    }
    is(
        &shell(&p, &e.ws, "cat Makefile"),
        Action::Allow,
        "t: tools.allowed[shell.exec]",
    );
    // Outside the workspace too: a read-only place is read, never written.
    let data = e.root.join("data");
    std::fs::write(data.join("Makefile"), "").unwrap();
    let mk = data.join("Makefile").display().to_string();
    let p = trusting_outside(&data, false);
    is(
        &read(&p, &e.ws, &mk),
        Action::Allow,
        "t: tools.allowed[fs.read]",
    );
    is(
        &write(&p, &e.ws, &mk),
        Action::Deny,
        "t: workspace.allow_outside (read-only)",
    );
    let p = trusting_outside(&data, true);
    is(
        &read(&p, &e.ws, &mk),
        Action::Allow,
        "t: tools.allowed[fs.read]",
    );
    is(&write(&p, &e.ws, &mk), Action::Ask, "t: code-bearing file");
}

#[test]
fn each_code_bearing_file_a_wildcard_matches_must_be_named() {
    let e = env();
    std::fs::write(e.ws.join("GNUmakefile"), "").unwrap();
    // `*akefile` matches Makefile and GNUmakefile: naming either one is not enough.
    for named in ["Makefile", "GNUmakefile"] {
        let p = policy(&format!(
            "name: t\ntools:\n  allowed:\n    - shell.exec: {{commands: [echo], paths: ['**', {named}]}}\n"
        ));
        let d = shell(&p, &e.ws, "echo x > *akefile");
        is(&d, Action::Ask, "t: code-bearing file");
    }
    let both = policy(
        "name: t\ntools:\n  allowed:\n    - shell.exec: {commands: [echo], paths: ['**', Makefile, GNUmakefile]}\n",
    );
    is(
        &shell(&both, &e.ws, "echo x > *akefile"),
        Action::Allow,
        "t: tools.allowed[shell.exec]",
    );
}

#[test]
fn a_wildcard_write_counts_as_every_existing_file_it_matches() {
    let e = env();
    let p = trusting();
    // Matches Makefile only by listing the directory.
    is(
        &shell(&p, &e.ws, "echo x > M*"),
        Action::Ask,
        "t: code-bearing file",
    );
    // Could match a code-bearing name, but what it matches here is not one.
    is(
        &shell(&p, &e.ws, "echo x > plain/*e"),
        Action::Allow,
        "t: tools.allowed[shell.exec]",
    );
}

#[test]
fn a_wildcard_matching_too_many_files_to_list_counts_as_any_file_it_could_match() {
    const LISTED: usize = 1024;
    let e = env();
    let many = e.ws.join("many");
    std::fs::create_dir_all(&many).unwrap();
    for i in 0..LISTED {
        std::fs::write(many.join(format!("f{i}")), "").unwrap();
    }
    let p = trusting();
    // Exactly as many as are listed: each is looked at, and none is code-bearing.
    is(
        &shell(&p, &e.ws, "echo x > many/*"),
        Action::Allow,
        "t: tools.allowed[shell.exec]",
    );
    // One more: `many/*` could be `many/Makefile`.
    std::fs::write(many.join("one-more"), "").unwrap();
    is(
        &shell(&p, &e.ws, "echo x > many/*"),
        Action::Ask,
        "t: code-bearing file",
    );
}

#[test]
fn a_wildcard_that_may_match_a_link_leading_elsewhere_asks() {
    let e = env();
    let p = trusting();
    // No link anywhere: a wildcard in the last part is judged by what it matches.
    is(
        &shell(&p, &e.ws, "cat src/*.rs"),
        Action::Allow,
        "t: tools.allowed[shell.exec]",
    );
    // A wildcard in a directory part could lead through any directory: it asks.
    is(
        &shell(&p, &e.ws, "cat s*/main.rs"),
        Action::Ask,
        "t: wildcard",
    );
    // A directory holding a link to outside: a wildcard there asks, even for a plain read.
    symlink(e.root.join("secret/key"), e.ws.join("plain/out")).unwrap();
    let d = shell(&p, &e.ws, "cat plain/*");
    is(&d, Action::Ask, "t: wildcard");
    assert!(d.reason.contains("symbolic link"), "{}", d.reason);
}

#[test]
fn paths_after_cd_are_judged_from_the_new_directory() {
    let e = env();
    let p = trusting();
    is(
        &shell(&p, &e.ws, "cd src && cat main.rs"),
        Action::Allow,
        "t: tools.allowed[shell.exec]",
    );
    // `config` in `.git` is the repository's configuration.
    is(
        &shell(&p, &e.ws, "cd .git && echo x > config"),
        Action::Ask,
        "t: code-bearing file",
    );
}

#[test]
fn more_directory_changes_than_can_be_followed_ask() {
    let e = env();
    let p = trusting();
    let dirs: Vec<String> = (0..16)
        .map(|i| {
            let d = e.ws.join(format!("d{i}"));
            std::fs::create_dir_all(&d).unwrap();
            d.display().to_string()
        })
        .collect();
    let line = |n: usize| {
        dirs[..n]
            .iter()
            .map(|d| format!("cd {d}"))
            .collect::<Vec<_>>()
            .join(" && ")
    };
    // The workspace and 15 more directories are followed.
    is(
        &shell(&p, &e.ws, &line(15)),
        Action::Allow,
        "t: tools.allowed[shell.exec]",
    );
    let d = shell(&p, &e.ws, &line(16));
    is(&d, Action::Ask, "t: shell");
    assert_eq!(d.reason, "too many directory changes to follow");
}

#[test]
fn the_workspace_root_is_shown_to_path_rules_as_a_dot() {
    let e = env();
    let p =
        policy("name: t\ntools:\n  allowed: [fs.list]\n  denied:\n    - fs.list: {paths: ['.']}\n");
    let d = call(&p, &e.ws, "fs.list", ToolKind::Read, json!({ "path": "." }));
    assert_eq!(d.action, Action::Deny, "{d:?}");
    let d = call(
        &p,
        &e.ws,
        "fs.list",
        ToolKind::Read,
        json!({ "path": "src" }),
    );
    assert_eq!(d.action, Action::Allow, "{d:?}");
}

/// A tool Pryx does not know (from an MCP server), allowed by the policy.
fn foreign(e: &Env, args: Value) -> Decision {
    let p = policy("name: t\ntools:\n  allowed: ['files.*']\n");
    call(&p, &e.ws, "files.do", ToolKind::Write, args)
}

#[test]
fn path_like_keys_of_a_foreign_tool_are_paths_even_when_they_look_harmless() {
    let e = env();
    for key in ["file", "dest", "output_path", "logPath"] {
        let d = foreign(&e, json!({ key: "src/../../../etc/passwd" }));
        assert_eq!(d.action, Action::Deny, "{key}: {d:?}");
    }
    // Another key holding a relative name is not taken for a path.
    let d = foreign(&e, json!({ "query": "src/../../x" }));
    assert_eq!(d.action, Action::Allow, "{d:?}");
}

#[test]
fn values_of_a_foreign_tool_that_look_like_paths_outside_are_judged() {
    let e = env();
    for (value, action) in [
        ("/etc/passwd", Action::Ask),
        ("~/.ssh/id_rsa", Action::Ask),
        ("../secret/key", Action::Ask),
        ("a\0b", Action::Deny),
        ("file:///etc/shadow", Action::Deny),
    ] {
        let d = foreign(&e, json!({ "query": value }));
        assert_eq!(d.action, action, "{value:?}: {d:?}");
    }
    // The same inside arrays and nested objects.
    let d = foreign(&e, json!({ "items": [{ "path": "/etc/passwd" }] }));
    assert_eq!(d.action, Action::Deny, "{d:?}");
    let d = foreign(&e, json!({ "list": ["/etc/passwd"] }));
    assert_eq!(d.action, Action::Ask, "{d:?}");
}

/// `{"a": {"a": … {key: value}}}` with `levels` objects around the innermost one.
fn nested(levels: usize, inner: Value) -> Value {
    (0..levels).fold(inner, |v, _| json!({ "a": v }))
}

#[test]
fn foreign_arguments_are_judged_eight_levels_deep_and_deeper_ones_ask() {
    let e = env();
    let outside = json!({ "path": "/etc/passwd" });
    let d = foreign(&e, nested(8, outside.clone()));
    assert_eq!(d.action, Action::Deny, "{d:?}");
    let inside = json!({ "path": "src/main.rs" });
    assert_eq!(foreign(&e, nested(8, inside.clone())).action, Action::Allow);
    // Deeper than that is not inspected, so it is not allowed blindly.
    for deep in [
        nested(9, inside.clone()),
        nested(4, json!({ "a": [[[[[[inside.clone()]]]]]] })),
    ] {
        let d = foreign(&e, deep);
        is(&d, Action::Ask, "t: arguments");
    }
}

#[test]
fn a_path_reaching_proc_through_a_missing_directory_is_denied_not_asked() {
    let e = env();
    let p = trusting();
    // `..` after a missing part would only ask; spelled this way it names /proc, which is never
    // reachable.
    for path in [
        "/nonexistent/../proc/self/environ",
        "/nope/x/../../sys/kernel",
    ] {
        let d = read(&p, &e.ws, path);
        is(&d, Action::Deny, "t: path outside workspace");
    }
}

#[test]
fn a_path_the_filesystem_refuses_to_resolve_asks_instead_of_counting_as_new() {
    let e = env();
    let p = trusting();
    // A file used as a directory: not "missing", so not a new file inside the workspace.
    for path in ["src/main.rs/x", &format!("{}/y", "n".repeat(300))] {
        let d = write(&p, &e.ws, path);
        is(&d, Action::Ask, "t: path cannot be resolved");
    }
}
