//! The audit log: append-only, hash-chained, keyed and anchored.
//!
//! - Each row's `hash` is SHA-256 over the previous row's hash and a length-prefixed encoding of
//!   the row's own fields (its `seq` included), so an edited, deleted, inserted or renumbered row
//!   breaks the chain at a row that can be named.
//! - Anyone who can write the database can recompute such a chain, so each row also carries a
//!   `mac`: HMAC-SHA256 under the audit key ([`AuditKey`], kept in the secret store) over the
//!   same fields and the previous row's MAC. Without the key a rewritten or added row cannot get
//!   a valid MAC. Rows written before keying existed (up to [`AuditKey::legacy_end`]) have none
//!   and are reported as legacy; the first keyed row chains from the last legacy hash.
//! - A chain cannot show rows cut from its end, so the head is also recorded in an anchor file
//!   outside the database (see [`anchor`]).
//! - Triggers refuse UPDATE and DELETE; verification compares their SQL with the expected SQL,
//!   so replacing them with same-named no-ops is named too.
//!
//! When the key is unavailable rows are still appended (an audit gap would be worse), without a
//! MAC and with a warning; verification reports each such row.

mod anchor;
mod history;
mod key;
mod verify;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use hmac::Mac;
use hmac::digest::Update;
use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::util::{json_col, new_id, now_ts, to_u64};

use anchor::{Anchor, AnchorRead, AnchorWriter};
pub use key::{AuditKey, AuditKeyState, AuditSeal};
pub use verify::{AuditKeyStatus, AuditProblem, AuditReport};

/// `prev_hash` of the first row.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

const HASH_DOMAIN: &[u8] = b"pryx-audit-v1\0";
const MAC_DOMAIN: &[u8] = b"pryx-audit-mac-v1\0";

/// What happened; the caller redacts secrets from `details` before appending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Who acted: `agent`, `user:cli`, `telegram:12345`, …
    pub actor: String,
    /// What was done: `tool.call`, `approval.granted`, `grant.revoked`, …
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub session_id: Option<String>,
    pub details: serde_json::Value,
    /// `success`, `failure`, `denied`, …
    pub outcome: String,
}

/// A stored audit row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    pub seq: u64,
    pub id: String,
    pub timestamp: String,
    #[serde(flatten)]
    pub entry: AuditEntry,
    pub prev_hash: String,
    pub hash: String,
    /// HMAC-SHA256 (hex) under the audit key; `None` for legacy rows and rows written while the
    /// key was unavailable.
    pub mac: Option<String>,
}

/// Which audit entries to list; `None` matches anything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub session_id: Option<String>,
    /// Actions starting with this (`tool.`, `telemetry`).
    pub action: Option<String>,
    /// Actors starting with this (`agent:`, `api`).
    pub actor: Option<String>,
    /// This outcome exactly (`success`, `failure`, `denied`, …).
    pub outcome: Option<String>,
    /// The latest this many.
    pub limit: u32,
}

/// The fields that are hashed and MACed, as stored.
struct Hashed<'a> {
    seq: i64,
    id: &'a str,
    timestamp: &'a str,
    actor: &'a str,
    action: &'a str,
    resource_type: &'a str,
    resource_id: Option<&'a str>,
    session_id: Option<&'a str>,
    details: &'a str,
    outcome: &'a str,
}

/// Feeds an optional string, length-prefixed so that no two field lists encode alike.
pub(crate) fn put(h: &mut impl Update, v: Option<&str>) {
    match v {
        None => Update::update(h, &[0u8]),
        Some(s) => {
            Update::update(h, &[1u8]);
            Update::update(h, &u64::try_from(s.len()).unwrap_or(u64::MAX).to_be_bytes());
            Update::update(h, s.as_bytes());
        }
    }
}

fn put_fields(h: &mut impl Update, f: &Hashed<'_>) {
    Update::update(h, &f.seq.to_be_bytes());
    for v in [
        Some(f.id),
        Some(f.timestamp),
        Some(f.actor),
        Some(f.action),
        Some(f.resource_type),
    ] {
        put(h, v);
    }
    put(h, f.resource_id);
    put(h, f.session_id);
    put(h, Some(f.details));
    put(h, Some(f.outcome));
}

fn chain_hash(prev_hash: &str, f: &Hashed<'_>) -> String {
    let mut h = Sha256::new();
    Digest::update(&mut h, HASH_DOMAIN);
    put(&mut h, Some(prev_hash));
    put_fields(&mut h, f);
    hex::encode(h.finalize())
}

/// The MAC state of a row: its fields and `prev_link`, the previous row's MAC (or, when that row
/// has none, its hash; [`GENESIS_HASH`] for the first row).
fn row_mac(key: &AuditKey, prev_link: &str, f: &Hashed<'_>) -> Result<key::HmacSha256> {
    let mut h = key.mac(MAC_DOMAIN)?;
    put(&mut h, Some(prev_link));
    put_fields(&mut h, f);
    Ok(h)
}

const COLS: &str = "seq, id, timestamp, actor, action, resource_type, resource_id, session_id, details, outcome, \
     prev_hash, hash, mac";

/// A row as stored, with `details` still as text (the hashed form).
struct RawRow {
    seq: i64,
    id: String,
    timestamp: String,
    actor: String,
    action: String,
    resource_type: String,
    resource_id: Option<String>,
    session_id: Option<String>,
    details: String,
    outcome: String,
    prev_hash: String,
    hash: String,
    mac: Option<String>,
}

impl RawRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<RawRow> {
        Ok(RawRow {
            seq: r.get(0)?,
            id: r.get(1)?,
            timestamp: r.get(2)?,
            actor: r.get(3)?,
            action: r.get(4)?,
            resource_type: r.get(5)?,
            resource_id: r.get(6)?,
            session_id: r.get(7)?,
            details: r.get(8)?,
            outcome: r.get(9)?,
            prev_hash: r.get(10)?,
            hash: r.get(11)?,
            mac: r.get(12)?,
        })
    }

    fn hashed(&self) -> Hashed<'_> {
        Hashed {
            seq: self.seq,
            id: &self.id,
            timestamp: &self.timestamp,
            actor: &self.actor,
            action: &self.action,
            resource_type: &self.resource_type,
            resource_id: self.resource_id.as_deref(),
            session_id: self.session_id.as_deref(),
            details: &self.details,
            outcome: &self.outcome,
        }
    }

    fn computed_hash(&self) -> String {
        chain_hash(&self.prev_hash, &self.hashed())
    }

    fn into_record(self) -> Result<AuditRecord> {
        Ok(AuditRecord {
            seq: to_u64(self.seq),
            id: self.id,
            timestamp: self.timestamp,
            entry: AuditEntry {
                actor: self.actor,
                action: self.action,
                resource_type: self.resource_type,
                resource_id: self.resource_id,
                session_id: self.session_id,
                details: json_col(&self.details)?,
                outcome: self.outcome,
            },
            prev_hash: self.prev_hash,
            hash: self.hash,
            mac: self.mac,
        })
    }
}

/// The audit side of a [`Store`]: the seal it was given and the anchor writer that goes with it.
#[derive(Default)]
pub(crate) struct AuditState {
    sealing: RwLock<Option<Arc<Sealing>>>,
    warned_unkeyed: AtomicBool,
}

struct Sealing {
    seal: AuditSeal,
    /// Present when there is both a key and an anchor path.
    writer: Option<AnchorWriter>,
    warned_held: AtomicBool,
}

impl AuditState {
    fn sealing(&self) -> Option<Arc<Sealing>> {
        self.sealing
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl Store {
    /// Gives the store its audit key (or the reason it has none) and its anchor file. Until this
    /// is called, rows are appended without a MAC and nothing is anchored.
    pub fn set_audit_seal(&self, seal: AuditSeal) {
        if let Some(key) = seal.ready_key()
            && let Ok(recorded) = self.audit_legacy_end()
            && recorded != key.legacy_end()
        {
            tracing::warn!(
                recorded,
                sealed = key.legacy_end(),
                "the database's audit upgrade point differs from the one sealed into the audit key; run `pryx audit verify`"
            );
        }
        let writer = match (seal.ready_key(), &seal.anchor) {
            (Some(_), Some(path)) => Some(AnchorWriter::start(path.clone())),
            _ => None,
        };
        let sealing = Arc::new(Sealing {
            seal,
            writer,
            warned_held: AtomicBool::new(false),
        });
        *self
            .audit_state()
            .sealing
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(sealing);
    }

    /// The last `seq` written before this database keyed its audit rows (0 when it never had
    /// unkeyed rows). A new [`AuditKey`] is created with it.
    pub fn audit_legacy_end(&self) -> Result<i64> {
        self.with_conn(|c| {
            verify::recorded_legacy_end(c).map_err(|detail| {
                StoreError::Decode(format!(
                    "the audit upgrade point: {detail}; run `pryx audit verify`"
                ))
            })
        })
    }

    /// Waits until the anchor file records the newest appended head; reports a failed write.
    pub fn flush_audit_anchor(&self) -> Result<()> {
        match self
            .audit_state()
            .sealing()
            .as_ref()
            .and_then(|s| s.writer.as_ref())
        {
            Some(w) => w.flush(),
            None => Ok(()),
        }
    }

    /// Appends an entry to the chain and returns it as stored. The row is keyed when the store
    /// has its audit key; otherwise it is appended unkeyed and a warning is logged once.
    pub fn append_audit(&self, entry: &AuditEntry) -> Result<AuditRecord> {
        let details = serde_json::to_string(&entry.details)?;
        let id = new_id();
        let timestamp = now_ts();
        let sealing = self.audit_state().sealing();
        let key = sealing.as_deref().and_then(|s| s.seal.ready_key());
        let (raw, post) = self.with_tx(|tx| {
            let last: Option<(i64, String, Option<String>)> = tx
                .query_row(
                    "SELECT seq, hash, mac FROM audit_log ORDER BY seq DESC LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let (seq, prev_hash, prev_link) = match last {
                Some((last, hash, mac)) => (last + 1, hash.clone(), mac.unwrap_or(hash)),
                None => (1, GENESIS_HASH.to_string(), GENESIS_HASH.to_string()),
            };
            let mut row = RawRow {
                seq,
                id: id.clone(),
                timestamp: timestamp.clone(),
                actor: entry.actor.clone(),
                action: entry.action.clone(),
                resource_type: entry.resource_type.clone(),
                resource_id: entry.resource_id.clone(),
                session_id: entry.session_id.clone(),
                details: details.clone(),
                outcome: entry.outcome.clone(),
                prev_hash,
                hash: String::new(),
                mac: None,
            };
            row.hash = row.computed_hash();
            let mut post = None;
            if let Some(key) = key {
                let mac = hex::encode(row_mac(key, &prev_link, &row.hashed())?.finalize().into_bytes());
                if let Some(s) = sealing.as_deref() {
                    post = anchor_post(tx, s, key, (seq - 1, &prev_link), seq, &mac)?;
                }
                row.mac = Some(mac);
            }
            tx.execute(
                &format!("INSERT INTO audit_log ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
                params![
                    row.seq,
                    row.id,
                    row.timestamp,
                    row.actor,
                    row.action,
                    row.resource_type,
                    row.resource_id,
                    row.session_id,
                    row.details,
                    row.outcome,
                    row.prev_hash,
                    row.hash,
                    row.mac
                ],
            )?;
            Ok((row, post))
        })?;
        if let (Some(writer), Some((head, bytes))) =
            (sealing.as_deref().and_then(|s| s.writer.as_ref()), post)
        {
            writer.post(head, bytes);
        }
        if raw.mac.is_none()
            && !self
                .audit_state()
                .warned_unkeyed
                .swap(true, Ordering::Relaxed)
        {
            let why = sealing.as_deref().map_or_else(
                || "no audit key was given to the store".to_string(),
                |s| s.seal.why_unkeyed(),
            );
            tracing::warn!(
                reason = %why,
                "audit rows are being appended without a MAC; `pryx audit verify` will report them"
            );
        }
        raw.into_record()
    }

    /// The latest `limit` entries (optionally of one session), oldest first.
    pub fn list_audit(&self, session_id: Option<&str>, limit: u32) -> Result<Vec<AuditRecord>> {
        self.list_audit_where(&AuditFilter {
            session_id: session_id.map(str::to_string),
            limit,
            ..AuditFilter::default()
        })
    }

    /// The latest `filter.limit` entries that match `filter`, oldest first.
    pub fn list_audit_where(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        // Prefixes are matched with substr, not LIKE: `_` and `%` in what a person types are
        // plain characters.
        self.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT * FROM (SELECT {COLS} FROM audit_log
                                WHERE (?1 IS NULL OR session_id = ?1)
                                  AND (?2 IS NULL OR substr(action, 1, length(?2)) = ?2)
                                  AND (?3 IS NULL OR substr(actor, 1, length(?3)) = ?3)
                                  AND (?4 IS NULL OR outcome = ?4)
                                ORDER BY seq DESC LIMIT ?5)
                 ORDER BY seq"
            ))?;
            let raws = stmt
                .query_map(
                    params![
                        filter.session_id,
                        filter.action,
                        filter.actor,
                        filter.outcome,
                        filter.limit
                    ],
                    RawRow::from_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            raws.into_iter().map(RawRow::into_record).collect()
        })
    }
}

/// The anchor update for a new keyed head at `seq`, or `None` when the anchor must stay as it
/// is. An anchor that does not match the log is evidence of tampering (rows cut, the database
/// replaced, the anchor deleted while keyed rows exist), so it is never silently overwritten:
/// `pryx audit verify` keeps reporting it.
///
/// `prev` is the head before this row (seq and link). When there is no anchor yet and no row is
/// keyed, this is the first keyed row: an anchor on `prev` is written right here, before the
/// row is committed, so that no crash can leave keyed rows without an anchor.
fn anchor_post(
    tx: &Transaction<'_>,
    sealing: &Sealing,
    key: &AuditKey,
    prev: (i64, &str),
    seq: i64,
    mac: &str,
) -> Result<Option<(Anchor, Vec<u8>)>> {
    let (Some(writer), Some(path)) = (&sealing.writer, &sealing.seal.anchor) else {
        return Ok(None);
    };
    let advance = match writer.head() {
        // This process has anchored before; its own heads need no second look.
        Some(head) => seq > head.seq,
        None => match anchor::read(path, Some(key)) {
            AnchorRead::Missing => {
                let keyed: bool = tx.query_row(
                    "SELECT EXISTS (SELECT 1 FROM audit_log WHERE mac IS NOT NULL)",
                    [],
                    |r| r.get(0),
                )?;
                if !keyed {
                    let start = Anchor {
                        seq: prev.0,
                        link: prev.1.to_string(),
                    };
                    if let Err(e) = anchor::write_file(path, &start.encode(key)?) {
                        tracing::warn!(error = %e, "could not write the first audit anchor");
                    }
                }
                !keyed
            }
            AnchorRead::Found {
                anchor,
                authentic: Some(true),
            } => anchor.seq < seq && link_at(tx, anchor.seq)?.as_deref() == Some(&anchor.link),
            AnchorRead::Found { .. } | AnchorRead::Invalid(_) => false,
        },
    };
    if !advance {
        if !sealing.warned_held.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                anchor = %path.display(),
                "the audit anchor does not match the log; it is left as it is for `pryx audit verify` to report"
            );
        }
        return Ok(None);
    }
    let head = Anchor {
        seq,
        link: mac.to_string(),
    };
    let bytes = head.encode(key)?;
    Ok(Some((head, bytes)))
}

/// The link of row `seq` (its MAC, else its hash; [`GENESIS_HASH`] for seq 0), if it exists.
fn link_at(tx: &Transaction<'_>, seq: i64) -> Result<Option<String>> {
    if seq == 0 {
        return Ok(Some(GENESIS_HASH.to_string()));
    }
    Ok(tx
        .query_row(
            "SELECT coalesce(mac, hash) FROM audit_log WHERE seq = ?1",
            [seq],
            |r| r.get::<_, Option<String>>(0),
        )
        .optional()?
        .flatten())
}

#[cfg(test)]
mod tests;
