//! "Would this be allowed?": a call judged by the agent a turn would use (its tools, workspace,
//! containment and rate limits), under its policy or another one, without running anything.
//! Before a provider is set up there is no agent yet: the call is then judged the same way
//! against the built-in tools, in the profile's workspace.

use crate::core::Core;
use crate::error::CoreError;
use pryx_policy::Action;
use pryx_protocol::ErrorCode;
use pryx_protocol::api::{PolicyAction, PolicyCheck, PolicyCheckRequest};

impl Core {
    pub async fn check_call(&self, req: &PolicyCheckRequest) -> Result<PolicyCheck, CoreError> {
        if let Some(name) = &req.policy {
            let name = name.clone();
            self.blocking(move |core| core.check_policy(&name).map(|_| ()))
                .await?;
        }
        if let Some(name) = &req.agent {
            // An agent that is not configured is an error here, not the main agent.
            self.profile(Some(name))?;
        }
        if !req.arguments.is_object() {
            return Err(CoreError::Invalid(format!(
                "the arguments of {} must be a JSON object",
                req.tool
            )));
        }
        let agent = match self
            .agent_with(req.agent.as_deref(), None, None, req.policy.clone())
            .await
        {
            Ok(agent) => agent,
            Err(e) if e.code() == ErrorCode::ProviderNotConfigured => {
                return self.check_without_agent(req);
            }
            Err(e) => return Err(e),
        };
        let decision = agent
            .judge(&req.tool, &req.arguments)
            .map_err(CoreError::Invalid)?;
        Ok(answer(
            decision,
            agent.policy().name.clone(),
            agent.workspace(),
        ))
    }

    /// The same judgement with the built-in tools, for a core with no provider yet.
    fn check_without_agent(&self, req: &PolicyCheckRequest) -> Result<PolicyCheck, CoreError> {
        let profile = self.profile(req.agent.as_deref())?;
        let name = req.policy.clone().unwrap_or_else(|| profile.policy.clone());
        let policy = crate::setup::load_policy(self.dir(), &name)?;
        let tools = pryx_tools::ToolRegistry::with_builtins();
        let sandbox = self.sandbox();
        let home = self.inner.pool.base.home.clone();
        let decision = pryx_agent::judge(
            &pryx_agent::Judged {
                policy: &policy,
                workspace: &profile.workspace,
                home: home.as_deref(),
                sandbox: sandbox.as_ref(),
            },
            &req.tool,
            tools.get(&req.tool).as_deref(),
            &req.arguments,
            None,
        );
        Ok(answer(decision, policy.name, &profile.workspace))
    }
}

fn answer(
    decision: pryx_policy::Decision,
    policy: String,
    workspace: &std::path::Path,
) -> PolicyCheck {
    PolicyCheck {
        action: match decision.action {
            Action::Allow => PolicyAction::Allow,
            Action::Ask => PolicyAction::Ask,
            Action::Deny => PolicyAction::Deny,
        },
        rule: decision.rule,
        reason: decision.reason,
        details: decision.details,
        policy,
        workspace: workspace.display().to_string(),
    }
}
