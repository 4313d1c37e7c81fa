//! Wire formats: request bodies and stream parsers for each provider family.

pub mod anthropic;
pub mod openai;

use crate::error::LlmError;
use crate::event::StreamEvent;
use crate::sse::SseEvent;

/// Turns decoded SSE events of one response into provider-neutral events.
pub trait StreamParser: Send {
    /// Handles one SSE event, appending the resulting events to `out`.
    fn on_event(&mut self, event: &SseEvent, out: &mut Vec<StreamEvent>) -> Result<(), LlmError>;

    /// The body ended; emits what is still pending or reports a stream cut short.
    fn finish(&mut self, out: &mut Vec<StreamEvent>) -> Result<(), LlmError>;

    /// The server ignored `stream: true` and answered with one JSON document (a whole chat
    /// completion or message): emits the events a stream of that answer would have carried
    /// and completes the response.
    fn on_document(&mut self, body: &[u8], out: &mut Vec<StreamEvent>) -> Result<(), LlmError>;

    /// The provider said the response is complete; later bytes are ignored.
    fn is_done(&self) -> bool;
}

/// Who we are talking to, for error messages and key redaction.
#[derive(Debug, Clone, Default)]
pub struct ParserContext {
    pub provider: String,
    pub api_key: Option<String>,
}

impl ParserContext {
    pub(crate) fn protocol(&self, message: impl Into<String>) -> LlmError {
        LlmError::Protocol {
            provider: self.provider.clone(),
            message: message.into(),
        }
    }
}
