//! The session bus: every event of every session, fanned out to all subscribers.
//!
//! One bounded broadcast ring holds the most recent events; each event is serialized once and
//! shared. A subscriber that falls more than [`BUS_CAPACITY`] events behind loses the oldest
//! ones and learns how many (`RecvError::Lagged`), so memory never grows with a slow reader;
//! it then replays persisted events from the store by version.

use pryx_protocol::Event;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Events kept for the slowest subscriber before it must resync.
pub const BUS_CAPACITY: usize = 4096;

/// An event with its JSON text, serialized once for all subscribers.
#[derive(Debug)]
pub struct BusEvent {
    pub event: Event,
    pub json: Arc<str>,
}

/// Cheap to clone; all clones publish to the same subscribers.
#[derive(Clone)]
pub struct SessionBus {
    tx: broadcast::Sender<Arc<BusEvent>>,
}

impl Default for SessionBus {
    fn default() -> Self {
        Self::with_capacity(BUS_CAPACITY)
    }
}

impl SessionBus {
    pub fn with_capacity(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity.max(1));
        SessionBus { tx }
    }

    /// Sends `event` to every current subscriber (none is fine).
    pub fn publish(&self, event: &Event) {
        let json: Arc<str> = match serde_json::to_string(event) {
            Ok(s) => s.into(),
            Err(e) => {
                tracing::error!(error = %e, "cannot serialize a bus event");
                return;
            }
        };
        let _ = self.tx.send(Arc::new(BusEvent {
            event: event.clone(),
            json,
        }));
    }

    /// Receives every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<BusEvent>> {
        self.tx.subscribe()
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
    }
}
