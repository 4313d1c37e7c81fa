//! The scripted LLM server: answers both wire formats from a queue of turns and records requests.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use tokio::task::JoinHandle;

use crate::render;
use crate::script::{Failure, Turn};

/// A request the server received.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordedRequest {
    pub path: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The JSON body (a string holding the raw text if it was not JSON).
    pub body: serde_json::Value,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

#[derive(Debug, Default)]
struct Shared {
    turns: Mutex<VecDeque<Turn>>,
    requests: Mutex<Vec<RecordedRequest>>,
    /// What `GET /v1/models` lists.
    models: Mutex<Vec<String>>,
    meter: Arc<BodyMeter>,
    /// While true, chat requests are recorded but not answered.
    held: tokio::sync::watch::Sender<bool>,
    /// Gated replies ([`Turn::gated`]) send their rest once this is true.
    gate_open: tokio::sync::watch::Sender<bool>,
}

/// How much of the answers' bodies the server handed to the connection, and how many body
/// writers have ended (the whole body sent, or the client gone), so a test can tell a client
/// that stopped reading from one that read everything.
#[derive(Debug, Default)]
struct BodyMeter {
    bytes: std::sync::atomic::AtomicU64,
    ended: tokio::sync::Notify,
    ended_count: std::sync::atomic::AtomicU64,
}

/// A running scripted server on `127.0.0.1`; stops when dropped.
#[derive(Debug)]
pub struct ScriptedLlm {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for ScriptedLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ScriptedLlm {
    /// Starts on a free loopback port. Panics only if no loopback port can be bound.
    pub async fn start() -> Self {
        Self::start_on(0)
            .await
            .unwrap_or_else(|e| panic!("scripted LLM server could not bind 127.0.0.1: {e}"))
    }

    /// Starts on the given port (0 picks a free one).
    pub async fn start_on(port: u16) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/v1/chat/completions", post(openai))
            .route("/chat/completions", post(openai))
            .route("/v1/messages", post(anthropic))
            .route("/messages", post(anthropic))
            .route("/v1/models", get(list_models))
            .route("/models", get(list_models))
            .route("/_requests", get(list_requests))
            .route("/_turns", post(push_turns))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            // Streamed chunks must not wait for delayed ACKs (Nagle), or every turn gains ~40 ms.
            let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                let _ = tcp.set_nodelay(true);
            });
            let _ = axum::serve(listener, app).await;
        });
        Ok(ScriptedLlm { addr, shared, task })
    }

    /// Holds every chat request from now on (recorded, not answered) until [`ScriptedLlm::release`],
    /// so a test can change the world while a turn waits on its model.
    pub fn hold(&self) -> &Self {
        self.shared.held.send_replace(true);
        self
    }

    /// Answers the held requests (and the ones after) again.
    pub fn release(&self) -> &Self {
        self.shared.held.send_replace(false);
        self
    }

    /// Lets gated replies ([`Turn::gated`]) send the rest of their text.
    pub fn open_gate(&self) -> &Self {
        self.shared.gate_open.send_replace(true);
        self
    }

    /// Queues a turn; turns are served in order, one per request.
    pub fn push(&self, turn: Turn) -> &Self {
        self.shared
            .turns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(turn);
        self
    }

    pub fn push_all(&self, turns: impl IntoIterator<Item = Turn>) -> &Self {
        self.shared
            .turns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(turns);
        self
    }

    /// Sets the ids `GET /v1/models` lists (none by default), as Ollama or vLLM would.
    pub fn set_models(&self, ids: impl IntoIterator<Item = impl Into<String>>) -> &Self {
        *self
            .shared
            .models
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Turns not served yet.
    pub fn remaining(&self) -> usize {
        self.shared
            .turns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Bytes of answer bodies handed to the connection so far (streamed bodies included).
    pub fn body_bytes_sent(&self) -> u64 {
        self.shared
            .meter
            .bytes
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits until `n` streamed answer bodies have ended: sent in full, or abandoned because the
    /// client stopped reading and the connection went away.
    pub async fn bodies_ended(&self, n: u64) {
        let meter = &self.shared.meter;
        loop {
            let notified = meter.ended.notified();
            if meter.ended_count.load(std::sync::atomic::Ordering::SeqCst) >= n {
                return;
            }
            notified.await;
        }
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `http://127.0.0.1:PORT/v1`, the base URL for either wire format.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

async fn list_models(State(shared): State<Arc<Shared>>) -> Response {
    let ids = shared
        .models
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let data: Vec<_> = ids
        .iter()
        .map(|id| serde_json::json!({"id": id, "object": "model", "owned_by": "scripted"}))
        .collect();
    axum::Json(serde_json::json!({"object": "list", "data": data})).into_response()
}

async fn list_requests(State(shared): State<Arc<Shared>>) -> Response {
    let requests = shared
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    axum::Json(requests).into_response()
}

async fn push_turns(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match serde_json::from_slice::<crate::script::ScriptFile>(&body) {
        Ok(file) => {
            shared
                .turns
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend(file.into_turns());
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => (StatusCode::BAD_REQUEST, format!("invalid turns: {e}")).into_response(),
    }
}

async fn openai(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(&shared, false, uri, headers, body).await
}

async fn anthropic(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(&shared, true, uri, headers, body).await
}

async fn answer(
    shared: &Shared,
    is_anthropic: bool,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json = serde_json::from_slice(&body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&body).into_owned()));
    let model = json
        .get("model")
        .and_then(|m| m.as_str())
        .unwrap_or("scripted-model")
        .to_string();
    let headers = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    shared
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(RecordedRequest {
            path: uri.path().to_string(),
            headers,
            body: json,
        });
    let _ = shared.held.subscribe().wait_for(|held| !held).await;
    let Some(turn) = shared
        .turns
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop_front()
    else {
        let body = render::error_body(
            is_anthropic,
            500,
            "the scripted LLM has no turn left; push one more turn in the test",
        );
        return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(body)).into_response();
    };
    let delay = Duration::from_millis(turn.first_token_delay_ms);
    match &turn.failure {
        Some(Failure::Status {
            status,
            retry_after_secs,
            message,
        }) => {
            let code = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = render::error_body(
                is_anthropic,
                *status,
                message.as_deref().unwrap_or("scripted failure"),
            );
            let mut resp = (code, axum::Json(body)).into_response();
            if let Some(v) = retry_after_secs.and_then(|secs| secs.to_string().parse().ok()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return resp;
        }
        Some(Failure::HugeError {
            status,
            bytes,
            message,
        }) => {
            let code = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = message.as_deref().unwrap_or("scripted huge failure");
            let (prefix, suffix) = render::huge_error_parts(is_anthropic, *status, message);
            let padding = bytes.saturating_sub((prefix.len() + suffix.len()) as u64);
            let pieces = vec![
                Piece::Frame(prefix),
                Piece::Padding(padding),
                Piece::Frame(suffix),
            ];
            return body_response(
                code,
                "application/json".into(),
                pieces,
                delay,
                &shared.meter,
            );
        }
        Some(Failure::HugeLine { bytes }) => {
            let (before, prefix, suffix, after) = render::huge_line_parts(is_anthropic, &model);
            let padding = bytes.saturating_sub((prefix.len() + suffix.len()) as u64);
            let mut pieces: Vec<Piece> = before.into_iter().map(Piece::Frame).collect();
            pieces.extend([
                Piece::Frame(prefix),
                Piece::Padding(padding),
                Piece::Frame(suffix),
            ]);
            pieces.extend(after.into_iter().map(Piece::Frame));
            return body_response(
                StatusCode::OK,
                ok_type(&turn, SSE),
                pieces,
                delay,
                &shared.meter,
            );
        }
        Some(Failure::PlainJson) => {
            let doc = if is_anthropic {
                render::anthropic_document(&turn, &model)
            } else {
                render::openai_document(&turn, &model)
            };
            let pieces = vec![Piece::Frame(doc.to_string())];
            return body_response(
                StatusCode::OK,
                ok_type(&turn, "application/json"),
                pieces,
                delay,
                &shared.meter,
            );
        }
        _ => {}
    }
    let full = if is_anthropic {
        render::anthropic(&turn, &model)
    } else {
        render::openai(&turn, &model)
    };
    let head = render::first_content(is_anthropic, &turn) + 1;
    let frames = match &turn.failure {
        Some(Failure::MalformedSse) => {
            let event = is_anthropic.then_some("message_start");
            vec![render::frame(event, "{\"this is\": not json")]
        }
        Some(Failure::CutMidStream) => {
            // The body ends where it is, without the closing events. (Failing the body
            // stream instead makes the server drop unflushed frames, so what the client
            // sees would depend on timing.)
            let half = (full.len() / 2).max(1);
            full.into_iter().take(half).collect()
        }
        Some(Failure::ErrorEvent {
            message,
            error_type,
        }) => {
            // Everything up to the end of the content, then the error instead of the ending.
            let tail = if is_anthropic { 2 } else { 3 };
            let keep = full.len().saturating_sub(tail);
            let mut frames: Vec<String> = full.into_iter().take(keep).collect();
            frames.push(render::stream_error(
                is_anthropic,
                message,
                error_type.as_deref(),
            ));
            frames
        }
        Some(failure @ (Failure::Stall { .. } | Failure::Gated)) => {
            // The head, then the wait, then the rest.
            let wait = match failure {
                Failure::Stall { stall_ms } => Piece::Pause(Duration::from_millis(*stall_ms)),
                _ => Piece::Gate(shared.gate_open.subscribe()),
            };
            let mut frames = full.into_iter().map(Piece::Frame);
            let mut pieces: Vec<Piece> = frames.by_ref().take(head).collect();
            pieces.push(wait);
            pieces.extend(frames);
            return body_response(
                StatusCode::OK,
                ok_type(&turn, SSE),
                pieces,
                delay,
                &shared.meter,
            );
        }
        Some(Failure::Trickle { interval_ms }) => {
            let interval = Duration::from_millis(*interval_ms);
            let mut pieces = Vec::new();
            for (i, f) in full.into_iter().enumerate() {
                if i < head {
                    pieces.push(Piece::Frame(f));
                    continue;
                }
                for b in f.into_bytes() {
                    pieces.push(Piece::Pause(interval));
                    pieces.push(Piece::Byte(b));
                }
            }
            return body_response(
                StatusCode::OK,
                ok_type(&turn, SSE),
                pieces,
                delay,
                &shared.meter,
            );
        }
        _ => full,
    };
    let gap = Duration::from_millis(turn.frame_delay_ms);
    let mut pieces = Vec::new();
    for (i, f) in frames.into_iter().enumerate() {
        if i > 0 && !gap.is_zero() {
            pieces.push(Piece::Pause(gap));
        }
        pieces.push(Piece::Frame(f));
    }
    body_response(
        StatusCode::OK,
        ok_type(&turn, SSE),
        pieces,
        delay,
        &shared.meter,
    )
}

const SSE: &str = "text/event-stream";

/// The content type of a successful answer: the turn's override, or the right one.
fn ok_type(turn: &Turn, default: &str) -> String {
    turn.content_type
        .clone()
        .unwrap_or_else(|| default.to_string())
}

/// One step of writing a response body.
enum Piece {
    Frame(String),
    Byte(u8),
    /// This many bytes of `x`, produced in 64 KiB pieces as the client reads.
    Padding(u64),
    Pause(Duration),
    /// Waits until the gate is open.
    Gate(tokio::sync::watch::Receiver<bool>),
}

/// Size of one padding piece; the channel holds at most 16, so a huge body costs the server
/// about 1 MiB however large it is.
const PAD_PIECE: usize = 64 * 1024;

/// A response whose body is written piece by piece after `delay`; the writer stops as soon as
/// the client goes away.
fn body_response(
    status: StatusCode,
    content_type: String,
    pieces: Vec<Piece>,
    delay: Duration,
    meter: &Arc<BodyMeter>,
) -> Response {
    let meter = meter.clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(async move {
        send_pieces(&tx, pieces, delay, &meter).await;
        meter
            .ended_count
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        meter.ended.notify_waiters();
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = status;
    if let Ok(v) = header::HeaderValue::from_str(&content_type) {
        resp.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    resp
}

/// Feeds a body's pieces to the connection, counting what was handed over; stops when the
/// client is gone.
async fn send_pieces(
    tx: &tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    pieces: Vec<Piece>,
    delay: Duration,
    meter: &BodyMeter,
) {
    let send = |bytes: Bytes| {
        let n = bytes.len() as u64;
        async move {
            let sent = tx.send(Ok(bytes)).await;
            if sent.is_ok() {
                meter
                    .bytes
                    .fetch_add(n, std::sync::atomic::Ordering::SeqCst);
            }
            sent
        }
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let pad = Bytes::from(vec![b'x'; PAD_PIECE]);
    for piece in pieces {
        let sent = match piece {
            Piece::Frame(f) => send(Bytes::from(f)).await,
            Piece::Byte(b) => send(Bytes::copy_from_slice(&[b])).await,
            Piece::Pause(d) => {
                tokio::time::sleep(d).await;
                Ok(())
            }
            Piece::Gate(mut open) => {
                let _ = open.wait_for(|open| *open).await;
                Ok(())
            }
            Piece::Padding(mut left) => {
                let mut sent = Ok(());
                while left > 0 && sent.is_ok() {
                    let n = usize::try_from(left).unwrap_or(PAD_PIECE).min(PAD_PIECE);
                    sent = send(pad.slice(..n)).await;
                    left -= n as u64;
                }
                sent
            }
        };
        if sent.is_err() {
            return;
        }
    }
}
