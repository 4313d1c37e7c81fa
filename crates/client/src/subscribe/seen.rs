//! The last version delivered per session: drops duplicates and tells the server where to
//! resume after a reconnect or resync.

use pryx_protocol::Event;
use std::collections::{BTreeMap, HashMap};

/// Per-session high-water marks of delivered events.
#[derive(Debug, Default)]
pub struct Seen {
    last: HashMap<String, u64>,
}

impl Seen {
    /// Starts from the versions the caller already holds.
    pub fn with(since: &BTreeMap<String, u64>) -> Seen {
        Seen {
            last: since.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        }
    }

    /// Whether `e` is new (and remembers it). Ephemeral events carry no version and always pass.
    pub fn accept(&mut self, e: &Event) -> bool {
        let Some(v) = e.version else { return true };
        let last = self.last.entry(e.session_id.clone()).or_insert(0);
        if v <= *last {
            return false;
        }
        *last = v;
        true
    }

    /// Continues `session` after `version`, lower than before or not (the core's `reset`).
    pub fn reset(&mut self, session: &str, version: u64) {
        self.last.insert(session.to_string(), version);
    }

    /// Stops asking for `session` on the next subscribe (its `since` was refused); its next
    /// live event starts it again.
    pub fn forget(&mut self, session: &str) {
        self.last.remove(session);
    }

    /// What to send as `since` when subscribing again.
    pub fn since(&self) -> BTreeMap<String, u64> {
        self.last.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pryx_testkit::events::{event, text_delta, user_message};

    fn ev(session: &str, v: Option<u64>) -> Event {
        match v {
            Some(n) => event(session, Some(n), user_message(n, "hi")),
            None => event(session, None, text_delta("hi")),
        }
    }

    #[test]
    fn duplicates_and_old_versions_are_dropped_per_session() {
        let mut seen = Seen::with(&BTreeMap::from([("a".to_string(), 2)]));
        assert!(!seen.accept(&ev("a", Some(2))));
        assert!(seen.accept(&ev("a", Some(3))));
        assert!(!seen.accept(&ev("a", Some(3))));
        assert!(seen.accept(&ev("b", Some(1))));
        assert!(seen.accept(&ev("a", None)));
        assert!(seen.accept(&ev("a", None)));
        assert_eq!(
            seen.since(),
            BTreeMap::from([("a".to_string(), 3), ("b".to_string(), 1)])
        );
    }

    #[test]
    fn a_reset_continues_from_the_stored_version_and_a_refused_session_is_forgotten() {
        let mut seen = Seen::with(&BTreeMap::from([
            ("a".to_string(), 9),
            ("b".to_string(), 2),
        ]));
        seen.reset("a", 4);
        assert!(seen.accept(&ev("a", Some(5))));
        seen.forget("b");
        assert_eq!(seen.since(), BTreeMap::from([("a".to_string(), 5)]));
    }
}
