//! The HTTP client shared by both wire formats: request, retries, timeouts, cancellation and
//! the circuit breaker, driving a [`StreamParser`] over the response body.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::error::{LlmError, TimeoutPhase};
use crate::event::{EventStream, StreamEvent};
use crate::http_error;
use crate::provider::{Provider, ProviderKind, ProviderSettings};
use crate::resilience::{
    Admission, CircuitBreaker, Clock, FailureClass, RetryPolicy, RetryState, SystemClock,
};
use crate::sse::{MAX_EVENT_BYTES, SseDecoder, SseEvent};
use crate::tool_names::ToolNameMap;
use crate::types::ChatRequest;
use crate::wire::{ParserContext, StreamParser, anthropic, openai};

mod model_list;
mod request;

use request::{error_chain, headers, name_map};

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
        let http = pryx_http::builder()
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

/// Reads at most `cap` bytes of a body and leaves the rest unread (the connection is dropped
/// with the response). A broken connection or `deadline` ends the read quietly: this is only
/// used to explain an error, and a partial explanation beats none.
async fn read_capped(response: &mut reqwest::Response, cap: usize, deadline: Instant) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < cap {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                let room = cap - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            _ => break,
        }
    }
    body
}

/// How the body of a successful answer is decoded, chosen from its content type.
enum Decoding {
    /// An event stream (also anything not declared as JSON, as servers mislabel streams).
    Sse(SseDecoder),
    /// `application/json`: the server ignored `stream: true` and sends the whole answer as one
    /// document, collected here (at most [`MAX_EVENT_BYTES`]) and parsed at its end. A body
    /// that does not start with `{` is an event stream mislabelled as JSON and is decoded as one.
    Document(Vec<u8>),
}

/// True for `application/json` and `application/*+json`, parameters aside.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl Provider for Client {
    fn id(&self) -> &str {
        &self.shared.settings.id
    }

    fn list_models(&self) -> futures_util::future::BoxFuture<'_, Result<Vec<String>, LlmError>> {
        Box::pin(self.fetch_models())
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
            decoding: Decoding::Sse(SseDecoder::new()),
            content_type: None,
            parser: None,
            pending: VecDeque::new(),
            sse: Vec::new(),
            deadline: Instant::now(),
            call_deadline: Instant::now() + s.call_timeout,
            progress_at: Instant::now(),
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
    decoding: Decoding,
    /// The content type of the current answer, for naming it in errors.
    content_type: Option<String>,
    parser: Option<Box<dyn StreamParser>>,
    pending: VecDeque<StreamEvent>,
    sse: Vec<SseEvent>,
    /// First-token deadline of the current attempt.
    deadline: Instant,
    /// The end of the whole call's time (`call_timeout` from its start); every wait is cut there.
    call_deadline: Instant,
    /// When the stream last made progress (completed a line). Once output started, the next
    /// progress is due within `stream_idle_timeout` of this.
    progress_at: Instant,
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
            _ = tokio::time::sleep_until(self.call_deadline) => {
                return Some(self.timeout(TimeoutPhase::Call));
            }
            _ = sleep => {}
        }
        self.decoding = Decoding::Sse(SseDecoder::new());
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
            return self.timeout(TimeoutPhase::Connect);
        }
        LlmError::Network {
            provider: self.provider(),
            message: error_chain(e),
        }
    }

    fn timeout(&self, phase: TimeoutPhase) -> LlmError {
        let s = &self.shared.settings;
        let after = match phase {
            TimeoutPhase::Connect => s.connect_timeout,
            TimeoutPhase::FirstToken => s.first_token_timeout,
            TimeoutPhase::Idle => s.stream_idle_timeout,
            TimeoutPhase::Call => s.call_timeout,
        };
        LlmError::Timeout {
            provider: self.provider(),
            phase,
            after,
        }
    }

    /// A wait until `until`, cut short by the overall call deadline when that comes first.
    fn bounded(&self, until: Instant, phase: TimeoutPhase) -> (Instant, TimeoutPhase) {
        if self.call_deadline <= until {
            (self.call_deadline, TimeoutPhase::Call)
        } else {
            (until, phase)
        }
    }

    fn protocol(&self, message: String) -> LlmError {
        LlmError::Protocol {
            provider: self.provider(),
            message,
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
        let (until, phase) = self.bounded(self.deadline, TimeoutPhase::FirstToken);
        let mut response = tokio::select! {
            _ = self.cancel.cancelled() => return Err(LlmError::Cancelled),
            r = tokio::time::timeout_at(until, send) => match r {
                Err(_) => return Err(self.timeout(phase)),
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
            let body = tokio::select! {
                _ = self.cancel.cancelled() => return Err(LlmError::Cancelled),
                b = read_capped(&mut response, http_error::MAX_ERROR_BODY, until) => b,
            };
            // Dropping the response here abandons whatever of the body was not read.
            drop(response);
            let key = self.shared.settings.api_key.as_ref().map(|k| k.expose());
            return Err(http_error::from_status(
                &self.provider(),
                status.as_u16(),
                &String::from_utf8_lossy(&body),
                retry_after,
                key,
            ));
        }
        self.content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            // Only ever quoted in messages; a header can be long.
            .map(|v| v.trim().chars().take(100).collect());
        self.decoding = match self.content_type.as_deref() {
            Some(ct) if is_json(ct) => Decoding::Document(Vec::new()),
            _ => Decoding::Sse(SseDecoder::new()),
        };
        self.response = Some(response);
        self.parser = Some(self.new_parser());
        Ok(())
    }

    /// Says what the server declared when its answer could not be read as an event stream.
    fn name_content_type(&self, err: LlmError) -> LlmError {
        match (err, self.content_type.as_deref()) {
            (LlmError::Protocol { provider, message }, Some(ct))
                if !ct.to_ascii_lowercase().starts_with("text/event-stream") =>
            {
                LlmError::Protocol {
                    provider,
                    message: format!(
                        "{message} (the answer's content type is `{ct}`, not `text/event-stream`)"
                    ),
                }
            }
            (err, _) => err,
        }
    }

    /// Reads one body chunk and parses what it completes.
    ///
    /// Before output starts, the wait is bounded by the first-token deadline; after, by
    /// `stream_idle_timeout` counted from the last progress (a completed line), so a server
    /// that goes silent mid-answer, or dribbles bytes that never finish a line, ends the call.
    /// Either wait is cut short by the overall call deadline.
    async fn pump(&mut self) -> Result<(), LlmError> {
        let (until, phase) = if self.started {
            let idle = self.shared.settings.stream_idle_timeout;
            self.bounded(self.progress_at + idle, TimeoutPhase::Idle)
        } else {
            self.bounded(self.deadline, TimeoutPhase::FirstToken)
        };
        let Some(response) = self.response.as_mut() else {
            return Ok(());
        };
        let chunk = tokio::select! {
            _ = self.cancel.cancelled() => return Err(LlmError::Cancelled),
            c = tokio::time::timeout_at(until, response.chunk()) => match c {
                Ok(c) => c,
                Err(_) => return Err(self.timeout(phase)),
            },
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
        let result = match self.decoding {
            Decoding::Sse(_) => self.parse_stream(chunk.as_deref(), &mut events),
            Decoding::Document(_) => self.parse_document(chunk.as_deref(), &mut events),
        };
        if self.parser.as_ref().is_some_and(|p| p.is_done()) {
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

    /// Decodes a chunk of an event stream (`None`: the body ended) and parses its events.
    fn parse_stream(
        &mut self,
        chunk: Option<&[u8]>,
        events: &mut Vec<StreamEvent>,
    ) -> Result<(), LlmError> {
        let (Decoding::Sse(decoder), Some(parser)) = (&mut self.decoding, self.parser.as_mut())
        else {
            return Ok(());
        };
        self.sse.clear();
        let lines = decoder.lines();
        let decoded = match chunk {
            Some(bytes) => decoder.push(bytes, &mut self.sse),
            None => decoder.finish(&mut self.sse),
        };
        if decoder.lines() > lines {
            self.progress_at = Instant::now();
        }
        // Events completed before an oversized line still count.
        let mut result = Ok(());
        for sse in &self.sse {
            result = parser.on_event(sse, events);
            if result.is_err() || parser.is_done() {
                break;
            }
        }
        let done = parser.is_done();
        if result.is_ok() && !done {
            if let Err(too_large) = decoded {
                return Err(self.protocol(too_large.to_string()));
            }
            if chunk.is_none() {
                result = parser.finish(events);
            }
        }
        result.map_err(|e| self.name_content_type(e))
    }

    /// Collects a JSON document answer (`None`: the body ended, so parse it).
    fn parse_document(
        &mut self,
        chunk: Option<&[u8]>,
        events: &mut Vec<StreamEvent>,
    ) -> Result<(), LlmError> {
        let (Decoding::Document(doc), Some(parser)) = (&mut self.decoding, self.parser.as_mut())
        else {
            return Ok(());
        };
        match chunk {
            Some(bytes) if doc.len() + bytes.len() > MAX_EVENT_BYTES => {
                let ct = self.content_type.clone().unwrap_or_default();
                Err(self.protocol(format!(
                    "the answer came as one `{ct}` document instead of a stream, and it is larger than the {} MiB limit",
                    MAX_EVENT_BYTES / (1024 * 1024)
                )))
            }
            Some(bytes) => {
                doc.extend_from_slice(bytes);
                let first = doc.iter().find(|b| !b.is_ascii_whitespace());
                if first.is_some_and(|b| *b != b'{') {
                    let buffered = std::mem::take(doc);
                    self.decoding = Decoding::Sse(SseDecoder::new());
                    return self.parse_stream(Some(&buffered), events);
                }
                Ok(())
            }
            None => {
                let doc = std::mem::take(doc);
                parser.on_document(&doc, events)
            }
        }
    }
}
