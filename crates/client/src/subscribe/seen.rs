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
}
