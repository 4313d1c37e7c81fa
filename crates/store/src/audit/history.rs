//! The approvals history: the audit rows that record how approvals ended (answered, timed out,
//! cancelled, a standing grant reused) and grants revoked, for the dashboard's inbox.

use rusqlite::params;

use super::{AuditRecord, COLS, RawRow};
use crate::error::Result;
use crate::store::Store;

impl Store {
    /// The latest `limit` approval outcomes (`approval.*`) and grant revocations
    /// (`grant.revoked`), newest first.
    pub fn list_approval_history(&self, limit: u32) -> Result<Vec<AuditRecord>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLS} FROM audit_log
                 WHERE action LIKE 'approval.%' OR action = 'grant.revoked'
                 ORDER BY seq DESC LIMIT ?1"
            ))?;
            let raws = stmt
                .query_map(params![limit], RawRow::from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            raws.into_iter().map(RawRow::into_record).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{AuditEntry, Store};

    fn row(action: &str) -> AuditEntry {
        AuditEntry {
            actor: "agent:web".into(),
            action: action.into(),
            resource_type: "tool_call".into(),
            resource_id: Some("c1".into()),
            session_id: Some("s1".into()),
            details: serde_json::json!({"tool": "shell"}),
            outcome: "approved".into(),
        }
    }

    #[test]
    fn only_approval_rows_newest_first() {
        let store = Store::open_in_memory().unwrap();
        for a in [
            "approval.granted",
            "tool.call",
            "approval.denied",
            "grant.revoked",
            "approvals.other",
        ] {
            store.append_audit(&row(a)).unwrap();
        }
        let got: Vec<String> = store
            .list_approval_history(10)
            .unwrap()
            .into_iter()
            .map(|r| r.entry.action)
            .collect();
        assert_eq!(
            got,
            ["grant.revoked", "approval.denied", "approval.granted"]
        );
        assert_eq!(store.list_approval_history(1).unwrap().len(), 1);
    }
}
