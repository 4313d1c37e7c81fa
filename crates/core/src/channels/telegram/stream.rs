//! An answer sent while it is written: the turn's text deltas and stored messages feed a
//! [`BlockStream`], and each block it lets go is queued in the outbox at once. What went out is
//! handed back when the turn ends, so only the rest is sent then.

use super::TelegramBridge;
use crate::bus::BusEvent;
use pryx_channels::Outgoing;
use pryx_channels::blocks::{BlockConfig, BlockStream};
use pryx_protocol::message::Role;
use pryx_protocol::{Delta, EventPayload};
use std::sync::Arc;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Where the blocks go.
pub(super) struct Target {
    pub chat: String,
    pub thread: Option<String>,
    /// The first block answers this message.
    pub reply_to: Option<String>,
}

/// A streaming answer; [`Streaming::stop`] ends it.
pub(super) struct Streaming {
    stop: CancellationToken,
    task: JoinHandle<String>,
}

impl Streaming {
    /// Stops streaming; returns the text that went out.
    pub async fn stop(self) -> String {
        self.stop.cancel();
        self.task.await.unwrap_or_default()
    }
}

/// Streams the answer of the turn running in `session` (`rx` attached before it started).
pub(super) fn start(
    b: Arc<TelegramBridge>,
    rx: Receiver<Arc<BusEvent>>,
    session: String,
    after_version: u64,
    target: Target,
) -> Streaming {
    let stop = b.cancel.child_token();
    let task = tokio::spawn(follow(b, rx, session, after_version, target, stop.clone()));
    Streaming { stop, task }
}

async fn follow(
    b: Arc<TelegramBridge>,
    mut rx: Receiver<Arc<BusEvent>>,
    session: String,
    after_version: u64,
    mut target: Target,
    stop: CancellationToken,
) -> String {
    let mut stream = BlockStream::new(BlockConfig::default());
    let mut lost = false;
    loop {
        let due = stream.next_due();
        let ev = tokio::select! {
            _ = stop.cancelled() => break,
            _ = async {
                match due {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            } => None,
            ev = rx.recv() => match ev {
                Ok(ev) => Some(ev),
                // Deltas were lost: what is not out yet goes at the end of the turn.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => break,
            },
        };
        if let Some(ev) = ev {
            let e = &ev.event;
            if e.session_id != session || e.version.is_some_and(|v| v <= after_version) {
                continue;
            }
            match &e.payload {
                EventPayload::SessionDelta(Delta::Text { text }) => stream.push(text),
                EventPayload::SessionMessage(m) if m.role == Role::Assistant => {
                    stream.end_message(&m.content.text())
                }
                EventPayload::TurnCompleted(_) => break,
                _ => {}
            }
        }
        for block in stream.take(std::time::Instant::now()) {
            let out = Outgoing {
                thread: target.thread.clone(),
                reply_to: target.reply_to.take(),
                ..Outgoing::markdown(block)
            };
            if let Err(e) = b.store().enqueue_outbound(&b.id, &target.chat, &out) {
                tracing::warn!(channel = %b.id, error = %e, "cannot queue part of an answer");
                lost = true;
            }
            b.wake_outbox.notify_one();
        }
    }
    if lost {
        // The whole answer goes at the end rather than with a piece missing.
        return String::new();
    }
    stream.sent_text().to_string()
}
