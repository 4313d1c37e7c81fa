//! What decides a call besides the first matching rule: the shapes of the built-in tools'
//! arguments, what a foreign tool's hints make of its paths, code-bearing writes an allowed rule
//! names, rules that fall short when the defaults already allow, and machines that cannot
//! contain a shell.

use std::path::{Path, PathBuf};

use pryx_policy::{Action, CallContext, Decision, Policy, ToolHints, evaluate, parse_policy};
use pryx_protocol::ToolKind;
use serde_json::{Value, json};

fn ws() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir_all(root.join("w/src")).unwrap();
    std::fs::write(root.join("w/src/main.rs"), "").unwrap();
    std::fs::create_dir_all(root.join("data")).unwrap();
    (dir, root.join("w"), root.join("data"))
}

fn policy(yaml: &str) -> Policy {
    parse_policy(yaml, Path::new("t.yaml")).unwrap()
}

fn eval(p: &Policy, w: &Path, tool: &str, kind: ToolKind, args: Value) -> Decision {
    evaluate(p, &CallContext::new(tool, kind, &args, w, None))
}

#[test]
fn built_in_file_tools_refuse_path_arguments_of_the_wrong_shape() {
    let (_d, w, _data) = ws();
    let p = policy("name: t\ntools:\n  allowed: [fs.*]\n");
    for (tool, kind, args) in [
        ("fs.list", ToolKind::Read, json!({"path": 42})),
        (
            "fs.search",
            ToolKind::Read,
            json!({"path": ["src"], "pattern": "x"}),
        ),
        ("fs.write", ToolKind::Write, json!({"content": "x"})),
        (
            "fs.edit",
            ToolKind::Write,
            json!({"path": 7, "old_text": "", "new_text": ""}),
        ),
    ] {
        let d = eval(&p, &w, tool, kind, args);
        assert_eq!(d.action, Action::Deny, "{tool}: {d:?}");
        assert!(d.rule.contains("arguments"), "{tool}: {d:?}");
    }
    // Listing the workspace needs no path at all.
    let d = eval(&p, &w, "fs.list", ToolKind::Read, json!({}));
    assert_eq!(d.action, Action::Allow, "{d:?}");
}

#[test]
fn listing_a_read_only_directory_outside_is_a_read() {
    let (_d, w, data) = ws();
    let p = policy(&format!(
        "name: t\nworkspace:\n  allow_outside: ['{}']\ntools:\n  allowed: [fs.*]\n",
        data.display()
    ));
    for tool in ["fs.list", "fs.search"] {
        let args = json!({"path": data, "pattern": "x"});
        let d = eval(&p, &w, tool, ToolKind::Read, args);
        assert_eq!(d.action, Action::Allow, "{tool}: {d:?}");
    }
}

#[test]
fn a_foreign_tools_paths_are_writes_unless_it_declares_itself_read_only() {
    let (_d, w, data) = ws();
    let p = policy(&format!(
        "name: t\nworkspace:\n  allow_outside: ['{}']\n",
        data.display()
    ));
    let args = json!({"path": data.join("notes.txt")});
    let mut ctx = CallContext::new("notes.save", ToolKind::Read, &args, &w, None);
    let d = evaluate(&p, &ctx);
    assert_eq!(
        (d.action, d.rule.as_str()),
        (Action::Deny, "t: workspace.allow_outside (read-only)"),
        "{d:?}"
    );
    ctx.hints = ToolHints {
        read_only: true,
        destructive: false,
    };
    assert_eq!(evaluate(&p, &ctx).action, Action::Allow);
    ctx.hints = ToolHints {
        read_only: true,
        destructive: true,
    };
    assert_eq!(evaluate(&p, &ctx).action, Action::Deny);
}

#[test]
fn only_an_allowed_write_of_a_named_code_bearing_file_keeps_such_files_writable() {
    let (_d, w, _data) = ws();
    let write = |p: &Policy, path: &str| {
        eval(
            p,
            &w,
            "fs.write",
            ToolKind::Write,
            json!({"path": path, "content": ""}),
        )
    };
    let named = policy("name: t\ntools:\n  allowed:\n    - fs.write: {paths: ['**', Makefile]}\n");
    let d = write(&named, "Makefile");
    assert_eq!(d.action, Action::Allow, "{d:?}");
    assert!(d.writes_code_files);
    let d = write(&named, "src/lib.rs");
    assert_eq!(d.action, Action::Allow, "{d:?}");
    assert!(!d.writes_code_files);
    let unnamed = policy("name: t\ntools:\n  allowed:\n    - fs.write: {paths: ['**']}\n");
    let d = write(&unnamed, "Makefile");
    assert_eq!(d.action, Action::Ask, "{d:?}");
    assert!(!d.writes_code_files);
}

#[test]
fn a_rule_that_falls_short_only_speaks_when_the_defaults_would_not_allow() {
    let (_d, w, _data) = ws();
    let line = "awk 'BEGIN { system(\"ls\") }'";
    let shell = |p: &Policy| {
        eval(
            p,
            &w,
            "shell.exec",
            ToolKind::Exec,
            json!({ "command": line }),
        )
    };
    let asks = policy("name: t\ntools:\n  allowed:\n    - shell.exec: {commands: [awk, ls]}\n");
    let d = shell(&asks);
    assert_eq!(
        (d.action, d.rule.as_str()),
        (Action::Ask, "t: tools.allowed[shell.exec]"),
        "{d:?}"
    );
    // Of two rules that fall short, the first speaks.
    let two = policy(
        "name: t\ntools:\n  allowed:\n    - shell.exec: {commands: [awk]}\n    - shell.*: {commands: [awk, ls]}\n",
    );
    assert_eq!(shell(&two).rule, "t: tools.allowed[shell.exec]");
    let allows = policy(
        "name: t\ndefaults: {exec: allow}\ntools:\n  allowed:\n    - shell.exec: {commands: [awk, ls]}\n",
    );
    let d = shell(&allows);
    assert_eq!(
        (d.action, d.rule.as_str()),
        (Action::Allow, "t: defaults.exec"),
        "{d:?}"
    );
}

#[test]
fn an_allowed_shell_command_asks_on_a_machine_that_cannot_contain_it() {
    let (_d, w, _data) = ws();
    let p =
        policy("name: t\ntools:\n  allowed:\n    - shell.exec: {commands: [ls]}\n    - fs.read\n");
    let gap = "no user namespaces";
    let ls = json!({"command": "ls"});
    let mut ctx = CallContext::new("shell.exec", ToolKind::Exec, &ls, &w, None);
    assert_eq!(evaluate(&p, &ctx).action, Action::Allow);
    ctx.uncontained_shell = Some(gap);
    let d = evaluate(&p, &ctx);
    assert_eq!(
        (d.action, d.rule.as_str()),
        (Action::Ask, "sandbox"),
        "{d:?}"
    );
    assert!(d.reason.contains(gap), "{d:?}");
    // What the policy denies stays denied; other tools are not shell commands.
    let rm = json!({"command": "rm -rf src"});
    let mut ctx = CallContext::new("shell.exec", ToolKind::Exec, &rm, &w, None);
    ctx.uncontained_shell = Some(gap);
    assert_ne!(evaluate(&p, &ctx).action, Action::Allow);
    let denied = policy("name: t\ntools:\n  denied: [shell.exec]\n");
    assert_eq!(evaluate(&denied, &ctx).action, Action::Deny);
    let read = json!({"path": "src/main.rs"});
    let mut ctx = CallContext::new("fs.read", ToolKind::Read, &read, &w, None);
    ctx.uncontained_shell = Some(gap);
    assert_eq!(evaluate(&p, &ctx).action, Action::Allow);
}
