//! A streamed chat answer: the turn's text deltas as `chat.completion.chunk`s, then the finish
//! chunk, the usage chunk when asked for, and `data: [DONE]`. Like the turn SSE route, a client
//! that goes away stops only its stream; the turn runs on and its answer stays in the session.

use super::error::OpenAiError;
use crate::error::blocking;
use axum::response::sse::{Event as SseEvent, Sse};
use futures_util::Stream;
use pryx_core::{BusEvent, Core, StartedTurn};
use pryx_protocol::openai::{
    ChatChunk, ChatRole, ChunkChoice, ChunkDelta, ChunkToolCall, FinishReason, Usage,
};
use pryx_protocol::{Delta, EventPayload, TurnEnd};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use tokio_util::sync::CancellationToken;

/// How often a silent stream says it is still there (proxies and clients time out otherwise).
const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// What the stream answers with.
pub struct Answer {
    pub core: Core,
    pub id: String,
    pub model: String,
    pub created: u64,
    pub include_usage: bool,
    pub tokens_before: (u64, u64),
    /// Messages stored before the turn, and the client's tools by name: to find the calls of
    /// them the turn leaves open.
    pub stored_before: usize,
    pub client_tools: Vec<String>,
    pub turn: StartedTurn,
}

struct State {
    answer: Answer,
    rx: Receiver<Arc<BusEvent>>,
    shutdown: CancellationToken,
    out: VecDeque<SseEvent>,
    /// Approvals of this session still waiting for an answer.
    waiting: usize,
    done: bool,
}

pub fn respond(
    answer: Answer,
    rx: Receiver<Arc<BusEvent>>,
    shutdown: CancellationToken,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let first = answer.chunk(
        ChunkDelta {
            role: Some(ChatRole::Assistant),
            content: Some(String::new()),
            tool_calls: None,
        },
        None,
    );
    let state = State {
        answer,
        rx,
        shutdown,
        out: VecDeque::from([first]),
        waiting: 0,
        done: false,
    };
    let stream = futures_util::stream::unfold(state, |mut s| async move {
        loop {
            if let Some(ev) = s.out.pop_front() {
                return Some((Ok(ev), s));
            }
            if s.done {
                return None;
            }
            let next = tokio::select! {
                r = tokio::time::timeout(KEEP_ALIVE, s.rx.recv()) => r,
                () = s.shutdown.cancelled() => return None,
            };
            match next {
                Err(_) => {
                    let note = if s.waiting > 0 {
                        "waiting for approval"
                    } else {
                        "keep-alive"
                    };
                    return Some((Ok(SseEvent::default().comment(note)), s));
                }
                Ok(Ok(ev)) => s.take(&ev).await,
                Ok(Err(RecvError::Lagged(n))) => {
                    let e = OpenAiError::new(
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        format!(
                            "the stream fell behind and lost {n} events; the whole answer is in session {}",
                            s.answer.turn.session_id
                        ),
                    )
                    .with_code("stream_lagged");
                    s.fail(&e);
                }
                Ok(Err(RecvError::Closed)) => return None,
            }
        }
    });
    Sse::new(stream)
}

impl Answer {
    fn chunk(&self, delta: ChunkDelta, finish: Option<FinishReason>) -> SseEvent {
        self.event(ChatChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".into(),
            created: self.created,
            model: self.model.clone(),
            choices: vec![ChunkChoice {
                index: 0,
                delta,
                finish_reason: finish,
                logprobs: None,
            }],
            usage: self.include_usage.then_some(None),
            system_fingerprint: None,
        })
    }

    fn usage_chunk(&self, usage: Usage) -> SseEvent {
        self.event(ChatChunk {
            id: self.id.clone(),
            object: "chat.completion.chunk".into(),
            created: self.created,
            model: self.model.clone(),
            choices: Vec::new(),
            usage: Some(Some(usage)),
            system_fingerprint: None,
        })
    }

    fn event(&self, chunk: ChatChunk) -> SseEvent {
        SseEvent::default()
            .json_data(&chunk)
            .unwrap_or_else(|_| SseEvent::default().data("{}"))
    }
}

fn done() -> SseEvent {
    SseEvent::default().data("[DONE]")
}

impl State {
    /// Turns one bus event of the session into what the client is sent.
    async fn take(&mut self, ev: &BusEvent) {
        let e = &ev.event;
        let turn = &self.answer.turn;
        if e.session_id != turn.session_id || e.version.is_some_and(|v| v <= turn.after_version) {
            return;
        }
        match &e.payload {
            EventPayload::SessionDelta(Delta::Text { text }) if !text.is_empty() => {
                let chunk = self.answer.chunk(
                    ChunkDelta {
                        role: None,
                        content: Some(text.clone()),
                        tool_calls: None,
                    },
                    None,
                );
                self.out.push_back(chunk);
            }
            EventPayload::ApprovalNeeded(_) => self.waiting = self.waiting.saturating_add(1),
            EventPayload::ApprovalResolved(_) => self.waiting = self.waiting.saturating_sub(1),
            EventPayload::TurnCompleted(end) => self.finish(end).await,
            _ => {}
        }
    }

    async fn finish(&mut self, end: &TurnEnd) {
        let mut reason = match super::finish_reason(end) {
            Ok(r) => r,
            Err(e) => return self.fail(&e),
        };
        if !self.answer.client_tools.is_empty() {
            let (core, sid, before, names) = (
                self.answer.core.clone(),
                self.answer.turn.session_id.clone(),
                self.answer.stored_before,
                self.answer.client_tools.clone(),
            );
            let output = blocking(move || super::turn_output(&core, &sid, before, &names)).await;
            let calls = match output {
                Ok((_, calls)) => calls,
                Err(e) => return self.fail(&e.into()),
            };
            if !calls.is_empty() {
                let calls = (0..)
                    .zip(calls)
                    .map(|(index, call)| ChunkToolCall { index, call })
                    .collect();
                let delta = ChunkDelta {
                    tool_calls: Some(calls),
                    ..ChunkDelta::default()
                };
                self.out.push_back(self.answer.chunk(delta, None));
                reason = FinishReason::ToolCalls;
            }
        }
        self.out
            .push_back(self.answer.chunk(ChunkDelta::default(), Some(reason)));
        if self.answer.include_usage {
            let (core, sid, before) = (
                self.answer.core.clone(),
                self.answer.turn.session_id.clone(),
                self.answer.tokens_before,
            );
            let usage = blocking(move || super::usage_since(&core, &sid, before)).await;
            match usage {
                Ok(u) => self.out.push_back(self.answer.usage_chunk(u)),
                Err(e) => return self.fail(&e.into()),
            }
        }
        self.out.push_back(done());
        self.done = true;
    }

    /// An error chunk in OpenAI's shape, then `[DONE]`.
    fn fail(&mut self, e: &OpenAiError) {
        let ev = SseEvent::default()
            .json_data(e.body())
            .unwrap_or_else(|_| SseEvent::default().data("{}"));
        self.out.push_back(ev);
        self.out.push_back(done());
        self.done = true;
    }
}
