//! `pryx audit list|verify`: read and check the hash-chained audit log.

use crate::setup;
use std::process::ExitCode;

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
    /// Recompute the hash chain; names every edited, deleted or reordered row. Exits 1 if broken.
    Verify {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (dir, _config) = setup::load_home()?;
    let store = setup::open_store(&dir)?;
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
                crate::term::out_raw(&serde_json::json!({
                        "intact": report.is_intact(), "rows_checked": report.rows_checked,
                        "head_hash": report.head_hash, "append_only_guard": report.append_only_guard,
                        "problems": report.problems.iter().map(|p| serde_json::json!({
                            "seq": p.seq, "id": p.id, "kind": format!("{:?}", p.kind).to_lowercase(), "detail": p.detail,
                        })).collect::<Vec<_>>(),
                    }).to_string());
            } else if report.is_intact() {
                crate::term::say!(
                    "✓ audit log intact: {} rows, head {}",
                    report.rows_checked,
                    report.head_hash
                );
            } else {
                crate::term::say!("✗ audit log broken ({} rows checked):", report.rows_checked);
                for p in &report.problems {
                    crate::term::say!(
                        "  row seq {} id {}: {:?}: {}",
                        p.seq,
                        p.id,
                        p.kind,
                        p.detail
                    );
                }
                if !report.append_only_guard {
                    crate::term::say!(
                        "  the append-only guard triggers are missing: the database was altered outside Pryx"
                    );
                }
            }
            Ok(if report.is_intact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}
