//! The session bus: every event of every session, fanned out to all subscribers.
//!
//! One bounded broadcast ring holds the most recent events; each event is serialized once and
//! shared. A subscriber that falls more than [`BUS_CAPACITY`] events behind loses the oldest
//! ones and learns how many (`RecvError::Lagged`), so memory never grows with a slow reader;
//! it then replays persisted events from the store by version.
//!
//! Each event gets a bus sequence number, and the bus remembers the last version it published
//! per session, so a subscriber can tell exactly which events a receiver attached at some point
//! will see ([`SessionBus::attach`]).
//!
//! Stored events also have a bus-wide position in the store. The bus tells the store which
//! stored events it published, under the lock that attaches receivers, so an attach can say
//! the position below which every stored event was published before it
//! ([`Attached::position`]): a client holding that position after a replay holds everything
//! stored up to it, whatever order sessions' events were published in.

use pryx_protocol::Event;
use pryx_store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use tokio::sync::broadcast;

/// Events kept for the slowest subscriber before it must resync.
pub const BUS_CAPACITY: usize = 4096;

/// An event with its JSON text, serialized once for all subscribers.
#[derive(Debug)]
pub struct BusEvent {
    pub event: Event,
    pub json: Arc<str>,
    /// The order of publication on this bus (0, 1, 2, …, across all sessions).
    pub seq: u64,
}

/// A receiver and what had been published before it was attached.
pub struct Attached {
    pub rx: broadcast::Receiver<Arc<BusEvent>>,
    /// The sequence number of the first event `rx` receives.
    pub first_seq: u64,
    /// For each asked session, the last version published before `rx` was attached (`None`:
    /// nothing of that session was published by this process yet).
    pub published: HashMap<String, Option<u64>>,
    /// Every event stored at or below this bus-wide position was published before `rx` was
    /// attached (0 for a bus without a store).
    pub position: u64,
}

#[derive(Default)]
struct Published {
    next_seq: u64,
    last_version: HashMap<String, u64>,
}

/// Cheap to clone; all clones publish to the same subscribers.
#[derive(Clone)]
pub struct SessionBus {
    tx: broadcast::Sender<Arc<BusEvent>>,
    state: Arc<Mutex<Published>>,
    /// The store whose events this bus publishes (told of each one, asked for positions).
    store: Arc<OnceLock<Store>>,
}

impl Default for SessionBus {
    fn default() -> Self {
        Self::with_capacity(BUS_CAPACITY)
    }
}

impl SessionBus {
    pub fn with_capacity(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        SessionBus {
            tx,
            state: Arc::default(),
            store: Arc::default(),
        }
    }

    /// Tells `store` of every stored event this bus publishes (the core's store; set once).
    pub fn track_positions(&self, store: Store) {
        let _ = self.store.set(store);
    }

    /// Sends `event` to every current subscriber (none is fine).
    pub fn publish(&self, event: &Event) {
        self.publish_after(event, || {});
    }

    /// Runs `before`, then sends `event`, with no other event published in between. Freeing a
    /// session before its `turn.completed` goes out this way means the next turn's events
    /// (which need the session free) can only be published after it: versions reach
    /// subscribers in order.
    pub fn publish_after(&self, event: &Event, before: impl FnOnce()) {
        let json: Arc<str> = match serde_json::to_string(event) {
            Ok(s) => s.into(),
            Err(e) => {
                tracing::error!(error = %e, "cannot serialize a bus event");
                return;
            }
        };
        // Numbering and sending under one lock: receivers see events in `seq` order, and
        // `attach` sees a consistent cut.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        before();
        let seq = state.next_seq;
        state.next_seq += 1;
        if let Some(v) = event.version {
            let last = state
                .last_version
                .entry(event.session_id.clone())
                .or_insert(0);
            *last = (*last).max(v);
            if let Some(store) = self.store.get() {
                store.event_published(&event.session_id, v);
            }
        }
        let _ = self.tx.send(Arc::new(BusEvent {
            event: event.clone(),
            json,
            seq,
        }));
    }

    /// How many receivers are attached. Each keeps every event it has not read yet alive (up
    /// to the capacity), so a surface attaches one only while it reads.
    pub fn receivers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Receives every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<BusEvent>> {
        self.tx.subscribe()
    }

    /// Receives every event published from now on, and tells for `sessions` the last version
    /// published before (events of a session after it all reach the receiver, unless it lags).
    pub fn attach<'a>(&self, sessions: impl IntoIterator<Item = &'a str>) -> Attached {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let rx = self.tx.subscribe();
        let published = sessions
            .into_iter()
            .map(|s| (s.to_string(), state.last_version.get(s).copied()))
            .collect();
        let position = self.store.get().map_or(0, Store::published_position);
        Attached {
            rx,
            first_seq: state.next_seq,
            published,
            position,
        }
    }

    /// As [`SessionBus::attach`], telling the last version published of every session this bus
    /// has published (a subscriber that will replay sessions it cannot name yet).
    pub fn attach_all(&self) -> Attached {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let rx = self.tx.subscribe();
        let published = state
            .last_version
            .iter()
            .map(|(s, v)| (s.clone(), Some(*v)))
            .collect();
        let position = self.store.get().map_or(0, Store::published_position);
        Attached {
            rx,
            first_seq: state.next_seq,
            published,
            position,
        }
    }

    /// Subscribers currently attached.
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pryx_testkit::events::{event, user_message};

    fn ev(n: u64) -> Event {
        event("s", Some(n), user_message(n, "hi"))
    }

    #[tokio::test]
    async fn slow_subscriber_is_capped_and_told_how_much_it_lost() {
        let bus = SessionBus::with_capacity(4);
        let mut rx = bus.subscribe();
        for n in 1..=10 {
            bus.publish(&ev(n));
        }
        match rx.recv().await {
            Err(broadcast::error::RecvError::Lagged(k)) => assert_eq!(k, 6),
            other => panic!("expected lag, got {other:?}"),
        }
        let next = rx.recv().await.unwrap();
        assert_eq!(next.event.version, Some(7));
        assert!(next.json.contains("\"version\":7"));
        assert_eq!(next.seq, 6);
    }

    #[tokio::test]
    async fn attach_tells_what_was_published_before() {
        let bus = SessionBus::with_capacity(8);
        bus.publish(&ev(1));
        bus.publish(&ev(2));
        let mut at = bus.attach(["s", "other"]);
        assert_eq!(at.first_seq, 2);
        assert_eq!(at.published["s"], Some(2));
        assert_eq!(at.published["other"], None);
        bus.publish(&ev(3));
        let next = at.rx.recv().await.unwrap();
        assert_eq!((next.seq, next.event.version), (2, Some(3)));
    }

    #[tokio::test]
    async fn attach_tells_the_position_every_stored_event_below_was_published_at() {
        use pryx_protocol::Surface;
        let store = Store::open_in_memory().unwrap();
        let bus = SessionBus::with_capacity(8);
        bus.track_positions(store.clone());
        let a = store.create_session(&Default::default()).unwrap().id;
        let b = store.create_session(&Default::default()).unwrap().id;
        let trace = |n: u64| -> pryx_protocol::EventPayload {
            pryx_testkit::events::trace_event("n", n).into()
        };
        let ea = store.append_event(&a, Surface::Core, &trace(1)).unwrap();
        let eb = store.append_event(&b, Surface::Core, &trace(2)).unwrap();
        // b's event (position 2) goes out first: the position waits for a's (1).
        bus.publish(&eb);
        assert_eq!(bus.attach(["x"]).position, 0);
        bus.publish(&ea);
        assert_eq!(bus.attach(["x"]).position, 2);
        assert_eq!(bus.attach_all().published[&b], Some(1));
    }
}
