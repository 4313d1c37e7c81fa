//! What model calls cost, from the spend ledger (deleted sessions included): totals by day,
//! agent, model and session since a day, and how much of each budget is used. One report for
//! `pryx costs`, `GET /costs` and the dashboard.

use pryx_config::Config;
use pryx_protocol::api::{BudgetUse, CostReport, CostTotal};
use pryx_store::{SpendRow, Store, StoreError};
use std::collections::BTreeMap;

/// `YYYY-MM-DD` or `Nd` (the last N days) as the RFC 3339 start of that day (UTC).
pub fn since_day(s: &str) -> Result<String, String> {
    let s = s.trim();
    if let Some(days) = s.strip_suffix('d').and_then(|n| n.parse::<i64>().ok()) {
        let start = time::OffsetDateTime::now_utc() - time::Duration::days(days.clamp(0, 36_500));
        return Ok(format!("{}T00:00:00", start.date()));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(s, format) {
        Ok(d) => Ok(format!("{d}T00:00:00")),
        Err(_) => Err(format!(
            "a range starts at a day (YYYY-MM-DD, e.g. 2026-11-01) or a number of days back (e.g. 7d), not {s:?}"
        )),
    }
}

fn add(t: &mut CostTotal, r: &SpendRow) {
    t.calls += r.calls;
    t.tokens_in += r.tokens_in;
    t.tokens_out += r.tokens_out;
    t.cost_usd += r.cost_usd;
}

fn group(rows: &[SpendRow], key: fn(&SpendRow) -> String) -> Vec<CostTotal> {
    let mut m: BTreeMap<String, CostTotal> = BTreeMap::new();
    for r in rows {
        let k = key(r);
        let t = m.entry(k.clone()).or_insert_with(|| CostTotal {
            key: k,
            ..CostTotal::default()
        });
        add(t, r);
    }
    m.into_values().collect()
}

/// The report since `since` (from [`since_day`]; `None`: all time), with the budgets of
/// `config`.
pub fn report(
    store: &Store,
    config: &Config,
    since: Option<&str>,
) -> Result<CostReport, StoreError> {
    let rows = store.spend_report(since)?;
    let mut total = CostTotal {
        key: "total".into(),
        ..CostTotal::default()
    };
    rows.iter().for_each(|r| add(&mut total, r));
    let mut by_session = group(&rows, |r| {
        r.session_id
            .clone()
            .unwrap_or_else(|| "(deleted)".to_string())
    });
    by_session.sort_by(|a, b| b.cost_usd.total_cmp(&a.cost_usd));
    let now = pryx_store::now_ts();
    let day = format!("{}T00:00:00", now.get(..10).unwrap_or_default());
    let month = format!("{}-01T00:00:00", now.get(..7).unwrap_or_default());
    let a = &config.agent;
    let mut budgets = Vec::new();
    for (budget, setting, limit, spent_since) in [
        (
            "per day",
            "agent.daily_budget_usd",
            a.daily_budget_usd,
            &day,
        ),
        (
            "per month",
            "agent.monthly_budget_usd",
            a.monthly_budget_usd,
            &month,
        ),
    ] {
        if let Some(limit_usd) = limit {
            budgets.push(BudgetUse {
                budget: budget.into(),
                setting: setting.into(),
                limit_usd,
                spent_usd: store.spent_since(spent_since, None)?,
            });
        }
    }
    Ok(CostReport {
        since: since.map(str::to_string),
        total,
        by_day: group(&rows, |r| r.day.clone()),
        by_agent: group(&rows, |r| r.agent.clone()),
        by_model: group(&rows, |r| r.model.clone()),
        by_session,
        budgets,
    })
}

/// The report as CSV: one line per breakdown entry (`breakdown,key,calls,tokens_in,tokens_out,
/// cost_usd`), the total last. Keys are quoted when they need it.
pub fn csv(r: &CostReport) -> String {
    let mut out = String::from("breakdown,key,calls,tokens_in,tokens_out,cost_usd\n");
    let sections: [(&str, &[CostTotal]); 4] = [
        ("day", &r.by_day),
        ("agent", &r.by_agent),
        ("model", &r.by_model),
        ("session", &r.by_session),
    ];
    let line = |out: &mut String, what: &str, t: &CostTotal| {
        out.push_str(&format!(
            "{what},{},{},{},{},{:.6}\n",
            csv_field(&t.key),
            t.calls,
            t.tokens_in,
            t.tokens_out,
            t.cost_usd
        ));
    };
    for (what, rows) in sections {
        for t in rows {
            line(&mut out, what, t);
        }
    }
    line(&mut out, "total", &r.total);
    out
}

/// A CSV field: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-` or
/// `@` is prefixed with `'` so a spreadsheet never runs it as a formula.
fn csv_field(s: &str) -> String {
    let safe = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if safe.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", safe.replace('"', "\"\""))
    } else {
        safe
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_day_or_a_number_of_days() {
        assert_eq!(since_day("2026-11-01").unwrap(), "2026-11-01T00:00:00");
        assert!(since_day("7d").unwrap().ends_with("T00:00:00"));
        assert!(since_day("0d").unwrap() > since_day("30d").unwrap());
        let err = since_day("last week").unwrap_err();
        assert!(err.contains("YYYY-MM-DD"), "{err}");
    }

    #[test]
    fn csv_quotes_and_defuses_what_a_spreadsheet_would_read() {
        let t = |key: &str| CostTotal {
            key: key.into(),
            calls: 2,
            tokens_in: 10,
            tokens_out: 5,
            cost_usd: 0.25,
        };
        let r = CostReport {
            since: None,
            total: t("total"),
            by_day: vec![t("2026-12-01")],
            by_agent: vec![t("=HYPERLINK(\"x\")")],
            by_model: vec![t("a,b")],
            by_session: vec![],
            budgets: vec![],
        };
        let out = csv(&r);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "breakdown,key,calls,tokens_in,tokens_out,cost_usd"
        );
        assert_eq!(lines[1], "day,2026-12-01,2,10,5,0.250000");
        assert_eq!(lines[2], "agent,\"'=HYPERLINK(\"\"x\"\")\",2,10,5,0.250000");
        assert_eq!(lines[3], "model,\"a,b\",2,10,5,0.250000");
        assert_eq!(lines[4], "total,total,2,10,5,0.250000");
    }
}
