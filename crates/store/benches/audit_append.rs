//! Cost of one audit append on a file database: unkeyed (as before keying), keyed, and keyed
//! with the anchor file kept up to date (written off the appending thread, see `audit/anchor.rs`).
//!
//! Run: `cargo bench -p pryx-store --bench audit_append`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pryx_store::{AuditEntry, AuditKey, AuditKeyState, AuditSeal, Store};
use std::time::{Duration, Instant};

const ROWS: u32 = 2000;

fn entry(i: u32) -> AuditEntry {
    AuditEntry {
        actor: "agent".into(),
        action: "tool.call".into(),
        resource_type: "tool".into(),
        resource_id: Some(format!("call_{i}")),
        session_id: Some("bench".into()),
        details: serde_json::json!({"tool": "shell.exec", "args": {"cmd": "ls -la"}, "i": i}),
        outcome: "success".into(),
    }
}

/// Mean time per append, measured after a short warm-up; the anchor flush is included.
fn measure(seal: impl FnOnce(&std::path::Path) -> Option<AuditSeal>) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("bench.db")).unwrap();
    if let Some(seal) = seal(dir.path()) {
        store.set_audit_seal(seal);
    }
    for i in 0..50 {
        store.append_audit(&entry(i)).unwrap();
    }
    store.flush_audit_anchor().unwrap();
    let start = Instant::now();
    for i in 0..ROWS {
        store.append_audit(&entry(i)).unwrap();
    }
    store.flush_audit_anchor().unwrap();
    start.elapsed() / ROWS
}

fn main() {
    let key = || AuditKeyState::Ready(AuditKey::generate(0).unwrap());
    let unkeyed = measure(|_| None);
    let keyed = measure(|_| {
        Some(AuditSeal {
            key: key(),
            anchor: None,
        })
    });
    let anchored = measure(|dir| {
        Some(AuditSeal {
            key: key(),
            anchor: Some(dir.join("audit.anchor")),
        })
    });
    println!("audit append, {ROWS} rows, mean per row:");
    println!("  unkeyed            {unkeyed:?}");
    println!("  keyed              {keyed:?}");
    println!("  keyed and anchored {anchored:?}");
}
