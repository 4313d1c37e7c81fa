//! `pryx audit list|verify`: read and check the keyed, anchored audit log.

use crate::setup;
use pryx_core::setup::AuditKeyUse;
use pryx_store::AuditReport;
use std::process::ExitCode;

/// Problems printed as text; `--json` lists all (a replaced key fails every keyed row).
const SHOWN_PROBLEMS: usize = 50;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Show the latest audit entries, oldest first.
    List {
        /// Only entries of this session.
        #[arg(long)]
        session: Option<String>,
        /// How many entries (latest ones).
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Check the whole log: hash chain, MACs, the anchor and the append-only triggers. Names
    /// every edited, forged, deleted or malformed row, a cut or wiped log and altered triggers.
    /// Exits 1 if anything is wrong.
    Verify {
        /// One JSON object: the counts and every problem with its kind, seq and message.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (dir, _config) = setup::load_home()?;
    // Reading never creates the audit key: a new key would make every row keyed with a lost one
    // look forged instead of reporting the key as missing.
    let store = setup::open_store_with(&dir, AuditKeyUse::Verify)?;
    match args.command {
        Sub::List {
            session,
            limit,
            json,
        } => {
            for r in store.list_audit(session.as_deref(), limit)? {
                if json {
                    crate::term::out_raw(&serde_json::json!({
                            "seq": r.seq, "id": r.id, "timestamp": r.timestamp, "actor": r.entry.actor,
                            "action": r.entry.action, "resource_type": r.entry.resource_type,
                            "resource_id": r.entry.resource_id, "session_id": r.entry.session_id,
                            "details": r.entry.details, "outcome": r.entry.outcome, "hash": r.hash,
                        }).to_string());
                } else {
                    crate::term::say!(
                        "{:>6}  {}  {:<20} {:<10} {}  {}",
                        r.seq,
                        r.timestamp,
                        r.entry.action,
                        r.entry.outcome,
                        r.entry
                            .details
                            .get("tool")
                            .and_then(|v| v.as_str())
                            .unwrap_or("-"),
                        r.entry.session_id.as_deref().unwrap_or("-"),
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Sub::Verify { json } => {
            let report = store.verify_audit()?;
            if json {
                crate::term::out_raw(&report_json(&report).to_string());
            } else {
                print_report(&report);
            }
            Ok(if report.is_intact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

fn report_json(report: &AuditReport) -> serde_json::Value {
    let mut v = serde_json::to_value(report).unwrap_or_default();
    v["intact"] = report.is_intact().into();
    if let Some(list) = v["problems"].as_array_mut() {
        for (p, problem) in list.iter_mut().zip(&report.problems) {
            p["message"] = problem.to_string().into();
        }
    }
    v
}

fn print_report(report: &AuditReport) {
    let rows = format!(
        "{} rows ({} legacy unkeyed, {} keyed)",
        report.rows_checked, report.legacy_rows, report.keyed_rows
    );
    if report.is_intact() {
        let anchored = report
            .anchored_seq
            .map_or_else(String::new, |s| format!(", anchored at seq {s}"));
        crate::term::say!(
            "✓ audit log intact: {rows}, head seq {} {}{anchored}",
            report.head_seq,
            report.head_hash
        );
        return;
    }
    crate::term::say!(
        "✗ audit log broken: {} problem(s) in {rows}:",
        report.problems.len()
    );
    for p in report.problems.iter().take(SHOWN_PROBLEMS) {
        crate::term::say!("  - {p}");
    }
    if report.problems.len() > SHOWN_PROBLEMS {
        crate::term::say!(
            "  … and {} more (`pryx audit verify --json` lists all)",
            report.problems.len() - SHOWN_PROBLEMS
        );
    }
}
