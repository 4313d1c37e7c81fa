//! Bus-wide event positions this process handed out and has not yet published.
//!
//! Events are stored in `seq` order but reach the session bus later, and not always in that
//! order (a turn stores a step's events, then publishes them; another session's turn may
//! publish in between). A position a client may keep must therefore be one below which every
//! event this process stored was published: [`Store::published_position`] is that watermark.
//! An event stored and never published (a task that died between the two) holds the watermark
//! back; that costs a reconnecting client a longer replay query, never an event.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use crate::store::Store;

#[derive(Debug, Default)]
pub(crate) struct Positions {
    /// Stored, not yet published: position → (session, version).
    pending: BTreeMap<u64, (String, u64)>,
    /// (session, version) → position, for [`Store::event_published`].
    by_event: HashMap<(String, u64), u64>,
    /// The highest position handed out (or stored when the database was opened).
    last: u64,
}

impl Positions {
    pub(crate) fn starting_at(last: u64) -> Mutex<Positions> {
        Mutex::new(Positions {
            last,
            ..Positions::default()
        })
    }

    /// Called while the event's transaction is still open, so no reader of the watermark sees
    /// the position committed but not pending.
    pub(crate) fn stored(&mut self, seq: u64, session: &str, version: u64) {
        self.pending.insert(seq, (session.to_string(), version));
        self.by_event.insert((session.to_string(), version), seq);
        self.last = self.last.max(seq);
    }

    /// The transaction that took `seq` did not commit.
    pub(crate) fn rolled_back(&mut self, seq: u64) {
        if let Some(key) = self.pending.remove(&seq) {
            self.by_event.remove(&key);
        }
    }

    fn published(&mut self, session: &str, version: u64) {
        if let Some(seq) = self.by_event.remove(&(session.to_string(), version)) {
            self.pending.remove(&seq);
        }
    }

    fn watermark(&self) -> u64 {
        match self.pending.keys().next() {
            Some(first) => first - 1,
            None => self.last,
        }
    }
}

impl Store {
    fn positions(&self) -> std::sync::MutexGuard<'_, Positions> {
        self.positions_lock()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that the stored event `version` of `session` reached the session bus. The bus
    /// calls this while it publishes, under the same lock that attaches new receivers.
    pub fn event_published(&self, session: &str, version: u64) {
        self.positions().published(session, version);
    }

    /// The highest position such that every event this process stored at or below it has been
    /// published (events stored before it opened count as published). Never reads the
    /// database, so the bus may call it under its lock.
    pub fn published_position(&self) -> u64 {
        self.positions().watermark()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watermark_stops_below_the_first_unpublished_position() {
        let mut p = Positions {
            last: 10,
            ..Positions::default()
        };
        assert_eq!(p.watermark(), 10);
        p.stored(11, "a", 1);
        p.stored(12, "b", 1);
        p.stored(13, "a", 2);
        assert_eq!(p.watermark(), 10);
        // Published out of order: the watermark waits for 11.
        p.published("b", 1);
        assert_eq!(p.watermark(), 10);
        p.published("a", 1);
        assert_eq!(p.watermark(), 12);
        p.stored(14, "c", 1);
        p.rolled_back(14);
        p.published("a", 2);
        assert_eq!(p.watermark(), 14);
        // An event nobody stored is ignored.
        p.published("z", 9);
        assert_eq!(p.watermark(), 14);
    }
}
