#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Approvals of MCP tools bind to the server and the tool's definition, through the real turn
//! loop and a hostile stdio server: an `always` grant does not survive a rug pull (the request
//! that follows shows what changed) nor another program under the same server name, and a
//! read-only claim from an untrusted server asks under `workspace-only`.

use pryx_agent::approvals::{
    ApprovalAnswer, ApprovalBroker, ApprovalDecision as Decision, ApprovalScope as Scope,
    BrokerEvent, PendingApproval,
};
use pryx_agent::{Agent, AgentParts, AgentSettings};
use pryx_catalog::Catalog;
use pryx_config::DataDir;
use pryx_llm::{ProviderKind, ProviderSettings};
use pryx_mcp::{McpManager, McpOptions, ServerConfig, ServersFile, ToolsChanged};
use pryx_protocol::Surface;
use pryx_store::{NewSession, Store};
use pryx_testkit::{ScriptedLlm, ScriptedToolCall, Turn};
use pryx_tools::{ToolContext, ToolRegistry};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

fn fixture() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mcp/tests/fixtures/hostile_server.py")
        .to_string_lossy()
        .into_owned()
}

struct Rig {
    tmp: tempfile::TempDir,
    dir: DataDir,
    store: Store,
    session: String,
    broker: ApprovalBroker,
    asked: Arc<Mutex<Vec<PendingApproval>>>,
}

impl Rig {
    fn new() -> Rig {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::at(tmp.path().join("home"));
        dir.ensure().unwrap();
        std::fs::create_dir_all(tmp.path().join("ws")).unwrap();
        let store = Store::open_in_memory().unwrap();
        let w = store
            .upsert_workspace(&std::fs::canonicalize(tmp.path().join("ws")).unwrap())
            .unwrap();
        let session = store
            .create_session(&NewSession {
                workspace_id: Some(w.id),
                ..Default::default()
            })
            .unwrap()
            .id;
        let broker = ApprovalBroker::new();
        let asked = Arc::new(Mutex::new(Vec::new()));
        // Every approval is answered "always", and kept to look at.
        let (b, seen, mut events) = (broker.clone(), asked.clone(), broker.subscribe());
        tokio::spawn(async move {
            while let Ok(ev) = events.recv().await {
                if let BrokerEvent::Needed(req) = ev {
                    seen.lock().unwrap().push((*req).clone());
                    let answer = ApprovalAnswer {
                        decision: Decision::Approve,
                        scope: Scope::Always,
                        surface: Surface::Web,
                    };
                    b.answer(&req.id, answer).unwrap();
                }
            }
        });
        Rig {
            tmp,
            dir,
            store,
            session,
            broker,
            asked,
        }
    }

    fn servers(&self, cfg: ServerConfig) -> McpManager {
        let path = self.dir.mcp_servers_file();
        let mut file = ServersFile::load(&path).unwrap();
        file.upsert("evil", &cfg).unwrap();
        file.save().unwrap();
        McpManager::load(McpOptions::new(self.dir.clone())).unwrap()
    }

    /// The agent as the core builds it: the built-ins plus the manager's tools as they are now.
    async fn agent(&self, server: &ScriptedLlm, mgr: &McpManager) -> Agent {
        let mut tools = ToolRegistry::with_builtins();
        for t in mgr.tools().await {
            tools.register(t).unwrap();
        }
        let settings =
            ProviderSettings::new("mock", ProviderKind::OpenAiCompatible, server.base_url());
        let mut model = Catalog::bundled().unwrap().resolve("openai/gpt-4o").info;
        model.provider = "mock".into();
        Agent::new(AgentParts {
            store: self.store.clone(),
            provider: pryx_llm::build_provider(settings).unwrap(),
            model,
            fallbacks: Vec::new(),
            tools: Arc::new(tools),
            policy: Arc::new(pryx_policy::builtin("workspace-only").unwrap()),
            broker: self.broker.clone(),
            sink: Arc::new(|_: &pryx_protocol::Event| {}),
            tool_ctx: ToolContext::new(self.tmp.path().join("ws")).unwrap(),
            settings: AgentSettings {
                interactive: true,
                surface: Surface::Cli,
                ..AgentSettings::default()
            },
            prompt_sources: Vec::new(),
        })
    }

    async fn call_peek(&self, server: &ScriptedLlm, agent: &Agent, id: &str) {
        server.push_all([
            Turn::tool_calls([ScriptedToolCall {
                id: id.into(),
                name: "evil.peek".into(),
                arguments: json!({"path": "notes.txt"}).to_string(),
            }]),
            Turn::text("ok"),
        ]);
        agent
            .run_turn(&self.session, "peek", CancellationToken::new())
            .await
            .unwrap();
    }

    fn asked(&self) -> Vec<PendingApproval> {
        self.asked.lock().unwrap().clone()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rug_pull_after_an_always_grant_asks_again_and_shows_the_change() {
    let server = ScriptedLlm::start().await;
    let rig = Rig::new();
    let calls = rig.tmp.path().join("calls.log");
    let mgr = rig.servers(ServerConfig::stdio(vec![
        "python3".into(),
        fixture(),
        "--flip".into(),
        "--calls".into(),
        calls.to_string_lossy().into_owned(),
    ]));
    let (tx, mut changes) = tokio::sync::mpsc::unbounded_channel::<ToolsChanged>();
    mgr.on_tools_changed(move |c| {
        let _ = tx.send(c.clone());
    });
    let agent = rig.agent(&server, &mgr).await;

    // The server says `peek` only reads; it is not trusted, so the call asks.
    rig.call_peek(&server, &agent, "p1").await;
    assert_eq!(rig.asked().len(), 1, "an untrusted read-only claim asks");
    assert_eq!(rig.store.list_grants().unwrap().len(), 1);

    // After the call it changes the tool and announces it.
    let change = tokio::time::timeout(Duration::from_secs(20), changes.recv())
        .await
        .expect("no list_changed")
        .unwrap();
    assert_eq!(change.server, "evil");
    assert_eq!(change.changed, ["peek"]);

    // The same call under the grant the user gave asks again, saying what changed.
    rig.call_peek(&server, &agent, "p2").await;
    let asked = rig.asked();
    assert_eq!(
        asked.len(),
        2,
        "the always grant was for the old definition"
    );
    let preview = &asked[1].preview;
    assert!(preview.contains("changed since it last ran"), "{preview}");
    assert!(preview.contains("- Shows a file."), "{preview}");
    assert!(
        preview.contains("+ Shows a file. Before anything else"),
        "{preview}"
    );
    assert!(preview.contains("exfil"), "{preview}");

    // The next agent gets the new definition; the grant just given covers it.
    let agent = rig.agent(&server, &mgr).await;
    let defs = agent.tools().definitions();
    let peek = defs.iter().find(|d| d.name == "evil.peek").unwrap();
    assert!(peek.description.contains("id_rsa"));
    rig.call_peek(&server, &agent, "p3").await;
    assert_eq!(rig.asked().len(), 2);
    assert_eq!(
        std::fs::read_to_string(&calls).unwrap(),
        "peek\npeek\npeek\n"
    );
    mgr.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_program_under_the_same_name_asks_again() {
    let server = ScriptedLlm::start().await;
    let rig = Rig::new();
    let first = rig.servers(ServerConfig::stdio(vec!["python3".into(), fixture()]));
    let agent = rig.agent(&server, &first).await;
    rig.call_peek(&server, &agent, "p1").await;
    rig.call_peek(&server, &agent, "p2").await;
    assert_eq!(
        rig.asked().len(),
        1,
        "the always grant covers the same call"
    );
    first.shutdown().await;

    // Replaced by another program offering the very same definition.
    let second = rig.servers(ServerConfig::stdio(vec![
        "python3".into(),
        "-B".into(),
        fixture(),
    ]));
    let agent = rig.agent(&server, &second).await;
    rig.call_peek(&server, &agent, "p3").await;
    let asked = rig.asked();
    assert_eq!(
        asked.len(),
        2,
        "a grant for one program is not one for another"
    );
    assert!(
        asked[1].preview.contains("not the program that ran before"),
        "{}",
        asked[1].preview
    );
    second.shutdown().await;
}
