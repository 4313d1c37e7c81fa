//! The spend ledger: what each model call cost, by agent and model. Kept apart from sessions so
//! budgets and reports count money spent even after a session (or a message) is deleted.

use rusqlite::params;

use crate::error::{Result, StoreError};
use crate::sessions::not_found;
use crate::store::Store;
use crate::util::{now_ts, to_i64, to_u64};

/// One model call's cost, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct CallCost {
    pub session_id: String,
    /// The agent profile the session runs under.
    pub agent: String,
    /// `provider/model` that answered.
    pub model: String,
    /// Every input token the model saw (cache reads and writes included).
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
}

/// Spend of one (day, agent, model, session) group.
#[derive(Debug, Clone, PartialEq)]
pub struct SpendRow {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub agent: String,
    pub model: String,
    /// `None` once the session was deleted.
    pub session_id: Option<String>,
    pub calls: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
}

impl Store {
    /// Adds a model call's usage to its session's totals and to the ledger, in one
    /// transaction, so usage is counted exactly once, where the caller decides.
    pub fn record_call_cost(&self, c: &CallCost) -> Result<()> {
        let (tin, tout) = (
            to_i64("tokens_in", c.tokens_in)?,
            to_i64("tokens_out", c.tokens_out)?,
        );
        if !c.cost_usd.is_finite() || c.cost_usd < 0.0 {
            return Err(StoreError::Invalid {
                what: "cost_usd",
                detail: format!("{} is not a cost", c.cost_usd),
            });
        }
        let now = now_ts();
        self.with_tx(|tx| {
            let n = tx.execute(
                "UPDATE sessions SET total_tokens_in = total_tokens_in + ?2,
                    total_tokens_out = total_tokens_out + ?3, total_cost_usd = total_cost_usd + ?4,
                    updated_at = ?5
                 WHERE id = ?1",
                params![c.session_id, tin, tout, c.cost_usd, now],
            )?;
            if n == 0 {
                return Err(not_found(&c.session_id));
            }
            tx.execute(
                "INSERT INTO spend (at, session_id, agent, model, tokens_in, tokens_out, cost_usd)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![now, c.session_id, c.agent, c.model, tin, tout, c.cost_usd],
            )?;
            Ok(())
        })
    }

    /// USD spent since `since` (RFC 3339 UTC), by every agent or by one.
    pub fn spent_since(&self, since: &str, agent: Option<&str>) -> Result<f64> {
        self.with_conn(|c| {
            Ok(c.query_row(
                "SELECT COALESCE(SUM(cost_usd), 0) FROM spend
                 WHERE at >= ?1 AND (?2 IS NULL OR agent = ?2)",
                params![since, agent],
                |r| r.get(0),
            )?)
        })
    }

    /// Spend grouped by day, agent, model and session, oldest day first (deleted sessions keep
    /// their rows, without the session id once it is gone).
    pub fn spend_report(&self, since: Option<&str>) -> Result<Vec<SpendRow>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(
                "SELECT substr(sp.at, 1, 10) AS day, sp.agent, sp.model, s.id,
                        COUNT(*), SUM(sp.tokens_in), SUM(sp.tokens_out), SUM(sp.cost_usd)
                 FROM spend sp LEFT JOIN sessions s ON s.id = sp.session_id
                 WHERE ?1 IS NULL OR sp.at >= ?1
                 GROUP BY day, sp.agent, sp.model, s.id
                 ORDER BY day, sp.agent, sp.model, s.id",
            )?;
            let rows = stmt
                .query_map(params![since], |r| {
                    Ok(SpendRow {
                        day: r.get(0)?,
                        agent: r.get(1)?,
                        model: r.get(2)?,
                        session_id: r.get(3)?,
                        calls: to_u64(r.get(4)?),
                        tokens_in: to_u64(r.get(5)?),
                        tokens_out: to_u64(r.get(6)?),
                        cost_usd: r.get(7)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sessions::NewSession;

    fn call(session: &str, agent: &str, model: &str, cost_usd: f64) -> CallCost {
        CallCost {
            session_id: session.to_string(),
            agent: agent.to_string(),
            model: model.to_string(),
            tokens_in: 100,
            tokens_out: 10,
            cost_usd,
        }
    }

    #[test]
    fn spend_is_counted_by_agent_and_outlives_its_session() {
        let store = Store::open_in_memory().unwrap();
        let a = store.create_session(&NewSession::default()).unwrap();
        let b = store.create_session(&NewSession::default()).unwrap();
        store
            .record_call_cost(&call(&a.id, "main", "p/m1", 0.25))
            .unwrap();
        store
            .record_call_cost(&call(&a.id, "main", "p/m2", 0.5))
            .unwrap();
        store
            .record_call_cost(&call(&b.id, "coder", "p/m1", 1.0))
            .unwrap();
        let total = store.spent_since("2000-01-01T00:00:00Z", None).unwrap();
        assert!((total - 1.75).abs() < 1e-9, "{total}");
        let main = store
            .spent_since("2000-01-01T00:00:00Z", Some("main"))
            .unwrap();
        assert!((main - 0.75).abs() < 1e-9, "{main}");
        assert_eq!(
            store.spent_since("2999-01-01T00:00:00Z", None).unwrap(),
            0.0
        );

        store.delete_session(&a.id).unwrap();
        let total = store.spent_since("2000-01-01T00:00:00Z", None).unwrap();
        assert!(
            (total - 1.75).abs() < 1e-9,
            "money spent stays spent: {total}"
        );
        let report = store.spend_report(None).unwrap();
        assert_eq!(report.len(), 3, "{report:?}");
        assert_eq!(
            report.iter().filter(|r| r.session_id.is_none()).count(),
            2,
            "the deleted session's rows stay, without its id"
        );
        assert!(report.iter().all(|r| r.calls == 1 && r.tokens_in == 100));

        let err = store
            .record_call_cost(&call("missing", "main", "p/m", 0.1))
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }), "{err}");
        assert!(
            store
                .record_call_cost(&call(&b.id, "main", "p/m", -1.0))
                .is_err()
        );
    }
}
