//! `pryx costs`: what model calls cost, by day, agent, model and session, from the spend ledger
//! (deleted sessions included), and how much of each budget is used.

use crate::setup;
use crate::term::{out_raw, say};
use pryx_core::setup::AuditKeyUse;
use pryx_store::SpendRow;
use serde::Serialize;
use std::collections::BTreeMap;
use std::process::ExitCode;

/// Sessions shown in the text report (the most expensive ones); `--json` lists all.
const SHOWN_SESSIONS: usize = 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only spend since this day (`YYYY-MM-DD`, UTC) or for the last N days (`7d`).
    #[arg(long)]
    since: Option<String>,
    /// One JSON object with every total.
    #[arg(long)]
    json: bool,
}

/// One line of a breakdown.
#[derive(Debug, Default, Clone, Serialize)]
struct Total {
    key: String,
    calls: u64,
    tokens_in: u64,
    tokens_out: u64,
    cost_usd: f64,
}

impl Total {
    fn add(&mut self, r: &SpendRow) {
        self.calls += r.calls;
        self.tokens_in += r.tokens_in;
        self.tokens_out += r.tokens_out;
        self.cost_usd += r.cost_usd;
    }
}

/// How much of a configured budget is used.
#[derive(Debug, Serialize)]
struct BudgetUse {
    budget: String,
    setting: String,
    limit_usd: f64,
    spent_usd: f64,
}

#[derive(Debug, Serialize)]
struct Report {
    since: Option<String>,
    total: Total,
    by_day: Vec<Total>,
    by_agent: Vec<Total>,
    by_model: Vec<Total>,
    /// Most expensive first; `(deleted)` for sessions that no longer exist.
    by_session: Vec<Total>,
    budgets: Vec<BudgetUse>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (dir, config) = setup::load_home()?;
    let since = args.since.as_deref().map(since_ts).transpose()?;
    let store = setup::open_store_with(&dir, AuditKeyUse::Verify)?;
    let rows = store.spend_report(since.as_deref())?;
    let group = |key: fn(&SpendRow) -> String| {
        let mut m: BTreeMap<String, Total> = BTreeMap::new();
        for r in &rows {
            let k = key(r);
            let t = m.entry(k.clone()).or_insert_with(|| Total {
                key: k,
                ..Total::default()
            });
            t.add(r);
        }
        m.into_values().collect::<Vec<_>>()
    };
    let mut total = Total {
        key: "total".into(),
        ..Total::default()
    };
    rows.iter().for_each(|r| total.add(r));
    let mut by_session = group(|r| {
        r.session_id
            .clone()
            .unwrap_or_else(|| "(deleted)".to_string())
    });
    by_session.sort_by(|a, b| b.cost_usd.total_cmp(&a.cost_usd));
    let now = pryx_store::now_ts();
    let (day, month) = (
        format!("{}T00:00:00", now.get(..10).unwrap_or_default()),
        format!("{}-01T00:00:00", now.get(..7).unwrap_or_default()),
    );
    let mut budgets = Vec::new();
    let a = &config.agent;
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
    let report = Report {
        since,
        total,
        by_day: group(|r| r.day.clone()),
        by_agent: group(|r| r.agent.clone()),
        by_model: group(|r| r.model.clone()),
        by_session,
        budgets,
    };
    if args.json {
        out_raw(&serde_json::to_string_pretty(&report)?);
    } else {
        print(&report);
    }
    Ok(ExitCode::SUCCESS)
}

/// `YYYY-MM-DD` or `Nd` as the RFC 3339 start of that day.
fn since_ts(s: &str) -> anyhow::Result<String> {
    if let Some(days) = s.strip_suffix('d').and_then(|n| n.parse::<i64>().ok()) {
        let start = time::OffsetDateTime::now_utc() - time::Duration::days(days.max(0));
        return Ok(format!("{}T00:00:00", start.date()));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(s, format) {
        Ok(d) => Ok(format!("{d}T00:00:00")),
        Err(_) => anyhow::bail!(
            "--since takes a day (YYYY-MM-DD, e.g. 2026-11-01) or a number of days (e.g. 7d), not {s:?}"
        ),
    }
}

fn print(r: &Report) {
    if r.total.calls == 0 {
        say!(
            "No model call has cost anything{}.",
            r.since
                .as_deref()
                .map(|s| format!(" since {}", &s[..10]))
                .unwrap_or_default()
        );
    }
    let table = |title: &str, rows: &[Total], cap: usize| {
        if rows.is_empty() {
            return;
        }
        say!("\n{title}");
        for t in rows.iter().take(cap) {
            say!(
                "  {:<40} {:>6} calls {:>10} in {:>8} out  ${:>10.4}",
                t.key,
                t.calls,
                t.tokens_in,
                t.tokens_out,
                t.cost_usd
            );
        }
        if rows.len() > cap {
            say!("  … and {} more (--json lists all)", rows.len() - cap);
        }
    };
    table("By day", &r.by_day, usize::MAX);
    table("By agent", &r.by_agent, usize::MAX);
    table("By model", &r.by_model, usize::MAX);
    table(
        "By session (most expensive first)",
        &r.by_session,
        SHOWN_SESSIONS,
    );
    say!(
        "\nTotal: ${:.4} over {} calls ({} tokens in, {} out)",
        r.total.cost_usd,
        r.total.calls,
        r.total.tokens_in,
        r.total.tokens_out
    );
    for b in &r.budgets {
        say!(
            "Budget {}: ${:.4} of ${:.2} ({:.0} %), set by {}",
            b.budget,
            b.spent_usd,
            b.limit_usd,
            100.0 * b.spent_usd / b.limit_usd.max(f64::MIN_POSITIVE),
            b.setting
        );
    }
}

#[cfg(test)]
mod tests {
    use super::since_ts;

    #[test]
    fn since_takes_a_day_or_a_number_of_days() {
        assert_eq!(since_ts("2026-11-01").unwrap(), "2026-11-01T00:00:00");
        assert!(since_ts("7d").unwrap().ends_with("T00:00:00"));
        assert!(since_ts("0d").unwrap() > since_ts("30d").unwrap());
        let err = since_ts("last week").unwrap_err().to_string();
        assert!(err.contains("YYYY-MM-DD"), "{err}");
    }
}
