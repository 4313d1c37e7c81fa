//! Built-in policies, rule precedence, constraints, rate limits and hints.

use std::path::{Path, PathBuf};

use pryx_policy::{
    Action, CallContext, Decision, Policy, RateLedger, RateState, ToolHints, builtin, evaluate,
    parse_policy,
};
use pryx_protocol::ToolKind;
use serde_json::{Value, json};

fn ws() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    std::fs::create_dir_all(root.join("w/src")).unwrap();
    std::fs::write(root.join("w/src/main.rs"), "").unwrap();
    std::fs::create_dir_all(root.join("data")).unwrap();
    (dir, root)
}

fn policy(yaml: &str) -> Policy {
    parse_policy(yaml, Path::new("test.yaml")).unwrap()
}

fn eval(p: &Policy, ws: &Path, tool: &str, kind: ToolKind, args: Value) -> Decision {
    evaluate(p, &CallContext::new(tool, kind, &args, ws, None))
}

fn shell(p: &Policy, ws: &Path, cmd: &str) -> Decision {
    eval(
        p,
        ws,
        "shell.exec",
        ToolKind::Exec,
        json!({ "command": cmd }),
    )
}

#[test]
fn workspace_only_defaults() {
    let (_d, root) = ws();
    let w = root.join("w");
    let p = builtin("workspace-only").unwrap();
    assert_eq!(
        eval(
            &p,
            &w,
            "fs.read",
            ToolKind::Read,
            json!({"path": "src/main.rs"})
        )
        .action,
        Action::Allow
    );
    assert_eq!(
        eval(
            &p,
            &w,
            "fs.write",
            ToolKind::Write,
            json!({"path": "a", "content": ""})
        )
        .action,
        Action::Ask
    );
    let d = shell(&p, &w, "ls");
    assert_eq!(
        (d.action, d.rule.as_str()),
        (Action::Ask, "workspace-only: defaults.exec")
    );
    let d = eval(
        &p,
        &w,
        "http.request",
        ToolKind::Network,
        json!({"url": "https://example.com"}),
    );
    assert_eq!(
        (d.action, d.rule.as_str()),
        (Action::Ask, "workspace-only: defaults.network")
    );
    let d = eval(
        &p,
        &w,
        "github.create_issue",
        ToolKind::Write,
        json!({"title": "x"}),
    );
    assert_eq!(
        (d.action, d.rule.as_str()),
        (Action::Ask, "workspace-only: defaults.unknown")
    );
}

#[test]
fn read_only_denies_writes_exec_and_unsafe_methods() {
    let (_d, root) = ws();
    let w = root.join("w");
    let p = builtin("read-only").unwrap();
    assert_eq!(
        eval(
            &p,
            &w,
            "fs.read",
            ToolKind::Read,
            json!({"path": "src/main.rs"})
        )
        .action,
        Action::Allow
    );
    assert_eq!(
        eval(
            &p,
            &w,
            "fs.write",
            ToolKind::Write,
            json!({"path": "a", "content": ""})
        )
        .action,
        Action::Deny
    );
    assert_eq!(
        eval(
            &p,
            &w,
            "fs.edit",
            ToolKind::Write,
            json!({"path": "a", "old_text": "", "new_text": ""})
        )
        .action,
        Action::Deny
    );
    assert_eq!(shell(&p, &w, "ls").action, Action::Deny);
    let get = eval(
        &p,
        &w,
        "http.request",
        ToolKind::Network,
        json!({"url": "https://example.com"}),
    );
    assert_eq!(get.action, Action::Ask);
    let post = eval(
        &p,
        &w,
        "http.request",
        ToolKind::Network,
        json!({"url": "https://example.com", "method": "POST"}),
    );
    assert_eq!(post.action, Action::Deny);
    assert_eq!(
        eval(&p, &w, "srv.mutate", ToolKind::Write, json!({})).action,
        Action::Deny
    );
    // A foreign tool that only says it reads, without declaring itself read-only, may still
    // change things: read-only mode refuses it.
    let foreign = eval(&p, &w, "srv.lookup", ToolKind::Read, json!({}));
    assert_eq!(foreign.action, Action::Deny);
    assert_eq!(foreign.rule, "read-only: defaults.unknown");
}

#[test]
fn a_workspace_that_is_not_a_directory_denies_everything() {
    let (_d, root) = ws();
    let file = root.join("w/src/main.rs");
    let p = builtin("workspace-only").unwrap();
    let d = eval(&p, &file, "fs.read", ToolKind::Read, json!({"path": "."}));
    assert_eq!(d.action, Action::Deny);
    assert_eq!(d.rule, "workspace-only: workspace");
}

#[test]
fn network_allowlist_denies_unlisted_hosts() {
    let (_d, root) = ws();
    let w = root.join("w");
    let p = builtin("network-allowlist").unwrap();
    let d = eval(
        &p,
        &w,
        "http.request",
        ToolKind::Network,
        json!({"url": "https://example.com"}),
    );
    assert_eq!(d.action, Action::Deny);
    let mut listed = p.clone();
    listed.network.domains = vec!["*.example.com".into()];
    let ok = eval(
        &listed,
        &w,
        "http.request",
        ToolKind::Network,
        json!({"url": "https://api.example.com/v1"}),
    );
    assert_eq!(
        (ok.action, ok.rule.as_str()),
        (Action::Allow, "network-allowlist: network.domains")
    );
    let bare = eval(
        &listed,
        &w,
        "http.request",
        ToolKind::Network,
        json!({"url": "https://example.com/"}),
    );
    assert_eq!(bare.action, Action::Deny);
    let mut star = p.clone();
    star.network.domains = vec!["*".into()];
    let local = eval(
        &star,
        &w,
        "http.request",
        ToolKind::Network,
        json!({"url": "http://127.0.0.1/"}),
    );
    assert_ne!(local.action, Action::Allow);
}

#[test]
fn deny_beats_ask_beats_allow() {
    let (_d, root) = ws();
    let w = root.join("w");
    let p = policy(
        "name: t\ntools:\n  allowed: [fs.*, shell.exec]\n  ask: [fs.write]\n  denied: [fs.edit]\n",
    );
    let d = eval(
        &p,
        &w,
        "fs.read",
        ToolKind::Read,
        json!({"path": "src/main.rs"}),
    );
    assert_eq!(
        (d.action, d.rule.as_str()),
        (Action::Allow, "t: tools.allowed[fs.*]")
    );
    let d = eval(
        &p,
        &w,
        "fs.write",
        ToolKind::Write,
        json!({"path": "x", "content": ""}),
    );
    assert_eq!(
        (d.action, d.rule.as_str()),
        (Action::Ask, "t: tools.ask[fs.write]")
    );
    let d = eval(
        &p,
        &w,
        "fs.edit",
        ToolKind::Write,
        json!({"path": "x", "old_text": "", "new_text": ""}),
    );
    assert_eq!(
        (d.action, d.rule.as_str()),
        (Action::Deny, "t: tools.denied[fs.edit]")
    );
    // An allow rule never lifts a hard objection: outside the workspace stays denied.
    let d = eval(
        &p,
        &w,
        "fs.read",
        ToolKind::Read,
        json!({"path": "/etc/passwd"}),
    );
    assert_eq!(d.action, Action::Deny);
    let d = shell(&p, &w, "cat $X");
    assert_eq!(d.action, Action::Ask);
}

#[test]
fn command_constraints() {
    let (_d, root) = ws();
    let w = root.join("w");
    let p = policy(
        "name: t\ntools:\n  allowed:\n    - shell.exec: {commands: [python, 'git status', ls]}\n  denied:\n    - shell.exec: {commands: [rm, sudo]}\n",
    );
    assert_eq!(shell(&p, &w, "python src/main.rs").action, Action::Allow);
    assert_eq!(shell(&p, &w, "git status -s | ls").action, Action::Allow);
    assert_eq!(shell(&p, &w, "git push").action, Action::Ask);
    assert_eq!(
        shell(&p, &w, "python x.py && curl example.com").action,
        Action::Ask
    );
    assert_eq!(shell(&p, &w, "/tmp/python x").action, Action::Ask);
    assert_eq!(shell(&p, &w, "python $(curl x)").action, Action::Ask);
    let d = shell(&p, &w, "ls; /bin/rm x");
    assert_eq!(
        (d.action, d.rule.as_str()),
        (Action::Deny, "t: tools.denied[shell.exec]")
    );
    assert_eq!(shell(&p, &w, "env A=1 nohup rm x").action, Action::Deny);
    assert_eq!(shell(&p, &w, "python x > /etc/y").action, Action::Deny);
}

#[test]
fn path_and_domain_constraints() {
    let (_d, root) = ws();
    let w = root.join("w");
    let p = policy(
        "name: t\ntools:\n  allowed:\n    - fs.write: {paths: ['src/**']}\n    - http.request: {domains: [api.example.com]}\n  denied:\n    - fs.read: {paths: ['**/.env']}\n",
    );
    assert_eq!(
        eval(
            &p,
            &w,
            "fs.write",
            ToolKind::Write,
            json!({"path": "src/a.rs", "content": ""})
        )
        .action,
        Action::Allow
    );
    assert_eq!(
        eval(
            &p,
            &w,
            "fs.write",
            ToolKind::Write,
            json!({"path": "b.rs", "content": ""})
        )
        .action,
        Action::Ask
    );
    assert_eq!(
        eval(
            &p,
            &w,
            "fs.read",
            ToolKind::Read,
            json!({"path": "src/.env"})
        )
        .action,
        Action::Deny
    );
    assert_eq!(
        eval(
            &p,
            &w,
            "fs.read",
            ToolKind::Read,
            json!({"path": "src/main.rs"})
        )
        .action,
        Action::Allow
    );
    let ok = eval(
        &p,
        &w,
        "http.request",
        ToolKind::Network,
        json!({"url": "https://api.example.com/x"}),
    );
    assert_eq!(ok.action, Action::Allow);
    let no = eval(
        &p,
        &w,
        "http.request",
        ToolKind::Network,
        json!({"url": "https://evil.example/x"}),
    );
    assert_eq!(no.action, Action::Ask);
}

#[test]
fn allow_outside_read_and_write() {
    let (_d, root) = ws();
    let w = root.join("w");
    let data = root.join("data");
    let p = policy(&format!(
        "name: t\nworkspace:\n  allow_outside: ['{}']\n",
        data.display()
    ));
    assert_eq!(
        eval(
            &p,
            &w,
            "fs.read",
            ToolKind::Read,
            json!({"path": data.join("x")})
        )
        .action,
        Action::Allow
    );
    let d = eval(
        &p,
        &w,
        "fs.write",
        ToolKind::Write,
        json!({"path": data.join("x"), "content": ""}),
    );
    assert_eq!(
        (d.action, d.rule.as_str()),
        (Action::Deny, "t: workspace.allow_outside (read-only)")
    );
    let p = policy(&format!(
        "name: t\nworkspace:\n  allow_outside: [{{path: '{}', write: true}}]\n",
        data.display()
    ));
    assert_eq!(
        eval(
            &p,
            &w,
            "fs.write",
            ToolKind::Write,
            json!({"path": data.join("x"), "content": ""})
        )
        .action,
        Action::Ask
    );
}

#[test]
fn workspace_root_and_missing_workspace() {
    let (_d, root) = ws();
    let w = root.join("w");
    let p = policy(&format!(
        "name: t\nworkspace:\n  root: {}\n",
        root.join("other").display()
    ));
    assert_eq!(
        eval(
            &p,
            &w,
            "fs.read",
            ToolKind::Read,
            json!({"path": "src/main.rs"})
        )
        .action,
        Action::Deny
    );
    let p = builtin("workspace-only").unwrap();
    assert_eq!(
        eval(
            &p,
            &root.join("gone"),
            "fs.read",
            ToolKind::Read,
            json!({"path": "a"})
        )
        .action,
        Action::Deny
    );
}

#[test]
fn hints_for_tools_that_are_not_built_in() {
    let (_d, root) = ws();
    let w = root.join("w");
    let p = builtin("workspace-only").unwrap();
    let args = json!({"query": "x"});
    let mut ctx = CallContext::new("search.query", ToolKind::Read, &args, &w, None);
    ctx.hints = ToolHints {
        read_only: true,
        destructive: false,
    };
    assert_eq!(evaluate(&p, &ctx).action, Action::Allow);
    ctx.hints = ToolHints {
        read_only: true,
        destructive: true,
    };
    assert_eq!(evaluate(&p, &ctx).action, Action::Ask);
    let args = json!({"path": "/etc/shadow"});
    let mut ctx = CallContext::new("files.read", ToolKind::Read, &args, &w, None);
    ctx.hints = ToolHints {
        read_only: true,
        destructive: false,
    };
    assert_eq!(evaluate(&p, &ctx).action, Action::Deny);
}

#[test]
fn rate_limits_use_the_callers_clock() {
    let (_d, root) = ws();
    let w = root.join("w");
    let p = policy("name: t\nrate_limits:\n  tools: {fs.*: 2}\n  tool_calls_per_minute: 5\n");
    let args = json!({"path": "src/main.rs"});
    let mut ledger = RateLedger::new();
    ledger.record("fs.read", 1_000);
    ledger.record("fs.list", 2_000);
    let mut ctx = CallContext::new("fs.read", ToolKind::Read, &args, &w, None);
    ctx.rate = Some(RateState {
        ledger: &ledger,
        now_ms: 3_000,
    });
    let d = evaluate(&p, &ctx);
    assert_eq!(
        (d.action, d.rule.as_str()),
        (Action::Deny, "t: rate_limits.tools[fs.*]")
    );
    ctx.rate = Some(RateState {
        ledger: &ledger,
        now_ms: 61_500,
    });
    assert_eq!(evaluate(&p, &ctx).action, Action::Allow);
    let mut many = RateLedger::new();
    for i in 0..5 {
        many.record("shell.exec", 10_000 + i);
    }
    ctx.rate = Some(RateState {
        ledger: &many,
        now_ms: 20_000,
    });
    let d = evaluate(&p, &ctx);
    assert_eq!(
        (d.action, d.rule.as_str()),
        (Action::Deny, "t: rate_limits.tool_calls_per_minute")
    );
    let mut pruned = many.clone();
    pruned.prune(200_000);
    ctx.rate = Some(RateState {
        ledger: &pruned,
        now_ms: 200_000,
    });
    assert_eq!(evaluate(&p, &ctx).action, Action::Allow);
}

#[test]
fn malformed_arguments_are_denied() {
    let (_d, root) = ws();
    let w = root.join("w");
    let p = builtin("workspace-only").unwrap();
    assert_eq!(
        eval(&p, &w, "fs.read", ToolKind::Read, json!({})).action,
        Action::Deny
    );
    assert_eq!(
        eval(&p, &w, "fs.read", ToolKind::Read, json!("x")).action,
        Action::Deny
    );
    assert_eq!(
        eval(&p, &w, "shell.exec", ToolKind::Exec, json!({"command": ""})).action,
        Action::Deny
    );
    assert_eq!(
        eval(&p, &w, "bad tool", ToolKind::Read, json!({})).action,
        Action::Deny
    );
}

#[test]
fn an_exact_local_address_is_allowed_and_nothing_beside_it() {
    let (_d, root) = ws();
    let w = root.join("w");
    let get = |p: &Policy, url: &str| {
        eval(
            p,
            &w,
            "http.request",
            ToolKind::Network,
            json!({ "url": url }),
        )
    };
    for p in [
        policy("name: ollama\nnetwork: {domains: ['127.0.0.1:11434']}\n"),
        policy(
            "name: ollama\ntools:\n  allowed:\n    - http.request: {domains: ['127.0.0.1:11434']}\n",
        ),
    ] {
        for url in [
            "http://127.0.0.1:11434/api/tags",
            "http://2130706433:11434/",
            "http://[::ffff:127.0.0.1]:11434/",
        ] {
            assert_eq!(get(&p, url).action, Action::Allow, "{url}");
        }
        for url in [
            "http://127.0.0.1:22/",
            "http://127.0.0.1/",
            "http://localhost:11434/",
            "http://127.0.0.2:11434/",
            "http://[::1]:11434/",
            "http://0.0.0.0:11434/",
        ] {
            let d = get(&p, url);
            assert_eq!(d.action, Action::Ask, "{url}: {d:?}");
            assert!(d.reason.contains("network.domains"), "{url}: {}", d.reason);
        }
        assert_eq!(
            get(&p, "http://169.254.169.254:11434/").action,
            Action::Deny
        );
    }
    // Wildcards never reach this machine; an ask rule for one address still asks.
    let p = policy(
        "name: t\ndefaults: {network: deny}\nnetwork: {domains: ['*', '127.0.0.1:11434']}\ntools:\n  ask:\n    - http.request: {domains: ['127.0.0.1:11434']}\n",
    );
    assert_eq!(get(&p, "http://[::1]:11434/").action, Action::Deny);
    assert_eq!(get(&p, "http://127.0.0.1:11434/").action, Action::Ask);
    assert_eq!(get(&p, "https://example.com/").action, Action::Allow);
    assert_eq!(p.local_addresses("http.request").len(), 1);
}
