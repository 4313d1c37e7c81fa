//! Parsing throughput of both stream formats for a 10k-token answer.
//! Run with `cargo bench -p pryx-llm --bench parse`.

use std::hint::black_box;
use std::time::Instant;

use pryx_llm::sse::SseDecoder;
use pryx_llm::tool_names::ToolNameMap;
use pryx_llm::wire::anthropic::AnthropicParser;
use pryx_llm::wire::openai::OpenAiParser;
use pryx_llm::wire::{ParserContext, StreamParser};

const TOKENS: usize = 10_000;
const WORDS: [&str; 8] = [
    " the", " model", " streams", " tokens", " quickly", ",", " and", " well",
];

fn openai_stream() -> String {
    let mut s = String::new();
    for i in 0..TOKENS {
        s += &format!(
            "data: {{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{}\"}},\"finish_reason\":null}}],\"usage\":null}}\n\n",
            WORDS[i % WORDS.len()]
        );
    }
    s += "data: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n";
    s += "data: {\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":10000}}\n\ndata: [DONE]\n\n";
    s
}

fn anthropic_stream() -> String {
    let mut s = String::from(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n\
         event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
    );
    for i in 0..TOKENS {
        s += &format!(
            "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{}\"}}}}\n\n",
            WORDS[i % WORDS.len()]
        );
    }
    s += "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n";
    s += "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":10000}}\n\n";
    s += "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    s
}

/// Parses `input` in 1 KiB network-sized chunks; returns the number of events produced.
fn parse(input: &[u8], parser: &mut dyn StreamParser) -> usize {
    let mut decoder = SseDecoder::new();
    let mut sse = Vec::new();
    let mut events = Vec::new();
    for chunk in input.chunks(1024) {
        sse.clear();
        if decoder.push(chunk, &mut sse).is_err() {
            return 0;
        }
        for e in &sse {
            if parser.on_event(e, &mut events).is_err() {
                return 0;
            }
        }
    }
    sse.clear();
    if decoder.finish(&mut sse).is_err() {
        return 0;
    }
    for e in &sse {
        let _ = parser.on_event(e, &mut events);
    }
    let _ = parser.finish(&mut events);
    events.len()
}

fn measure(name: &str, input: &str, make: &dyn Fn() -> Box<dyn StreamParser>) {
    let iterations = 30;
    // Warm-up.
    let events = parse(input.as_bytes(), make().as_mut());
    let start = Instant::now();
    for _ in 0..iterations {
        black_box(parse(black_box(input.as_bytes()), make().as_mut()));
    }
    let secs = start.elapsed().as_secs_f64();
    let per_run = secs / f64::from(iterations);
    println!(
        "{name:<10} {TOKENS} tokens, {:>7.2} MB, {events} events: {:>6.2} ms/stream, {:>10.0} events/s, {:>7.1} MB/s",
        input.len() as f64 / 1e6,
        per_run * 1e3,
        events as f64 / per_run,
        input.len() as f64 / 1e6 / per_run,
    );
}

fn main() {
    let ctx = ParserContext {
        provider: "bench".into(),
        api_key: None,
    };
    let openai = openai_stream();
    let anthropic = anthropic_stream();
    let c = ctx.clone();
    measure("openai", &openai, &move || {
        Box::new(OpenAiParser::new(c.clone(), ToolNameMap::default()))
    });
    measure("anthropic", &anthropic, &move || {
        Box::new(AnthropicParser::new(ctx.clone(), ToolNameMap::default()))
    });
}
