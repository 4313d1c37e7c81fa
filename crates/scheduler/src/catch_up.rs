//! What a due task runs, given when it was due and what time it is now: on time, it runs its
//! slot; late (Pryx was down, the machine slept), its catch-up policy decides. A restart never
//! re-runs a slot that already ran because the next due time only moves forward, and it is
//! stored in the same step that claims the run.

use crate::Schedule;
use chrono::{DateTime, TimeDelta, Utc};
use pryx_protocol::api::{CatchUp, RunReason};

/// A slot this late or less counts as on time.
pub const GRACE: TimeDelta = TimeDelta::seconds(60);
/// `run-all` runs at most this many missed slots.
pub const RUN_ALL_CAP: u64 = 10;
/// Missed slots are counted up to this (for the message saying how many were skipped).
const COUNT_CAP: u64 = 100_000;

/// The decision for a task whose `due` time has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The slot to run now and why.
    pub run: Option<(DateTime<Utc>, RunReason)>,
    /// Missed slots not run (counted up to 100,000).
    pub skipped: u64,
    /// The next due time to store (`None`: nothing more by the clock). May already be past under
    /// `run-all`: the next missed slot then runs as soon as this one ends.
    pub next: Option<DateTime<Utc>>,
}

/// Decides for a task that was due at `due` (≤ `now`).
pub fn plan(schedule: &Schedule, due: DateTime<Utc>, now: DateTime<Utc>, policy: CatchUp) -> Plan {
    if due > now {
        return Plan {
            run: None,
            skipped: 0,
            next: Some(due),
        };
    }
    let latest = schedule
        .last_at_or_before(now)
        .filter(|l| *l >= due)
        .unwrap_or(due);
    let late = now - latest > GRACE;
    // `due` is a slot itself (stored from `next_after`): these are the ones between it and
    // `latest`, `due` included.
    let missed_before_latest = schedule.count_between(due, latest, COUNT_CAP);
    let after_now = schedule.next_after(now);
    match policy {
        CatchUp::Skip if late => Plan {
            run: None,
            skipped: missed_before_latest + 1,
            next: after_now,
        },
        CatchUp::Skip | CatchUp::RunOnce => Plan {
            run: Some((
                latest,
                if late {
                    RunReason::CatchUp
                } else {
                    RunReason::Schedule
                },
            )),
            skipped: missed_before_latest,
            next: after_now,
        },
        CatchUp::RunAll => {
            // Keep the last RUN_ALL_CAP slots up to now; run the oldest of them.
            let mut first = latest;
            let mut kept = 1;
            while kept < RUN_ALL_CAP {
                match schedule.last_at_or_before(first - TimeDelta::milliseconds(1)) {
                    Some(prev) if prev >= due => {
                        first = prev;
                        kept += 1;
                    }
                    _ => break,
                }
            }
            let total = missed_before_latest + 1;
            let slot_late = now - first > GRACE;
            Plan {
                run: Some((
                    first,
                    if slot_late {
                        RunReason::CatchUp
                    } else {
                        RunReason::Schedule
                    },
                )),
                skipped: total.saturating_sub(kept),
                next: if first < latest {
                    schedule.next_after(first)
                } else {
                    after_now
                },
            }
        }
    }
}

#[cfg(test)]
mod tests;
