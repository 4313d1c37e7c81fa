//! Turns running in the background: at most one per session, each with its cancel token.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub(crate) struct Running {
    pub turn_id: String,
    pub cancel: CancellationToken,
    pub handle: Option<JoinHandle<()>>,
}

/// Session id → its running turn.
#[derive(Default)]
pub(crate) struct Turns {
    map: Mutex<HashMap<String, Running>>,
}

impl Turns {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Running>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves the session for a new turn; false if one is running there.
    pub fn reserve(&self, session_id: &str, turn_id: &str, cancel: CancellationToken) -> bool {
        let mut map = self.lock();
        if map.contains_key(session_id) {
            return false;
        }
        map.insert(
            session_id.to_string(),
            Running {
                turn_id: turn_id.to_string(),
                cancel,
                handle: None,
            },
        );
        true
    }

    pub fn set_handle(&self, session_id: &str, turn_id: &str, handle: JoinHandle<()>) {
        if let Some(r) = self
            .lock()
            .get_mut(session_id)
            .filter(|r| r.turn_id == turn_id)
        {
            r.handle = Some(handle);
        }
    }

    pub fn finish(&self, session_id: &str, turn_id: &str) {
        let mut map = self.lock();
        if map.get(session_id).is_some_and(|r| r.turn_id == turn_id) {
            map.remove(session_id);
        }
    }

    /// Frees the session whatever turn runs there: its turn has ended (`turn.completed`).
    pub fn release(&self, session_id: &str) {
        self.lock().remove(session_id);
    }

    pub fn is_busy(&self, session_id: &str) -> bool {
        self.lock().contains_key(session_id)
    }

    /// The id of the turn running in a session, if any.
    pub fn turn_id(&self, session_id: &str) -> Option<String> {
        self.lock().get(session_id).map(|r| r.turn_id.clone())
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Cancels the turn with this id; returns its session.
    pub fn cancel(&self, turn_id: &str) -> Option<String> {
        let map = self.lock();
        let (sid, r) = map.iter().find(|(_, r)| r.turn_id == turn_id)?;
        r.cancel.cancel();
        Some(sid.clone())
    }

    /// Cancels every turn and hands back their tasks to wait for.
    pub fn cancel_all(&self) -> Vec<JoinHandle<()>> {
        let mut map = self.lock();
        map.values_mut()
            .filter_map(|r| {
                r.cancel.cancel();
                r.handle.take()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_turn_per_session_and_cancel_by_id() {
        let turns = Turns::default();
        let c = CancellationToken::new();
        assert!(turns.reserve("s1", "t1", c.clone()));
        assert!(!turns.reserve("s1", "t2", CancellationToken::new()));
        assert!(turns.reserve("s2", "t3", CancellationToken::new()));
        assert_eq!(turns.cancel("t1").as_deref(), Some("s1"));
        assert!(c.is_cancelled());
        assert_eq!(turns.cancel("nope"), None);
        turns.finish("s1", "other");
        assert!(turns.is_busy("s1"));
        turns.finish("s1", "t1");
        assert!(!turns.is_busy("s1"));
        assert_eq!(turns.len(), 1);
        turns.release("s2");
        assert!(!turns.is_busy("s2"));
        assert_eq!(turns.cancel("t3"), None);
    }
}
