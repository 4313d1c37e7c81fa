//! Opening database files: creation, permissions, reopening, refusing newer schemas, and clear
//! errors for files that are not (or no longer) databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use pryx_store::{
    AuditEntry, AuditKey, AuditKeyState, AuditProblem, AuditSeal, NewSession, SCHEMA_VERSION,
    Store, StoreError,
};

#[test]
fn fresh_file_is_migrated_and_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pryx.db");
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(store.path(), Some(path.as_path()));
}

#[cfg(unix)]
#[test]
fn database_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pryx.db");
    let store = Store::open(&path).unwrap();
    store.create_session(&NewSession::default()).unwrap();
    for name in ["pryx.db", "pryx.db-wal", "pryx.db-shm"] {
        let meta = std::fs::metadata(dir.path().join(name)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
    }
}

#[test]
fn reopening_keeps_data_and_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pryx.db");
    let id = {
        let store = Store::open(&path).unwrap();
        store
            .create_session(&NewSession {
                title: "kept".into(),
                ..Default::default()
            })
            .unwrap()
            .id
    };
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.get_session(&id).unwrap().unwrap().title, "kept");
    // A second handle on the same file at the same time also works.
    let other = Store::open(&path).unwrap();
    assert!(other.get_session(&id).unwrap().is_some());
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pryx.db");
    drop(Store::open(&path).unwrap());
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(raw);
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::SchemaTooNew { .. }), "{err:?}");
    let want = format!(
        "this database was written by a newer Pryx (schema {}, this build knows {SCHEMA_VERSION}); upgrade Pryx",
        SCHEMA_VERSION + 1
    );
    assert_eq!(err.to_string(), want);
}

#[test]
fn garbage_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pryx.db");
    std::fs::write(&path, "this is not a database\n".repeat(500)).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("damaged"),
        "{msg}"
    );
}

fn populated(path: &Path) {
    let store = Store::open(path).unwrap();
    for i in 0..200 {
        let s = store
            .create_session(&NewSession {
                title: format!("session {i} {}", "t".repeat(300)),
                ..Default::default()
            })
            .unwrap();
        store
            .append_audit(&AuditEntry {
                actor: "agent".into(),
                action: "session.created".into(),
                resource_type: "session".into(),
                resource_id: Some(s.id),
                session_id: None,
                details: serde_json::json!({}),
                outcome: "success".into(),
            })
            .unwrap();
    }
}

#[test]
fn truncated_file_never_passes_as_healthy() {
    for keep in [10u64, 100, 4096, 20_000] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pryx.db");
        populated(&path);
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(len > keep * 2, "test database too small ({len} bytes)");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(keep)
            .unwrap();

        // Either opening fails with a clear message, or the damage shows up in the health checks.
        match Store::open(&path) {
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("damaged") || msg.contains("malformed"),
                    "keep {keep}: {msg}"
                );
            }
            Ok(store) => {
                let healthy = matches!(store.integrity_check().as_deref(), Ok("ok"))
                    && store.verify_audit().map(|r| r.is_intact()).unwrap_or(false);
                assert!(!healthy, "keep {keep}: truncated database reported healthy");
            }
        }
    }
}

#[test]
fn tampering_through_a_raw_connection_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pryx.db");
    let store = Store::open(&path).unwrap();
    store.set_audit_seal(AuditSeal {
        key: AuditKeyState::Ready(AuditKey::generate(0).unwrap()),
        anchor: Some(dir.path().join("audit.anchor")),
    });
    let recs: Vec<_> = (0..4)
        .map(|i| {
            store
                .append_audit(&AuditEntry {
                    actor: "user:cli".into(),
                    action: "approval.granted".into(),
                    resource_type: "tool_call".into(),
                    resource_id: Some(format!("call_{i}")),
                    session_id: Some("s".into()),
                    details: serde_json::json!({"scope": "once"}),
                    outcome: "success".into(),
                })
                .unwrap()
        })
        .collect();

    let raw = rusqlite::Connection::open(&path).unwrap();
    assert!(
        raw.execute("UPDATE audit_log SET outcome = 'denied' WHERE seq = 2", [])
            .is_err(),
        "guard trigger"
    );
    raw.execute_batch(
        "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET outcome = 'denied' WHERE seq = 2;",
    )
    .unwrap();
    drop(raw);

    let report = store.verify_audit().unwrap();
    assert!(!report.is_intact());
    assert_eq!(
        report.problems,
        [
            AuditProblem::GuardMissing {
                name: "audit_log_no_update".into()
            },
            AuditProblem::Edited {
                seq: 2,
                id: recs[1].id.clone()
            },
            AuditProblem::MacMismatch {
                seq: 2,
                id: recs[1].id.clone()
            },
        ]
    );
}

#[test]
fn concurrent_writers_get_distinct_event_versions() {
    use pryx_protocol::{EventPayload, Surface, TraceEvent};
    let store = Store::open_in_memory().unwrap();
    let s = store.create_session(&NewSession::default()).unwrap();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let (store, sid) = (store.clone(), s.id.clone());
            std::thread::spawn(move || {
                (0..25)
                    .map(|i| {
                        store
                            .append_event(
                                &sid,
                                Surface::Core,
                                &EventPayload::TraceEvent(TraceEvent {
                                    attributes: serde_json::Map::from_iter([
                                        ("t".to_string(), serde_json::json!(t)),
                                        ("i".to_string(), serde_json::json!(i)),
                                    ]),
                                }),
                            )
                            .unwrap()
                            .version
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort_unstable();
    assert_eq!(all, (1..=100).collect::<Vec<_>>());
}

#[test]
fn a_first_schema_database_migrates_forward_and_its_sessions_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pryx.db");
    {
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch(include_str!("../../src/schema/v1.sql"))
            .unwrap();
        raw.pragma_update(None, "user_version", 1).unwrap();
        raw.execute(
            "INSERT INTO sessions (id, title, status, model, created_at, updated_at)
             VALUES ('old', 'from before profiles', 'active', 'openai/gpt-4o', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let old = store.get_session("old").unwrap().unwrap();
    assert_eq!(old.title, "from before profiles");
    assert_eq!(old.model.as_deref(), Some("openai/gpt-4o"));
    assert_eq!((old.agent, old.policy), (None, None));
    store.set_session_policy("old", "read-only").unwrap();
    let new = store
        .create_session(&NewSession {
            agent: Some("research".into()),
            policy: Some("workspace-only".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(new.agent.as_deref(), Some("research"));
    let listed = store.list_sessions(None, Default::default()).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(
        listed
            .iter()
            .any(|s| s.policy.as_deref() == Some("read-only"))
    );
}

#[test]
fn unscoped_grants_of_schema_four_are_dropped_and_scoped_ones_work() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pryx.db");
    {
        let raw = rusqlite::Connection::open(&path).unwrap();
        for (i, sql) in [
            include_str!("../../src/schema/v1.sql"),
            include_str!("../../src/schema/v2.sql"),
            include_str!("../../src/schema/v3.sql"),
            include_str!("../../src/schema/v4.sql"),
        ]
        .iter()
        .enumerate()
        {
            raw.execute_batch(sql).unwrap();
            raw.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap())
                .unwrap();
        }
        // An `always` grant keyed by tool and fingerprint only: it held in every workspace.
        raw.execute(
            "INSERT INTO approval_grants (id, tool_name, fingerprint, scope, session_id, created_at, expires_at)
             VALUES ('g-old', 'shell.exec', 'fp', 'always', NULL, '2026-01-01T00:00:00Z', NULL)",
            [],
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert!(store.list_grants().unwrap().is_empty());
    let query = pryx_store::GrantQuery {
        tool_name: "shell.exec",
        fingerprint: "fp",
        workspace: "/any",
        policy_hash: "any",
        session_id: None,
    };
    assert!(store.find_active_grant(&query).unwrap().is_none());
    let g = store
        .add_grant(&pryx_store::NewGrant {
            tool_name: "shell.exec".into(),
            fingerprint: "fp".into(),
            scope: pryx_store::GrantScope::Always,
            session_id: None,
            workspace: "/any".into(),
            policy: "workspace-only".into(),
            policy_hash: "any".into(),
            arguments: serde_json::json!({"command": "ls"}),
            expires_at: None,
        })
        .unwrap();
    assert_eq!(store.find_active_grant(&query).unwrap(), Some(g));
}
