//! Scheduled tasks, the arithmetic: when a trigger fires next ([`Schedule`]), what to run after
//! downtime ([`catch_up::plan`]), how long to wait before a retry ([`backoff`]), reading what a
//! user types (`4h`, `2026-12-01T09:00`), times of day in a zone (a heartbeat's active hours),
//! and the ready-made [`templates`]. Pure logic: the core
//! hosts the timers, claims runs in the database and runs them.

pub mod catch_up;
mod error;
mod hours;
mod input;
mod schedule;
pub mod templates;

pub use catch_up::{Plan, plan};
/// Zones as [`parse_zone`] reads them.
pub use chrono_tz::Tz;
pub use error::ScheduleError;
pub use hours::{ActiveHours, last_daily, parse_clock};
pub use input::{local_zone, parse_at, parse_every, parse_zone};
pub use schedule::Schedule;

use pryx_protocol::api::RetryPolicy;
use std::time::Duration;

/// How long to wait before retry `attempt` (1 for the first retry): the policy's base, doubled
/// each time, never more than its cap.
pub fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let base = policy.backoff_secs.max(1);
    let doubled = base.saturating_mul(1u64 << attempt.saturating_sub(1).min(32));
    Duration::from_secs(doubled.min(policy.max_backoff_secs.max(base)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            max_retries: 5,
            backoff_secs: 60,
            max_backoff_secs: 200,
        };
        let secs: Vec<u64> = (1..=5).map(|a| backoff(&p, a).as_secs()).collect();
        assert_eq!(secs, [60, 120, 200, 200, 200]);
        // The PRD's scenario: 1, 2 and 4 minutes.
        let p = RetryPolicy::default();
        let secs: Vec<u64> = (1..=3).map(|a| backoff(&p, a).as_secs()).collect();
        assert_eq!(secs, [60, 120, 240]);
        assert_eq!(backoff(&p, u32::MAX).as_secs(), 3600);
    }
}
