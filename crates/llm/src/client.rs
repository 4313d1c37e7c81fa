//! The HTTP client shared by both wire formats: request, retries, timeouts, cancellation and
//! the circuit breaker, driving a [`StreamParser`] over the response body.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::error::{LlmError, TimeoutPhase};
use crate::event::{EventStream, StreamEvent};
use crate::http_error;
use crate::provider::{Provider, ProviderKind, ProviderSettings};
use crate::resilience::{
    Admission, CircuitBreaker, Clock, FailureClass, RetryPolicy, RetryState, SystemClock,
};
use crate::sse::{SseDecoder, SseEvent};
use crate::tool_names::ToolNameMap;
use crate::types::{AssistantPart, ChatRequest, Message};
use crate::wire::{ParserContext, StreamParser, anthropic, openai};

/// A provider client for either wire format.
#[derive(Debug, Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    settings: ProviderSettings,
    http: reqwest::Client,
    headers: HeaderMap,
    policy: RetryPolicy,
    clock: Arc<dyn Clock>,
    breaker: CircuitBreaker,
}

impl Client {
    /// A client with the real clock.
    pub fn new(settings: ProviderSettings, policy: RetryPolicy) -> Result<Self, LlmError> {
        Self::with_clock(settings, policy, Arc::new(SystemClock))
    }

    /// A client whose backoff sleeps and breaker timing come from `clock` (tests use `ManualClock`).
    pub fn with_clock(
        settings: ProviderSettings,
        policy: RetryPolicy,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, LlmError> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .build()
            .map_err(|e| LlmError::Network {
                provider: settings.id.clone(),
                message: error_chain(&e),
            })?;
        let headers = headers(&settings)?;
        let breaker = CircuitBreaker::new(
            policy.breaker_threshold,
            policy.breaker_probe_interval,
            clock.clone(),
        );
        Ok(Client {
            shared: Arc::new(Shared {
                settings,
                http,
                headers,
                policy,
                clock,
                breaker,
            }),
        })
    }

    /// The breaker shared by every call of this provider.
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.shared.breaker
    }
}

fn headers(settings: &ProviderSettings) -> Result<HeaderMap, LlmError> {
    let bad = |what: String| LlmError::BadRequest {
        provider: settings.id.clone(),
        status: 0,
        message: what,
    };
    let mut map = HeaderMap::new();
    map.insert(
        reqwest::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    map.insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_static("text/event-stream"),
    );
    if let Some(key) = &settings.api_key {
        let (name, value) = match settings.kind {
            ProviderKind::OpenAiCompatible => (
                reqwest::header::AUTHORIZATION,
                format!("Bearer {}", key.expose()),
            ),
            ProviderKind::Anthropic => (
                HeaderName::from_static("x-api-key"),
                key.expose().to_string(),
            ),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            bad("the API key contains characters not allowed in an HTTP header; re-enter it".into())
        })?;
        value.set_sensitive(true);
        map.insert(name, value);
    }
    if settings.kind == ProviderKind::Anthropic {
        map.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(anthropic::ANTHROPIC_VERSION),
        );
    }
    for (name, value) in &settings.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| bad(format!("extra header name `{name}` is not a valid HTTP header name; fix the provider settings")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| bad(format!("extra header `{name}` has a value that is not valid in HTTP; fix the provider settings")))?;
        map.insert(name, value);
    }
    Ok(map)
}

/// The error and its causes on one line (reqwest puts the useful part in the sources).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// Every tool name the request mentions, declared or in history.
fn name_map(req: &ChatRequest) -> ToolNameMap {
    let declared = req.tools.iter().map(|t| t.name.as_str());
    let history = req.messages.iter().flat_map(|m| match m {
        Message::Assistant { content } => content
            .iter()
            .filter_map(|p| match p {
                AssistantPart::ToolCall(c) => Some(c.name.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>(),
        _ => Vec::new(),
    });
    ToolNameMap::new(declared.chain(history))
}

impl Provider for Client {
    fn id(&self) -> &str {
        &self.shared.settings.id
    }

    fn stream(&self, request: ChatRequest) -> EventStream {
        let s = &self.shared.settings;
        let names = name_map(&request);
        let (url, body) = match s.kind {
            ProviderKind::OpenAiCompatible => (
                openai::endpoint(&s.base_url),
                openai::request_body(&request, &names),
            ),
            ProviderKind::Anthropic => (
                anthropic::endpoint(&s.base_url),
                anthropic::request_body(&request, &names),
            ),
        };
        let body = Bytes::from(body.to_string());
        let driver = Driver {
            shared: self.shared.clone(),
            url,
            body,
            names,
            cancel: request.cancel,
            response: None,
            decoder: SseDecoder::new(),
            parser: None,
            pending: VecDeque::new(),
            sse: Vec::new(),
            deadline: Instant::now(),
            started: false,
            finished: false,
            retry: RetryState::default(),
            last_error: None,
            deferred: None,
            attempts: 0,
            probing: false,
        };
        Box::pin(futures_util::stream::unfold(driver, |mut d| async move {
            d.next().await.map(|item| (item, d))
        }))
    }
}

/// State of one call across its attempts.
struct Driver {
    shared: Arc<Shared>,
    url: String,
    body: Bytes,
    names: ToolNameMap,
    cancel: CancellationToken,
    response: Option<reqwest::Response>,
    decoder: SseDecoder,
    parser: Option<Box<dyn StreamParser>>,
    pending: VecDeque<StreamEvent>,
    sse: Vec<SseEvent>,
    /// First-token deadline of the current attempt.
    deadline: Instant,
    /// An event reached the caller: no more retries.
    started: bool,
    finished: bool,
    retry: RetryState,
    last_error: Option<LlmError>,
    /// An error found after events of the same chunk; raised once those are delivered.
    deferred: Option<LlmError>,
    attempts: u32,
    /// This attempt is the breaker's half-open probe.
    probing: bool,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if self.probing {
            self.shared.breaker.record_neutral();
        }
    }
}

impl Driver {
    fn provider(&self) -> String {
        self.shared.settings.id.clone()
    }

    async fn next(&mut self) -> Option<Result<StreamEvent, LlmError>> {
        loop {
            if let Some(ev) = self.pending.pop_front() {
                if !self.started {
                    self.started = true;
                    self.probing = false;
                    self.shared.breaker.record_success();
                }
                return Some(Ok(ev));
            }
            if self.finished {
                return None;
            }
            let step = if let Some(err) = self.deferred.take() {
                Err(err)
            } else if self.response.is_none() {
                self.open().await
            } else {
                self.pump().await
            };
            let Err(err) = step else { continue };
            self.response = None;
            if let Some(err) = self.after_failure(err).await {
                self.finished = true;
                return Some(Err(err));
            }
        }
    }

    /// Records a failed attempt and waits before the next one; returns the error to give up with.
    async fn after_failure(&mut self, err: LlmError) -> Option<LlmError> {
        let breaker = &self.shared.breaker;
        if matches!(err, LlmError::CircuitOpen { .. }) {
            // Fail fast, but report the real cause when an earlier attempt of this call failed.
            return Some(self.last_error.take().unwrap_or(err));
        }
        if FailureClass::counts_for_breaker(&err) {
            breaker.record_failure();
        } else if !self.started {
            breaker.record_neutral();
        }
        self.probing = false;
        if self.started || self.cancel.is_cancelled() {
            return Some(err);
        }
        let Some(delay) = self.retry.next_delay(&self.shared.policy, &err) else {
            return Some(err);
        };
        tracing::warn!(provider = %self.shared.settings.id, attempt = self.attempts, delay_ms = delay.as_millis() as u64, error = %err, "model call failed; retrying");
        self.last_error = Some(err);
        let sleep = self.shared.clock.sleep(delay);
        tokio::select! {
            _ = self.cancel.cancelled() => return Some(LlmError::Cancelled),
            _ = sleep => {}
        }
        self.decoder = SseDecoder::new();
        self.parser = None;
        None
    }

    fn new_parser(&self) -> Box<dyn StreamParser> {
        let s = &self.shared.settings;
        let ctx = ParserContext {
            provider: s.id.clone(),
            api_key: s.api_key.as_ref().map(|k| k.expose().to_string()),
        };
        match s.kind {
            ProviderKind::OpenAiCompatible => {
                Box::new(openai::OpenAiParser::new(ctx, self.names.clone()))
            }
            ProviderKind::Anthropic => {
                Box::new(anthropic::AnthropicParser::new(ctx, self.names.clone()))
            }
        }
    }

    fn map_reqwest(&self, e: &reqwest::Error) -> LlmError {
        if e.is_timeout() {
            return LlmError::Timeout {
                provider: self.provider(),
                phase: TimeoutPhase::Connect,
                after: self.shared.settings.connect_timeout,
            };
        }
        LlmError::Network {
            provider: self.provider(),
            message: error_chain(e),
        }
    }

    fn first_token_timeout(&self) -> LlmError {
        LlmError::Timeout {
            provider: self.provider(),
            phase: TimeoutPhase::FirstToken,
            after: self.shared.settings.first_token_timeout,
        }
    }

    /// Sends the request and checks the status.
    async fn open(&mut self) -> Result<(), LlmError> {
        if self.cancel.is_cancelled() {
            return Err(LlmError::Cancelled);
        }
        match self.shared.breaker.admit() {
            Admission::Rejected(retry_in) => {
                return Err(LlmError::CircuitOpen {
                    provider: self.provider(),
                    retry_in,
                });
            }
            Admission::Probe => self.probing = true,
            Admission::Allowed => {}
        }
        self.attempts += 1;
        self.deadline = Instant::now() + self.shared.settings.first_token_timeout;
        let send = self
            .shared
            .http
            .post(&self.url)
            .headers(self.shared.headers.clone())
            .body(self.body.clone())
            .send();
        let response = tokio::select! {
            _ = self.cancel.cancelled() => return Err(LlmError::Cancelled),
            r = tokio::time::timeout_at(self.deadline, send) => match r {
                Err(_) => return Err(self.first_token_timeout()),
                Ok(Err(e)) => return Err(self.map_reqwest(&e)),
                Ok(Ok(resp)) => resp,
            },
        };
        let status = response.status();
        if !status.is_success() {
            let header = |n: &str| {
                response
                    .headers()
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let retry_after = http_error::parse_retry_after(
                header("retry-after").as_deref(),
                header("retry-after-ms").as_deref(),
            );
            let text = tokio::select! {
                _ = self.cancel.cancelled() => return Err(LlmError::Cancelled),
                r = tokio::time::timeout_at(self.deadline, response.text()) => r.ok().and_then(Result::ok).unwrap_or_default(),
            };
            let key = self.shared.settings.api_key.as_ref().map(|k| k.expose());
            return Err(http_error::from_status(
                &self.provider(),
                status.as_u16(),
                &text,
                retry_after,
                key,
            ));
        }
        self.response = Some(response);
        self.decoder = SseDecoder::new();
        self.parser = Some(self.new_parser());
        Ok(())
    }

    /// Reads one body chunk and parses what it completes.
    async fn pump(&mut self) -> Result<(), LlmError> {
        let Some(response) = self.response.as_mut() else {
            return Ok(());
        };
        let chunk = if self.started {
            tokio::select! {
                _ = self.cancel.cancelled() => return Err(LlmError::Cancelled),
                c = response.chunk() => c,
            }
        } else {
            tokio::select! {
                _ = self.cancel.cancelled() => return Err(LlmError::Cancelled),
                c = tokio::time::timeout_at(self.deadline, response.chunk()) => match c {
                    Ok(c) => c,
                    Err(_) => return Err(self.first_token_timeout()),
                },
            }
        };
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                let message = format!("the connection broke while streaming: {}", error_chain(&e));
                return Err(LlmError::Network {
                    provider: self.provider(),
                    message,
                });
            }
        };
        let mut events = Vec::new();
        let Some(parser) = self.parser.as_mut() else {
            return Ok(());
        };
        self.sse.clear();
        match &chunk {
            Some(bytes) => self.decoder.push(bytes, &mut self.sse),
            None => self.decoder.finish(&mut self.sse),
        }
        let mut result = Ok(());
        for sse in &self.sse {
            result = parser.on_event(sse, &mut events);
            if result.is_err() || parser.is_done() {
                break;
            }
        }
        if result.is_ok() && chunk.is_none() && !parser.is_done() {
            result = parser.finish(&mut events);
        }
        if parser.is_done() {
            self.finished = true;
            self.response = None;
        }
        match result {
            Err(err) if !events.is_empty() => {
                self.pending.extend(events);
                self.deferred = Some(err);
                Ok(())
            }
            Err(err) => Err(err),
            Ok(()) => {
                self.pending.extend(events);
                Ok(())
            }
        }
    }
}
