//! The agents a core runs: one per (profile, workspace, model, policy) in use, built on demand
//! from the current settings and rebuilt when they change. A running turn keeps the agent it
//! started with.

use crate::live::{Live, Snapshot};
use crate::mcp_host::McpHost;
use crate::profiles::Profile;
use crate::setup::{self, SetupError};
use pryx_agent::approvals::ApprovalBroker;
use pryx_agent::{Agent, AgentParts, AgentSettings, EventSink, PromptSource};
use pryx_store::Store;
use pryx_tools::{SandboxLauncher, Tool, ToolContext, ToolRegistry};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What one session's turn runs with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Spec {
    pub agent: String,
    pub workspace: PathBuf,
    /// `provider/model`.
    pub model: String,
    pub policy: String,
}

/// Largest instructions file taken into the prompt.
const INSTRUCTIONS_CAP: usize = 32 * 1024;

/// Agents by spec, for one (settings generation, MCP tool-list changes).
type Built = ((u64, u64), HashMap<Spec, Arc<Agent>>);

/// Everything agents share, and the agents built so far for the current settings.
pub struct Pool {
    pub store: Store,
    pub broker: ApprovalBroker,
    pub sink: EventSink,
    /// Surface, interactivity and home; limits come from the profile.
    pub base: AgentSettings,
    pub sandbox: Option<SandboxLauncher>,
    /// Every session's background processes (the `process.*` tools).
    pub processes: pryx_tools::process::ProcessTable,
    built: Mutex<Built>,
}

impl Pool {
    pub fn new(
        store: Store,
        broker: ApprovalBroker,
        sink: EventSink,
        base: AgentSettings,
        sandbox: Option<SandboxLauncher>,
        processes: pryx_tools::process::ProcessTable,
    ) -> Pool {
        Pool {
            store,
            broker,
            sink,
            base,
            sandbox,
            processes,
            built: Mutex::new(((0, 0), HashMap::new())),
        }
    }

    /// The agent for `spec` under the current settings, built if needed.
    pub async fn agent(
        &self,
        live: &Live,
        mcp: &McpHost,
        snap: &Arc<Snapshot>,
        profile: &Profile,
        spec: &Spec,
    ) -> Result<Arc<Agent>, SetupError> {
        // A server that changed its tools makes every agent built before offer stale ones.
        let generation = (snap.generation, mcp.changes());
        {
            let mut built = self.built.lock().unwrap_or_else(|e| e.into_inner());
            if built.0 != generation {
                *built = (generation, HashMap::new());
            }
            if let Some(a) = built.1.get(spec) {
                return Ok(a.clone());
            }
        }
        let mcp_tools = mcp.tools(live, snap, &profile.workspace).await;
        let agent = Arc::new(self.build(live, snap, profile, spec, mcp_tools.tools)?);
        // With a server missing, the next turn builds again (and tries that server again).
        if !mcp_tools.incomplete {
            let mut built = self.built.lock().unwrap_or_else(|e| e.into_inner());
            if built.0 == generation {
                built.1.insert(spec.clone(), agent.clone());
            }
        }
        Ok(agent)
    }

    fn build(
        &self,
        live: &Live,
        snap: &Snapshot,
        profile: &Profile,
        spec: &Spec,
        mcp_tools: Vec<Arc<dyn Tool>>,
    ) -> Result<Agent, SetupError> {
        let dir = live.dir();
        let config = &snap.config;
        let catalog = snap.catalog(dir)?;
        let choice = setup::choose_model(config, &catalog, Some(&spec.model))?;
        if let Some(w) = &choice.warning {
            tracing::warn!(model = %spec.model, "{w}");
        }
        let (provider, key) = setup::build_provider(dir, &catalog, &choice)?;
        // Keys of other providers, MCP tokens… may surface in any session's history.
        self.store.add_secrets(setup::stored_secrets(dir));
        let mut policy = setup::load_policy(dir, &spec.policy)?;
        // A policy file that sets its own timeout wins over the config's general one.
        if policy.approval.timeout_secs == pryx_policy::DEFAULT_APPROVAL_TIMEOUT_SECS {
            policy.approval.timeout_secs = config.agent.approval_timeout_secs;
        }
        // The data dir holds the secret store and the policies: no tool may reach it, even when
        // the workspace contains it (Pryx run from the home directory).
        let mut tool_ctx = ToolContext::new(&spec.workspace)
            .map_err(|e| SetupError::Invalid(format!("cannot use the workspace: {e}")))?
            .with_protected([dir.root().to_path_buf()]);
        tool_ctx.sandbox = self.sandbox.clone();
        tool_ctx.processes = Some(self.processes.clone());

        let mut offered: Vec<Arc<dyn Tool>> = Vec::new();
        let mut prompt_sources: Vec<PromptSource> = Vec::new();
        if config.skills.enabled {
            let index = Arc::new(pryx_skills::SkillIndex::open(
                spec.workspace.clone(),
                dir.clone(),
            ));
            offered.extend(pryx_skills::tools(index.clone()));
            let only = profile.skills.clone();
            prompt_sources.push(Arc::new(move || {
                index.refresh();
                let catalog = index.catalog();
                match &only {
                    Some(names) => {
                        let chosen: Vec<_> = catalog
                            .skills
                            .iter()
                            .filter(|s| names.iter().any(|n| n == s.name()))
                            .cloned()
                            .collect();
                        pryx_skills::prompt_block(&chosen)
                    }
                    None => pryx_skills::prompt_block(&catalog.skills),
                }
            }));
        }
        if let Some(file) = &profile.instructions {
            let path = spec.workspace.join(file);
            let root = spec.workspace.clone();
            prompt_sources.push(Arc::new(move || instructions(&root, &path)));
        }
        offered.extend(mcp_tools);
        let mut tools = ToolRegistry::with_builtins();
        // The policy's exact local addresses are the only ones on this machine or the local
        // network that `http.request` will connect to.
        tools.replace(Arc::new(pryx_tools::http::HttpRequest::reaching(
            policy.local_addresses("http.request"),
        )));
        for tool in pryx_tools::process::tools() {
            // Names of their own: never taken by a built-in.
            let _ = tools.register(tool);
        }
        for tool in offered {
            // An extension never replaces a tool already offered (a built-in above all).
            if let Err(e) = tools.register(tool) {
                tracing::warn!("a skill or MCP tool is left out: {e}");
            }
        }
        if let Some(allowed) = &profile.tools {
            let names: Vec<String> = tools.names().map(str::to_string).collect();
            for name in names.iter().filter(|n| !allowed_tool(allowed, n)) {
                tools.remove(name);
            }
        }
        let mut settings = self.base.clone();
        settings.agent = profile.id.clone();
        settings.max_steps = profile.max_steps;
        let compact_at = f64::from(config.agent.compact_at_percent) / 100.0;
        settings.context = pryx_agent::ContextSettings {
            warn_at: (compact_at - 0.1).min(0.8),
            compact_at,
            prune_step: config.agent.prune_after_turns,
        };
        settings.budgets = pryx_agent::Budgets {
            session: profile.session_budget_usd,
            agent_daily: profile.daily_budget_usd,
            daily: config.agent.daily_budget_usd,
            monthly: config.agent.monthly_budget_usd,
        };
        // A model the user chose for the session is theirs: only the profile's own model
        // hands over to the profile's fallbacks.
        let mut fallbacks = Vec::new();
        if profile.model.as_deref() == Some(spec.model.as_str()) {
            for id in &profile.fallbacks {
                let built = setup::choose_model(config, &catalog, Some(id))
                    .and_then(|c| setup::build_provider(dir, &catalog, &c).map(|p| (c, p)));
                match built {
                    Ok((c, (provider, key))) => {
                        if let Some(k) =
                            key.filter(|k| !settings.known_secrets.iter().any(|s| &s.value == k))
                        {
                            settings
                                .known_secrets
                                .push(pryx_telemetry::KnownSecret::new(c.provider_id.clone(), k));
                        }
                        fallbacks.push(pryx_agent::ModelChoice {
                            provider,
                            model: c.info,
                        });
                    }
                    Err(e) => {
                        tracing::warn!(agent = %profile.id, fallback = %id, error = %e, "fallback model left out")
                    }
                }
            }
        }
        // The provider's key is marked with the provider's id (`‹secret:openai›`).
        if let Some(k) = key.filter(|k| !settings.known_secrets.iter().any(|s| &s.value == k)) {
            settings
                .known_secrets
                .push(pryx_telemetry::KnownSecret::new(
                    choice.provider_id.clone(),
                    k,
                ));
        }
        Ok(Agent::new(AgentParts {
            store: self.store.clone(),
            provider,
            model: choice.info,
            fallbacks,
            tools: Arc::new(tools),
            policy: Arc::new(policy),
            broker: self.broker.clone(),
            sink: self.sink.clone(),
            tool_ctx,
            settings,
            prompt_sources,
        }))
    }
}

/// `name` matches an allow-list entry: the exact name, or `prefix.*` for a whole server.
fn allowed_tool(allowed: &[String], name: &str) -> bool {
    allowed.iter().any(|a| match a.strip_suffix(".*") {
        Some(prefix) => name
            .strip_prefix(prefix)
            .is_some_and(|r| r.starts_with('.')),
        None => a == name,
    })
}

/// The profile's instructions file, when it is a file inside the workspace (symlinks out of it
/// are not followed), capped at [`INSTRUCTIONS_CAP`] bytes on a char boundary.
fn instructions(root: &Path, path: &Path) -> Option<String> {
    let real = std::fs::canonicalize(path).ok()?;
    if !real.starts_with(root) || !real.is_file() {
        tracing::warn!(file = %path.display(), "agent instructions file is missing or outside the workspace; skipped");
        return None;
    }
    let text = std::fs::read_to_string(&real).ok()?;
    let mut end = text.len().min(INSTRUCTIONS_CAP);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(format!(
        "<agent-instructions source=\"{}\">\n{}\n</agent-instructions>",
        path.strip_prefix(root).unwrap_or(path).display(),
        &text[..end]
    ))
}

#[cfg(test)]
mod tests {
    use super::allowed_tool;

    #[test]
    fn allow_list_takes_names_and_server_wildcards() {
        let allowed = vec!["fs.read".to_string(), "github.*".to_string()];
        assert!(allowed_tool(&allowed, "fs.read"));
        assert!(allowed_tool(&allowed, "github.create_issue"));
        assert!(!allowed_tool(&allowed, "fs.write"));
        assert!(!allowed_tool(&allowed, "githubx.y"));
        assert!(!allowed_tool(&allowed, "github"));
    }
}
