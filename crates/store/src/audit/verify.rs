//! Verification: walks the whole log and names every row, trigger or anchor that does not fit.
//! It never stops at the first problem and never fails on a malformed row: a verifier that an
//! odd value can crash is one an attacker can silence.

use std::fmt;

use hmac::Mac;
use rusqlite::Row;
use rusqlite::types::ValueRef;
use serde::{Deserialize, Serialize};

use super::anchor::{self, AnchorRead};
use super::key::AuditKeyState;
use super::{COLS, GENESIS_HASH, RawRow, row_mac};
use crate::error::Result;
use crate::store::Store;

/// The append-only guards as created by the schema, whitespace-normalised.
const GUARDS: [(&str, &str); 2] = [
    (
        "audit_log_no_update",
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ),
    (
        "audit_log_no_delete",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ),
];

/// One thing verification found wrong. Row problems carry the row's `seq` (and `id` when it
/// could be read); the others concern the log as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AuditProblem {
    /// The row's contents no longer match its hash (edited, or moved to another `seq`).
    Edited { seq: i64, id: String },
    /// `prev_hash` does not match the row before it (rows removed, inserted or reordered).
    BrokenLink { seq: i64, id: String },
    /// `seq` skips numbers before this row (rows deleted).
    Gap { seq: i64, id: String, expected: i64 },
    /// The row's MAC is wrong: edited with the hashes recomputed, forged, or sealed with another
    /// key.
    MacMismatch { seq: i64, id: String },
    /// A row after the upgrade point without a MAC: appended while the key was unavailable, or
    /// added outside Pryx.
    Unkeyed { seq: i64, id: String },
    /// A value of the row has the wrong type (a BLOB, a NULL, `details` that are not JSON).
    Malformed {
        seq: i64,
        id: Option<String>,
        what: String,
    },
    /// The log ends before the head recorded in the anchor.
    Truncated { log_ends_at: i64, anchor_seq: i64 },
    /// The log is empty, yet the anchor records a head.
    Wiped { anchor_seq: i64 },
    /// The row at the anchored `seq` is not the one the anchor recorded.
    AnchorMismatch { seq: i64 },
    /// Keyed rows exist but the anchor file does not.
    AnchorMissing { path: String },
    /// The anchor file is unreadable, malformed, or its seal does not verify.
    AnchorInvalid { path: String, reason: String },
    /// The database's upgrade point differs from the one sealed into the audit key.
    UpgradePointMoved { recorded: i64, sealed: i64 },
    /// The database's record of the upgrade point is missing or damaged.
    UpgradePointUnreadable { detail: String },
    /// Keyed rows exist but there is no key to check them with.
    KeyUnavailable { reason: String, keyed_rows: u64 },
    /// An append-only trigger is gone.
    GuardMissing { name: String },
    /// An append-only trigger exists under its name but with other SQL (e.g. a no-op).
    GuardAltered { name: String },
    /// A trigger on the audit log that the schema does not create.
    UnexpectedTrigger { name: String },
}

impl AuditProblem {
    /// The row the problem is about, if it is about one.
    pub fn seq(&self) -> Option<i64> {
        match self {
            AuditProblem::Edited { seq, .. }
            | AuditProblem::BrokenLink { seq, .. }
            | AuditProblem::Gap { seq, .. }
            | AuditProblem::MacMismatch { seq, .. }
            | AuditProblem::Unkeyed { seq, .. }
            | AuditProblem::Malformed { seq, .. }
            | AuditProblem::AnchorMismatch { seq } => Some(*seq),
            _ => None,
        }
    }
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use AuditProblem as P;
        match self {
            P::Edited { seq, id } => write!(
                f,
                "audit row seq {seq} (id {id}): its contents do not match its hash (row edited or moved)"
            ),
            P::BrokenLink { seq, id } => write!(
                f,
                "audit row seq {seq} (id {id}): does not link to the row before it (rows removed, inserted or reordered)"
            ),
            P::Gap { seq, id, expected } => write!(
                f,
                "audit row seq {seq} (id {id}): expected seq {expected}; rows before this one are missing"
            ),
            P::MacMismatch { seq, id } => write!(
                f,
                "audit row seq {seq} (id {id}): its MAC does not match (edited with the hashes recomputed, forged, or sealed with another key)"
            ),
            P::Unkeyed { seq, id } => write!(
                f,
                "audit row seq {seq} (id {id}): has no MAC although keying had begun (appended while the audit key was unavailable, or added outside Pryx)"
            ),
            P::Malformed { seq, id, what } => write!(
                f,
                "audit row seq {seq} (id {}): malformed: {what}",
                id.as_deref().unwrap_or("unreadable")
            ),
            P::Truncated {
                log_ends_at,
                anchor_seq,
            } => write!(
                f,
                "the log ends at seq {log_ends_at} but the anchor says {anchor_seq}: rows were cut from the end"
            ),
            P::Wiped { anchor_seq } => write!(
                f,
                "the log is empty but the anchor says it reached seq {anchor_seq}: the log was wiped or the database replaced"
            ),
            P::AnchorMismatch { seq } => write!(
                f,
                "audit row seq {seq} is not the row the anchor recorded: the log was rewritten from there on"
            ),
            P::AnchorMissing { path } => write!(
                f,
                "the anchor file {path} is missing although keyed rows exist: it was deleted, or the database comes from elsewhere"
            ),
            P::AnchorInvalid { path, reason } => {
                write!(f, "the anchor file {path} is not valid: {reason}")
            }
            P::UpgradePointMoved { recorded, sealed } => write!(
                f,
                "the database says unkeyed (legacy) rows end at seq {recorded}, but the audit key says {sealed}: the upgrade point was moved or the database replaced"
            ),
            P::UpgradePointUnreadable { detail } => write!(
                f,
                "the record of where unkeyed (legacy) rows end is damaged: {detail}"
            ),
            P::KeyUnavailable { reason, keyed_rows } => write!(
                f,
                "{keyed_rows} keyed row(s) could not be authenticated: {reason}"
            ),
            P::GuardMissing { name } => write!(
                f,
                "the append-only trigger {name} is missing: the database was altered outside Pryx"
            ),
            P::GuardAltered { name } => write!(
                f,
                "the append-only trigger {name} was replaced by different SQL: the database was altered outside Pryx"
            ),
            P::UnexpectedTrigger { name } => write!(
                f,
                "the trigger {name} on the audit log is not part of the schema: the database was altered outside Pryx"
            ),
        }
    }
}

/// Whether verification had the audit key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKeyStatus {
    Present,
    /// No key was ever stored (or none was given to the store).
    Missing,
    /// The secret store could not be read; the reason.
    Unavailable(String),
}

/// The outcome of [`Store::verify_audit`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    pub rows_checked: u64,
    /// Rows written before keying began; covered by the hash chain only.
    pub legacy_rows: u64,
    /// Rows carrying a MAC.
    pub keyed_rows: u64,
    /// `seq` of the last row, 0 when empty.
    pub head_seq: i64,
    /// Hash of the last row ([`GENESIS_HASH`] when empty).
    pub head_hash: String,
    /// The head recorded in the anchor file, when one was read.
    pub anchored_seq: Option<i64>,
    pub key: AuditKeyStatus,
    pub problems: Vec<AuditProblem>,
}

impl AuditReport {
    /// True when nothing is wrong: every row links and, after the upgrade point, is keyed with a
    /// valid MAC; the anchor matches; the append-only triggers are as created.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A row read without trusting any column's type.
struct Loose {
    seq: i64,
    id: Option<String>,
    hash: Option<String>,
    mac: Option<String>,
    /// All fields, when every one was readable.
    raw: Option<RawRow>,
    faults: Vec<String>,
}

fn read_loose(r: &Row<'_>) -> rusqlite::Result<Loose> {
    let mut faults = Vec::new();
    let mut text =
        |i: usize, col: &str, nullable: bool| -> rusqlite::Result<Option<Option<String>>> {
            Ok(match r.get_ref(i)? {
                ValueRef::Text(t) => match std::str::from_utf8(t) {
                    Ok(s) => Some(Some(s.to_string())),
                    Err(_) => {
                        faults.push(format!("`{col}` is not valid UTF-8"));
                        None
                    }
                },
                ValueRef::Null if nullable => Some(None),
                ValueRef::Null => {
                    faults.push(format!("`{col}` is NULL"));
                    None
                }
                ValueRef::Blob(_) => {
                    faults.push(format!("`{col}` is a BLOB, not text"));
                    None
                }
                ValueRef::Integer(_) | ValueRef::Real(_) => {
                    faults.push(format!("`{col}` is a number, not text"));
                    None
                }
            })
        };
    let seq: i64 = r.get(0)?;
    let id = text(1, "id", false)?;
    let timestamp = text(2, "timestamp", false)?;
    let actor = text(3, "actor", false)?;
    let action = text(4, "action", false)?;
    let resource_type = text(5, "resource_type", false)?;
    let resource_id = text(6, "resource_id", true)?;
    let session_id = text(7, "session_id", true)?;
    let details = text(8, "details", false)?;
    let outcome = text(9, "outcome", false)?;
    let prev_hash = text(10, "prev_hash", false)?;
    let hash = text(11, "hash", false)?;
    let mac = text(12, "mac", true)?;
    let flat = |v: &Option<Option<String>>| v.clone().flatten();
    let (id_s, hash_s, mac_s) = (flat(&id), flat(&hash), flat(&mac));
    let raw = (|| {
        Some(RawRow {
            seq,
            id: id??,
            timestamp: timestamp??,
            actor: actor??,
            action: action??,
            resource_type: resource_type??,
            resource_id: resource_id?,
            session_id: session_id?,
            details: details??,
            outcome: outcome??,
            prev_hash: prev_hash??,
            hash: hash??,
            mac: mac?,
        })
    })();
    if let Some(row) = &raw
        && serde_json::from_str::<serde_json::Value>(&row.details).is_err()
    {
        faults.push("`details` is not JSON".to_string());
    }
    Ok(Loose {
        seq,
        id: id_s,
        hash: hash_s,
        mac: mac_s,
        raw,
        faults,
    })
}

fn normalise(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Store {
    /// Walks the whole log, checks the anchor and the append-only triggers, and reports every
    /// problem found. Errors only when the database itself cannot be read.
    pub fn verify_audit(&self) -> Result<AuditReport> {
        let sealing = self.audit_state().sealing();
        if let Some(w) = sealing.as_deref().and_then(|s| s.writer.as_ref()) {
            // This process's own newest head must be on disk before the anchor is compared. A
            // failed write shows up below as a stale or missing anchor.
            let _ = w.flush();
        }
        let (key, key_status) = match sealing.as_deref().map(|s| &s.seal.key) {
            Some(AuditKeyState::Ready(k)) => (Some(k), AuditKeyStatus::Present),
            Some(AuditKeyState::Unavailable(why)) => {
                (None, AuditKeyStatus::Unavailable(why.clone()))
            }
            Some(AuditKeyState::Missing) | None => (None, AuditKeyStatus::Missing),
        };
        let anchor_read = sealing
            .as_deref()
            .and_then(|s| s.seal.anchor.as_ref())
            .map(|p| (p.display().to_string(), anchor::read(p, key)));
        let anchored = match &anchor_read {
            Some((_, AnchorRead::Found { anchor, .. })) => Some(anchor.clone()),
            _ => None,
        };

        self.with_conn(|c| {
            let mut problems = Vec::new();
            check_guards(c, &mut problems)?;

            let recorded = recorded_legacy_end(c);
            let boundary = match (key, &recorded) {
                (Some(k), Ok(r)) => {
                    if *r != k.legacy_end() {
                        problems.push(AuditProblem::UpgradePointMoved {
                            recorded: *r,
                            sealed: k.legacy_end(),
                        });
                    }
                    k.legacy_end()
                }
                (Some(k), Err(_)) => k.legacy_end(),
                (None, Ok(r)) => *r,
                (None, Err(_)) => 0,
            };
            if let Err(detail) = recorded {
                problems.push(AuditProblem::UpgradePointUnreadable { detail });
            }

            let mut report = AuditReport {
                rows_checked: 0,
                legacy_rows: 0,
                keyed_rows: 0,
                head_seq: 0,
                head_hash: GENESIS_HASH.to_string(),
                anchored_seq: anchored.as_ref().map(|a| a.seq),
                key: key_status.clone(),
                problems: Vec::new(),
            };
            let mut prev_link = GENESIS_HASH.to_string();
            let mut expected_seq = 1i64;
            let mut link_at_anchor: Option<String> = None;
            let mut stmt = c.prepare(&format!("SELECT {COLS} FROM audit_log ORDER BY seq"))?;
            let mut rows = stmt.query([])?;
            while let Some(r) = rows.next()? {
                let row = read_loose(r)?;
                let seq = row.seq;
                let id = row.id.clone().unwrap_or_default();
                if seq != expected_seq {
                    problems.push(AuditProblem::Gap {
                        seq,
                        id: id.clone(),
                        expected: expected_seq,
                    });
                }
                for what in &row.faults {
                    problems.push(AuditProblem::Malformed {
                        seq,
                        id: row.id.clone(),
                        what: what.clone(),
                    });
                }
                if anchored.as_ref().is_some_and(|a| a.seq == seq) {
                    link_at_anchor = row.mac.clone().or_else(|| row.hash.clone());
                }
                if let Some(raw) = &row.raw {
                    if raw.prev_hash != report.head_hash {
                        problems.push(AuditProblem::BrokenLink {
                            seq,
                            id: id.clone(),
                        });
                    }
                    if raw.computed_hash() != raw.hash {
                        problems.push(AuditProblem::Edited {
                            seq,
                            id: id.clone(),
                        });
                    }
                    match &raw.mac {
                        None if seq <= boundary => report.legacy_rows += 1,
                        None => problems.push(AuditProblem::Unkeyed {
                            seq,
                            id: id.clone(),
                        }),
                        Some(mac) => {
                            report.keyed_rows += 1;
                            if let Some(key) = key {
                                let ok = match (row_mac(key, &prev_link, &raw.hashed()), hex::decode(mac)) {
                                    (Ok(h), Ok(tag)) => h.verify_slice(&tag).is_ok(),
                                    _ => false,
                                };
                                if !ok {
                                    problems.push(AuditProblem::MacMismatch { seq, id });
                                }
                            }
                        }
                    }
                }
                report.rows_checked += 1;
                report.head_seq = seq;
                report.head_hash = row.hash.clone().unwrap_or_default();
                prev_link = row.mac.or(row.hash).unwrap_or_default();
                expected_seq = seq.saturating_add(1);
            }

            if report.keyed_rows > 0 && key.is_none() {
                let reason = match &key_status {
                    AuditKeyStatus::Unavailable(why) => why.clone(),
                    _ => "the audit key is not in the secret store".to_string(),
                };
                problems.push(AuditProblem::KeyUnavailable {
                    reason,
                    keyed_rows: report.keyed_rows,
                });
            }
            match anchor_read {
                // No anchor is expected before the first keyed row.
                None | Some((_, AnchorRead::Missing)) if report.keyed_rows == 0 => {}
                None => {}
                Some((path, AnchorRead::Missing)) => {
                    problems.push(AuditProblem::AnchorMissing { path });
                }
                Some((path, AnchorRead::Invalid(reason))) => {
                    problems.push(AuditProblem::AnchorInvalid { path, reason });
                }
                Some((
                    path,
                    AnchorRead::Found {
                        authentic: Some(false),
                        ..
                    },
                )) => problems.push(AuditProblem::AnchorInvalid {
                    path,
                    reason: "its seal does not verify under the audit key (the file was edited, or sealed with another key)".to_string(),
                }),
                Some((_, AnchorRead::Found { anchor, .. })) => {
                    if report.rows_checked == 0 && anchor.seq > 0 {
                        problems.push(AuditProblem::Wiped {
                            anchor_seq: anchor.seq,
                        });
                    } else if report.head_seq < anchor.seq {
                        problems.push(AuditProblem::Truncated {
                            log_ends_at: report.head_seq,
                            anchor_seq: anchor.seq,
                        });
                    } else if anchor.seq == 0 {
                        if anchor.link != GENESIS_HASH {
                            problems.push(AuditProblem::AnchorMismatch { seq: 0 });
                        }
                    } else if link_at_anchor.as_deref() != Some(anchor.link.as_str()) {
                        problems.push(AuditProblem::AnchorMismatch { seq: anchor.seq });
                    }
                }
            }
            report.problems = problems;
            Ok(report)
        })
    }
}

/// `audit_keying.legacy_end`, or what is wrong with it.
pub(super) fn recorded_legacy_end(c: &rusqlite::Connection) -> std::result::Result<i64, String> {
    let mut stmt = c
        .prepare("SELECT legacy_end FROM audit_keying")
        .map_err(|e| e.to_string())?;
    let values: Vec<Option<i64>> = stmt
        .query_map([], |r| Ok(r.get_ref(0)?.as_i64().ok()))
        .map_err(|e| e.to_string())?
        .collect::<rusqlite::Result<_>>()
        .map_err(|e| e.to_string())?;
    match values.as_slice() {
        [Some(n)] => Ok(*n),
        [None] => Err("legacy_end is not an integer".to_string()),
        other => Err(format!(
            "audit_keying holds {} rows instead of one",
            other.len()
        )),
    }
}

/// Compares the triggers on `audit_log` with the ones the schema creates.
fn check_guards(c: &rusqlite::Connection, problems: &mut Vec<AuditProblem>) -> Result<()> {
    let mut stmt = c.prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log' ORDER BY name",
    )?;
    let found: Vec<(String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (name, expected) in GUARDS {
        match found.iter().find(|(n, _)| n == name) {
            None => problems.push(AuditProblem::GuardMissing {
                name: name.to_string(),
            }),
            Some((_, sql)) if sql.as_deref().map(normalise).as_deref() != Some(expected) => {
                problems.push(AuditProblem::GuardAltered {
                    name: name.to_string(),
                });
            }
            Some(_) => {}
        }
    }
    for (name, _) in &found {
        if !GUARDS.iter().any(|(g, _)| g == name) {
            problems.push(AuditProblem::UnexpectedTrigger { name: name.clone() });
        }
    }
    Ok(())
}
