//! The event subscription over `/api/v1/ws`: a stream of [`Event`]s that survives disconnects.
//!
//! A background task holds the socket. When it drops (the core restarted, the network blinked)
//! it reconnects with exponential backoff and subscribes again with the last version it
//! delivered per session, so the server replays exactly what was missed; anything delivered
//! twice is dropped by `(session, version)`. A `resync` notice (the client fell behind) is
//! answered the same way. Ephemeral events (`session.delta`, `session.typing`) are live only:
//! those sent while disconnected are lost by design.
//!
//! When the core says a session's `since` is past what it stored (`reset`), the subscription
//! continues from the stored version and tells the caller with a [`Notice`] (it should fetch the
//! session again); a `since` the core refused is reported the same way and not asked again.
//!
//! Every subscribe after the first also carries the core's `cursor` (a bus-wide position), so
//! sessions created while the socket was down are replayed whole, not only the sessions the
//! client already knew. What a caller needs to go on in a later subscription (after the core
//! moved, say) is [`Subscription::resume`]: the versions and cursor of exactly the events it
//! has read.

mod conn;
mod seen;

pub use seen::Seen;

use crate::error::ClientError;
use crate::rest::Client;
use conn::{Command, Task};
use futures_util::Stream;
use pryx_protocol::api::{ApprovalDecision, ApprovalScope};
use pryx_protocol::{ErrorBody, ErrorCode, Event, EventKind};
use std::collections::BTreeMap;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Events buffered for a slow reader before the socket stops being read (the core then asks
/// for a resync, which is handled here).
const EVENT_BUFFER: usize = 256;

/// Notices kept for a caller that does not read them (later ones are dropped and logged).
const NOTICE_BUFFER: usize = 64;

/// What the core said about one session of the subscription, besides events.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// The versions held for `session_id` are past what the core stored: drop what is held of
    /// that session and fetch it again (`Client::get_session`); events continue after
    /// `last_version`.
    Reset {
        session_id: String,
        last_version: u64,
    },
    /// The core could not replay `session_id` from the version asked (out of range, unknown
    /// session, a store failure); its live events still arrive.
    Refused {
        session_id: String,
        error: ErrorBody,
    },
}

/// Which events to receive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// Only these sessions (`None`: all).
    pub sessions: Option<Vec<String>>,
    /// Only these kinds (`None`: all).
    pub events: Option<Vec<EventKind>>,
    /// Session → the last version the caller already has; stored events after it are replayed
    /// first. Listed sessions missing here start at their current last version.
    pub since: BTreeMap<String, u64>,
    /// A cursor from an earlier subscription ([`Subscription::resume`]): sessions with events
    /// stored after it that `since` does not name are replayed from there. `None`: sessions
    /// not in `since` start live.
    pub cursor: Option<u64>,
}

impl Filter {
    /// Every event of every session, live.
    pub fn all() -> Filter {
        Filter::default()
    }

    /// Every event of one session, from now on.
    pub fn session(id: impl Into<String>) -> Filter {
        Filter {
            sessions: Some(vec![id.into()]),
            ..Filter::default()
        }
    }

    /// Replays `session`'s stored events after `version` first.
    pub fn since(mut self, session: impl Into<String>, version: u64) -> Filter {
        self.since.insert(session.into(), version);
        self
    }

    /// Replays every session with events stored after `cursor` that `since` does not name.
    pub fn after_cursor(mut self, cursor: u64) -> Filter {
        self.cursor = Some(cursor);
        self
    }

    /// Only these kinds of events.
    pub fn kinds(mut self, kinds: impl IntoIterator<Item = EventKind>) -> Filter {
        self.events = Some(kinds.into_iter().collect());
        self
    }
}

/// How reconnecting waits: `initial`, doubling up to `max`; gives up once no connection could be
/// made for `give_up_after` (`None`: never).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub give_up_after: Option<Duration>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
            give_up_after: None,
        }
    }
}

impl Backoff {
    /// The wait before reconnect attempt `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// The state of the socket behind a [`Subscription`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Subscribed; `connects` counts how many times (1 on the first connection).
    Connected { connects: u64 },
    /// Lost; trying again.
    Reconnecting { attempt: u32, error: String },
    /// Gave up; the stream has ended.
    Closed { error: String },
}

/// What the task hands the reader, in order: events, and the changes to where a later
/// subscription must resume that come between them.
#[derive(Debug)]
pub(crate) enum Item {
    Event(Event),
    /// The core reset a session: the caller holds it up to this version from now on.
    Reset(String, u64),
    /// The core refused a session's `since`: it is not asked again.
    Forget(String),
    /// The core's cursor after a subscribe: everything before it has been handed over.
    Cursor(u64),
}

/// A live, gap-free stream of events. Dropping it closes the socket.
pub struct Subscription {
    events: mpsc::Receiver<Item>,
    /// Where a later subscription resumes, from the events read so far.
    read: Seen,
    cursor: Option<u64>,
    notices: mpsc::Receiver<Notice>,
    commands: mpsc::Sender<Command>,
    state: watch::Receiver<Connection>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Subscription {
    /// The next event; `None` once the subscription gave up (see [`Subscription::state`]).
    pub async fn next(&mut self) -> Option<Event> {
        loop {
            let item = self.events.recv().await?;
            if let Some(e) = self.read_item(item) {
                return Some(e);
            }
        }
    }

    /// Notes what `item` changes of where to resume; the event, if it is one.
    fn read_item(&mut self, item: Item) -> Option<Event> {
        match item {
            Item::Event(e) => {
                self.read.accept(&e);
                return Some(e);
            }
            Item::Reset(session, version) => self.read.reset(&session, version),
            Item::Forget(session) => self.read.forget(&session),
            Item::Cursor(c) => self.cursor = Some(c),
        }
        None
    }

    /// The filter a later subscription (on another core link, say) continues this one with:
    /// `filter`'s sessions and kinds, from the versions and cursor of the events read so far,
    /// so that subscription neither repeats nor skips one, and offers the sessions created in
    /// between.
    pub fn resume(&self, filter: Filter) -> Filter {
        Filter {
            since: self.read.since(),
            cursor: self.cursor,
            ..filter
        }
    }

    /// The next [`Notice`] (`None` once the subscription ended). Events keep flowing whether or
    /// not notices are read.
    pub async fn next_notice(&mut self) -> Option<Notice> {
        self.notices.recv().await
    }

    /// The notices as a stream of their own, to read them alongside [`Subscription::next`]
    /// (in one `select!`, say); [`Subscription::next_notice`] has none after this.
    pub fn take_notices(&mut self) -> mpsc::Receiver<Notice> {
        std::mem::replace(&mut self.notices, mpsc::channel(1).1)
    }

    /// A [`Notice`] if one is waiting.
    pub fn try_notice(&mut self) -> Option<Notice> {
        self.notices.try_recv().ok()
    }

    /// Watches the connection (to show "reconnecting…" or learn why the stream ended).
    pub fn state(&self) -> watch::Receiver<Connection> {
        self.state.clone()
    }

    /// Answers an approval over the socket. The first answer from any surface wins; a later
    /// one fails with `NOT_FOUND`. Fails with [`ClientError::Closed`] while disconnected (answer
    /// again, or through [`Client::answer_approval`]).
    pub async fn answer(
        &self,
        approval_id: &str,
        decision: ApprovalDecision,
        scope: ApprovalScope,
    ) -> Result<(), ClientError> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::Answer {
                id: approval_id.to_string(),
                decision,
                scope,
                reply,
            })
            .await
            .map_err(|_| ClientError::Closed("the subscription has ended".into()))?;
        rx.await
            .map_err(|_| ClientError::Closed("the subscription has ended".into()))?
    }
}

impl Stream for Subscription {
    type Item = Event;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        loop {
            match self.events.poll_recv(cx) {
                Poll::Ready(Some(item)) => {
                    if let Some(e) = self.read_item(item) {
                        return Poll::Ready(Some(e));
                    }
                }
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl Client {
    /// Subscribes to events with the default [`Backoff`] (reconnects forever).
    pub async fn subscribe(&self, filter: Filter) -> Result<Subscription, ClientError> {
        self.subscribe_with(filter, Backoff::default()).await
    }

    /// Subscribes to events. Returns once the first subscription is in place (the replay of
    /// `since` is then queued), so nothing published afterwards is missed; fails if the first
    /// connection fails.
    pub async fn subscribe_with(
        &self,
        mut filter: Filter,
        backoff: Backoff,
    ) -> Result<Subscription, ClientError> {
        // Pin listed sessions to their current version so a reconnect replays exactly.
        for id in filter.sessions.clone().unwrap_or_default() {
            if filter.since.contains_key(&id) {
                continue;
            }
            match self.get_session(&id).await {
                Ok(detail) => {
                    filter.since.insert(id, detail.last_version);
                }
                Err(e) if e.code() == Some(ErrorCode::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        let (events_tx, events) = mpsc::channel(EVENT_BUFFER);
        let (notices_tx, notices) = mpsc::channel(NOTICE_BUFFER);
        let (commands, commands_rx) = mpsc::channel(16);
        let (state_tx, state) = watch::channel(Connection::Reconnecting {
            attempt: 0,
            error: "connecting".into(),
        });
        let (first_tx, first) = oneshot::channel();
        let read = Seen::with(&filter.since);
        let cursor = filter.cursor;
        let task = Task::new(
            self.clone(),
            filter,
            backoff,
            events_tx,
            notices_tx,
            commands_rx,
            state_tx,
        );
        let task = tokio::spawn(task.run(first_tx));
        let sub = Subscription {
            events,
            read,
            cursor,
            notices,
            commands,
            state,
            task,
        };
        match first.await {
            Ok(Ok(())) => Ok(sub),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ClientError::Closed(
                "the subscription task stopped before connecting".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = Backoff::default();
        assert_eq!(b.delay(1), Duration::from_millis(100));
        assert_eq!(b.delay(2), Duration::from_millis(200));
        assert_eq!(b.delay(4), Duration::from_millis(800));
        assert_eq!(b.delay(10), Duration::from_secs(5));
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(5));
    }

    #[test]
    fn filters_build() {
        let f = Filter::session("s")
            .since("s", 4)
            .kinds([EventKind::TurnCompleted]);
        assert_eq!(f.sessions, Some(vec!["s".to_string()]));
        assert_eq!(f.since["s"], 4);
        assert_eq!(f.events, Some(vec![EventKind::TurnCompleted]));
        assert_eq!(Filter::all().sessions, None);
        assert_eq!(Filter::all().after_cursor(7).cursor, Some(7));
    }
}
