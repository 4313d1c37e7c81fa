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

fn sh(cmd: &str) -> (&'static str, Value) {
    ("shell.exec", json!({ "command": cmd }))
}

#[test]
fn escapes_are_never_allowed() {
    let e = env();
    let out = e.outside.display().to_string();
    let key = format!("{out}/key");
    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "dotdot read",
            "fs.read",
            json!({"path": "../../../secret/key"}),
        ),
        (
            "dotdot write",
            "fs.write",
            json!({"path": "../x", "content": ""}),
        ),
        (
            "dotdot inside then out",
            "fs.read",
            json!({"path": "src/../../x"}),
        ),
        ("absolute outside", "fs.read", json!({"path": key})),
        ("etc passwd read", "fs.read", json!({"path": "/etc/passwd"})),
        (
            "etc passwd write",
            "fs.write",
            json!({"path": "/etc/passwd", "content": "x"}),
        ),
        ("tilde home", "fs.read", json!({"path": "~/.bashrc"})),
        (
            "tilde user",
            "fs.read",
            json!({"path": "~root/.ssh/id_rsa"}),
        ),
        ("symlinked dir", "fs.read", json!({"path": "link_out/key"})),
        ("symlinked file", "fs.read", json!({"path": "key_link"})),
        (
            "symlink write",
            "fs.write",
            json!({"path": "key_link", "content": ""}),
        ),
        (
            "dangling symlink write",
            "fs.write",
            json!({"path": "dangling_out", "content": ""}),
        ),
        (
            "symlinked parent new file",
            "fs.write",
            json!({"path": "link_out/new.txt", "content": ""}),
        ),
        (
            "symlink then dotdot",
            "fs.read",
            json!({"path": "etc_link/../root"}),
        ),
        (
            "nested up link",
            "fs.write",
            json!({"path": "nested/up/secret/key", "content": ""}),
        ),
        (
            "proc self root",
            "fs.read",
            json!({"path": "/proc/self/root/etc/passwd"}),
        ),
        ("proc cwd", "fs.read", json!({"path": "/proc/1/cwd/x"})),
        (
            "dev",
            "fs.write",
            json!({"path": "/dev/sda", "content": ""}),
        ),
        ("sys", "fs.read", json!({"path": "/sys/kernel/notes"})),
        (
            "hard link write",
            "fs.write",
            json!({"path": "hard_key", "content": ""}),
        ),
        (
            "nul byte",
            "fs.read",
            json!({"path": "src/main.rs\u{0}/etc/passwd"}),
        ),
        ("empty path", "fs.read", json!({"path": ""})),
        (
            "missing then dotdot",
            "fs.write",
            json!({"path": "nope/../../x", "content": ""}),
        ),
        ("list outside", "fs.list", json!({"path": "/"})),
        (
            "search outside",
            "fs.search",
            json!({"pattern": "x", "path": "/etc"}),
        ),
        (
            "edit outside",
            "fs.edit",
            json!({"path": "/etc/hosts", "old_text": "a", "new_text": "b"}),
        ),
        (
            "git hook",
            "fs.write",
            json!({"path": ".git/hooks/pre-commit", "content": "x"}),
        ),
        ("non-string path", "fs.read", json!({"path": 5})),
        (
            "cwd outside",
            "shell.exec",
            json!({"command": "ls", "cwd": "/etc"}),
        ),
        (
            "mcp tool outside path",
            "files.read_file",
            json!({"path": "/etc/shadow"}),
        ),
        (
            "mcp tool file url",
            "files.fetch",
            json!({"uri": "file:///etc/shadow"}),
        ),
        (
            "http loopback",
            "http.request",
            json!({"url": "http://127.0.0.1:8080/"}),
        ),
        (
            "http localhost",
            "http.request",
            json!({"url": "http://localhost/admin"}),
        ),
        (
            "http metadata",
            "http.request",
            json!({"url": "http://169.254.169.254/latest/meta-data/"}),
        ),
        (
            "http metadata v6",
            "http.request",
            json!({"url": "http://[fd00:ec2::254]/"}),
        ),
        (
            "http decimal ip",
            "http.request",
            json!({"url": "http://2130706433/"}),
        ),
        (
            "http ipv4-mapped",
            "http.request",
            json!({"url": "http://[::ffff:127.0.0.1]/"}),
        ),
        (
            "http ipv4-translated",
            "http.request",
            json!({"url": "http://[::ffff:0:7f00:1]/"}),
        ),
        (
            "http ipv4-compatible",
            "http.request",
            json!({"url": "http://[::127.0.0.1]/"}),
        ),
        (
            "http nat64",
            "http.request",
            json!({"url": "http://[64:ff9b::7f00:1]/"}),
        ),
        (
            "http 6to4",
            "http.request",
            json!({"url": "http://[2002:7f00:1::]/"}),
        ),
        (
            "http teredo",
            "http.request",
            json!({"url": "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/"}),
        ),
        (
            "http unspecified v4",
            "http.request",
            json!({"url": "http://0.0.0.0:8080/"}),
        ),
        (
            "http unspecified v6",
            "http.request",
            json!({"url": "http://[::]:8080/"}),
        ),
        (
            "http hex ip",
            "http.request",
            json!({"url": "http://0x7f.1/"}),
        ),
        (
            "http octal ip",
            "http.request",
            json!({"url": "http://017700000001/"}),
        ),
        (
            "http private via 6to4",
            "http.request",
            json!({"url": "http://[2002:c0a8:101::]/"}),
        ),
        (
            "http file scheme",
            "http.request",
            json!({"url": "file:///etc/passwd"}),
        ),
        (
            "http userinfo trick",
            "http.request",
            json!({"url": "https://api.example.com@evil.example/"}),
        ),
    ];
    let shell_cases: Vec<(&str, &str)> = vec![
        ("cd root rm", "cd / && rm -rf x"),
        ("cd dotdot", "cd .. && rm -rf project"),
        ("cd bare", "cd && rm -rf .ssh"),
        ("cmd subst", "echo $(cat /etc/shadow)"),
        ("nested subst", "echo $(echo $(rm -rf /))"),
        ("backticks", "echo `cat /etc/passwd`"),
        ("nested backticks", "echo `echo \\`rm -rf /\\``"),
        ("bash -c", "bash -c 'rm -rf /'"),
        ("sh -c shadow", "sh -c 'cat /etc/shadow'"),
        ("bash -lc", "bash -lc \"cat ../../secret/key\""),
        ("eval", "eval 'cat /etc/passwd'"),
        ("env var indirection", "X=/etc; cat $X/passwd"),
        ("braced var", "cat ${HOME}/.ssh/id_rsa"),
        ("var command", "$CMD /tmp"),
        ("redirect etc", "echo x > /etc/x"),
        ("append etc", "echo x >> /etc/profile"),
        ("stderr redirect out", "ls 2> /tmp/log"),
        ("read redirect", "wc -l < /etc/shadow"),
        ("tee outside", "echo x | tee /etc/x"),
        ("pipeline second", "ls | rm -rf /"),
        ("and list", "true && rm -rf ~"),
        ("or list", "false || cat /etc/passwd"),
        ("background", "sleep 1 & rm -rf /"),
        ("subshell", "(cd /etc && cat passwd)"),
        ("brace group", "{ cat /etc/passwd; }"),
        ("process subst", "diff <(cat /etc/passwd) src/main.rs"),
        ("sudo", "sudo ls"),
        ("env wrapper", "env FOO=1 rm -rf /"),
        ("nohup", "nohup rm -rf / &"),
        ("timeout", "timeout 5 cat /etc/shadow"),
        ("xargs", "echo /etc | xargs rm -rf"),
        ("exec", "exec cat /etc/passwd"),
        ("command", "command rm /etc/x"),
        ("ld preload", "LD_PRELOAD=./evil.so ls"),
        ("symlink via shell", "cat link_out/key"),
        ("plain name symlink", "cat key_link"),
        ("cp out", "cp src/main.rs ../../../secret/"),
        ("mv out", "mv src /tmp/src"),
        ("ln out", "ln -s /etc/passwd p && cat p"),
        ("chmod out", "chmod 777 /etc/passwd"),
        ("option value path", "sort -o/etc/x src/main.rs"),
        ("dd of", "dd if=src/main.rs of=/etc/x"),
        ("brace expansion", "cat {/etc/passwd,src/main.rs}"),
        ("glob outside", "rm -rf /etc/*"),
        ("unclosed quote", "cat 'src/main.rs"),
        ("heredoc subst", "cat <<EOF\n$(rm -rf /)\nEOF"),
        ("find exec", "find . -exec rm {} \\;"),
        ("find outside", "find / -name x"),
        ("curl file url", "curl file:///etc/passwd"),
        ("proc in shell", "cat /proc/self/environ"),
        ("dollar single", "cat $'\\x2fetc\\x2fpasswd'"),
        (
            "python script",
            "python3 -c 'import os; os.remove(\"/etc/x\")'",
        ),
        ("case syntax", "case x in x) rm -rf /;; esac"),
        ("for loop", "for f in /etc/*; do cat $f; done"),
        ("nul in command", "ls\u{0}rm"),
        ("arithmetic", "echo $((1+2))"),
        ("plain ls still asks", "ls src"),
    ];
    let mut rows: Vec<(String, Decision)> = Vec::new();
    for (label, name, args) in &cases {
        rows.push((label.to_string(), run(&e, "workspace-only", name, args)));
    }
    for (label, cmd) in &shell_cases {
        let (name, args) = sh(cmd);
        rows.push((label.to_string(), run(&e, "workspace-only", name, &args)));
    }
    println!("{:<28} {:<6} {:<52} reason", "case", "action", "rule");
    let mut allowed = Vec::new();
    for (label, d) in &rows {
        println!(
            "{label:<28} {:<6} {:<52} {}",
            d.action.as_str(),
            d.rule,
            d.reason
        );
        if d.action == Action::Allow {
            allowed.push(label.clone());
        }
    }
    println!("{} cases", rows.len());
    assert!(rows.len() >= 50);
    assert!(allowed.is_empty(), "allowed escapes: {allowed:?}");
}

#[test]
fn outside_paths_are_denied_not_just_asked() {
    let e = env();
    let deny_cases: Vec<(&str, Value)> = vec![
        ("fs.write", json!({"path": "/etc/passwd", "content": "x"})),
        ("fs.read", json!({"path": "link_out/key"})),
        ("fs.read", json!({"path": "/proc/self/root/etc/passwd"})),
        ("fs.read", json!({"path": "a\u{0}b"})),
        ("shell.exec", json!({"command": "cd / && rm -rf x"})),
        ("shell.exec", json!({"command": "echo x > /etc/x"})),
        ("shell.exec", json!({"command": "sh -c 'cat /etc/shadow'"})),
        ("shell.exec", json!({"command": "sudo ls"})),
        ("http.request", json!({"url": "http://169.254.169.254/"})),
        ("http.request", json!({"url": "http://[::ffff:a9fe:a9fe]/"})),
        (
            "http.request",
            json!({"url": "http://[::ffff:0:a9fe:a9fe]/"}),
        ),
        (
            "http.request",
            json!({"url": "http://[64:ff9b::a9fe:a9fe]/"}),
        ),
        ("http.request", json!({"url": "http://[2002:a9fe:a9fe::]/"})),
        ("http.request", json!({"url": "http://0xa9fea9fe/"})),
        ("http.request", json!({"url": "http://100.100.100.200/"})),
    ];
    for (name, args) in deny_cases {
        let d = run(&e, "workspace-only", name, &args);
        assert_eq!(d.action, Action::Deny, "{name} {args}: {d:?}");
    }
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
