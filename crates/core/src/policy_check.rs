//! "Would this be allowed?": a call judged by the agent a turn would use (its tools, workspace,
//! containment and rate limits), under its policy or another one, without running anything.

use crate::core::Core;
use crate::error::CoreError;
use pryx_policy::Action;
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
        let agent = self
            .agent_with(req.agent.as_deref(), None, None, req.policy.clone())
            .await?;
        let decision = agent
            .judge(&req.tool, &req.arguments)
            .map_err(CoreError::Invalid)?;
        Ok(PolicyCheck {
            action: match decision.action {
                Action::Allow => PolicyAction::Allow,
                Action::Ask => PolicyAction::Ask,
                Action::Deny => PolicyAction::Deny,
            },
            rule: decision.rule,
            reason: decision.reason,
            details: decision.details,
            policy: agent.policy().name.clone(),
            workspace: agent.workspace().display().to_string(),
        })
    }
}
