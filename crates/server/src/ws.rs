//! The WebSocket `/api/v1/ws`: the session bus for surfaces, and approval answers back.
//!
//! Nothing is sent until the client subscribes. A `subscribe` with `since` replays the stored
//! events after those versions, then goes live: the live feed is attached *before* the store is
//! read, and live events at or below a version already covered are skipped, so there is neither
//! gap nor duplicate. The connection keeps, per session, the highest version it covered, and no
//! sequence of subscribes sends a version twice or skips one: events published before a
//! resubscribe still go out under the previous subscription, and a replay starts after what the
//! connection already sent. Deltas queued behind a replayed `turn.completed` belong to a finished
//! turn and are dropped. A `since` past what is stored gets a `reset` (never silence); one that
//! cannot be read or replayed is reported per session in `subscribed`, the others are replayed.
//! A client that falls more than the bus capacity behind gets `resync` and nothing more until it
//! subscribes again with the versions it holds.
//!
//! A `cursor` (a bus-wide position from an earlier `subscribed`) also replays every session
//! `since` does not name that has events stored after it, so a client learns of sessions created
//! while it was away. The store is asked which sessions those are only after the live feed is
//! attached: an event stored later is published later, so it comes live. The cursor answered is
//! the bus's position at the attach, below which every stored event was published before it.

use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, close_code};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use pryx_core::BusEvent;
use pryx_protocol::ws::{MAX_MESSAGE_BYTES, MAX_SINCE_SESSIONS, WsControl, WsRequest};
use pryx_protocol::{ErrorBody, ErrorCode, Event, EventKind, Surface};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

mod replay;
use replay::{fill, replay, sessions_after};

/// A socket's read buffer; longer messages (up to [`MAX_MESSAGE_BYTES`]) still arrive whole.
const READ_BUFFER_BYTES: usize = 4 * 1024;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WsQuery {
    /// Which surface this client is (recorded on approval answers); default `web`.
    pub surface: Option<Surface>,
    /// The bearer token, for browsers that cannot set headers on a WebSocket (checked by the guard;
    /// declared here for the OpenAPI document).
    #[allow(dead_code)]
    pub token: Option<String>,
}

/// Upgrades to the event socket (send `subscribe` first; see `pryx_protocol::ws`).
#[utoipa::path(get, path = "/api/v1/ws", tag = "events", params(WsQuery),
    responses((status = 101, description = "switching to the WebSocket protocol"),
        (status = 400, body = pryx_protocol::ErrorEnvelope), (status = 401, body = pryx_protocol::ErrorEnvelope),
        (status = 403, body = pryx_protocol::ErrorEnvelope)))]
pub async fn upgrade(
    State(st): State<Arc<AppState>>,
    ApiQuery(q): ApiQuery<WsQuery>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(|e| {
        ApiError::bad_request(format!("not a WebSocket upgrade: {}", e.body_text()))
    })?;
    let surface = q.surface.unwrap_or(Surface::Web);
    Ok(ws
        // Clients send small requests. The read buffer is zeroed up to this size on every read
        // attempt, and each socket is polled for reading after every event it is sent: at the
        // default 128 KiB, zeroing dominated fan-out to many sockets (docs/benchmarks.md).
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| run(socket, st, surface)))
}

#[derive(Default)]
struct Subscription {
    /// Fell behind the bus since its last subscribe (its live feed is dropped meanwhile).
    paused: bool,
    sessions: Option<HashSet<String>>,
    events: Option<HashSet<EventKind>>,
    /// Per session, the highest version this connection has covered: sent, or passed over by
    /// the kind filter. A version at or below it is never sent again.
    last: HashMap<String, u64>,
    /// Per session, a version the client already has from a replay (a `turn.completed`) or will
    /// refetch (after a `reset`) that the live feed has not reached yet: the session's deltas
    /// before it belong to what the client has (a finished turn) and are dropped.
    fence: HashMap<String, u64>,
    /// The cursor this connection last answered: what a subscribe after a lag resumes new
    /// sessions from when it names none.
    cursor: Option<u64>,
}

impl Subscription {
    fn wants_session(&self, session: &str) -> bool {
        self.sessions.as_ref().is_none_or(|s| s.contains(session))
    }

    fn wants_kind(&self, e: &Event) -> bool {
        self.events
            .as_ref()
            .is_none_or(|k| e.kind().is_some_and(|kind| k.contains(&kind)))
    }

    /// The version this connection covered of `e`'s session when `e` comes live more than one
    /// version after it: the versions between never came on the bus.
    fn missing_before(&self, e: &Event) -> Option<u64> {
        let v = e.version?;
        if !self.wants_session(&e.session_id) {
            return None;
        }
        let last = *self.last.get(&e.session_id)?;
        (v > last.saturating_add(1)).then_some(last)
    }

    /// Whether a live event goes out on this connection (and remembers what it covers).
    fn live(&mut self, e: &Event) -> bool {
        match e.version {
            Some(v) => {
                if self.fence.get(&e.session_id).is_some_and(|f| v >= *f) {
                    self.fence.remove(&e.session_id);
                }
            }
            None => {
                let ephemeral = e.kind().is_some_and(EventKind::is_ephemeral);
                if ephemeral && self.fence.contains_key(&e.session_id) {
                    return false;
                }
            }
        }
        if !self.wants_session(&e.session_id) {
            return false;
        }
        if let Some(v) = e.version {
            let last = self.last.entry(e.session_id.clone()).or_insert(0);
            if v <= *last {
                return false;
            }
            *last = v;
        }
        self.wants_kind(e)
    }
}

struct ClientCount(Arc<AppState>);
impl Drop for ClientCount {
    fn drop(&mut self) {
        self.0.ws_clients.fetch_sub(1, Ordering::Relaxed);
    }
}

type Tx = SplitSink<WebSocket, Message>;

async fn send_json<T: serde::Serialize>(tx: &mut Tx, msg: &T) -> bool {
    match serde_json::to_string(msg) {
        Ok(text) => tx.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

async fn run(socket: WebSocket, st: Arc<AppState>, surface: Surface) {
    st.ws_clients.fetch_add(1, Ordering::Relaxed);
    let _count = ClientCount(st.clone());
    let (mut tx, mut incoming) = socket.split();
    let mut sub = Subscription::default();
    // Attached at the first subscribe and dropped at a lag: a receiver that is not read keeps
    // the bus's whole ring of events alive.
    let mut rx: Option<Receiver<Arc<BusEvent>>> = None;
    loop {
        tokio::select! {
            biased;
            () = st.shutdown.cancelled() => {
                let _ = tx.send(Message::Close(None)).await;
                break;
            }
            msg = incoming.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    if !handle_request(&st, surface, &mut tx, &mut sub, &mut rx, text.as_str()).await {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) => {
                    // The close handshake: the answering close frame goes out with this flush.
                    let _ = tx.close().await;
                    break;
                }
                None => break,
                Some(Err(e)) => {
                    refuse_unreadable(&mut tx, e).await;
                    break;
                }
                Some(Ok(_)) => {}
            },
            ev = next_live(&mut rx), if rx.is_some() => match ev {
                Ok(ev) => {
                    if !forward(&st, &mut tx, &mut sub, &ev).await {
                        break;
                    }
                }
                Err(RecvError::Lagged(dropped)) => {
                    tracing::warn!(dropped, "a WebSocket client fell behind; asking it to resync");
                    sub.paused = true;
                    rx = None;
                    if !send_json(&mut tx, &WsControl::Resync { dropped }).await {
                        break;
                    }
                }
                Err(RecvError::Closed) => break,
            },
        }
    }
}

/// The next live event, or never when no feed is attached.
async fn next_live(rx: &mut Option<Receiver<Arc<BusEvent>>>) -> Result<Arc<BusEvent>, RecvError> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn error_body(code: ErrorCode, message: String) -> ErrorBody {
    let mut body = ApiError::new(crate::error::status_of(code), code, message).body();
    body.error.request_id = None;
    body.error
}

fn error_msg(code: ErrorCode, message: String) -> WsControl {
    WsControl::Error {
        error: error_body(code, message),
    }
}

/// A message that could not be read: says why, then closes the socket (a message over the size
/// limit with close code 1009, one that breaks the protocol with 1002). A connection that is
/// simply gone gets nothing.
async fn refuse_unreadable(tx: &mut Tx, e: axum::Error) {
    use tungstenite::error::ProtocolError;
    let (code, reason, text) = match e.into_inner().downcast::<tungstenite::Error>().map(|e| *e) {
        Ok(tungstenite::Error::Capacity(_)) => (
            close_code::SIZE,
            "message too big",
            format!(
                "a message is limited to {MAX_MESSAGE_BYTES} bytes (1 MiB); closing the socket"
            ),
        ),
        Ok(tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake))
        | Ok(tungstenite::Error::Io(_))
        | Ok(tungstenite::Error::ConnectionClosed)
        | Ok(tungstenite::Error::AlreadyClosed) => return,
        Ok(other) => (
            close_code::PROTOCOL,
            "unreadable message",
            format!("cannot read a message of this socket ({other}); closing it"),
        ),
        Err(_) => return,
    };
    tracing::debug!(%text, "closing a WebSocket whose message could not be read");
    let _ = send_json(tx, &error_msg(ErrorCode::ValidationFailed, text)).await;
    let _ = tx
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
    let _ = tx.close().await;
}

/// Returns false when the socket is gone.
async fn handle_request(
    st: &Arc<AppState>,
    surface: Surface,
    tx: &mut Tx,
    sub: &mut Subscription,
    rx: &mut Option<Receiver<Arc<BusEvent>>>,
    text: &str,
) -> bool {
    // Strict: a request naming a key twice (two `decision`s) is refused, not read as its last.
    let req: WsRequest = match pryx_protocol::strict_json::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let msg = error_msg(
                ErrorCode::ValidationFailed,
                format!("cannot read this request: {e}"),
            );
            return send_json(tx, &msg).await;
        }
    };
    match req {
        WsRequest::Ping => send_json(tx, &WsControl::Pong).await,
        WsRequest::ToolResponse {
            request_id,
            decision,
            scope,
        } => {
            let answer = pryx_protocol::api::ApprovalAnswer {
                decision,
                scope,
                surface,
            };
            let reply = match st.core.broker().answer(&request_id, answer) {
                Ok(()) => WsControl::Ack {
                    request_id,
                    ok: true,
                    error: None,
                },
                Err(e) => {
                    let mut body = ApiError::not_found(e.to_string()).body().error;
                    body.request_id = None;
                    WsControl::Ack {
                        request_id,
                        ok: false,
                        error: Some(body),
                    }
                }
            };
            send_json(tx, &reply).await
        }
        WsRequest::Subscribe {
            sessions,
            events,
            since,
            cursor,
        } => {
            if since.len() > MAX_SINCE_SESSIONS {
                let msg = error_msg(
                    ErrorCode::ValidationFailed,
                    format!(
                        "`since` names {} sessions; a subscribe may name at most \
                         {MAX_SINCE_SESSIONS} (subscribe to all sessions without `since`, or \
                         in several requests)",
                        since.len()
                    ),
                );
                return send_json(tx, &msg).await;
            }
            let mut since = since;
            // Attach the new live feed first: whatever is published from now on reaches it, and
            // everything published before is already in the store.
            let lagged = sub.paused;
            let asked: Vec<&str> = since
                .keys()
                .chain(sub.fence.keys())
                .chain(sub.last.keys().filter(|_| lagged))
                .map(String::as_str)
                .collect();
            // A cursor (this one, or the connection's own after a lag) replays sessions nobody
            // can name yet: the published versions of all.
            let attached = if cursor.is_some() || sub.cursor.is_some() {
                st.core.bus().attach_all()
            } else {
                st.core.bus().attach(asked)
            };
            // What was published before this request and is still queued goes out under the
            // previous subscription: a resubscribe loses nothing.
            let mut lost = lagged;
            if let Some(rx) = rx.as_mut() {
                match drain(st, tx, sub, rx, attached.first_seq).await {
                    Drained::Gone => return false,
                    Drained::All => {}
                    Drained::Lagged => lost = true,
                }
            }
            *rx = Some(attached.rx);
            sub.sessions = sessions.map(|s| s.into_iter().collect());
            sub.events = events.map(|e| e.into_iter().collect());
            sub.paused = false;
            let mut cursor = cursor;
            if lost {
                // Events this connection owed were dropped: every session it was sending resumes
                // from where the connection stopped, `since` or not, and sessions it never sent
                // from the cursor it last answered.
                for (session, v) in &sub.last {
                    since.entry(session.clone()).or_insert(*v);
                }
                cursor = cursor.or(sub.cursor);
            }
            let published = &attached.published;
            // A fence the new feed will not carry was published before it: every delta the new
            // feed brings comes after it.
            sub.fence
                .retain(|session, f| *f > published.get(session).copied().flatten().unwrap_or(0));
            let published = attached.published;
            // Read after the feed is attached: a session whose events after the cursor are
            // published later is either found here or comes live.
            let mut after_cursor = Vec::new();
            let mut cursor_failed = false;
            if let Some(c) = cursor {
                match sessions_after(st, c).await {
                    Ok(found) => {
                        after_cursor = found
                            .into_iter()
                            .filter(|(s, _)| !since.contains_key(s))
                            .collect()
                    }
                    Err(e) => {
                        cursor_failed = true;
                        let msg = error_msg(
                            e.code,
                            format!(
                                "cannot replay what was stored after cursor {c}: {}",
                                e.message
                            ),
                        );
                        if !send_json(tx, &msg).await {
                            return false;
                        }
                    }
                }
            }
            let entries = since.into_iter().chain(after_cursor);
            let Some((replayed, errors)) = replay(st, tx, sub, entries, &published).await else {
                return false;
            };
            // The new cursor says the client holds everything stored up to it; where a replay
            // failed for want of the store, it must not pass what the client was given before.
            let store_failed = cursor_failed
                || errors
                    .values()
                    .any(|e| !matches!(e.code, ErrorCode::ValidationFailed | ErrorCode::NotFound));
            let cursor = match cursor {
                Some(c) if store_failed => c.min(attached.position),
                _ => attached.position,
            };
            sub.cursor = Some(cursor);
            send_json(
                tx,
                &WsControl::Subscribed {
                    replayed,
                    errors,
                    cursor,
                },
            )
            .await
        }
    }
}

/// Sends a live event if this connection owes it; false when the socket is gone. Versions of
/// its session that never came on the bus (stored by another process on the same data dir,
/// `pryx run --local` say) go out first, from the store: the client never sees a version jump.
async fn forward(st: &Arc<AppState>, tx: &mut Tx, sub: &mut Subscription, ev: &BusEvent) -> bool {
    if let (Some(after), Some(upto)) = (sub.missing_before(&ev.event), ev.event.version)
        && !fill(st, tx, sub, &ev.event.session_id, after, upto).await
    {
        return false;
    }
    if !sub.live(&ev.event) {
        return true;
    }
    tx.send(Message::Text(ev.json.as_ref().into()))
        .await
        .is_ok()
}

enum Drained {
    All,
    /// Some queued events were dropped (the client was told to resync).
    Lagged,
    Gone,
}

/// Sends what the previous subscription still had queued (events numbered below `until`).
async fn drain(
    st: &Arc<AppState>,
    tx: &mut Tx,
    sub: &mut Subscription,
    rx: &mut Receiver<Arc<BusEvent>>,
    until: u64,
) -> Drained {
    loop {
        match rx.try_recv() {
            Ok(ev) if ev.seq < until => {
                if !forward(st, tx, sub, &ev).await {
                    return Drained::Gone;
                }
            }
            Ok(_) | Err(TryRecvError::Empty) | Err(TryRecvError::Closed) => return Drained::All,
            Err(TryRecvError::Lagged(dropped)) => {
                tracing::warn!(
                    dropped,
                    "a WebSocket client fell behind while subscribing again"
                );
                return if send_json(tx, &WsControl::Resync { dropped }).await {
                    Drained::Lagged
                } else {
                    Drained::Gone
                };
            }
        }
    }
}
