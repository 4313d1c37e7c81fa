//! Crash durability: a writer process is killed with SIGKILL mid-stream; every message it
//! acknowledged (printed after its commit returned) must be in the reopened database, and the
//! database must pass `integrity_check`.
//!
//! The writer is this package's `pryx-store-writer` binary, which Cargo builds before running
//! integration tests and whose path it provides in `CARGO_BIN_EXE_pryx-store-writer`.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use pryx_store::Store;

/// Runs one writer, kills it after `kill_after` acknowledgements, and returns the session id and
/// every acknowledged message id.
fn write_then_kill(db: &std::path::Path, kill_after: usize) -> (String, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pryx-store-writer"))
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start writer");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut session = None;
    let mut acked = Vec::new();
    let mut killed = false;
    loop {
        line.clear();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        // Only a complete line is an acknowledgement.
        let Some(text) = line.strip_suffix('\n') else {
            break;
        };
        match text.strip_prefix("session ") {
            Some(id) => session = Some(id.to_string()),
            None => acked.push(text.to_string()),
        }
        if !killed && acked.len() >= kill_after {
            child.kill().expect("SIGKILL the writer");
            killed = true;
        }
    }
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        killed,
        "writer ended before {kill_after} acknowledgements ({status}): {stderr}"
    );
    assert_eq!(
        status.signal(),
        Some(9),
        "writer must die by SIGKILL, not exit: {stderr}"
    );
    (session.expect("writer announced its session"), acked)
}

#[test]
fn acknowledged_messages_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("pryx.db");
    let mut rounds = Vec::new();
    // Several rounds on the same file, so each reopen also recovers from the previous crash.
    for kill_after in [40, 90, 150] {
        rounds.push(write_then_kill(&db, kill_after));
    }

    let store = Store::open(&db).unwrap();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    for (session, acked) in &rounds {
        let stored: std::collections::HashSet<String> = store
            .list_messages(session)
            .unwrap()
            .into_iter()
            .map(|m| m.id)
            .collect();
        let lost: Vec<_> = acked.iter().filter(|id| !stored.contains(*id)).collect();
        assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
        assert!(stored.len() >= acked.len());
        // Sequence numbers stay dense after the crash.
        let seqs: Vec<u64> = store
            .list_messages(session)
            .unwrap()
            .iter()
            .map(|m| m.seq)
            .collect();
        assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    }
}
