//! The provider boundary: one trait, plain settings, and a constructor.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::error::LlmError;
use crate::event::{EventStream, collect};
use crate::types::{ChatRequest, ChatResponse};

/// A model provider. Implementations handle wire format, retries, timeouts and cancellation.
pub trait Provider: Send + Sync {
    /// The provider id from the settings (`openai`, `anthropic`, `ollama`, ...).
    fn id(&self) -> &str;

    /// Starts a call; events arrive as the model produces them.
    fn stream(&self, request: ChatRequest) -> EventStream;

    /// Runs a call to completion.
    fn complete(&self, request: ChatRequest) -> BoxFuture<'_, Result<ChatResponse, LlmError>> {
        let stream = self.stream(request);
        Box::pin(collect(stream))
    }

    /// The model ids the provider serves (`GET …/models`), for servers whose models the catalog
    /// cannot know (Ollama, LM Studio, vLLM). Providers that cannot list answer with none.
    fn list_models(&self) -> BoxFuture<'_, Result<Vec<String>, LlmError>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// Which wire format the provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// Chat Completions: OpenAI, OpenRouter, Groq, DeepSeek, Together, Mistral, LM Studio, vLLM, Ollama `/v1`.
    OpenAiCompatible,
    /// Anthropic Messages.
    Anthropic,
}

/// An API key that never shows up in `Debug` output or error messages.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }

    /// The key itself; only for putting it in a request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(***)")
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        SecretString(value)
    }
}

/// How to reach one provider. Built by the caller from its configuration.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub id: String,
    pub kind: ProviderKind,
    /// API root including the version segment, e.g. `https://api.openai.com/v1`,
    /// `https://api.anthropic.com/v1` (for Anthropic a root without `/v1` also works).
    pub base_url: String,
    /// `None` for local servers that need no key.
    pub api_key: Option<SecretString>,
    /// Extra headers sent on every request (e.g. OpenRouter `HTTP-Referer`).
    pub headers: Vec<(String, String)>,
    pub connect_timeout: Duration,
    /// Longest wait from sending the request to the first streamed event.
    pub first_token_timeout: Duration,
    /// Longest silence once the answer has started: after the first event, the call fails with
    /// [`TimeoutPhase::Idle`](crate::TimeoutPhase::Idle) when no complete line of the stream
    /// arrives for this long. Bytes that do not finish a line do not count, so a server
    /// dribbling an endless line cannot keep a turn alive. Never retried: output already
    /// reached the caller, and a second attempt would repeat it.
    pub stream_idle_timeout: Duration,
    /// Longest a whole call may take, from the first request to the end of the answer, retries
    /// and their waits included. Catches what the other limits cannot: a server that keeps
    /// sending one token just inside the idle timeout, forever. Fails with
    /// [`TimeoutPhase::Call`](crate::TimeoutPhase::Call), never retried.
    pub call_timeout: Duration,
}

/// The default overall limit of one call: generous, since a long reasoning answer can take
/// many minutes, but finite.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30 * 60);

impl ProviderSettings {
    /// Settings with default timeouts (10 s connect, 120 s first token, 60 s idle mid-stream,
    /// 30 min for the whole call) and no extra headers.
    pub fn new(id: impl Into<String>, kind: ProviderKind, base_url: impl Into<String>) -> Self {
        ProviderSettings {
            id: id.into(),
            kind,
            base_url: base_url.into(),
            api_key: None,
            headers: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            first_token_timeout: Duration::from_secs(120),
            stream_idle_timeout: Duration::from_secs(60),
            call_timeout: DEFAULT_CALL_TIMEOUT,
        }
    }

    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::new(key));
        self
    }
}

/// Builds the client for these settings with the default retry policy and real clock.
pub fn build_provider(settings: ProviderSettings) -> Result<Arc<dyn Provider>, LlmError> {
    build_provider_with(settings, crate::resilience::RetryPolicy::default())
}

/// As [`build_provider`], with another retry policy (e.g. [`crate::RetryPolicy::none`] for a
/// connection test).
pub fn build_provider_with(
    settings: ProviderSettings,
    policy: crate::resilience::RetryPolicy,
) -> Result<Arc<dyn Provider>, LlmError> {
    let client = crate::client::Client::new(settings, policy)?;
    Ok(Arc::new(client))
}
