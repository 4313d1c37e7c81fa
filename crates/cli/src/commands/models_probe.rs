//! `pryx models test [PROVIDER]`: one tiny real call, to prove a provider is reachable and priced.

use crate::setup;
use anyhow::Context;
use std::process::ExitCode;

/// What `pryx models test --json` prints: the facts of the text form.
#[derive(serde::Serialize)]
struct ProbeReport {
    provider: String,
    /// The provider's kind, e.g. `openai-compatible`.
    kind: String,
    model: String,
    reply: String,
    first_event_ms: u64,
    total_ms: u64,
    tokens_in: u64,
    tokens_out: u64,
    /// `None` when the catalog has no prices for the model.
    cost_usd: Option<f64>,
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub fn run(provider: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let (dir, config) = setup::load_home()?;
    let catalog = setup::load_catalog(&dir, &config)?;
    // A bare provider id without its own default model borrows defaults.model when it names it.
    let requested = match provider {
        Some(p) if !p.contains('/') => {
            let has_default = config
                .providers
                .get(p)
                .is_some_and(|c| c.default_model.is_some());
            match (&config.defaults.model, has_default) {
                (Some(m), false) if m.starts_with(&format!("{p}/")) => Some(m.clone()),
                _ => Some(p.to_string()),
            }
        }
        other => other.map(str::to_string),
    };
    let choice = setup::choose_model(&config, &catalog, requested.as_deref())?;
    if let Some(w) = &choice.warning {
        eprintln!("warning: {w}");
    }
    let (client, _key) = setup::build_probe_provider(&dir, &catalog, &choice)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let probe = runtime.block_on(pryx_core::setup::probe(client.as_ref(), &choice.info))?;
    let usage = &probe.usage;
    let kind = serde_json::to_value(choice.provider.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let report = ProbeReport {
        provider: choice.provider_id.clone(),
        kind,
        model: choice.info.id.clone(),
        reply: probe.reply.clone(),
        first_event_ms: millis(probe.first_event),
        total_ms: millis(probe.total),
        tokens_in: usage.total_input(),
        tokens_out: usage.output,
        cost_usd: probe.cost_usd,
    };
    if json {
        crate::term::out_raw(&serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    crate::term::say!("provider: {} ({})", report.provider, report.kind);
    crate::term::say!("model:    {}", report.model);
    crate::term::say!("reply:    {}", report.reply);
    crate::term::say!(
        "latency:  first event {} ms, total {} ms",
        report.first_event_ms,
        report.total_ms
    );
    crate::term::say!(
        "tokens:   {} in, {} out",
        report.tokens_in,
        report.tokens_out
    );
    if let Some(cost) = report.cost_usd {
        crate::term::say!("cost:     ${cost:.8}");
    } else {
        crate::term::say!(
            "cost:     unknown (no catalog prices for this model; set models.overrides)"
        );
    }
    Ok(ExitCode::SUCCESS)
}
