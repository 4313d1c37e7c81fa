//! Tools that read files of their own (`skills.read`, `skills.load`) are judged by the real
//! paths they report, under the same rules as `fs.read`.

use std::path::{Path, PathBuf};

use pryx_policy::{Action, CallContext, Decision, Policy, builtin, evaluate, parse_policy};
use pryx_protocol::ToolKind;
use serde_json::json;

const DENY_ENV: &str = "name: t\ntools:\n  denied:\n    - fs.read: {paths: ['**/.env']}\n  ask:\n    - fs.read: {paths: ['**/*.key']}\n";

fn ws() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir_all(root.join("w/.pryx/skills/a")).unwrap();
    std::fs::create_dir_all(root.join("data/skills/b")).unwrap();
    (dir, root)
}

fn policy(yaml: &str) -> Policy {
    parse_policy(yaml, Path::new("test.yaml")).unwrap()
}

fn judge(p: &Policy, w: &Path, tool: &str, reads: Option<Result<&[PathBuf], &str>>) -> Decision {
    let args = json!({"name": "a", "path": "x"});
    let mut ctx = CallContext::new(tool, ToolKind::Read, &args, w, None);
    ctx.reads = reads;
    evaluate(p, &ctx)
}

#[test]
fn reads_in_skill_folders_are_allowed_like_fs_read() {
    let (_d, root) = ws();
    let w = root.join("w");
    let p = builtin("read-only").unwrap();
    for paths in [
        vec![w.join(".pryx/skills/a/references/guide.md")],
        vec![root.join("data/skills/b/SKILL.md")],
        vec![],
    ] {
        for tool in ["skills.read", "skills.load"] {
            let d = judge(&p, &w, tool, Some(Ok(&paths)));
            assert_eq!(d.action, Action::Allow, "{tool} {paths:?}: {d:?}");
        }
    }
}

#[test]
fn a_path_fs_read_may_not_read_stays_denied() {
    let (_d, root) = ws();
    let w = root.join("w");
    let p = policy(DENY_ENV);
    // The planted `.pryx/skills/leak -> ../..` resolves to the workspace's own `.env`.
    let leak = [w.join(".env")];
    let d = judge(&p, &w, "skills.read", Some(Ok(&leak)));
    assert_eq!(d.action, Action::Deny, "{d:?}");
    assert!(d.rule.contains("tools.denied[fs.read]"), "{d:?}");
    let in_skill = [w.join(".pryx/skills/a/.env")];
    assert_eq!(
        judge(&p, &w, "skills.read", Some(Ok(&in_skill))).action,
        Action::Deny
    );
    let managed = [root.join("data/skills/b/.env")];
    assert_eq!(
        judge(&p, &w, "skills.read", Some(Ok(&managed))).action,
        Action::Deny
    );
    let key = [w.join(".pryx/skills/a/id.key")];
    assert_eq!(
        judge(&p, &w, "skills.read", Some(Ok(&key))).action,
        Action::Ask
    );
    let fine = [w.join(".pryx/skills/a/guide.md")];
    assert_eq!(
        judge(&p, &w, "skills.read", Some(Ok(&fine))).action,
        Action::Allow
    );
}

#[test]
fn no_report_or_a_failed_one_is_denied() {
    let (_d, root) = ws();
    let w = root.join("w");
    let p = builtin("workspace-only").unwrap();
    let d = judge(&p, &w, "skills.read", None);
    assert_eq!(d.action, Action::Deny, "{d:?}");
    let d = judge(
        &p,
        &w,
        "skills.read",
        Some(Err("the skill folder resolves outside its skills location")),
    );
    assert_eq!(d.action, Action::Deny);
    assert!(d.reason.contains("outside its skills location"), "{d:?}");
    let relative = [PathBuf::from("relative/.env")];
    assert_eq!(
        judge(&p, &w, "skills.read", Some(Ok(&relative))).action,
        Action::Deny
    );
}

#[test]
fn inside_the_workspace_the_hard_path_checks_apply() {
    let (_d, root) = ws();
    let w = root.join("w");
    let p = builtin("workspace-only").unwrap();
    let proc_path = [PathBuf::from("/proc/self/environ")];
    // Outside the workspace the tool vouches for the place, but magic paths never pass.
    let d = judge(&p, &w, "skills.read", Some(Ok(&proc_path)));
    assert_eq!(d.action, Action::Deny, "{d:?}");
    std::os::unix::fs::symlink(root.join("w/.env"), root.join("w/.pryx/skills/a/link")).unwrap();
    let link = [w.join(".pryx/skills/a/link")];
    let d = judge(&policy(DENY_ENV), &w, "skills.read", Some(Ok(&link)));
    assert_eq!(d.action, Action::Deny, "a reported link is followed: {d:?}");
}
