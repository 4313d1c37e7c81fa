//! A tool call a client asks for itself, outside a model's turn (an MCP client of Pryx's server
//! mode): judged, approved, contained, recorded and audited exactly like a model's call.

use crate::agent::Agent;
use crate::error::AgentError;
use crate::tool_call::CallEnd;
use crate::turn::TurnCtx;
use pryx_store::{SpanEnd, SpanKind, SpanStatus};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// What a direct tool call returned: the text a model would have seen, and whether it failed
/// (refused by the policy, denied, or failed while running).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutcome {
    pub content: String,
    pub is_error: bool,
}

impl Agent {
    /// Runs tool `name` with `arguments` in `session_id` for a client. The call's spans hang
    /// under a root span of its own, as a turn's do (the agent's surface names who asked). Cancelling `cancel` ends an approval wait or the run as
    /// cancelled. Only a broken invariant is an `Err`; everything the caller can act on (unknown
    /// tool, bad arguments, refused, denied) is an outcome marked as an error.
    pub async fn call_tool(
        &self,
        session_id: &str,
        name: &str,
        arguments: &Value,
        cancel: CancellationToken,
    ) -> Result<ToolOutcome, AgentError> {
        let span = self
            .start_span(
                session_id,
                None,
                SpanKind::Turn,
                &format!("direct {name}"),
                json!({"surface": self.parts.settings.surface.as_str(), "direct": true}),
            )
            .await?;
        let turn = TurnCtx {
            session_id,
            span: &span,
            cancel: &cancel,
            model: Default::default(),
            warnings: Default::default(),
            for_model: false,
        };
        let call = pryx_llm::ToolCall {
            id: uuid::Uuid::now_v7().to_string(),
            name: name.to_string(),
            arguments: arguments.to_string(),
        };
        let result = self.handle_tool_call(&turn, None, &call).await;
        let status = match &result {
            Ok(r) => match (&r.end, r.is_error) {
                (CallEnd::Cancelled, _) => SpanStatus::Cancelled,
                (CallEnd::Fatal(_), _) | (CallEnd::Continue, true) => SpanStatus::Error,
                (CallEnd::Continue, false) => SpanStatus::Ok,
            },
            Err(_) => SpanStatus::Error,
        };
        self.end_span(&span.id, SpanEnd::status(status)).await?;
        let result = result?;
        match result.end {
            CallEnd::Fatal(message) => Err(AgentError::FatalTool {
                tool: name.to_string(),
                message,
            }),
            CallEnd::Continue | CallEnd::Cancelled => Ok(ToolOutcome {
                content: result.content,
                is_error: result.is_error,
            }),
        }
    }
}
