//! `pryx trace <id>`: a turn's spans as a tree — the turn, its model calls, tool calls and
//! approval waits — with how each ended, how long it took, its tokens and cost, and the error
//! it met. The id is the one errors show (any unique start or end of it, 6 characters at
//! least). Read
//! from the database directly (read-only), so it works with or without a running core.

use crate::term::{out, out_raw};
use anyhow::{Context, bail};
use pryx_config::DataDir;
use pryx_store::{Span, Store};
use std::collections::HashMap;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The trace id, or a unique start or end of it (errors show its end).
    id: String,
    /// The spans as JSON.
    #[arg(long)]
    json: bool,
}

fn seconds(s: &Span) -> Option<f64> {
    let parse = |t: &str| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    };
    let (a, b) = (parse(&s.started_at)?, parse(s.ended_at.as_deref()?)?);
    Some((b - a).as_seconds_f64())
}

fn line(s: &Span) -> String {
    let kind = s.kind.as_str();
    let mut text = if s.name == kind {
        format!("{kind} — {}", s.status.as_str())
    } else {
        format!("{kind} {} — {}", s.name, s.status.as_str())
    };
    match seconds(s) {
        Some(t) => text.push_str(&format!(", {t:.2} s")),
        None => text.push_str(", not ended"),
    }
    if let (Some(i), Some(o)) = (s.tokens_in, s.tokens_out)
        && i + o > 0
    {
        text.push_str(&format!(", {i} in / {o} out"));
    }
    if let Some(c) = s.cost_usd.filter(|c| *c > 0.0) {
        text.push_str(&format!(", ${c:.4}"));
    }
    if let Some(e) = s.attributes.get("error").and_then(|e| e.as_str()) {
        text.push_str(&format!("\n    error: {e}"));
    }
    text
}

fn print_tree(spans: &[Span]) {
    let ids: std::collections::HashSet<&str> = spans.iter().map(|s| s.id.as_str()).collect();
    let mut children: HashMap<&str, Vec<&Span>> = HashMap::new();
    let mut roots = Vec::new();
    for s in spans {
        match s.parent_id.as_deref().filter(|p| ids.contains(p)) {
            Some(p) => children.entry(p).or_default().push(s),
            None => roots.push(s),
        }
    }
    fn walk(s: &Span, depth: usize, children: &HashMap<&str, Vec<&Span>>) {
        let pad = "  ".repeat(depth);
        for (i, l) in line(s).lines().enumerate() {
            out(&format!("{pad}{}{l}", if i == 0 { "" } else { "  " }));
        }
        for c in children.get(s.id.as_str()).into_iter().flatten() {
            walk(c, depth + 1, children);
        }
    }
    for r in roots {
        walk(r, 0, &children);
    }
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let wanted: String = args.id.trim().to_ascii_lowercase();
    if wanted.len() < 6 || !wanted.chars().all(|c| c.is_ascii_hexdigit()) {
        bail!(
            "{:?} is not a trace id: give the id an error showed (6 hex digits at least)",
            args.id
        );
    }
    let dir = DataDir::locate()?;
    let store = Store::open_read_only(dir.database_file())
        .with_context(|| format!("cannot read the database in {}", dir.root().display()))?;
    let found = store.traces_matching(&wanted, 2)?;
    let id = match found.as_slice() {
        [] => bail!("no trace starts or ends with {wanted}"),
        [one] => one.clone(),
        _ => bail!("more than one trace starts or ends with {wanted}: give more of its id"),
    };
    let spans = store.list_trace(&id)?;
    if args.json {
        out_raw(&serde_json::to_string(&spans)?);
        return Ok(ExitCode::SUCCESS);
    }
    let session = spans.iter().find_map(|s| s.session_id.clone());
    out(&format!(
        "trace {id}{}",
        session
            .map(|s| format!(" (session {s})"))
            .unwrap_or_default()
    ));
    print_tree(&spans);
    Ok(ExitCode::SUCCESS)
}
