#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx serve`'s log passes through the same redactor as the store: a stored secret quoted in a
//! log field (here the foreign host of a refused request target) is masked in `logs/core.log`,
//! and personal data in one (an IP address) becomes a marker. The file is JSON lines that
//! `pryx logs` reads back.

use crate::common;

use common::*;
use std::io::{Read, Write};

const SECRET: &str = "svc-token-5f4e3d2c1b0a9988";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_quoted_in_a_log_line_is_masked() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    env.set_secret("SERVICE", SECRET);

    let mut serve = Serve::start(&env, &["--log-to", "file"]);
    for host in [format!("{SECRET}.example"), "198.51.100.23".to_string()] {
        let mut conn = std::net::TcpStream::connect(("127.0.0.1", serve.port)).unwrap();
        write!(
            conn,
            "GET http://{host}/api/v1/sessions HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            serve.port
        )
        .unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    }
    // Stopping flushes and closes the log.
    serve.stop();

    let log = std::fs::read_to_string(env.home.path().join("logs/core.log")).unwrap();
    assert!(log.contains("refused a request target"), "{log}");
    assert!(!log.contains(SECRET), "the secret is in the log: {log}");
    assert!(log.contains("***.example"), "{log}");
    // Personal data (here a client's address) is replaced by a marker.
    assert!(!log.contains("198.51.100.23"), "{log}");
    assert!(log.contains("[REDACTED_IP]"), "{log}");
    // The file is JSON lines, and `pryx logs` reads them back, filtered.
    for line in log.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
    let out = env.run(&["logs", "--level", "warn"]);
    let (shown, err) = text(&out);
    assert!(out.status.success(), "{err}");
    assert!(shown.contains("WARN refused a request target"), "{shown}");
    assert!(
        !shown.contains(" INFO "),
        "only warnings and errors: {shown}"
    );
    let out = env.run(&["logs", "--json", "-n", "1"]);
    let (last, _) = text(&out);
    assert_eq!(last.lines().count(), 1, "{last}");
    assert!(serde_json::from_str::<serde_json::Value>(last.trim()).is_ok());
}
