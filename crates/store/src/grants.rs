//! Standing approvals: "allow this call for the rest of the session" or "always (until it
//! expires)". A grant holds for one exact call (the tool and the fingerprint of its exact
//! arguments), in one workspace, under one policy (identified by the hash of its content, so a
//! different or edited policy asks again); a `session` grant also only in its session. Using one
//! is counted; revoking one is audited here (giving and using are audited by the agent, with
//! the tool call they concern).

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::audit::AuditEntry;
use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::util::{format_ts, json_col, new_id, now_ts, str_enum, to_u64};

str_enum! {
    /// How long a grant lasts: for one session, or across sessions until `expires_at`.
    pub enum GrantScope { Session => "session", Always => "always" }
}

/// A grant to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewGrant {
    pub tool_name: String,
    /// The exact call's fingerprint.
    pub fingerprint: String,
    pub scope: GrantScope,
    /// Required for `Session` scope, must be `None` for `Always`.
    pub session_id: Option<String>,
    /// Canonical path of the workspace the call ran in.
    pub workspace: String,
    /// The policy's name, for people.
    pub policy: String,
    /// The hash identifying the policy's content.
    pub policy_hash: String,
    /// The call's arguments (known secret values are replaced by their marker when stored).
    pub arguments: serde_json::Value,
    pub expires_at: Option<OffsetDateTime>,
}

/// A stored grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalGrant {
    pub id: String,
    pub tool_name: String,
    pub fingerprint: String,
    pub scope: GrantScope,
    pub session_id: Option<String>,
    pub workspace: String,
    pub policy: String,
    pub policy_hash: String,
    pub arguments: serde_json::Value,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub uses: u64,
}

impl ApprovalGrant {
    /// Whether it expired before `now` (an RFC 3339 UTC timestamp as [`now_ts`] writes).
    pub fn expired_at(&self, now: &str) -> bool {
        self.expires_at.as_deref().is_some_and(|e| e <= now)
    }

    /// The wire form, with whether it has expired by now.
    pub fn view(&self) -> pryx_protocol::api::GrantView {
        use pryx_protocol::api::GrantScope as Wire;
        // Exhaustive on purpose: a new scope must decide how it is shown.
        let scope = match self.scope {
            GrantScope::Session => Wire::Session,
            GrantScope::Always => Wire::Always,
        };
        pryx_protocol::api::GrantView {
            id: self.id.clone(),
            tool: self.tool_name.clone(),
            scope,
            session_id: self.session_id.clone(),
            workspace: self.workspace.clone(),
            policy: self.policy.clone(),
            policy_hash: self.policy_hash.clone(),
            fingerprint: self.fingerprint.clone(),
            arguments: self.arguments.clone(),
            created_at: self.created_at.clone(),
            expires_at: self.expires_at.clone(),
            last_used_at: self.last_used_at.clone(),
            uses: self.uses,
            expired: self.expired_at(&now_ts()),
        }
    }
}

/// What a call must match for a grant to let it run without asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantQuery<'a> {
    pub tool_name: &'a str,
    pub fingerprint: &'a str,
    pub workspace: &'a str,
    pub policy_hash: &'a str,
    /// The session the call runs in (session grants hold only there).
    pub session_id: Option<&'a str>,
}

const COLS: &str = "id, tool_name, fingerprint, scope, session_id, workspace, policy, policy_hash, \
     arguments, created_at, expires_at, last_used_at, uses";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(ApprovalGrant, String)> {
    Ok((
        ApprovalGrant {
            id: r.get(0)?,
            tool_name: r.get(1)?,
            fingerprint: r.get(2)?,
            scope: r.get(3)?,
            session_id: r.get(4)?,
            workspace: r.get(5)?,
            policy: r.get(6)?,
            policy_hash: r.get(7)?,
            arguments: serde_json::Value::Null,
            created_at: r.get(9)?,
            expires_at: r.get(10)?,
            last_used_at: r.get(11)?,
            uses: to_u64(r.get(12)?),
        },
        r.get(8)?,
    ))
}

fn finish((mut grant, args): (ApprovalGrant, String)) -> Result<ApprovalGrant> {
    grant.arguments = json_col(&args)?;
    Ok(grant)
}

/// Grants that let `?1`..`?5` run now: same tool, call, workspace and policy, unexpired at `?6`,
/// and either `always` or bound to the call's session.
const MATCHES: &str = "tool_name = ?1 AND fingerprint = ?2 AND workspace = ?3 AND policy_hash = ?4
     AND (scope = 'always' OR (?5 IS NOT NULL AND session_id = ?5))
     AND (expires_at IS NULL OR expires_at > ?6)";

impl Store {
    /// Records a grant. Its arguments are stored with known secret values replaced by their
    /// marker (never masked by pattern: they show what the grant lets run).
    pub fn add_grant(&self, new: &NewGrant) -> Result<ApprovalGrant> {
        match (new.scope, &new.session_id) {
            (GrantScope::Session, None) => {
                return Err(invalid("a session grant needs a session id"));
            }
            (GrantScope::Always, Some(_)) => {
                return Err(invalid("an always grant must not name a session"));
            }
            (GrantScope::Session, Some(_)) | (GrantScope::Always, None) => {}
        }
        if new.workspace.is_empty() || new.policy_hash.is_empty() {
            return Err(invalid(
                "a grant must name the workspace and the policy it was given under",
            ));
        }
        let grant = ApprovalGrant {
            id: new_id(),
            tool_name: new.tool_name.clone(),
            fingerprint: new.fingerprint.clone(),
            scope: new.scope,
            session_id: new.session_id.clone(),
            workspace: new.workspace.clone(),
            policy: new.policy.clone(),
            policy_hash: new.policy_hash.clone(),
            arguments: self.redactor().mark_known_json(&new.arguments),
            created_at: now_ts(),
            expires_at: new.expires_at.map(format_ts),
            last_used_at: None,
            uses: 0,
        };
        let args = serde_json::to_string(&grant.arguments)?;
        self.with_conn(|c| {
            c.execute(
                &format!(
                    "INSERT INTO approval_grants ({COLS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, 0)"
                ),
                params![
                    grant.id,
                    grant.tool_name,
                    grant.fingerprint,
                    grant.scope,
                    grant.session_id,
                    grant.workspace,
                    grant.policy,
                    grant.policy_hash,
                    args,
                    grant.created_at,
                    grant.expires_at
                ],
            )?;
            Ok(())
        })?;
        Ok(grant)
    }

    /// The newest grant that lets this call run now, without counting a use.
    pub fn find_active_grant(&self, q: &GrantQuery<'_>) -> Result<Option<ApprovalGrant>> {
        let now = now_ts();
        self.with_conn(|c| {
            c.query_row(
                &format!(
                    "SELECT {COLS} FROM approval_grants WHERE {MATCHES}
                     ORDER BY created_at DESC LIMIT 1"
                ),
                params![
                    q.tool_name,
                    q.fingerprint,
                    q.workspace,
                    q.policy_hash,
                    q.session_id,
                    now
                ],
                from_row,
            )
            .optional()?
            .map(finish)
            .transpose()
        })
    }

    /// The newest grant that lets this call run now, with the use counted (in one
    /// transaction, so a grant revoked meanwhile is never used).
    pub fn use_grant(&self, q: &GrantQuery<'_>) -> Result<Option<ApprovalGrant>> {
        let now = now_ts();
        self.with_tx(|tx| {
            let found = tx
                .query_row(
                    &format!(
                        "SELECT {COLS} FROM approval_grants WHERE {MATCHES}
                         ORDER BY created_at DESC LIMIT 1"
                    ),
                    params![
                        q.tool_name,
                        q.fingerprint,
                        q.workspace,
                        q.policy_hash,
                        q.session_id,
                        now
                    ],
                    from_row,
                )
                .optional()?;
            let Some(raw) = found else {
                return Ok(None);
            };
            let mut grant = finish(raw)?;
            tx.execute(
                "UPDATE approval_grants SET uses = uses + 1, last_used_at = ?2 WHERE id = ?1",
                params![grant.id, now],
            )?;
            grant.uses += 1;
            grant.last_used_at = Some(now);
            Ok(Some(grant))
        })
    }

    /// Every stored grant, expired ones included, newest first.
    pub fn list_grants(&self) -> Result<Vec<ApprovalGrant>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLS} FROM approval_grants ORDER BY created_at DESC"
            ))?;
            let raws = stmt
                .query_map([], from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            raws.into_iter().map(finish).collect()
        })
    }

    /// One grant by id.
    pub fn get_grant(&self, id: &str) -> Result<Option<ApprovalGrant>> {
        self.with_conn(|c| {
            c.query_row(
                &format!("SELECT {COLS} FROM approval_grants WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?
            .map(finish)
            .transpose()
        })
    }

    /// Removes a grant and appends `grant.revoked` to the audit log by `actor` (`user:cli`,
    /// `user:web`, …). Returns the grant as it was, `None` when there was none with that id.
    pub fn revoke_grant(&self, id: &str, actor: &str) -> Result<Option<ApprovalGrant>> {
        let removed = self.with_tx(|tx| {
            let found = tx
                .query_row(
                    &format!("SELECT {COLS} FROM approval_grants WHERE id = ?1"),
                    [id],
                    from_row,
                )
                .optional()?;
            let Some(raw) = found else {
                return Ok(None);
            };
            tx.execute("DELETE FROM approval_grants WHERE id = ?1", [id])?;
            finish(raw).map(Some)
        })?;
        if let Some(g) = &removed {
            self.audit_revoked(g, actor)?;
        }
        Ok(removed)
    }

    /// Removes every grant of the tools whose names start with `prefix` (e.g. `github.` for an
    /// MCP server that was removed), each audited as `grant.revoked` by `actor`; returns how
    /// many there were.
    pub fn revoke_grants_with_prefix(&self, prefix: &str, actor: &str) -> Result<usize> {
        let removed = self.with_tx(|tx| {
            let mut stmt = tx.prepare(&format!(
                "SELECT {COLS} FROM approval_grants WHERE substr(tool_name, 1, length(?1)) = ?1"
            ))?;
            let raws = stmt
                .query_map([prefix], from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            tx.execute(
                "DELETE FROM approval_grants WHERE substr(tool_name, 1, length(?1)) = ?1",
                [prefix],
            )?;
            raws.into_iter().map(finish).collect::<Result<Vec<_>>>()
        })?;
        for g in &removed {
            self.audit_revoked(g, actor)?;
        }
        Ok(removed.len())
    }

    fn audit_revoked(&self, g: &ApprovalGrant, actor: &str) -> Result<()> {
        self.append_audit(&AuditEntry {
            actor: actor.to_string(),
            action: "grant.revoked".to_string(),
            resource_type: "approval_grant".to_string(),
            resource_id: Some(g.id.clone()),
            session_id: g.session_id.clone(),
            details: serde_json::json!({
                "tool": g.tool_name,
                "scope": g.scope,
                "fingerprint": g.fingerprint,
                "workspace": g.workspace,
                "policy": g.policy,
                "policy_hash": g.policy_hash,
                "arguments": g.arguments,
                "uses": g.uses,
            }),
            outcome: "success".to_string(),
        })
        .map(|_| ())
    }
}

fn invalid(detail: &str) -> StoreError {
    StoreError::Invalid {
        what: "grant",
        detail: detail.into(),
    }
}

#[cfg(test)]
mod tests;
