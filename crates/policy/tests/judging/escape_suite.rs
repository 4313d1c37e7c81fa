//! Attempts to reach outside the workspace or run hidden commands: every one must be denied
//! or asked, never allowed. Plus ordinary calls that must stay allowed.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use pryx_policy::{Action, CallContext, Decision, builtin, evaluate};
use pryx_protocol::ToolKind;
use serde_json::{Value, json};

struct Env {
    _dir: tempfile::TempDir,
    ws: PathBuf,
    home: PathBuf,
    outside: PathBuf,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap();
    let ws = root.join("home/user/project");
    let home = root.join("home/user");
    let outside = root.join("secret");
    std::fs::create_dir_all(ws.join("src")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(ws.join("src/main.rs"), "fn main() {}").unwrap();
    std::fs::write(outside.join("key"), "secret").unwrap();
    std::fs::write(home.join(".bashrc"), "").unwrap();
    symlink(&outside, ws.join("link_out")).unwrap();
    symlink(outside.join("key"), ws.join("key_link")).unwrap();
    symlink(outside.join("new_file"), ws.join("dangling_out")).unwrap();
    symlink("/etc", ws.join("etc_link")).unwrap();
    std::fs::create_dir_all(ws.join("nested")).unwrap();
    symlink(&root, ws.join("nested/up")).unwrap();
    std::fs::hard_link(outside.join("key"), ws.join("hard_key")).unwrap();
    Env {
        _dir: dir,
        ws,
        home,
        outside,
    }
}

fn tool(name: &str) -> ToolKind {
    match name {
        "fs.read" | "fs.list" | "fs.search" => ToolKind::Read,
        "fs.write" | "fs.edit" => ToolKind::Write,
        "shell.exec" => ToolKind::Exec,
        "http.request" => ToolKind::Network,
        _ => ToolKind::Write,
    }
}

fn run(e: &Env, policy: &str, name: &str, args: &Value) -> Decision {
    let p = builtin(policy).unwrap();
    let ctx = CallContext::new(name, tool(name), args, &e.ws, Some(&e.home));
    evaluate(&p, &ctx)
}

/// The shared table (also run through the dashboard's policy tester).
const TABLE: &str = include_str!("escape_cases.json");

/// `(name, tool, arguments, expect)` of every case, `{outside}` filled in.
fn table(e: &Env) -> Vec<(String, String, Value, String)> {
    fn fill(v: &mut Value, outside: &str) {
        match v {
            Value::String(s) => *s = s.replace("{outside}", outside),
            Value::Array(items) => items.iter_mut().for_each(|v| fill(v, outside)),
            Value::Object(map) => map.values_mut().for_each(|v| fill(v, outside)),
            _ => {}
        }
    }
    let doc: Value = serde_json::from_str(TABLE).unwrap();
    let outside = e.outside.display().to_string();
    doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut args = c["arguments"].clone();
            fill(&mut args, &outside);
            let text = |k: &str| c[k].as_str().unwrap().to_string();
            (text("name"), text("tool"), args, text("expect"))
        })
        .collect()
}

#[test]
fn escapes_are_never_allowed() {
    let e = env();
    let rows: Vec<(String, Decision, String)> = table(&e)
        .into_iter()
        .map(|(label, name, args, expect)| (label, run(&e, "workspace-only", &name, &args), expect))
        .collect();
    println!("{:<28} {:<6} {:<52} reason", "case", "action", "rule");
    let mut wrong = Vec::new();
    for (label, d, expect) in &rows {
        println!(
            "{label:<28} {:<6} {:<52} {}",
            d.action.as_str(),
            d.rule,
            d.reason
        );
        let ok = match expect.as_str() {
            "deny" => d.action == Action::Deny,
            "not_allow" => d.action != Action::Allow,
            other => panic!("unknown expectation {other:?} of {label}"),
        };
        if !ok {
            wrong.push(format!("{label}: {expect}, got {}", d.action.as_str()));
        }
    }
    println!("{} cases", rows.len());
    assert!(rows.len() >= 120);
    assert!(wrong.is_empty(), "escapes judged wrongly: {wrong:?}");
}

#[test]
fn outside_paths_are_denied_not_just_asked() {
    let e = env();
    let d = run(
        &e,
        "workspace-only",
        "fs.write",
        &json!({"path": "/etc/passwd", "content": "x"}),
    );
    assert_eq!(d.rule, "workspace-only: path outside workspace");
    assert_eq!(d.details["attempted_path"], "/etc/passwd");
}

#[test]
fn an_allowed_local_address_allows_nothing_beside_it() {
    let e = env();
    let p = pryx_policy::parse_policy(
        "name: ollama\nnetwork: {domains: ['127.0.0.1:11434', '*']}\n",
        Path::new("ollama.yaml"),
    )
    .unwrap();
    let get = |url: &str| {
        let args = json!({ "url": url });
        let ctx = CallContext::new(
            "http.request",
            ToolKind::Network,
            &args,
            &e.ws,
            Some(&e.home),
        );
        evaluate(&p, &ctx)
    };
    assert_eq!(get("http://127.0.0.1:11434/api/tags").action, Action::Allow);
    for url in [
        "http://127.0.0.1:22/",
        "http://127.0.0.1/",
        "http://127.0.0.1:11435/",
        "http://localhost:11434/",
        "http://127.0.0.2:11434/",
        "http://[::1]:11434/",
        "http://0.0.0.0:11434/",
        "http://[::]:11434/",
        "http://[2002:7f00:1::]:11434/",
        "http://10.0.0.1:11434/",
        "http://169.254.169.254:11434/",
    ] {
        assert_ne!(get(url).action, Action::Allow, "{url}");
    }
}

#[test]
fn ordinary_work_stays_allowed() {
    let e = env();
    let allow: Vec<(&str, &str, Value)> = vec![
        ("workspace-only", "fs.read", json!({"path": "src/main.rs"})),
        (
            "workspace-only",
            "fs.read",
            json!({"path": "./src/../src/main.rs"}),
        ),
        (
            "workspace-only",
            "fs.read",
            json!({"path": e.ws.join("src/main.rs").display().to_string()}),
        ),
        ("workspace-only", "fs.list", json!({})),
        (
            "workspace-only",
            "fs.search",
            json!({"pattern": "main", "path": "src"}),
        ),
        ("read-only", "fs.read", json!({"path": "src/main.rs"})),
        (
            "network-allowlist",
            "fs.list",
            json!({"path": "src", "recursive": true}),
        ),
    ];
    for (policy, name, args) in allow {
        let d = run(&e, policy, name, &args);
        assert_eq!(d.action, Action::Allow, "{policy} {name} {args}: {d:?}");
    }
    let d = run(
        &e,
        "workspace-only",
        "fs.write",
        &json!({"path": "src/new.rs", "content": ""}),
    );
    assert_eq!(d.action, Action::Ask, "{d:?}");
    assert_eq!(d.rule, "workspace-only: defaults.write");
    let _ = Path::new("");
}
