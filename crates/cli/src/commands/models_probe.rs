//! `pryx models test [PROVIDER]`: one tiny real call, to prove a provider is reachable and priced.

use crate::setup;
use anyhow::Context;
use std::process::ExitCode;

pub fn run(provider: Option<&str>) -> anyhow::Result<ExitCode> {
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
    println!("provider: {} ({kind})", choice.provider_id);
    println!("model:    {}", choice.info.id);
    crate::term::say!("reply:    {}", probe.reply);
    println!(
        "latency:  first event {} ms, total {} ms",
        probe.first_event.as_millis(),
        probe.total.as_millis()
    );
    println!("tokens:   {} in, {} out", usage.total_input(), usage.output);
    if let Some(cost) = probe.cost_usd {
        println!("cost:     ${cost:.8}");
    } else {
        println!("cost:     unknown (no catalog prices for this model; set models.overrides)");
    }
    Ok(ExitCode::SUCCESS)
}
