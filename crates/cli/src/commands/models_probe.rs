//! `pryx models test [PROVIDER]`: one tiny real call, to prove a provider is reachable and priced.

use crate::setup;
use anyhow::Context;
use futures_util::StreamExt;
use pryx_catalog::{TokenUsage, cost_usd};
use pryx_llm::{ChatRequest, Message, ResponseCollector};
use std::process::ExitCode;
use std::time::Instant;

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
    let (client, _key) = setup::build_provider(&dir, &catalog, &choice)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let request = ChatRequest {
        model: choice.info.id.clone(),
        messages: vec![Message::user("Reply with the single word: pong")],
        max_tokens: Some(16),
        ..ChatRequest::default()
    };
    let started = Instant::now();
    let (response, first) = runtime.block_on(async {
        let mut stream = client.stream(request);
        let mut collector = ResponseCollector::new();
        let mut first = None;
        while let Some(item) = stream.next().await {
            let event = item?;
            first.get_or_insert_with(|| started.elapsed());
            collector.push(&event);
        }
        Ok::<_, pryx_llm::LlmError>((collector.finish(), first))
    })?;
    let total = started.elapsed();
    let u = &response.usage;
    let usage = TokenUsage {
        input: u.input_tokens,
        output: u.output_tokens,
        cache_read: u.cache_read_tokens,
        cache_write: u.cache_write_tokens,
        reasoning: u.reasoning_tokens,
    };
    let cost = cost_usd(&choice.info, &usage);
    let kind = serde_json::to_value(choice.provider.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    println!("provider: {} ({kind})", choice.provider_id);
    println!("model:    {}", choice.info.id);
    println!("reply:    {}", response.text().trim());
    println!(
        "latency:  first event {} ms, total {} ms",
        first.map_or(0, |d| d.as_millis()),
        total.as_millis()
    );
    println!("tokens:   {} in, {} out", usage.total_input(), usage.output);
    if choice.info.cost.known {
        println!("cost:     ${cost:.8}");
    } else {
        println!("cost:     unknown (no catalog prices for this model; set models.overrides)");
    }
    Ok(ExitCode::SUCCESS)
}
