//! A 500-turn session: what assembling each turn's request costs (loading the conversation
//! from SQLite, then pruning, summary and pins applied, and the size estimate) and how many
//! bytes each request carries, raw, with old tool results pruned, and with compaction at 90 %
//! of a 128k window on top.
//!
//! Run: `cargo bench -p pryx-agent --bench long_session`

use pryx_agent::ContextSettings;
use pryx_agent::context::{Conversation, assemble, load, request_tokens};
use pryx_llm::{AssistantPart, Message, ToolCall};
use pryx_store::{
    CompactionTrigger, MessageUsage, NewCompaction, NewMessage, NewSession, Role, Store,
};
use std::time::Instant;

const TURNS: usize = 500;
const WINDOW: u64 = 128_000;

fn stored(store: &Store, session: &str, message: &Message) {
    store
        .append_message(&NewMessage {
            session_id: session.to_string(),
            role: Role::from(message.role()),
            content: serde_json::to_value(message).unwrap_or_default(),
            text: message.text(),
            tool_call_id: None,
            model: None,
            usage: MessageUsage::default(),
        })
        .unwrap_or_else(|e| panic!("store: {e}"));
}

/// One turn: a request, a file read, its 6 KB result, an answer.
fn turn(n: usize) -> [Message; 4] {
    [
        Message::user(format!(
            "Turn {n}: look at src/module{n}.rs and tell me what the parser does with nested blocks, then suggest a fix. {}",
            "Context about the task. ".repeat(8)
        )),
        Message::Assistant {
            content: vec![AssistantPart::ToolCall(ToolCall {
                id: format!("call{n}"),
                name: "fs.read".into(),
                arguments: format!(r#"{{"path":"src/module{n}.rs"}}"#),
            })],
        },
        Message::tool_result(
            format!("call{n}"),
            format!(
                "fn parse_{n}() {{\n{}}}\n",
                "    let x = tokens.next()?; // parse a block\n".repeat(130)
            ),
            false,
        ),
        Message::assistant(format!(
            "The parser in module {n} recurses once per block. {}",
            "It should keep a stack instead. ".repeat(14)
        )),
    ]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn bytes(messages: &[Message]) -> usize {
    serde_json::to_string(messages).map_or(0, |s| s.len())
}

fn main() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let store = Store::open(dir.path().join("pryx.db")).unwrap_or_else(|e| panic!("store: {e}"));
    let session = store
        .create_session(&NewSession::default())
        .unwrap_or_else(|e| panic!("session: {e}"))
        .id;
    let settings = ContextSettings::default();
    let raw_settings = ContextSettings {
        prune_step: 0,
        ..settings
    };
    let system = "x".repeat(6_000);
    let tools = "y".repeat(12_000);
    let (mut load_ms, mut assemble_ms) = (Vec::new(), Vec::new());
    let (mut raw, mut pruned, mut compacted) = (Vec::new(), Vec::new(), Vec::new());
    let mut compactions = 0;
    for n in 1..=TURNS {
        let [user, call, result, answer] = turn(n);
        stored(&store, &session, &user);

        // What each turn does before its model call: load, then assemble and size.
        let t0 = Instant::now();
        let conv = load(&store, &session).unwrap_or_else(|e| panic!("load: {e}"));
        let t1 = Instant::now();
        let messages = assemble(&conv, &settings).messages;
        let tokens = request_tokens(&system, &tools, &messages);
        let t2 = Instant::now();
        load_ms.push((t1 - t0).as_secs_f64() * 1e3);
        assemble_ms.push((t2 - t1).as_secs_f64() * 1e3);
        pruned.push(bytes(&messages));
        raw.push(bytes(&assemble(&conv, &raw_settings).messages));

        // With compaction: past 90 % a (2 KB) summary replaces everything before this request.
        if tokens as f64 >= 0.9 * WINDOW as f64 {
            let latest = conv.entries.last().map_or(0, |e| e.seq);
            store
                .add_compaction(&NewCompaction {
                    session_id: session.clone(),
                    through_seq: latest - 1,
                    summary: "## Goal\n- fix the parsers\n".repeat(80),
                    messages: latest - 1,
                    tokens_before: tokens,
                    tokens_after: 0,
                    model: "bench/model".into(),
                    tokens_in: 0,
                    tokens_out: 0,
                    cost_usd: 0.0,
                    trigger: CompactionTrigger::Auto,
                })
                .unwrap_or_else(|e| panic!("compaction: {e}"));
            compactions += 1;
            let conv: Conversation = load(&store, &session).unwrap_or_else(|e| panic!("load: {e}"));
            compacted.push(bytes(&assemble(&conv, &settings).messages));
        } else {
            compacted.push(pruned[n - 1]);
        }
        for m in [call, result, answer] {
            stored(&store, &session, &m);
        }
    }
    for v in [&mut load_ms, &mut assemble_ms] {
        v.sort_by(f64::total_cmp);
    }
    println!("{TURNS}-turn session (each turn: a request, a 6 KB file read, an answer)");
    println!(
        "load from SQLite per turn:        p50 {:.3} ms  p95 {:.3} ms  max {:.3} ms",
        percentile(&load_ms, 0.5),
        percentile(&load_ms, 0.95),
        percentile(&load_ms, 1.0)
    );
    println!(
        "assemble + size per model call:   p50 {:.3} ms  p95 {:.3} ms  max {:.3} ms  (goal ≤ 2 ms)",
        percentile(&assemble_ms, 0.5),
        percentile(&assemble_ms, 0.95),
        percentile(&assemble_ms, 1.0)
    );
    let total: Vec<f64> = load_ms
        .iter()
        .zip(&assemble_ms)
        .map(|(a, b)| a + b)
        .collect();
    let mut total = total;
    total.sort_by(f64::total_cmp);
    println!(
        "both, per turn:                   p50 {:.3} ms  p95 {:.3} ms",
        percentile(&total, 0.5),
        percentile(&total, 0.95)
    );
    println!("messages bytes sent at turn       100        250        500");
    for (name, v) in [
        ("raw (nothing pruned)", &raw),
        ("old results pruned", &pruned),
        ("pruned + compaction at 90 %", &compacted),
    ] {
        println!(
            "  {name:<30} {:>9} {:>10} {:>10}",
            v[99],
            v[249],
            v[TURNS - 1]
        );
    }
    let mean = |v: &[usize]| v.iter().sum::<usize>() / v.len();
    println!(
        "mean bytes per request: raw {}, pruned {}, pruned + compaction {} ({compactions} compactions)",
        mean(&raw),
        mean(&pruned),
        mean(&compacted)
    );
}
