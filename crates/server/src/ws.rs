//! The WebSocket `/api/v1/ws`: the session bus for surfaces, and approval answers back.
//!
//! Nothing is sent until the client subscribes. A `subscribe` with `since` replays the stored
//! events after those versions, then goes live: the live feed is attached *before* the store is
//! read, and live events at or below a version already sent are skipped, so there is neither gap
//! nor duplicate. A client that falls more than the bus capacity behind gets `resync` and nothing
//! more until it subscribes again with the versions it holds.

use crate::error::{ApiError, blocking};
use crate::extract::ApiQuery;
use crate::state::AppState;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use pryx_core::BusEvent;
use pryx_protocol::ws::{WsControl, WsRequest};
use pryx_protocol::{ErrorCode, Event, EventKind, Surface};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::broadcast::{Receiver, error::RecvError};

/// Stored events read per query while replaying.
const REPLAY_PAGE: u32 = 500;

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
        .max_message_size(1 << 20)
        .on_upgrade(move |socket| run(socket, st, surface)))
}

#[derive(Default)]
struct Subscription {
    active: bool,
    paused: bool,
    sessions: Option<HashSet<String>>,
    events: Option<HashSet<EventKind>>,
    /// Highest version sent per session on this connection.
    last: HashMap<String, u64>,
}

impl Subscription {
    fn wants(&self, e: &Event) -> bool {
        self.sessions
            .as_ref()
            .is_none_or(|s| s.contains(&e.session_id))
            && self
                .events
                .as_ref()
                .is_none_or(|k| e.kind().is_some_and(|kind| k.contains(&kind)))
    }

    /// Whether a live event is new to this connection (and remembers it).
    fn fresh(&mut self, e: &Event) -> bool {
        let Some(v) = e.version else { return true };
        let last = self.last.entry(e.session_id.clone()).or_insert(0);
        if v <= *last {
            return false;
        }
        *last = v;
        true
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
    let mut rx: Receiver<Arc<BusEvent>> = st.core.bus().subscribe();
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
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            ev = rx.recv(), if sub.active && !sub.paused => match ev {
                Ok(ev) => {
                    if sub.wants(&ev.event) && sub.fresh(&ev.event)
                        && tx.send(Message::Text(ev.json.as_ref().into())).await.is_err() {
                        break;
                    }
                }
                Err(RecvError::Lagged(dropped)) => {
                    tracing::warn!(dropped, "a WebSocket client fell behind; asking it to resync");
                    sub.paused = true;
                    if !send_json(&mut tx, &WsControl::Resync { dropped }).await {
                        break;
                    }
                }
                Err(RecvError::Closed) => break,
            },
        }
    }
}

fn error_msg(code: ErrorCode, message: String) -> WsControl {
    let mut body = ApiError::new(crate::error::status_of(code), code, message).body();
    body.error.request_id = None;
    WsControl::Error { error: body.error }
}

/// Returns false when the socket is gone.
async fn handle_request(
    st: &Arc<AppState>,
    surface: Surface,
    tx: &mut Tx,
    sub: &mut Subscription,
    rx: &mut Receiver<Arc<BusEvent>>,
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
        } => {
            sub.sessions = sessions.map(|s| s.into_iter().collect());
            sub.events = events.map(|e| e.into_iter().collect());
            // Attach the live feed first: whatever is published from now on is buffered, and
            // everything published before is already in the store.
            *rx = st.core.bus().subscribe();
            sub.active = true;
            sub.paused = false;
            let Some(replayed) = replay(st, tx, sub, since).await else {
                return false;
            };
            send_json(tx, &WsControl::Subscribed { replayed }).await
        }
    }
}

/// Sends the stored events after each given version; `None` when the socket is gone.
async fn replay(
    st: &Arc<AppState>,
    tx: &mut Tx,
    sub: &mut Subscription,
    since: BTreeMap<String, u64>,
) -> Option<u64> {
    let mut sent = 0u64;
    for (session, from) in since {
        let mut after = from;
        loop {
            let core = st.core.clone();
            let sid = session.clone();
            let page =
                match blocking(move || Ok(core.store().events_since(&sid, after, REPLAY_PAGE)?))
                    .await
                {
                    Ok(p) => p,
                    Err(e) => {
                        let msg = error_msg(
                            e.code,
                            format!("cannot replay session {session}: {}", e.message),
                        );
                        return send_json(tx, &msg).await.then_some(sent);
                    }
                };
            let full = page.len() == REPLAY_PAGE as usize;
            for e in page {
                let v = e.version.unwrap_or(after);
                after = after.max(v);
                if sub.wants(&e) {
                    if !send_json(tx, &e).await {
                        return None;
                    }
                    sent += 1;
                }
            }
            if !full {
                break;
            }
        }
        let last = sub.last.entry(session).or_insert(0);
        *last = (*last).max(after).max(from);
    }
    Some(sent)
}
