//! Rate limits per sender and the backoff channels retry with.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// At most `per_minute` events per key in any minute.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_minute: usize,
    seen: HashMap<String, VecDeque<Instant>>,
}

/// What the limiter says about one more event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rate {
    Ok,
    /// The first one over the limit in this window: worth telling the sender once.
    JustOver,
    /// Still over the limit.
    Over,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute: usize::try_from(per_minute.max(1)).unwrap_or(usize::MAX),
            seen: HashMap::new(),
        }
    }

    pub fn check(&mut self, key: &str) -> Rate {
        let now = Instant::now();
        let window = Duration::from_secs(60);
        if self.seen.len() > 10_000 {
            self.seen
                .retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
        }
        let q = self.seen.entry(key.to_string()).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
        let before = q.len();
        q.push_back(now);
        if before < self.per_minute {
            Rate::Ok
        } else if before == self.per_minute {
            Rate::JustOver
        } else {
            // Keep the queue from growing without bound while a sender floods.
            q.pop_back();
            Rate::Over
        }
    }
}

/// Exponential backoff with jitter, capped.
#[derive(Debug)]
pub(crate) struct Backoff {
    next: Duration,
    min: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Backoff {
        Backoff {
            next: min,
            min,
            max,
        }
    }

    pub fn reset(&mut self) {
        self.next = self.min;
    }

    /// The next wait: doubled each time up to the cap, with ±20 % jitter so restarts of many
    /// clients do not arrive together.
    pub fn step(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.max);
        let mut b = [0u8; 2];
        let r = match getrandom::fill(&mut b) {
            Ok(()) => f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX),
            Err(_) => 0.5,
        };
        base.mul_f64(0.8 + 0.4 * r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_message_in_a_minute_is_over_the_limit_once_then_quietly() {
        let mut l = RateLimiter::new(10);
        for _ in 0..10 {
            assert_eq!(l.check("ann"), Rate::Ok);
        }
        assert_eq!(l.check("ann"), Rate::JustOver);
        assert_eq!(l.check("ann"), Rate::Over);
        assert_eq!(l.check("bob"), Rate::Ok, "per sender");
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(8));
        let waits: Vec<u64> = (0..6).map(|_| b.step().as_millis() as u64).collect();
        assert!(waits[0] >= 800 && waits[0] <= 1200);
        assert!(waits[5] >= 6400 && waits[5] <= 9600);
        b.reset();
        assert!(b.step() <= Duration::from_millis(1200));
    }
}
