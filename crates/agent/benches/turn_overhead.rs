//! The turn loop's own cost per tool round trip, against a zero-latency in-process model and a
//! no-op tool, so what is measured is the loop: policy, approvals check, persistence (messages,
//! tool calls, spans, events, audit, all with fsync), redaction and prompt assembly.
//!
//! Run: `cargo bench -p pryx-agent --bench turn_overhead`

use async_trait::async_trait;
use futures_util::StreamExt;
use pryx_agent::approvals::ApprovalBroker;
use pryx_agent::{Agent, AgentParts, AgentSettings};
use pryx_llm::{ChatRequest, EventStream, LlmError, Provider, StopReason, StreamEvent, Usage};
use pryx_protocol::ToolKind;
use pryx_store::{NewSession, Store};
use pryx_tools::{Tool, ToolContext, ToolError, ToolOutput, ToolRegistry};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// Answers instantly: `rounds` tool calls, then a final text.
struct InstantModel {
    rounds: usize,
    calls: AtomicUsize,
}

impl Provider for InstantModel {
    fn id(&self) -> &str {
        "instant"
    }
    fn stream(&self, _request: ChatRequest) -> EventStream {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let usage = StreamEvent::Usage(Usage {
            input_tokens: 100,
            output_tokens: 10,
            ..Usage::default()
        });
        let events: Vec<Result<StreamEvent, LlmError>> = if n % (self.rounds + 1) < self.rounds {
            vec![
                Ok(StreamEvent::ToolCallStart {
                    index: 0,
                    id: format!("c{n}"),
                    name: "bench.noop".into(),
                }),
                Ok(StreamEvent::ToolCallDelta {
                    index: 0,
                    arguments: "{\"x\":1}".into(),
                }),
                Ok(StreamEvent::ToolCallEnd { index: 0 }),
                Ok(usage),
                Ok(StreamEvent::Stop(StopReason::ToolUse)),
            ]
        } else {
            vec![
                Ok(StreamEvent::TextDelta("done".into())),
                Ok(usage),
                Ok(StreamEvent::Stop(StopReason::EndTurn)),
            ]
        };
        futures_util::stream::iter(events).boxed()
    }
}

struct Noop;

#[async_trait]
impl Tool for Noop {
    fn name(&self) -> &str {
        "bench.noop"
    }
    fn description(&self) -> &str {
        "Does nothing."
    }
    fn schema(&self) -> Value {
        json!({"type": "object"})
    }
    fn kind(&self) -> ToolKind {
        ToolKind::Read
    }
    fn read_only_hint(&self) -> bool {
        true
    }
    async fn execute(&self, _args: Value, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput::text("ok"))
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let rounds = 20;
    let turns = 10;
    for (label, on_disk) in [
        ("in-memory SQLite", false),
        ("SQLite file (WAL, synchronous=NORMAL)", true),
    ] {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let store = if on_disk {
            Store::open(dir.path().join("bench.db"))
        } else {
            Store::open_in_memory()
        }
        .unwrap_or_else(|e| panic!("{e}"));
        let ws = store
            .upsert_workspace(&std::fs::canonicalize(dir.path()).unwrap_or_else(|e| panic!("{e}")))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut tools = ToolRegistry::with_builtins();
        tools
            .register(Arc::new(Noop))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut model = pryx_catalog::ModelInfo::unknown("instant", "m");
        model.context = 1_000_000;
        let agent = Agent::new(AgentParts {
            store: store.clone(),
            provider: Arc::new(InstantModel {
                rounds,
                calls: AtomicUsize::new(0),
            }),
            model,
            fallbacks: Vec::new(),
            tools: Arc::new(tools),
            policy: Arc::new(
                pryx_policy::builtin("workspace-only").unwrap_or_else(|| panic!("policy")),
            ),
            broker: ApprovalBroker::new(),
            sink: Arc::new(|_| {}),
            tool_ctx: ToolContext::new(dir.path()).unwrap_or_else(|e| panic!("{e}")),
            settings: AgentSettings {
                max_steps: 1000,
                ..AgentSettings::default()
            },
            prompt_sources: Vec::new(),
        });
        let mut per_round = Vec::new();
        for _ in 0..turns {
            let session = store
                .create_session(&NewSession {
                    workspace_id: Some(ws.id.clone()),
                    title: String::new(),
                    model: None,
                    ..Default::default()
                })
                .unwrap_or_else(|e| panic!("{e}"));
            let start = Instant::now();
            let report = rt
                .block_on(agent.run_turn(&session.id, "bench", CancellationToken::new()))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(report.tool_calls as usize, rounds);
            per_round.push(start.elapsed().as_secs_f64() * 1000.0 / rounds as f64);
        }
        per_round.sort_by(f64::total_cmp);
        let median = per_round[per_round.len() / 2];
        println!(
            "{label}: {rounds} tool round trips per turn, {turns} turns: median {median:.3} ms, best {:.3} ms, worst {:.3} ms per round trip",
            per_round[0],
            per_round[per_round.len() - 1]
        );
    }
}
