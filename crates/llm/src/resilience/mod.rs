//! Retry policy (PRD §14.1), circuit breaker (§14.3) and an injectable clock.

mod breaker;
mod clock;

use std::time::Duration;

pub use breaker::{Admission, CircuitBreaker};
pub use clock::{Clock, ManualClock, SystemClock};

use crate::error::{LlmError, TimeoutPhase};

/// How failed attempts are retried. Retries only happen before any output reached the caller.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// First backoff delay; doubles each retry (1, 2, 4, 8 s ...).
    pub base_delay: Duration,
    /// Cap on any single delay; a `Retry-After` longer than this is not waited for.
    pub max_delay: Duration,
    pub max_rate_limit_retries: u32,
    pub max_server_retries: u32,
    pub max_network_retries: u32,
    /// Consecutive failures that open the circuit breaker.
    pub breaker_threshold: u32,
    /// While open, one probe is let through this often.
    pub breaker_probe_interval: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            max_rate_limit_retries: 5,
            max_server_retries: 3,
            max_network_retries: 5,
            breaker_threshold: 5,
            breaker_probe_interval: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No retries: one attempt, its failure reported as it is (a connection test wants to know
    /// what the provider said, not wait through backoff).
    pub fn none() -> Self {
        RetryPolicy {
            max_rate_limit_retries: 0,
            max_server_retries: 0,
            max_network_retries: 0,
            ..RetryPolicy::default()
        }
    }
}

/// Which budget a failure draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureClass {
    RateLimit,
    Server,
    Network,
    /// Never retried (client errors, cancellation, protocol errors).
    Final,
}

impl FailureClass {
    /// An idle timeout mid-stream is final: it is only armed once an event reached the caller,
    /// and a retry would send that output twice. (The driver stops retrying after output
    /// anyway; this keeps the rule true should the timeout ever fire earlier.) Connect and
    /// first-token timeouts come before any output and are retried like network errors. The
    /// overall call limit is final: the time a retry would need is already spent.
    pub(crate) fn of(err: &LlmError) -> Self {
        match err {
            LlmError::RateLimited { .. } => FailureClass::RateLimit,
            LlmError::Server { .. } => FailureClass::Server,
            LlmError::Timeout {
                phase: TimeoutPhase::Idle | TimeoutPhase::Call,
                ..
            } => FailureClass::Final,
            LlmError::Network { .. } | LlmError::Timeout { .. } => FailureClass::Network,
            _ => FailureClass::Final,
        }
    }

    /// Whether the failure says something about the provider's health.
    pub(crate) fn counts_for_breaker(err: &LlmError) -> bool {
        matches!(
            err,
            LlmError::Server { .. }
                | LlmError::Network { .. }
                | LlmError::Timeout { .. }
                | LlmError::Protocol { .. }
        )
    }
}

/// Retry bookkeeping of one call.
#[derive(Debug, Default)]
pub(crate) struct RetryState {
    total: u32,
    rate_limit: u32,
    server: u32,
    network: u32,
}

impl RetryState {
    /// The delay before the next attempt, or `None` if this error must be returned.
    pub(crate) fn next_delay(&mut self, policy: &RetryPolicy, err: &LlmError) -> Option<Duration> {
        let (used, max) = match FailureClass::of(err) {
            FailureClass::RateLimit => (&mut self.rate_limit, policy.max_rate_limit_retries),
            FailureClass::Server => (&mut self.server, policy.max_server_retries),
            FailureClass::Network => (&mut self.network, policy.max_network_retries),
            FailureClass::Final => return None,
        };
        if *used >= max {
            return None;
        }
        let backoff = policy
            .base_delay
            .saturating_mul(1u32 << self.total.min(16))
            .min(policy.max_delay);
        let delay = match err {
            LlmError::RateLimited {
                retry_after: Some(after),
                ..
            } => {
                if *after > policy.max_delay {
                    return None;
                }
                *after
            }
            _ => backoff,
        };
        *used += 1;
        self.total += 1;
        Some(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> LlmError {
        LlmError::Server {
            provider: "p".into(),
            status: 500,
            message: "boom".into(),
        }
    }
    fn network() -> LlmError {
        LlmError::Network {
            provider: "p".into(),
            message: "reset".into(),
        }
    }

    #[test]
    fn server_errors_back_off_exponentially_three_times() {
        let policy = RetryPolicy::default();
        let mut s = RetryState::default();
        let delays: Vec<_> = std::iter::from_fn(|| s.next_delay(&policy, &server())).collect();
        assert_eq!(delays, [1, 2, 4].map(Duration::from_secs));
    }

    #[test]
    fn network_errors_retry_five_times_capped_at_max() {
        let policy = RetryPolicy {
            max_delay: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        let mut s = RetryState::default();
        let delays: Vec<_> = std::iter::from_fn(|| s.next_delay(&policy, &network())).collect();
        assert_eq!(delays, [1, 2, 4, 8, 10].map(Duration::from_secs));
    }

    #[test]
    fn rate_limit_honours_retry_after_but_not_beyond_max() {
        let policy = RetryPolicy::default();
        let mut s = RetryState::default();
        let limited = |secs| LlmError::RateLimited {
            provider: "p".into(),
            retry_after: Some(Duration::from_secs(secs)),
            message: "slow down".into(),
        };
        assert_eq!(
            s.next_delay(&policy, &limited(7)),
            Some(Duration::from_secs(7))
        );
        assert_eq!(s.next_delay(&policy, &limited(61)), None);
        let no_hint = LlmError::RateLimited {
            provider: "p".into(),
            retry_after: None,
            message: String::new(),
        };
        assert_eq!(
            s.next_delay(&policy, &no_hint),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn idle_timeouts_are_final_but_earlier_timeouts_retry() {
        let policy = RetryPolicy::default();
        let timeout = |phase| LlmError::Timeout {
            provider: "p".into(),
            phase,
            after: Duration::from_secs(1),
        };
        let mut s = RetryState::default();
        assert_eq!(s.next_delay(&policy, &timeout(TimeoutPhase::Idle)), None);
        assert_eq!(
            s.next_delay(&policy, &timeout(TimeoutPhase::FirstToken)),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            s.next_delay(&policy, &timeout(TimeoutPhase::Connect)),
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn client_errors_are_final() {
        let mut s = RetryState::default();
        let auth = LlmError::Auth {
            provider: "p".into(),
            status: 401,
            message: "bad key".into(),
        };
        assert_eq!(s.next_delay(&RetryPolicy::default(), &auth), None);
        assert_eq!(
            s.next_delay(&RetryPolicy::default(), &LlmError::Cancelled),
            None
        );
    }
}
