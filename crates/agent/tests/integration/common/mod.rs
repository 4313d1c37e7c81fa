//! The agent in process against the scripted LLM server: a store in memory, a workspace in a
//! temp dir, every event collected, approvals answered by a task.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use pryx_agent::approvals::{
    ApprovalAnswer, ApprovalBroker, ApprovalDecision as Decision, ApprovalScope as Scope,
    BrokerEvent,
};
use pryx_agent::{Agent, AgentParts, AgentSettings};
use pryx_catalog::Catalog;
use pryx_llm::{ProviderKind, ProviderSettings};
use pryx_protocol::{Event, Surface};
use pryx_store::{NewSession, Store};
use pryx_testkit::{ScriptedLlm, ScriptedToolCall};
use pryx_tools::{ToolContext, ToolRegistry};
use std::sync::Arc;

pub struct Rig {
    pub agent: Agent,
    pub parts: AgentParts,
    pub session: String,
    /// Every event the agent emitted, in order.
    pub events: tokio::sync::mpsc::UnboundedReceiver<Event>,
    pub ws: tempfile::TempDir,
}

impl Rig {
    /// Rebuilds the agent with changed parts (limits, model figures).
    pub fn tune(&mut self, f: impl FnOnce(&mut AgentParts)) {
        f(&mut self.parts);
        self.agent = Agent::new(self.parts.clone());
    }

    /// Waits for the first event matching `want`.
    pub async fn wait_for(&mut self, want: impl Fn(&Event) -> bool) -> Event {
        loop {
            let e = self
                .events
                .recv()
                .await
                .expect("the agent's sink was dropped");
            if want(&e) {
                return e;
            }
        }
    }
}

pub fn rig(server: &ScriptedLlm, policy: pryx_policy::Policy, interactive: bool) -> Rig {
    let ws = tempfile::tempdir().unwrap();
    let store = Store::open_in_memory().unwrap();
    let w = store
        .upsert_workspace(&std::fs::canonicalize(ws.path()).unwrap())
        .unwrap();
    let session = store
        .create_session(&NewSession {
            workspace_id: Some(w.id),
            title: String::new(),
            model: None,
            ..Default::default()
        })
        .unwrap()
        .id;
    let settings = ProviderSettings::new("mock", ProviderKind::OpenAiCompatible, server.base_url());
    let mut model = Catalog::bundled().unwrap().resolve("openai/gpt-4o").info;
    model.provider = "mock".into();
    let (tx, events) = tokio::sync::mpsc::unbounded_channel();
    let parts = AgentParts {
        store,
        provider: pryx_llm::build_provider(settings).unwrap(),
        model,
        fallbacks: Vec::new(),
        tools: Arc::new(ToolRegistry::with_builtins()),
        policy: Arc::new(policy),
        broker: ApprovalBroker::new(),
        sink: Arc::new(move |e: &Event| {
            let _ = tx.send(e.clone());
        }),
        tool_ctx: ToolContext::new(ws.path()).unwrap(),
        settings: AgentSettings {
            interactive,
            surface: Surface::Cli,
            ..AgentSettings::default()
        },
        prompt_sources: Vec::new(),
    };
    Rig {
        agent: Agent::new(parts.clone()),
        parts,
        session,
        events,
        ws,
    }
}

pub fn workspace_only() -> pryx_policy::Policy {
    pryx_policy::builtin("workspace-only").unwrap()
}

pub fn call(id: &str, name: &str, args: serde_json::Value) -> ScriptedToolCall {
    ScriptedToolCall {
        id: id.into(),
        name: name.into(),
        arguments: args.to_string(),
    }
}

/// Answers every approval with `answer`, counting how many were asked.
pub fn auto_answer(
    broker: &ApprovalBroker,
    decision: Decision,
    scope: Scope,
) -> Arc<std::sync::atomic::AtomicUsize> {
    let asked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = asked.clone();
    let b = broker.clone();
    let mut events = broker.subscribe();
    tokio::spawn(async move {
        while let Ok(ev) = events.recv().await {
            if let BrokerEvent::Needed(req) = ev {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                b.answer(
                    &req.id,
                    ApprovalAnswer {
                        decision,
                        scope,
                        surface: Surface::Web,
                    },
                )
                .unwrap();
            }
        }
    });
    asked
}

pub fn last_tool_result(server: &ScriptedLlm) -> String {
    let reqs = server.requests();
    let msgs = reqs.last().unwrap().body["messages"]
        .as_array()
        .unwrap()
        .clone();
    msgs.iter().rev().find(|m| m["role"] == "tool").unwrap()["content"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Answers every approval with `decision`/`scope` and keeps each question as it was asked.
pub fn record_answers(
    broker: &ApprovalBroker,
    decision: Decision,
    scope: Scope,
) -> Arc<std::sync::Mutex<Vec<pryx_protocol::api::PendingApproval>>> {
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = asked.clone();
    let b = broker.clone();
    let mut events = broker.subscribe();
    tokio::spawn(async move {
        while let Ok(ev) = events.recv().await {
            if let BrokerEvent::Needed(req) = ev {
                seen.lock().unwrap().push((*req).clone());
                b.answer(
                    &req.id,
                    ApprovalAnswer {
                        decision,
                        scope,
                        surface: Surface::Web,
                    },
                )
                .unwrap();
            }
        }
    });
    asked
}

/// Every event the agent emitted so far.
pub fn drain(events: &mut tokio::sync::mpsc::UnboundedReceiver<Event>) -> Vec<Event> {
    let mut out = Vec::new();
    while let Ok(e) = events.try_recv() {
        out.push(e);
    }
    out
}

/// The tool definitions as the model receives them.
pub fn tool_specs(agent: &Agent) -> Vec<pryx_llm::ToolSpec> {
    agent
        .tools()
        .definitions()
        .into_iter()
        .map(|d| pryx_llm::ToolSpec {
            name: d.name,
            description: d.description,
            parameters: d.parameters,
        })
        .collect()
}
