//! Recent tool calls, kept by the caller, read by the engine.

/// A record of recent calls. The engine only reads it; the caller records a call once it runs
/// and prunes old entries now and then.
#[derive(Debug, Clone, Default)]
pub struct RateLedger {
    calls: Vec<(String, u64)>,
}

impl RateLedger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a call of `tool` at `at_ms`.
    pub fn record(&mut self, tool: &str, at_ms: u64) {
        self.calls.push((tool.to_string(), at_ms));
    }

    /// Drops calls older than one minute before `now_ms` (all that rate limits look at).
    pub fn prune(&mut self, now_ms: u64) {
        let since = now_ms.saturating_sub(60_000);
        self.calls.retain(|(_, at)| *at > since);
    }

    /// Calls in the minute before `now_ms` whose tool satisfies `matches`.
    pub fn count_last_minute(&self, now_ms: u64, matches: impl Fn(&str) -> bool) -> usize {
        let since = now_ms.saturating_sub(60_000);
        self.calls
            .iter()
            .filter(|(tool, at)| *at > since && *at <= now_ms && matches(tool))
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_counts_for_one_minute_and_pruning_drops_only_what_no_longer_counts() {
        let all = |_: &str| true;
        let mut ledger = RateLedger::new();
        ledger.record("fs.read", 1_000);
        ledger.record("fs.read", 61_000);
        ledger.record("shell.exec", 61_000);
        // At 61 s the call at 1 s is a minute old and no longer counts; calls after "now" not yet.
        assert_eq!(ledger.count_last_minute(61_000, all), 2);
        assert_eq!(ledger.count_last_minute(60_999, all), 1);
        assert_eq!(ledger.count_last_minute(61_000, |t| t == "shell.exec"), 1);
        ledger.prune(61_000);
        assert_eq!(ledger.count_last_minute(61_000, all), 2);
        assert_eq!(
            ledger.count_last_minute(60_999, all),
            0,
            "the old call was dropped"
        );
    }
}
