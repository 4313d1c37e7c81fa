//! What the scripted server answers: a queue of turns, each a reply or a failure.
//!
//! Tool names in a script are wire names (`fs__read`), exactly as a provider would send them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One scripted model answer. Also the JSON shape of a script file entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Turn {
    pub reasoning: Option<String>,
    /// Anthropic thinking signature (sent as `signature_delta`); defaults to a fixed value.
    pub signature: Option<String>,
    pub text: Option<String>,
    pub tool_calls: Vec<ScriptedToolCall>,
    pub usage: Option<ScriptedUsage>,
    /// Characters per streamed fragment (text, reasoning, tool arguments); default 3.
    pub chunk_chars: Option<usize>,
    /// Delay between the response headers and the first event.
    pub first_token_delay_ms: u64,
    /// Delay between two frames of the stream (a steady, slow stream).
    pub frame_delay_ms: u64,
    /// Overrides `finish_reason` / `stop_reason`.
    pub finish_reason: Option<String>,
    /// Overrides the `Content-Type` of a successful answer, as servers that mislabel it do.
    pub content_type: Option<String>,
    pub failure: Option<Failure>,
}

/// A tool call the scripted model makes; `arguments` is raw JSON text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptedToolCall {
    pub id: String,
    pub name: String,
    pub arguments: String,
}

impl ScriptedToolCall {
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: serde_json::Value,
    ) -> Self {
        ScriptedToolCall {
            id: id.into(),
            name: name.into(),
            arguments: arguments.to_string(),
        }
    }
}

/// Token counts reported at the end of a reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScriptedUsage {
    /// Uncached prompt tokens.
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_read_tokens: u64,
    pub cache_write_tokens: u64,
    pub reasoning_tokens: u64,
}

/// Ways a turn can go wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Failure {
    /// An HTTP error answer with a provider-style error body.
    Status {
        status: u16,
        #[serde(default)]
        retry_after_secs: Option<u64>,
        #[serde(default)]
        message: Option<String>,
    },
    /// A 200 stream whose data is not JSON.
    MalformedSse,
    /// The first half of the reply, then the body ends without the closing events.
    CutMidStream,
    /// The reply's text, then an error event inside the stream.
    ErrorEvent {
        message: String,
        #[serde(default)]
        error_type: Option<String>,
    },
    /// The reply up to its first piece of content, then silence for `stall_ms` with the
    /// connection open, then the rest.
    Stall { stall_ms: u64 },
    /// The reply up to its first piece of content, then nothing (the connection open) until
    /// the test opens the gate ([`crate::ScriptedLlm::open_gate`]), then the rest.
    Gated,
    /// The reply up to its first piece of content, then the rest one byte every `interval_ms`.
    Trickle { interval_ms: u64 },
    /// An HTTP error answer whose provider-style body is `bytes` long (a huge message),
    /// generated piece by piece as the client reads, never held whole.
    HugeError {
        status: u16,
        bytes: u64,
        #[serde(default)]
        message: Option<String>,
    },
    /// A 200 stream whose second line is a `data:` line `bytes` long that never ends in time,
    /// generated piece by piece.
    HugeLine { bytes: u64 },
    /// The reply as one `application/json` document (a chat completion or a message), as a
    /// server ignoring `stream: true` sends it.
    PlainJson,
}

impl Turn {
    /// A plain text answer.
    pub fn text(text: impl Into<String>) -> Self {
        Turn {
            text: Some(text.into()),
            ..Turn::default()
        }
    }

    /// Reasoning followed by a text answer.
    pub fn reasoning(reasoning: impl Into<String>, text: impl Into<String>) -> Self {
        Turn {
            reasoning: Some(reasoning.into()),
            text: Some(text.into()),
            ..Turn::default()
        }
    }

    /// One or more (parallel) tool calls; their argument fragments interleave on OpenAI streams.
    pub fn tool_calls(calls: impl IntoIterator<Item = ScriptedToolCall>) -> Self {
        Turn {
            tool_calls: calls.into_iter().collect(),
            ..Turn::default()
        }
    }

    /// HTTP 429 with `Retry-After`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Turn::status(429, Some(retry_after_secs), "rate limit reached")
    }

    /// An HTTP error status with a provider-style body.
    pub fn status(status: u16, retry_after_secs: Option<u64>, message: impl Into<String>) -> Self {
        Turn {
            failure: Some(Failure::Status {
                status,
                retry_after_secs,
                message: Some(message.into()),
            }),
            ..Turn::default()
        }
    }

    /// HTTP 500.
    pub fn server_error() -> Self {
        Turn::status(500, None, "internal server error")
    }

    pub fn malformed_sse() -> Self {
        Turn {
            failure: Some(Failure::MalformedSse),
            ..Turn::default()
        }
    }

    /// Streams half of the reply, then ends the body without the closing events.
    pub fn cut_mid_stream(text: impl Into<String>) -> Self {
        Turn {
            text: Some(text.into()),
            failure: Some(Failure::CutMidStream),
            ..Turn::default()
        }
    }

    /// Streams `text` (may be empty), then an error event.
    pub fn error_event(text: impl Into<String>, message: impl Into<String>) -> Self {
        let text = text.into();
        Turn {
            text: (!text.is_empty()).then_some(text),
            failure: Some(Failure::ErrorEvent {
                message: message.into(),
                error_type: None,
            }),
            ..Turn::default()
        }
    }

    /// Streams `text` up to its first piece, then stays silent (connection open) for `stall`
    /// before sending the rest.
    pub fn stall_after(text: impl Into<String>, stall: Duration) -> Self {
        Turn {
            text: Some(text.into()),
            failure: Some(Failure::Stall {
                stall_ms: stall.as_millis() as u64,
            }),
            ..Turn::default()
        }
    }

    /// Streams `text` up to its first piece (see [`Turn::with_chunk_chars`]), then waits for
    /// [`crate::ScriptedLlm::open_gate`] before the rest: what a client does with a reply
    /// still being written is seen without a timing guess.
    pub fn gated(text: impl Into<String>) -> Self {
        Turn {
            text: Some(text.into()),
            failure: Some(Failure::Gated),
            ..Turn::default()
        }
    }

    /// Streams `text` up to its first piece, then the rest one byte per `interval`.
    pub fn trickle(text: impl Into<String>, interval: Duration) -> Self {
        Turn {
            text: Some(text.into()),
            failure: Some(Failure::Trickle {
                interval_ms: interval.as_millis() as u64,
            }),
            ..Turn::default()
        }
    }

    /// An HTTP error answer with a provider-style body of `bytes` bytes, generated while sent.
    pub fn huge_error(status: u16, bytes: u64) -> Self {
        Turn {
            failure: Some(Failure::HugeError {
                status,
                bytes,
                message: None,
            }),
            ..Turn::default()
        }
    }

    /// A 200 stream with one `data:` line of `bytes` bytes, generated while sent.
    pub fn huge_line(bytes: u64) -> Self {
        Turn {
            failure: Some(Failure::HugeLine { bytes }),
            ..Turn::default()
        }
    }

    /// This reply as one `application/json` document instead of a stream
    /// (`Turn::text("hi").plain_json()`, or `Turn::plain_json(turn)`).
    pub fn plain_json(mut self) -> Self {
        self.failure = Some(Failure::PlainJson);
        self
    }

    /// Sets the message at the start of a [`Failure::HugeError`] body.
    pub fn with_error_message(mut self, text: impl Into<String>) -> Self {
        if let Some(Failure::HugeError { message, .. } | Failure::Status { message, .. }) =
            &mut self.failure
        {
            *message = Some(text.into());
        }
        self
    }

    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    pub fn with_frame_delay(mut self, delay: Duration) -> Self {
        self.frame_delay_ms = delay.as_millis() as u64;
        self
    }

    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    pub fn with_usage(mut self, usage: ScriptedUsage) -> Self {
        self.usage = Some(usage);
        self
    }

    pub fn with_first_token_delay(mut self, delay: Duration) -> Self {
        self.first_token_delay_ms = delay.as_millis() as u64;
        self
    }

    pub fn with_chunk_chars(mut self, n: usize) -> Self {
        self.chunk_chars = Some(n);
        self
    }

    pub fn with_finish_reason(mut self, reason: impl Into<String>) -> Self {
        self.finish_reason = Some(reason.into());
        self
    }

    pub fn with_signature(mut self, signature: impl Into<String>) -> Self {
        self.signature = Some(signature.into());
        self
    }

    pub(crate) fn pieces(&self, s: &str) -> Vec<String> {
        split(s, self.chunk_chars.unwrap_or(3))
    }
}

/// Splits text into pieces of `n` characters (at least one piece for non-empty text).
pub(crate) fn split(s: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(n.max(1)).map(|c| c.iter().collect()).collect()
}

/// A script file: a list of turns, or `{"turns": [...]}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ScriptFile {
    List(Vec<Turn>),
    Object { turns: Vec<Turn> },
}

impl ScriptFile {
    pub fn into_turns(self) -> Vec<Turn> {
        match self {
            ScriptFile::List(t) | ScriptFile::Object { turns: t } => t,
        }
    }
}
