//! Remembered approvals: "allow this call for the rest of the session" or "always (until it
//! expires)". The policy engine computes the fingerprint (or pattern) and decides how to match.

use rusqlite::{Row, params};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::util::{format_ts, new_id, now_ts, str_enum};

str_enum! {
    /// How long a grant lasts: for one session, or across sessions until `expires_at`.
    pub enum GrantScope { Session => "session", Always => "always" }
}

/// A grant to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGrant {
    pub tool_name: String,
    /// The exact call's fingerprint, or a pattern the policy engine understands.
    pub fingerprint: String,
    pub scope: GrantScope,
    /// Required for `Session` scope, must be `None` for `Always`.
    pub session_id: Option<String>,
    pub expires_at: Option<OffsetDateTime>,
}

/// A stored grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalGrant {
    pub id: String,
    pub tool_name: String,
    pub fingerprint: String,
    pub scope: GrantScope,
    pub session_id: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
}

const COLS: &str = "id, tool_name, fingerprint, scope, session_id, created_at, expires_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<ApprovalGrant> {
    Ok(ApprovalGrant {
        id: r.get(0)?,
        tool_name: r.get(1)?,
        fingerprint: r.get(2)?,
        scope: r.get(3)?,
        session_id: r.get(4)?,
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
    })
}

/// Grants usable now for `tool` in `session`: unexpired, and either `always` or bound to that session.
const ACTIVE: &str = "tool_name = ?1 AND (expires_at IS NULL OR expires_at > ?2)
     AND (scope = 'always' OR (?3 IS NOT NULL AND session_id = ?3))";

impl Store {
    /// Records a grant.
    pub fn add_grant(&self, new: &NewGrant) -> Result<ApprovalGrant> {
        match (new.scope, &new.session_id) {
            (GrantScope::Session, None) => {
                return Err(StoreError::Invalid {
                    what: "grant",
                    detail: "a session grant needs a session id".into(),
                });
            }
            (GrantScope::Always, Some(_)) => {
                return Err(StoreError::Invalid {
                    what: "grant",
                    detail: "an always grant must not name a session".into(),
                });
            }
            _ => {}
        }
        let grant = ApprovalGrant {
            id: new_id(),
            tool_name: new.tool_name.clone(),
            fingerprint: new.fingerprint.clone(),
            scope: new.scope,
            session_id: new.session_id.clone(),
            created_at: now_ts(),
            expires_at: new.expires_at.map(format_ts),
        };
        self.with_conn(|c| {
            c.execute(
                &format!(
                    "INSERT INTO approval_grants ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ),
                params![
                    grant.id,
                    grant.tool_name,
                    grant.fingerprint,
                    grant.scope,
                    grant.session_id,
                    grant.created_at,
                    grant.expires_at
                ],
            )?;
            Ok(())
        })?;
        Ok(grant)
    }

    /// An active grant whose fingerprint equals `fingerprint` exactly, if any.
    pub fn find_active_grant(
        &self,
        tool_name: &str,
        fingerprint: &str,
        session_id: Option<&str>,
    ) -> Result<Option<ApprovalGrant>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLS} FROM approval_grants WHERE {ACTIVE} AND fingerprint = ?4 ORDER BY created_at DESC LIMIT 1"
            ))?;
            let mut rows = stmt.query_map(params![tool_name, now_ts(), session_id, fingerprint], from_row)?;
            Ok(rows.next().transpose()?)
        })
    }

    /// All active grants for a tool in a session, for callers that match patterns themselves.
    pub fn active_grants(
        &self,
        tool_name: &str,
        session_id: Option<&str>,
    ) -> Result<Vec<ApprovalGrant>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLS} FROM approval_grants WHERE {ACTIVE} ORDER BY created_at DESC"
            ))?;
            Ok(stmt
                .query_map(params![tool_name, now_ts(), session_id], from_row)?
                .collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Every stored grant, expired ones included, newest first.
    pub fn list_grants(&self) -> Result<Vec<ApprovalGrant>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLS} FROM approval_grants ORDER BY created_at DESC"
            ))?;
            Ok(stmt
                .query_map([], from_row)?
                .collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Removes every grant of the tools whose names start with `prefix` (e.g. `github.` for an
    /// MCP server that was removed); returns how many there were.
    pub fn revoke_grants_with_prefix(&self, prefix: &str) -> Result<usize> {
        self.with_conn(|c| {
            Ok(c.execute(
                "DELETE FROM approval_grants WHERE substr(tool_name, 1, length(?1)) = ?1",
                [prefix],
            )?)
        })
    }

    /// Removes a grant; returns whether it existed.
    pub fn revoke_grant(&self, id: &str) -> Result<bool> {
        self.with_conn(|c| Ok(c.execute("DELETE FROM approval_grants WHERE id = ?1", [id])? > 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::NewSession;
    use time::Duration;

    fn grant(
        scope: GrantScope,
        session: Option<&str>,
        fp: &str,
        expires: Option<OffsetDateTime>,
    ) -> NewGrant {
        NewGrant {
            tool_name: "shell.exec".into(),
            fingerprint: fp.into(),
            scope,
            session_id: session.map(str::to_string),
            expires_at: expires,
        }
    }

    #[test]
    fn session_grants_apply_only_to_their_session() {
        let store = Store::open_in_memory().unwrap();
        let s = store.create_session(&NewSession::default()).unwrap();
        let t = store.create_session(&NewSession::default()).unwrap();
        let g = store
            .add_grant(&grant(GrantScope::Session, Some(&s.id), "fp1", None))
            .unwrap();
        assert_eq!(
            store
                .find_active_grant("shell.exec", "fp1", Some(&s.id))
                .unwrap(),
            Some(g.clone())
        );
        assert_eq!(
            store
                .find_active_grant("shell.exec", "fp1", Some(&t.id))
                .unwrap(),
            None
        );
        assert_eq!(
            store.find_active_grant("shell.exec", "fp1", None).unwrap(),
            None
        );
        assert_eq!(
            store
                .find_active_grant("shell.exec", "fp2", Some(&s.id))
                .unwrap(),
            None
        );
        assert_eq!(
            store
                .find_active_grant("fs.write", "fp1", Some(&s.id))
                .unwrap(),
            None
        );
        // Deleting the session drops its grants.
        store.delete_session(&s.id).unwrap();
        assert!(store.list_grants().unwrap().is_empty());
    }

    #[test]
    fn always_grants_honour_expiry() {
        let store = Store::open_in_memory().unwrap();
        let now = OffsetDateTime::now_utc();
        let expired = store
            .add_grant(&grant(
                GrantScope::Always,
                None,
                "old",
                Some(now - Duration::seconds(1)),
            ))
            .unwrap();
        let live = store
            .add_grant(&grant(
                GrantScope::Always,
                None,
                "new",
                Some(now + Duration::hours(1)),
            ))
            .unwrap();
        let forever = store
            .add_grant(&grant(GrantScope::Always, None, "ever", None))
            .unwrap();
        assert_eq!(
            store.find_active_grant("shell.exec", "old", None).unwrap(),
            None
        );
        assert_eq!(
            store
                .find_active_grant("shell.exec", "new", Some("any"))
                .unwrap(),
            Some(live.clone())
        );
        assert_eq!(
            store.find_active_grant("shell.exec", "ever", None).unwrap(),
            Some(forever.clone())
        );
        let active: Vec<_> = store
            .active_grants("shell.exec", None)
            .unwrap()
            .into_iter()
            .map(|g| g.id)
            .collect();
        assert_eq!(active, [forever.id.clone(), live.id.clone()]);
        assert_eq!(store.list_grants().unwrap().len(), 3);

        assert!(store.revoke_grant(&live.id).unwrap());
        assert!(!store.revoke_grant(&live.id).unwrap());
        assert_eq!(
            store.find_active_grant("shell.exec", "new", None).unwrap(),
            None
        );
        assert!(
            store
                .list_grants()
                .unwrap()
                .iter()
                .any(|g| g.id == expired.id)
        );
    }

    #[test]
    fn grants_are_revoked_by_name_prefix() {
        let store = Store::open_in_memory().unwrap();
        for name in ["gh.issue", "gh.pr", "ghost.x", "shell.exec"] {
            let mut g = grant(GrantScope::Always, None, "fp", None);
            g.tool_name = name.into();
            store.add_grant(&g).unwrap();
        }
        assert_eq!(store.revoke_grants_with_prefix("gh.").unwrap(), 2);
        let mut left: Vec<_> = store
            .list_grants()
            .unwrap()
            .into_iter()
            .map(|g| g.tool_name)
            .collect();
        left.sort();
        assert_eq!(left, ["ghost.x", "shell.exec"]);
        assert_eq!(store.revoke_grants_with_prefix("%").unwrap(), 0);
    }

    #[test]
    fn scope_and_session_must_agree() {
        let store = Store::open_in_memory().unwrap();
        assert!(matches!(
            store.add_grant(&grant(GrantScope::Session, None, "x", None)),
            Err(StoreError::Invalid { .. })
        ));
        assert!(matches!(
            store.add_grant(&grant(GrantScope::Always, Some("s"), "x", None)),
            Err(StoreError::Invalid { .. })
        ));
    }
}
