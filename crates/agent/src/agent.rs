//! The agent: everything one turn needs, wired once per session.

use crate::approvals::ApprovalBroker;
use pryx_catalog::ModelInfo;
use pryx_llm::Provider;
use pryx_policy::Policy;
use pryx_protocol::{Event, Surface};
use pryx_store::Store;
use pryx_tools::{ToolContext, ToolRegistry};
use std::path::PathBuf;
use std::sync::Arc;

/// Receives every event as it happens (persisted ones carry their version; deltas do not).
pub type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;

/// Extra system-prompt text computed at the start of every turn (e.g. the skills block, which
/// picks up changes on disk). Must be deterministic for unchanged inputs, for prompt caching.
pub type PromptSource = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// Limits and identity of a run.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    /// Most model calls in one turn.
    pub max_steps: u32,
    /// Stop the turn once the session has cost this much (USD).
    pub session_budget_usd: Option<f64>,
    /// Which surface started the turn (recorded on events and audit rows).
    pub surface: Surface,
    /// The user's home, for `~` in paths.
    pub home: Option<PathBuf>,
    /// Secret values in use (API keys); masked wherever arguments or results are recorded.
    pub known_secrets: Vec<String>,
    /// Output token cap asked of the model (further capped by the model's limits).
    pub max_tokens: Option<u32>,
    /// Reasoning budget for models that support it.
    pub thinking_budget: Option<u32>,
    /// Whether some surface can answer approvals. When false an `ask` is denied at once with a
    /// message naming the policy setting that would allow the call.
    pub interactive: bool,
}

impl Default for AgentSettings {
    fn default() -> Self {
        AgentSettings {
            max_steps: 50,
            session_budget_usd: None,
            surface: Surface::Cli,
            home: std::env::var_os("HOME").map(PathBuf::from),
            known_secrets: Vec::new(),
            max_tokens: None,
            thinking_budget: None,
            interactive: false,
        }
    }
}

/// One configured agent. Cheap to share behind an `Arc`.
pub struct Agent {
    pub store: Store,
    pub provider: Arc<dyn Provider>,
    /// Catalog figures of the model (limits, prices); `id` is what the provider is asked for.
    pub model: ModelInfo,
    pub tools: Arc<ToolRegistry>,
    pub policy: Arc<Policy>,
    pub broker: ApprovalBroker,
    pub sink: EventSink,
    /// Workspace, limits, sandbox; `cancel` is replaced per turn.
    pub tool_ctx: ToolContext,
    pub settings: AgentSettings,
    /// Appended to the system prompt, in order, at the start of each turn.
    pub prompt_sources: Vec<PromptSource>,
    /// Recent tool calls, for the policy's per-tool rate limits (start with `Default::default()`).
    pub rate: std::sync::Mutex<pryx_policy::RateLedger>,
}

impl Agent {
    /// The canonical workspace root.
    pub fn workspace(&self) -> &std::path::Path {
        &self.tool_ctx.workspace
    }

    /// The full catalog id, `provider/model`.
    pub fn model_id(&self) -> String {
        self.model.full_id()
    }

    /// The same agent (store, broker, sink, tools) under another policy. The rate ledger starts
    /// empty: its limits belong to the policy that counted them.
    pub fn with_policy(&self, policy: Arc<Policy>) -> Agent {
        Agent {
            store: self.store.clone(),
            provider: self.provider.clone(),
            model: self.model.clone(),
            tools: self.tools.clone(),
            policy,
            broker: self.broker.clone(),
            sink: self.sink.clone(),
            tool_ctx: self.tool_ctx.clone(),
            settings: self.settings.clone(),
            prompt_sources: self.prompt_sources.clone(),
            rate: Default::default(),
        }
    }

    /// The same agent (store, broker, sink, tools, policy) on another model. `known_secret` (the
    /// new provider's key) joins the masked secrets; the old ones stay masked, as history may
    /// hold them. The rate ledger starts empty, as for a new agent.
    pub fn with_model(
        &self,
        provider: Arc<dyn Provider>,
        model: ModelInfo,
        known_secret: Option<String>,
    ) -> Agent {
        let mut settings = self.settings.clone();
        if let Some(secret) = known_secret.filter(|s| !settings.known_secrets.contains(s)) {
            settings.known_secrets.push(secret);
        }
        Agent {
            store: self.store.clone(),
            provider,
            model,
            tools: self.tools.clone(),
            policy: self.policy.clone(),
            broker: self.broker.clone(),
            sink: self.sink.clone(),
            tool_ctx: self.tool_ctx.clone(),
            settings,
            prompt_sources: self.prompt_sources.clone(),
            rate: Default::default(),
        }
    }
}
