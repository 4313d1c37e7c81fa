//! When to restart a crashed core: 1, 2, 4, 8, 16 s after consecutive failures, then stop and
//! tell the user. A core that stayed up long enough wipes the slate.

use std::time::Duration;

/// The restart schedule of the sidecar (pure logic, so it is tested without processes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// The first delay; each further consecutive failure doubles it.
    pub base: Duration,
    /// Restarts attempted in a row before giving up.
    pub max_restarts: u32,
    /// A core that ran at least this long before dying starts a new series of failures.
    pub stable_after: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy::with_base(Duration::from_secs(1))
    }
}

impl RestartPolicy {
    /// The default schedule scaled to `base` (the stability window scales with it).
    pub fn with_base(base: Duration) -> Self {
        RestartPolicy {
            base,
            max_restarts: 5,
            stable_after: base.saturating_mul(30),
        }
    }

    /// The wait before the next start after `failures` consecutive failures (1-based), or `None`
    /// when the series is exhausted and the user has to decide.
    pub fn delay(&self, failures: u32) -> Option<Duration> {
        if failures == 0 {
            return Some(Duration::ZERO);
        }
        if failures > self.max_restarts {
            return None;
        }
        Some(self.base.saturating_mul(1u32 << (failures - 1).min(16)))
    }

    /// The failure count after a core that ran for `uptime` died.
    pub fn after_death(&self, failures: u32, uptime: Duration) -> u32 {
        if uptime >= self.stable_after {
            1
        } else {
            failures.saturating_add(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_from_one_second_and_stop_after_five_restarts() {
        let p = RestartPolicy::default();
        let secs: Vec<Option<u64>> = (1..=6).map(|f| p.delay(f).map(|d| d.as_secs())).collect();
        assert_eq!(
            secs,
            vec![Some(1), Some(2), Some(4), Some(8), Some(16), None]
        );
        assert_eq!(p.delay(0), Some(Duration::ZERO));
        assert_eq!(p.delay(u32::MAX), None);
    }

    #[test]
    fn a_long_uptime_starts_a_new_series() {
        let p = RestartPolicy::default();
        assert_eq!(p.after_death(4, Duration::from_millis(500)), 5);
        assert_eq!(p.after_death(4, Duration::from_secs(30)), 1);
        assert_eq!(p.after_death(0, Duration::ZERO), 1);
    }

    #[test]
    fn scaled_schedules_keep_their_shape() {
        let p = RestartPolicy::with_base(Duration::from_millis(100));
        assert_eq!(p.delay(3), Some(Duration::from_millis(400)));
        assert_eq!(p.stable_after, Duration::from_secs(3));
    }
}
