//! What `/metrics` counts, read from the database at scrape time (so counts survive restarts
//! and agree with what the store holds): turns, model calls with tokens, cost and latency,
//! tool calls, approvals, task runs, channel replies and errors. Only names, outcomes and
//! numbers: nothing a message, a prompt or a person wrote.

use rusqlite::Connection;

use crate::error::Result;
use crate::store::Store;
use crate::util::to_u64;

/// Upper bounds (seconds) of the model-call latency histogram's buckets (`+Inf` besides).
pub const LATENCY_BUCKETS: [f64; 9] = [0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0];

/// A count under its labels' values (in the order the metric names them).
#[derive(Debug, Clone, PartialEq)]
pub struct Counted {
    pub labels: Vec<String>,
    pub value: f64,
}

/// Model-call latency of one model: how many calls took at most each bound of
/// [`LATENCY_BUCKETS`] (cumulative), all of them, and their total seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Latency {
    pub model: String,
    pub buckets: Vec<u64>,
    pub count: u64,
    pub sum_secs: f64,
}

/// A family of counts: its Prometheus name, help and label names, and where its rows come
/// from. `/metrics` and the OTLP export both describe their counters with [`COUNTER_FAMILIES`].
pub type Family = (
    &'static str,
    &'static str,
    &'static [&'static str],
    fn(&MetricsSnapshot) -> &[Counted],
);

/// The counter families, in the order they are written.
pub const COUNTER_FAMILIES: [Family; 9] = [
    (
        "pryx_turns_total",
        "Turns that ended, by status (ok, error, cancelled, interrupted).",
        &["status"],
        |s| &s.turns,
    ),
    (
        "pryx_model_calls_total",
        "Model calls that ended, by model and status.",
        &["model", "status"],
        |s| &s.model_calls,
    ),
    (
        "pryx_tokens_total",
        "Tokens of model calls, by model and direction (input, output).",
        &["model", "direction"],
        |s| &s.tokens,
    ),
    (
        "pryx_cost_usd_total",
        "What model calls cost, in USD, by model.",
        &["model"],
        |s| &s.cost_usd,
    ),
    (
        "pryx_tool_calls_total",
        "Tool calls, by tool and status (completed, failed, denied, …).",
        &["tool", "status"],
        |s| &s.tool_calls,
    ),
    (
        "pryx_approvals_total",
        "Approval outcomes, by decision (granted, denied, timeout, reused, unavailable).",
        &["decision"],
        |s| &s.approvals,
    ),
    (
        "pryx_task_runs_total",
        "Scheduled task runs, by status.",
        &["status"],
        |s| &s.task_runs,
    ),
    (
        "pryx_channel_replies_total",
        "Replies through chat channels' outboxes, by channel and state.",
        &["channel", "state"],
        |s| &s.channel_replies,
    ),
    (
        "pryx_errors_total",
        "Errors reported in sessions, by code.",
        &["code"],
        |s| &s.errors,
    ),
];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricsSnapshot {
    pub sessions: u64,
    /// `[status]` of ended turns; running ones apart.
    pub turns: Vec<Counted>,
    pub turns_running: u64,
    /// `[model, status]`.
    pub model_calls: Vec<Counted>,
    /// `[model, direction]` (`input`, `output`).
    pub tokens: Vec<Counted>,
    /// `[model]`.
    pub cost_usd: Vec<Counted>,
    pub latency: Vec<Latency>,
    /// `[tool, status]`.
    pub tool_calls: Vec<Counted>,
    /// `[decision]`: granted, denied, timeout, reused, unavailable.
    pub approvals: Vec<Counted>,
    /// `[status]`.
    pub task_runs: Vec<Counted>,
    /// `[channel, state]`.
    pub channel_replies: Vec<Counted>,
    /// `[code]`.
    pub errors: Vec<Counted>,
}

fn counted(c: &Connection, sql: &str, labels: usize) -> Result<Vec<Counted>> {
    let mut stmt = c.prepare(sql)?;
    let rows = stmt
        .query_map([], |r| {
            let mut values = Vec::with_capacity(labels);
            for i in 0..labels {
                values.push(r.get::<_, Option<String>>(i)?.unwrap_or_default());
            }
            Ok(Counted {
                labels: values,
                value: r.get::<_, Option<f64>>(labels)?.unwrap_or(0.0),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Seconds a span took, from its RFC 3339 start and end.
const SPAN_SECS: &str = "(julianday(ended_at) - julianday(started_at)) * 86400.0";

impl Store {
    pub fn metrics_snapshot(&self) -> Result<MetricsSnapshot> {
        self.with_conn(|c| {
            let sessions: i64 = c.query_row("SELECT COUNT(*) FROM sessions", [], |r| r.get(0))?;
            let turns_running: i64 = c.query_row(
                "SELECT COUNT(*) FROM spans WHERE kind = 'turn' AND status = 'running'",
                [],
                |r| r.get(0),
            )?;
            let model_calls = counted(
                c,
                "SELECT name, status, COUNT(*) FROM spans WHERE kind = 'model_call' AND status != 'running'
                 GROUP BY name, status ORDER BY name, status",
                2,
            )?;
            let mut tokens = Vec::new();
            let mut cost_usd = Vec::new();
            let mut stmt = c.prepare(
                "SELECT name, SUM(COALESCE(tokens_in, 0)), SUM(COALESCE(tokens_out, 0)), SUM(COALESCE(cost_usd, 0))
                 FROM spans WHERE kind = 'model_call' GROUP BY name ORDER BY name",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, f64>(3)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for (model, tin, tout, cost) in rows {
                tokens.push(Counted {
                    labels: vec![model.clone(), "input".into()],
                    value: to_u64(tin) as f64,
                });
                tokens.push(Counted {
                    labels: vec![model.clone(), "output".into()],
                    value: to_u64(tout) as f64,
                });
                cost_usd.push(Counted {
                    labels: vec![model],
                    value: cost,
                });
            }
            // Counted by the database: a scrape reads one row per model, not one per call.
            let buckets: String = LATENCY_BUCKETS
                .iter()
                .map(|b| format!(", SUM(secs <= {b})"))
                .collect();
            let mut stmt = c.prepare(&format!(
                "SELECT name, COUNT(*), SUM(secs){buckets} FROM
                   (SELECT name, MAX(COALESCE({SPAN_SECS}, 0), 0) AS secs FROM spans
                    WHERE kind = 'model_call' AND ended_at IS NOT NULL)
                 GROUP BY name ORDER BY name"
            ))?;
            let latency = stmt
                .query_map([], |r| {
                    let mut buckets = Vec::with_capacity(LATENCY_BUCKETS.len());
                    for i in 0..LATENCY_BUCKETS.len() {
                        buckets.push(to_u64(r.get(3 + i)?));
                    }
                    Ok(Latency {
                        model: r.get(0)?,
                        count: to_u64(r.get(1)?),
                        sum_secs: r.get::<_, Option<f64>>(2)?.unwrap_or(0.0),
                        buckets,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(MetricsSnapshot {
                sessions: to_u64(sessions),
                turns: counted(
                    c,
                    "SELECT status, COUNT(*) FROM spans WHERE kind = 'turn' AND status != 'running'
                     GROUP BY status ORDER BY status",
                    1,
                )?,
                turns_running: to_u64(turns_running),
                model_calls,
                tokens,
                cost_usd,
                latency,
                tool_calls: counted(
                    c,
                    "SELECT tool_name, status, COUNT(*) FROM tool_calls GROUP BY tool_name, status
                     ORDER BY tool_name, status",
                    2,
                )?,
                approvals: counted(
                    c,
                    "SELECT substr(action, 10), COUNT(*) FROM audit_log WHERE action LIKE 'approval.%'
                     GROUP BY action ORDER BY action",
                    1,
                )?,
                task_runs: counted(
                    c,
                    "SELECT status, COUNT(*) FROM task_runs GROUP BY status ORDER BY status",
                    1,
                )?,
                channel_replies: counted(
                    c,
                    "SELECT channel, state, COUNT(*) FROM channel_outbox GROUP BY channel, state
                     ORDER BY channel, state",
                    2,
                )?,
                errors: counted(
                    c,
                    "SELECT json_extract(payload, '$.code'), COUNT(*) FROM events
                     WHERE kind = 'error.occurred' GROUP BY 1 ORDER BY 1",
                    1,
                )?,
            })
        })
    }
}
