//! `pryx costs`: what model calls cost, by day, agent, model and session, from the spend ledger
//! (deleted sessions included), and how much of each budget is used.

use crate::setup;
use crate::term::{out_raw, say};
use pryx_core::setup::AuditKeyUse;
use pryx_protocol::api::{CostReport, CostTotal};
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

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (dir, config) = setup::load_home()?;
    let since = args
        .since
        .as_deref()
        .map(|s| pryx_core::costs::since_day(s).map_err(|e| anyhow::anyhow!("--since: {e}")))
        .transpose()?;
    let store = setup::open_store_with(&dir, AuditKeyUse::Verify)?;
    let report = pryx_core::costs::report(&store, &config, since.as_deref())?;
    if args.json {
        out_raw(&serde_json::to_string_pretty(&report)?);
    } else {
        print(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn print(r: &CostReport) {
    if r.total.calls == 0 {
        say!(
            "No model call has cost anything{}.",
            r.since
                .as_deref()
                .map(|s| format!(" since {}", &s[..10]))
                .unwrap_or_default()
        );
    }
    let table = |title: &str, rows: &[CostTotal], cap: usize| {
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
            b.percent(),
            b.setting
        );
    }
}
