//! The task behind a subscription: connect, subscribe, forward, and start over when the socket
//! is lost.

use super::seen::Seen;
use super::{Backoff, Connection, Filter, Item, Notice};
use crate::error::ClientError;
use crate::rest::Client;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use pryx_protocol::api::{ApprovalDecision, ApprovalScope};
use pryx_protocol::ws::{MAX_SINCE_SESSIONS, WsControl, WsRequest, WsServerMessage};
use pryx_protocol::{ErrorBody, ErrorCode};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How often an idle socket is pinged, and how long silence means it is dead.
const PING_EVERY: Duration = Duration::from_secs(15);
const DEAD_AFTER: Duration = Duration::from_secs(45);

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Reply = oneshot::Sender<Result<(), ClientError>>;

pub(crate) enum Command {
    Answer {
        id: String,
        decision: ApprovalDecision,
        scope: ApprovalScope,
        reply: Reply,
    },
}

/// Why a connection ended.
enum End {
    /// The subscriber is gone: stop.
    Stop,
    /// The socket was lost: reconnect.
    Lost(String),
}

pub(crate) struct Task {
    client: Client,
    filter: Filter,
    seen: Seen,
    /// The core's cursor from the last subscribe (or the caller's): sent with every subscribe.
    cursor: Option<u64>,
    backoff: Backoff,
    events: mpsc::Sender<Item>,
    notices: mpsc::Sender<Notice>,
    commands: mpsc::Receiver<Command>,
    state: watch::Sender<Connection>,
    connects: u64,
}

impl Task {
    pub fn new(
        client: Client,
        filter: Filter,
        backoff: Backoff,
        events: mpsc::Sender<Item>,
        notices: mpsc::Sender<Notice>,
        commands: mpsc::Receiver<Command>,
        state: watch::Sender<Connection>,
    ) -> Task {
        Task {
            seen: Seen::with(&filter.since),
            cursor: filter.cursor,
            client,
            filter,
            backoff,
            events,
            notices,
            commands,
            state,
            connects: 0,
        }
    }

    pub async fn run(mut self, first: oneshot::Sender<Result<(), ClientError>>) {
        let mut first = Some(first);
        let mut attempt = 0u32;
        let mut down_since: Option<Instant> = None;
        loop {
            let error = match connect(&self.client).await {
                Ok(ws) => match self.serve(ws, &mut first).await {
                    End::Stop => return,
                    End::Lost(reason) => ClientError::WebSocket(reason),
                },
                Err(e) => e,
            };
            if let Some(first) = first.take() {
                // The first connection failed: the caller gets the error, nothing retries.
                let _ = first.send(Err(error));
                return;
            }
            let error = error.to_string();
            if self.state.borrow().is_connected() {
                attempt = 0;
                down_since = None;
            }
            attempt = attempt.saturating_add(1);
            let since = *down_since.get_or_insert_with(Instant::now);
            if self
                .backoff
                .give_up_after
                .is_some_and(|g| since.elapsed() >= g)
            {
                tracing::warn!(%error, "giving up reconnecting to the core");
                let _ = self.state.send(Connection::Closed { error });
                return;
            }
            tracing::debug!(attempt, %error, "event socket lost; reconnecting");
            let _ = self.state.send(Connection::Reconnecting {
                attempt,
                error: error.clone(),
            });
            if !self.wait(self.backoff.delay(attempt), &error).await {
                return;
            }
        }
    }

    /// Sleeps, refusing socket answers meanwhile; false when the subscriber is gone.
    async fn wait(&mut self, delay: Duration, error: &str) -> bool {
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => return true,
                cmd = self.commands.recv() => match cmd {
                    Some(Command::Answer { reply, .. }) => {
                        let _ = reply.send(Err(not_connected(error)));
                    }
                    None => return false,
                },
            }
        }
    }

    async fn serve(
        &mut self,
        ws: Ws,
        first: &mut Option<oneshot::Sender<Result<(), ClientError>>>,
    ) -> End {
        let (mut tx, mut rx) = ws.split();
        if let Err(e) = self.send_subscribe(&mut tx).await {
            return End::Lost(e);
        }
        let mut pending: HashMap<String, Reply> = HashMap::new();
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        let mut heard = Instant::now();
        let end = loop {
            tokio::select! {
                msg = rx.next() => {
                    heard = Instant::now();
                    match msg {
                        Some(Ok(Message::Text(text))) => {
                            if let Some(end) = self.on_text(text.as_str(), &mut tx, &mut pending, first).await {
                                break end;
                            }
                        }
                        Some(Ok(Message::Close(_))) | None => break End::Lost("the core closed the socket".into()),
                        Some(Err(e)) => break End::Lost(e.to_string()),
                        Some(Ok(_)) => {}
                    }
                }
                cmd = self.commands.recv() => match cmd {
                    Some(Command::Answer { id, decision, scope, reply }) => {
                        let req = WsRequest::ToolResponse { request_id: id.clone(), decision, scope };
                        if let Err(e) = send(&mut tx, &req).await {
                            let _ = reply.send(Err(not_connected(&e)));
                            break End::Lost(e);
                        }
                        if let Some(older) = pending.insert(id, reply) {
                            let _ = older.send(Err(ClientError::Closed("answered again before the core replied".into())));
                        }
                    }
                    None => break End::Stop,
                },
                _ = ping.tick() => {
                    if heard.elapsed() >= DEAD_AFTER {
                        break End::Lost("the core stopped answering pings".into());
                    }
                    if let Err(e) = send(&mut tx, &WsRequest::Ping).await {
                        break End::Lost(e);
                    }
                }
            }
        };
        if let End::Lost(reason) = &end {
            for (_, reply) in pending.drain() {
                let _ = reply.send(Err(not_connected(reason)));
            }
        }
        end
    }

    async fn send_subscribe(&self, tx: &mut SplitSink<Ws, Message>) -> Result<(), String> {
        // The core names at most MAX_SINCE_SESSIONS sessions per subscribe: past that, the
        // ones heard from last are named and a cursor brings the others' new events (from 0
        // when none is known yet; what is already held is dropped as duplicate).
        let since = self.seen.since_at_most(MAX_SINCE_SESSIONS);
        let cursor = if since.len() < self.seen.len() {
            Some(self.cursor.unwrap_or(0))
        } else {
            self.cursor
        };
        let req = WsRequest::Subscribe {
            sessions: self.filter.sessions.clone(),
            events: self.filter.events.clone(),
            since,
            cursor,
        };
        send(tx, &req).await
    }

    /// Handles one server message; `Some` ends the connection.
    async fn on_text(
        &mut self,
        text: &str,
        tx: &mut SplitSink<Ws, Message>,
        pending: &mut HashMap<String, Reply>,
        first: &mut Option<oneshot::Sender<Result<(), ClientError>>>,
    ) -> Option<End> {
        let msg: WsServerMessage = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "ignoring an unreadable message from the core");
                return None;
            }
        };
        match msg {
            WsServerMessage::Event(e) => {
                if self.seen.accept(&e) && self.events.send(Item::Event(e)).await.is_err() {
                    return Some(End::Stop);
                }
            }
            WsServerMessage::Control(WsControl::Subscribed {
                replayed,
                errors,
                cursor,
            }) => {
                for (session_id, error) in errors {
                    tracing::warn!(session = %session_id, code = %error.code, message = %error.message, "the core could not replay a session");
                    // Asking again would be refused again; its live events still come.
                    self.seen.forget(&session_id);
                    if self
                        .events
                        .send(Item::Forget(session_id.clone()))
                        .await
                        .is_err()
                    {
                        return Some(End::Stop);
                    }
                    self.notify(Notice::Refused { session_id, error });
                }
                // Everything stored up to the cursor has been handed over (the replay came
                // first): from now on a reconnect also offers sessions stored after it.
                self.cursor = Some(cursor);
                if self.events.send(Item::Cursor(cursor)).await.is_err() {
                    return Some(End::Stop);
                }
                self.connects += 1;
                tracing::debug!(replayed, connects = self.connects, "subscribed");
                let _ = self.state.send(Connection::Connected {
                    connects: self.connects,
                });
                if let Some(first) = first.take() {
                    let _ = first.send(Ok(()));
                }
            }
            WsServerMessage::Control(WsControl::Resync { dropped }) => {
                // Fetch what was dropped: subscribe again from the versions delivered.
                tracing::debug!(dropped, "the core asks for a resync");
                if let Err(e) = self.send_subscribe(tx).await {
                    return Some(End::Lost(e));
                }
            }
            WsServerMessage::Control(WsControl::Ack {
                request_id,
                ok,
                error,
            }) => {
                if let Some(reply) = pending.remove(&request_id) {
                    let _ = reply.send(if ok { Ok(()) } else { Err(refused(error)) });
                }
            }
            WsServerMessage::Control(WsControl::Error { error }) => {
                tracing::warn!(code = %error.code, message = %error.message, "the core refused a socket request");
            }
            WsServerMessage::Control(WsControl::Reset {
                session_id,
                last_version,
            }) => {
                tracing::debug!(session = %session_id, last_version, "the core reset a session");
                self.seen.reset(&session_id, last_version);
                if self
                    .events
                    .send(Item::Reset(session_id.clone(), last_version))
                    .await
                    .is_err()
                {
                    return Some(End::Stop);
                }
                self.notify(Notice::Reset {
                    session_id,
                    last_version,
                });
            }
            WsServerMessage::Control(WsControl::Pong) => {}
        }
        None
    }

    /// Tells the caller, without ever blocking the events behind a notice nobody reads.
    fn notify(&self, notice: Notice) {
        if let Err(e) = self.notices.try_send(notice) {
            tracing::warn!(notice = ?e.into_inner(), "a subscription notice was not read; dropping it");
        }
    }
}

impl Connection {
    fn is_connected(&self) -> bool {
        matches!(self, Connection::Connected { .. })
    }
}

fn not_connected(reason: &str) -> ClientError {
    ClientError::Closed(format!(
        "not connected ({reason}); answer again once reconnected, or over REST"
    ))
}

fn refused(error: Option<ErrorBody>) -> ClientError {
    let body = error.unwrap_or_else(|| ErrorBody {
        code: ErrorCode::NotFound,
        message: "the approval was already answered or timed out".into(),
        details: serde_json::Value::Null,
        request_id: None,
        trace_id: None,
        timestamp: String::new(),
    });
    ClientError::Api {
        status: 404,
        body: Box::new(body),
    }
}

async fn send<T: serde::Serialize>(tx: &mut SplitSink<Ws, Message>, msg: &T) -> Result<(), String> {
    let text = serde_json::to_string(msg).map_err(|e| e.to_string())?;
    tx.send(Message::Text(text.into()))
        .await
        .map_err(|e| e.to_string())
}

/// Opens the socket with the bearer token.
async fn connect(client: &Client) -> Result<Ws, ClientError> {
    let url = client.ws_url();
    let mut req = url
        .as_str()
        .into_client_request()
        .map_err(|e| ClientError::WebSocket(format!("bad socket URL {url}: {e}")))?;
    let auth = format!("Bearer {}", client.inner.token)
        .parse()
        .map_err(|_| {
            ClientError::WebSocket("the API token has characters a header cannot hold".into())
        })?;
    req.headers_mut().insert("authorization", auth);
    // The read buffer is zeroed up to its size on every read; events are small, so a small one.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(16 * 1024);
    match tokio_tungstenite::connect_async_with_config(req, Some(config), true).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            let status = res.status().as_u16();
            let body = res
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default()
                .into_owned();
            Err(ClientError::from_status(status, &body))
        }
        Err(e) => Err(ClientError::Unreachable {
            url: client.base_url().to_string(),
            detail: format!("event socket: {e}"),
        }),
    }
}
