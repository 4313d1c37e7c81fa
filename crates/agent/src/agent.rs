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

/// Spending limits in USD, checked before every model call with the call counted at its worst
/// case (its input now and the whole output cap it asks for), so a turn stops before the call
/// that would pass one, never after.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Budgets {
    /// The session's total (`agent.session_budget_usd`).
    pub session: Option<f64>,
    /// The agent profile's spend per UTC day (`agents.NAME.daily_budget_usd`).
    pub agent_daily: Option<f64>,
    /// All agents per UTC day (`agent.daily_budget_usd`).
    pub daily: Option<f64>,
    /// All agents per UTC calendar month (`agent.monthly_budget_usd`).
    pub monthly: Option<f64>,
}

/// Limits and identity of a run.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    /// The agent profile this runs as (spend is recorded and budgeted under it).
    pub agent: String,
    /// Most model calls in one turn.
    pub max_steps: u32,
    pub budgets: Budgets,
    /// Which surface started the turn (recorded on events and audit rows).
    pub surface: Surface,
    /// The user's home, for `~` in paths.
    pub home: Option<PathBuf>,
    /// Secret values in use (API keys), by name; masked wherever results are recorded and
    /// replaced by a marker naming them in arguments and what approvals show.
    pub known_secrets: Vec<pryx_telemetry::KnownSecret>,
    /// Output token cap asked of the model (further capped by the model's limits).
    pub max_tokens: Option<u32>,
    /// Reasoning budget for models that support it.
    pub thinking_budget: Option<u32>,
    /// When the context is announced and compacted, and how old tool results are pruned.
    pub context: crate::context::ContextSettings,
    /// Whether some surface can answer approvals. When false an `ask` is denied at once with a
    /// message naming the policy setting that would allow the call.
    pub interactive: bool,
}

impl Default for AgentSettings {
    fn default() -> Self {
        AgentSettings {
            agent: "main".to_string(),
            max_steps: 50,
            budgets: Budgets::default(),
            surface: Surface::Cli,
            home: std::env::var_os("HOME").map(PathBuf::from),
            known_secrets: Vec::new(),
            max_tokens: None,
            thinking_budget: None,
            interactive: false,
            context: crate::context::ContextSettings::default(),
        }
    }
}

/// A model a turn can run on: the agent's own, or one of its fallbacks.
#[derive(Clone)]
pub struct ModelChoice {
    pub provider: Arc<dyn Provider>,
    /// Catalog figures (limits, prices); `id` is what the provider is asked for.
    pub model: ModelInfo,
}

/// What an agent is built from. Cloning it is cheap (shared handles), which is how the core
/// derives an agent on another model or policy.
#[derive(Clone)]
pub struct AgentParts {
    pub store: Store,
    pub provider: Arc<dyn Provider>,
    /// Catalog figures of the model (limits, prices); `id` is what the provider is asked for.
    pub model: ModelInfo,
    /// Models a turn goes on with, in order, when a call fails before any of its output was
    /// shown for a reason another model may not share (the profile's `fallbacks`).
    pub fallbacks: Vec<ModelChoice>,
    pub tools: Arc<ToolRegistry>,
    pub policy: Arc<Policy>,
    pub broker: ApprovalBroker,
    pub sink: EventSink,
    /// Workspace, limits, sandbox; `cancel` is replaced per turn.
    pub tool_ctx: ToolContext,
    pub settings: AgentSettings,
    /// Appended to the system prompt, in order, at the start of each turn.
    pub prompt_sources: Vec<PromptSource>,
}

/// One configured agent. Cheap to share behind an `Arc`.
pub struct Agent {
    pub(crate) parts: AgentParts,
    /// The identity of the policy in force ([`crate::approvals::policy_hash`]): standing
    /// grants hold only under the policy they were given under.
    pub(crate) policy_hash: String,
    /// Recent tool calls, for the policy's per-tool rate limits; they belong to the policy that
    /// counted them, so every new agent starts with an empty ledger.
    pub(crate) rate: std::sync::Mutex<pryx_policy::RateLedger>,
    /// Where store calls run (off the async runtime).
    pub(crate) store_worker: Option<crate::store_worker::StoreWorker>,
}

impl Agent {
    pub fn new(parts: AgentParts) -> Agent {
        // The store masks these in everything it writes, for every agent sharing it.
        parts
            .store
            .add_secrets(parts.settings.known_secrets.iter().cloned());
        Agent {
            store_worker: crate::store_worker::StoreWorker::start(parts.store.clone()),
            policy_hash: crate::approvals::policy_hash(&parts.policy),
            parts,
            rate: Default::default(),
        }
    }

    /// Masks the secrets in use; the same one the store writes through.
    pub(crate) fn redactor(&self) -> pryx_telemetry::Redactor {
        self.parts.store.redactor()
    }

    /// The canonical workspace root.
    pub fn workspace(&self) -> &std::path::Path {
        &self.parts.tool_ctx.workspace
    }

    /// The full catalog id, `provider/model`.
    pub fn model_id(&self) -> String {
        self.parts.model.full_id()
    }

    /// Catalog figures of the model in use.
    pub fn model(&self) -> &ModelInfo {
        &self.parts.model
    }

    pub fn settings(&self) -> &AgentSettings {
        &self.parts.settings
    }

    pub fn tools(&self) -> &Arc<ToolRegistry> {
        &self.parts.tools
    }

    pub fn policy(&self) -> &Arc<Policy> {
        &self.parts.policy
    }

    /// The hash identifying the policy in force, which standing grants are bound to.
    pub fn policy_hash(&self) -> &str {
        &self.policy_hash
    }

    pub fn store(&self) -> &Store {
        &self.parts.store
    }

    pub fn broker(&self) -> &ApprovalBroker {
        &self.parts.broker
    }

    /// The same agent (store, broker, sink, tools) under another policy.
    pub fn with_policy(&self, policy: Arc<Policy>) -> Agent {
        Agent::new(AgentParts {
            policy,
            ..self.parts.clone()
        })
    }

    /// The same agent (store, broker, sink, tools, policy) on another model. `known_secret` (the
    /// new provider's key) joins the masked secrets; the old ones stay masked, as history may
    /// hold them.
    pub fn with_model(
        &self,
        provider: Arc<dyn Provider>,
        model: ModelInfo,
        known_secret: Option<pryx_telemetry::KnownSecret>,
    ) -> Agent {
        let mut parts = AgentParts {
            provider,
            model,
            ..self.parts.clone()
        };
        if let Some(secret) = known_secret.filter(|s| !parts.settings.known_secrets.contains(s)) {
            parts.settings.known_secrets.push(secret);
        }
        Agent::new(parts)
    }
}
