//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use pryx_llm::resilience::ManualClock;
use pryx_llm::sse::SseDecoder;
use pryx_llm::tool_names::ToolNameMap;
use pryx_llm::wire::{
    ParserContext, StreamParser, anthropic::AnthropicParser, openai::OpenAiParser,
};
use pryx_llm::{Client, LlmError, ProviderKind, ProviderSettings, RetryPolicy, StreamEvent};

/// Feeds `input` in pieces of `piece` bytes through the SSE decoder and a parser.
pub fn run_parser(
    parser: &mut dyn StreamParser,
    input: &[u8],
    piece: usize,
) -> (Vec<StreamEvent>, Option<LlmError>) {
    let mut dec = SseDecoder::new();
    let mut events = Vec::new();
    let mut sse = Vec::new();
    for chunk in input.chunks(piece.max(1)) {
        sse.clear();
        if let Err(e) = dec.push(chunk, &mut sse) {
            return (events, Some(too_large(e)));
        }
        for e in &sse {
            if parser.is_done() {
                break;
            }
            if let Err(err) = parser.on_event(e, &mut events) {
                return (events, Some(err));
            }
        }
    }
    sse.clear();
    if let Err(e) = dec.finish(&mut sse) {
        return (events, Some(too_large(e)));
    }
    for e in &sse {
        if let Err(err) = parser.on_event(e, &mut events) {
            return (events, Some(err));
        }
    }
    let err = parser.finish(&mut events).err();
    (events, err)
}

/// The error the client reports for an oversized SSE line or event.
fn too_large(e: pryx_llm::sse::SseTooLarge) -> LlmError {
    LlmError::Protocol {
        provider: "test".into(),
        message: e.to_string(),
    }
}

pub fn ctx() -> ParserContext {
    ParserContext {
        provider: "test".into(),
        api_key: Some("sk-test-secret".into()),
    }
}

pub fn openai_parser(names: &[&str]) -> OpenAiParser {
    OpenAiParser::new(ctx(), ToolNameMap::new(names.iter().copied()))
}

pub fn anthropic_parser(names: &[&str]) -> AnthropicParser {
    AnthropicParser::new(ctx(), ToolNameMap::new(names.iter().copied()))
}

/// A retry policy with the default delays; sleeps go to the manual clock, so nothing waits.
pub fn client(kind: ProviderKind, base_url: &str) -> (Client, ManualClock) {
    client_with(kind, base_url, |s| s)
}

pub fn client_with(
    kind: ProviderKind,
    base_url: &str,
    tweak: impl FnOnce(ProviderSettings) -> ProviderSettings,
) -> (Client, ManualClock) {
    let clock = ManualClock::new();
    let settings =
        tweak(ProviderSettings::new("scripted", kind, base_url).with_api_key("sk-test-secret"));
    let client =
        Client::with_clock(settings, RetryPolicy::default(), Arc::new(clock.clone())).unwrap();
    (client, clock)
}

pub fn secs(list: &[u64]) -> Vec<Duration> {
    list.iter().map(|s| Duration::from_secs(*s)).collect()
}
