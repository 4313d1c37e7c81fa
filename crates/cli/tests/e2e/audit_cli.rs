#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `pryx audit verify` end to end: a real `pryx run` writes a keyed, anchored log (creating the
//! audit key in the secret store itself); copies of that data dir are then tampered with through
//! SQLite the way an attacker with write access to the files would, and the real binary must
//! name each kind of tampering and exit 1.

use crate::common;

use common::*;
use rusqlite::{Connection, params};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Output;

fn verify(home: &Path, ws: &Path, json: bool) -> Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_pryx"));
    c.env("PRYX_HOME", home)
        .env("PRYX_SECRET_BACKEND", "file")
        .current_dir(ws)
        .args(["audit", "verify"]);
    if json {
        c.arg("--json");
    }
    c.output().unwrap()
}

const GUARDS: &str = "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;";

/// Runs `sql` with the guard triggers out of the way and puts them back exactly as they were.
fn tamper(db: &Path, sql: &str) {
    let conn = Connection::open(db).unwrap();
    conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .unwrap();
    conn.execute_batch(sql).unwrap();
    conn.execute_batch(GUARDS).unwrap();
}

/// The published SHA-256 chain encoding, as an attacker would reimplement it.
fn chain_hash(prev: &str, seq: i64, fields: &[Option<String>]) -> String {
    fn put(h: &mut Sha256, v: Option<&str>) {
        match v {
            None => h.update([0u8]),
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    let mut h = Sha256::new();
    h.update(b"pryx-audit-v1\0");
    put(&mut h, Some(prev));
    h.update(seq.to_be_bytes());
    for f in fields {
        put(&mut h, f.as_deref());
    }
    hex::encode(h.finalize())
}

const FIELDS: &str =
    "id, timestamp, actor, action, resource_type, resource_id, session_id, details, outcome";

/// Rows as (seq, hashed fields, hash).
fn rows(db: &Path) -> Vec<(i64, Vec<Option<String>>, String)> {
    let conn = Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT seq, {FIELDS}, hash FROM audit_log ORDER BY seq"
        ))
        .unwrap();
    stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            (1..=9).map(|i| r.get(i)).collect::<Result<Vec<_>, _>>()?,
            r.get(10)?,
        ))
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

/// Recomputes `prev_hash` and `hash` of every row from `from` on.
fn rechain(db: &Path, from: i64) {
    let mut sql = String::new();
    let mut prev = String::new();
    for (seq, fields, hash) in rows(db) {
        if seq < from {
            prev = hash;
            continue;
        }
        let new = chain_hash(&prev, seq, &fields);
        sql.push_str(&format!(
            "UPDATE audit_log SET prev_hash = '{prev}', hash = '{new}' WHERE seq = {seq};"
        ));
        prev = new;
    }
    tamper(db, &sql);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_each_kind_of_tampering() {
    let server = ScriptedLlm::start().await;
    let env = Env::scripted(&server);
    server.push_all([
        Turn::tool_calls([
            call("t1", "fs.list", json!({})),
            call("t2", "fs.list", json!({})),
            call("t3", "fs.list", json!({})),
        ]),
        Turn::text("ok"),
    ]);
    let out = env.run(&["run", "list the files three times"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let n = rows(&env.db_path()).len() as i64;
    assert!(n >= 3, "the run wrote {n} audit rows");
    assert!(env.home.path().join("audit.anchor").exists());

    let scratch = tempfile::tempdir().unwrap();
    let mut case = 0;
    let mut tampered = |what: &dyn Fn(&Path)| {
        case += 1;
        let home = scratch.path().join(format!("home{case}"));
        copy_dir(env.home.path(), &home);
        what(&home.join("pryx.db"));
        let out = verify(&home, env.ws(), false);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
        stdout
    };

    // Untampered: intact, every row keyed.
    let out = verify(env.home.path(), env.ws(), false);
    let (stdout, _) = text(&out);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "✓ audit log intact: {n} rows (0 legacy unkeyed, {n} keyed)"
        )),
        "{stdout}"
    );

    let out = verify(env.home.path(), env.ws(), true);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            v["intact"].as_bool(),
            v["keyed_rows"].as_i64(),
            v["anchored_seq"].as_i64()
        ),
        (Some(true), Some(n), Some(n)),
        "the run anchored its last row before it exited: {v}"
    );

    // An edit with every later hash recomputed: the SHA chain holds, the MAC does not.
    let stdout = tampered(&|db| {
        tamper(db, "UPDATE audit_log SET outcome = 'denied' WHERE seq = 2");
        rechain(db, 2);
    });
    assert!(
        stdout.contains("audit row seq 2 (id ") && stdout.contains("its MAC does not match"),
        "{stdout}"
    );
    assert!(!stdout.contains("does not match its hash"), "{stdout}");

    // A forged `approval.granted` appended with a valid hash and a made-up MAC.
    let stdout = tampered(&|db| {
        let (_, _, head) = rows(db).pop().unwrap();
        let fields: Vec<Option<String>> = [
            Some("forged-row"),
            Some("2030-01-01T00:00:00.000000Z"),
            Some("user:cli"),
            Some("approval.granted"),
            Some("tool_call"),
            Some("t9"),
            None,
            Some("{\"scope\":\"always\"}"),
            Some("success"),
        ]
        .iter()
        .map(|v| v.map(str::to_string))
        .collect();
        let hash = chain_hash(&head, n + 1, &fields);
        let conn = Connection::open(db).unwrap();
        conn.execute(
            &format!(
                "INSERT INTO audit_log (seq, {FIELDS}, prev_hash, hash, mac)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            ),
            params![
                n + 1,
                fields[0],
                fields[1],
                fields[2],
                fields[3],
                fields[4],
                fields[5],
                fields[6],
                fields[7],
                fields[8],
                head,
                hash,
                "ab".repeat(32)
            ],
        )
        .unwrap();
    });
    assert!(
        stdout.contains(&format!(
            "audit row seq {} (id forged-row): its MAC does not match",
            n + 1
        )),
        "{stdout}"
    );

    // The newest rows cut off.
    let stdout =
        tampered(&|db| tamper(db, &format!("DELETE FROM audit_log WHERE seq > {}", n - 2)));
    assert!(
        stdout.contains(&format!(
            "the log ends at seq {} but the anchor says {n}",
            n - 2
        )),
        "{stdout}"
    );

    // The database deleted outright (Pryx then starts an empty one).
    let stdout = tampered(&|db| {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    });
    assert!(
        stdout.contains(&format!(
            "the log is empty but the anchor says it reached seq {n}"
        )),
        "{stdout}"
    );

    // The append-only guard swapped for a same-named no-op.
    let stdout = tampered(&|db| {
        Connection::open(db)
            .unwrap()
            .execute_batch(
                "DROP TRIGGER audit_log_no_update;
                 CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT 1; END;",
            )
            .unwrap();
    });
    assert!(
        stdout
            .contains("the append-only trigger audit_log_no_update was replaced by different SQL"),
        "{stdout}"
    );

    // A BLOB where the JSON details belong: named by row, and the walk goes on.
    let stdout = tampered(&|db| {
        tamper(
            db,
            "UPDATE audit_log SET details = CAST(details AS BLOB) WHERE seq = 1",
        );
    });
    assert!(
        stdout.contains("audit row seq 1 (id ")
            && stdout.contains("malformed: `details` is a BLOB"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("{n} rows")), "{stdout}");

    // The same, as JSON.
    let home = scratch.path().join("json");
    copy_dir(env.home.path(), &home);
    tamper(
        &home.join("pryx.db"),
        "UPDATE audit_log SET details = X'00' WHERE seq = 1",
    );
    let out = verify(&home, env.ws(), true);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["intact"], false);
    assert_eq!(v["problems"][0]["kind"], "malformed");
    assert_eq!(v["problems"][0]["seq"], 1);
    assert!(
        v["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("BLOB")
    );
}
