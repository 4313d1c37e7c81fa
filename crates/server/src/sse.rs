//! `POST /sessions/{id}/messages?stream=sse`: one turn's events as Server-Sent Events.

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use pryx_core::{BusEvent, StartedTurn};
use pryx_protocol::EventPayload;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use tokio_util::sync::CancellationToken;

struct TurnStream {
    rx: Receiver<Arc<BusEvent>>,
    turn: StartedTurn,
    shutdown: CancellationToken,
    done: bool,
}

/// Events of the turn's session after `after_version` (and its deltas) until `turn.completed`.
/// A reader that falls behind gets a `resync` event and the stream ends; the stored events
/// are then at `GET /sessions/{id}` and over the WebSocket replay.
pub fn turn_stream(
    rx: Receiver<Arc<BusEvent>>,
    turn: StartedTurn,
    shutdown: CancellationToken,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let state = TurnStream {
        rx,
        turn,
        shutdown,
        done: false,
    };
    let stream = futures_util::stream::unfold(state, |mut s| async move {
        if s.done {
            return None;
        }
        loop {
            let next = tokio::select! {
                r = s.rx.recv() => r,
                () = s.shutdown.cancelled() => return None,
            };
            match next {
                Ok(ev) => {
                    let e = &ev.event;
                    if e.session_id != s.turn.session_id
                        || e.version.is_some_and(|v| v <= s.turn.after_version)
                    {
                        continue;
                    }
                    if matches!(e.payload, EventPayload::TurnCompleted(_)) {
                        s.done = true;
                    }
                    let mut out = SseEvent::default().data(ev.json.as_ref()).event(e.name());
                    if let Some(v) = e.version {
                        out = out.id(v.to_string());
                    }
                    return Some((Ok(out), s));
                }
                Err(RecvError::Lagged(n)) => {
                    s.done = true;
                    let out = SseEvent::default()
                        .event("resync")
                        .data(format!("{{\"type\":\"resync\",\"dropped\":{n}}}"));
                    return Some((Ok(out), s));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
