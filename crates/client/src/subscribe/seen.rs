//! The last version delivered per session: drops duplicates and tells the server where to
//! resume after a reconnect or resync.

use pryx_protocol::Event;
use std::collections::{BTreeMap, HashMap};

/// Per-session high-water marks of delivered events.
#[derive(Debug, Default)]
pub struct Seen {
    last: HashMap<String, u64>,
    /// When each session last advanced (a counter), to choose which to name when a subscribe
    /// cannot name them all.
    touched: HashMap<String, u64>,
    clock: u64,
}

impl Seen {
    /// Starts from the versions the caller already holds.
    pub fn with(since: &BTreeMap<String, u64>) -> Seen {
        Seen {
            last: since.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            ..Seen::default()
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
        self.clock += 1;
        self.touched.insert(e.session_id.clone(), self.clock);
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
        self.touched.remove(session);
    }

    /// How many sessions are held.
    pub fn len(&self) -> usize {
        self.last.len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }

    /// What to send as `since` when subscribing again.
    pub fn since(&self) -> BTreeMap<String, u64> {
        self.last.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// At most `max` entries of [`Seen::since`]: the sessions that advanced most recently. The
    /// others must then come back through a cursor (from their first event after it; what is
    /// held of them is dropped as duplicate).
    pub fn since_at_most(&self, max: usize) -> BTreeMap<String, u64> {
        if self.last.len() <= max {
            return self.since();
        }
        let mut by_recency: Vec<(&String, &u64)> = self.last.iter().collect();
        by_recency
            .sort_by_key(|(s, _)| std::cmp::Reverse(self.touched.get(*s).copied().unwrap_or(0)));
        by_recency
            .into_iter()
            .take(max)
            .map(|(k, v)| (k.clone(), *v))
            .collect()
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
    fn a_capped_since_keeps_the_sessions_that_advanced_last() {
        let mut seen = Seen::with(&BTreeMap::from([("old".to_string(), 7)]));
        assert!(seen.accept(&ev("a", Some(1))));
        assert!(seen.accept(&ev("b", Some(1))));
        assert!(seen.accept(&ev("a", Some(2))));
        assert_eq!(seen.since_at_most(3), seen.since());
        assert_eq!(
            seen.since_at_most(2),
            BTreeMap::from([("a".to_string(), 2), ("b".to_string(), 1)])
        );
        assert_eq!(
            seen.since_at_most(1),
            BTreeMap::from([("a".to_string(), 2)])
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
