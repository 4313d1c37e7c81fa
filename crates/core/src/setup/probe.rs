//! One tiny real call to a provider: proves it is reachable, the key works and the model is priced.

use futures_util::StreamExt;
use pryx_catalog::{ModelInfo, TokenUsage, cost_usd};
use pryx_llm::{ChatRequest, LlmError, Message, Provider, ResponseCollector};
use std::time::{Duration, Instant};

/// What the call returned and what it cost.
#[derive(Debug, Clone)]
pub struct Probe {
    pub reply: String,
    /// Until the first streamed event.
    pub first_event: Duration,
    pub total: Duration,
    pub usage: TokenUsage,
    /// `None` when the catalog has no prices for the model.
    pub cost_usd: Option<f64>,
}

/// Asks `model` for one word (at most 16 tokens) and measures the answer.
pub async fn probe(client: &dyn Provider, model: &ModelInfo) -> Result<Probe, LlmError> {
    let request = ChatRequest {
        model: model.id.clone(),
        messages: vec![Message::user("Reply with the single word: pong")],
        max_tokens: Some(16),
        ..ChatRequest::default()
    };
    let started = Instant::now();
    let mut stream = client.stream(request);
    let mut collector = ResponseCollector::new();
    let mut first = None;
    while let Some(item) = stream.next().await {
        let event = item?;
        first.get_or_insert_with(|| started.elapsed());
        collector.push(&event);
    }
    let total = started.elapsed();
    let response = collector.finish();
    let u = &response.usage;
    let usage = TokenUsage {
        input: u.input_tokens,
        output: u.output_tokens,
        cache_read: u.cache_read_tokens,
        cache_write: u.cache_write_tokens,
        reasoning: u.reasoning_tokens,
    };
    Ok(Probe {
        reply: response.text().trim().to_string(),
        first_event: first.unwrap_or(total),
        total,
        cost_usd: model.cost.known.then(|| cost_usd(model, &usage)),
        usage,
    })
}
