//! Per-provider circuit breaker (PRD §14.3): open after N consecutive failures, then let one
//! probe through every interval until one succeeds.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::clock::Clock;

/// What the breaker says about the next attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead.
    Allowed,
    /// Go ahead as the single probe of a half-open breaker.
    Probe,
    /// Fail fast; the next probe is allowed after this long.
    Rejected(Duration),
}

#[derive(Debug)]
struct State {
    consecutive_failures: u32,
    /// Set while open: when the last probe (or the opening) happened.
    opened_at: Option<Instant>,
    probe_in_flight: bool,
}

/// Shared by every call of one provider.
#[derive(Debug, Clone)]
pub struct CircuitBreaker {
    threshold: u32,
    probe_interval: Duration,
    clock: Arc<dyn Clock>,
    state: Arc<Mutex<State>>,
}

impl CircuitBreaker {
    pub fn new(threshold: u32, probe_interval: Duration, clock: Arc<dyn Clock>) -> Self {
        CircuitBreaker {
            threshold: threshold.max(1),
            probe_interval,
            clock,
            state: Arc::new(Mutex::new(State {
                consecutive_failures: 0,
                opened_at: None,
                probe_in_flight: false,
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Asks whether an attempt may start now.
    pub fn admit(&self) -> Admission {
        let now = self.clock.now();
        let mut s = self.lock();
        let Some(opened_at) = s.opened_at else {
            return Admission::Allowed;
        };
        let since = now.saturating_duration_since(opened_at);
        if s.probe_in_flight || since < self.probe_interval {
            let wait = self.probe_interval.saturating_sub(since);
            return Admission::Rejected(if wait.is_zero() {
                self.probe_interval
            } else {
                wait
            });
        }
        s.probe_in_flight = true;
        s.opened_at = Some(now);
        Admission::Probe
    }

    /// The attempt reached the provider and got an answer started.
    pub fn record_success(&self) {
        let mut s = self.lock();
        s.consecutive_failures = 0;
        s.opened_at = None;
        s.probe_in_flight = false;
    }

    /// The provider failed (server error, network, timeout).
    pub fn record_failure(&self) {
        let now = self.clock.now();
        let mut s = self.lock();
        s.consecutive_failures = s.consecutive_failures.saturating_add(1);
        if s.probe_in_flight {
            s.probe_in_flight = false;
            s.opened_at = Some(now);
        } else if s.opened_at.is_none() && s.consecutive_failures >= self.threshold {
            s.opened_at = Some(now);
        }
    }

    /// The attempt ended without telling us about provider health (cancelled, client error).
    pub fn record_neutral(&self) {
        self.lock().probe_in_flight = false;
    }

    pub fn is_open(&self) -> bool {
        self.lock().opened_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resilience::clock::ManualClock;

    fn breaker() -> (CircuitBreaker, ManualClock) {
        let clock = ManualClock::new();
        (
            CircuitBreaker::new(5, Duration::from_secs(30), Arc::new(clock.clone())),
            clock,
        )
    }

    #[test]
    fn opens_after_five_consecutive_failures() {
        let (b, _) = breaker();
        for _ in 0..4 {
            b.record_failure();
            assert_eq!(b.admit(), Admission::Allowed);
        }
        b.record_failure();
        assert_eq!(b.admit(), Admission::Rejected(Duration::from_secs(30)));
    }

    #[test]
    fn success_resets_the_count() {
        let (b, _) = breaker();
        for _ in 0..4 {
            b.record_failure();
        }
        b.record_success();
        for _ in 0..4 {
            b.record_failure();
        }
        assert_eq!(b.admit(), Admission::Allowed);
    }

    #[test]
    fn one_probe_every_interval_then_closes_on_success() {
        let (b, clock) = breaker();
        for _ in 0..5 {
            b.record_failure();
        }
        clock.advance(Duration::from_secs(10));
        assert_eq!(b.admit(), Admission::Rejected(Duration::from_secs(20)));
        clock.advance(Duration::from_secs(20));
        assert_eq!(b.admit(), Admission::Probe);
        assert!(
            matches!(b.admit(), Admission::Rejected(_)),
            "only one probe at a time"
        );
        b.record_failure();
        assert_eq!(b.admit(), Admission::Rejected(Duration::from_secs(30)));
        clock.advance(Duration::from_secs(30));
        assert_eq!(b.admit(), Admission::Probe);
        b.record_success();
        assert_eq!(b.admit(), Admission::Allowed);
        assert!(!b.is_open());
    }

    #[test]
    fn neutral_outcome_frees_the_probe_slot() {
        let (b, clock) = breaker();
        for _ in 0..5 {
            b.record_failure();
        }
        clock.advance(Duration::from_secs(30));
        assert_eq!(b.admit(), Admission::Probe);
        b.record_neutral();
        assert!(matches!(b.admit(), Admission::Rejected(_)));
        clock.advance(Duration::from_secs(30));
        assert_eq!(b.admit(), Admission::Probe);
    }
}
