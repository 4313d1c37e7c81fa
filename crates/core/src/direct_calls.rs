//! Tool calls a client makes itself, outside a model's turn (MCP clients of Pryx's server
//! mode): the session's agent runs them through its policy, approvals and containment.

use crate::{Core, CoreError};
use pryx_agent::ToolOutcome;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

impl Core {
    /// Runs tool `name` in `session_id` with the session's agent (its workspace, policy and
    /// tools), asking for approval on every surface when the policy says so.
    pub async fn call_tool(
        &self,
        session_id: &str,
        name: &str,
        arguments: &Value,
        cancel: CancellationToken,
    ) -> Result<ToolOutcome, CoreError> {
        if self.is_shutting_down() {
            return Err(CoreError::ShuttingDown);
        }
        let agent = self.session_agent(session_id).await?;
        Ok(agent.call_tool(session_id, name, arguments, cancel).await?)
    }
}
