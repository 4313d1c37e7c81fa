//! Where and how much to export, resolved from the `telemetry` config section.

use pryx_protocol::api::TelemetryTier;
use std::time::Duration;

/// The export the user configured, with header secrets already resolved.
#[derive(Clone, PartialEq)]
pub struct Settings {
    /// Base URL; `/v1/traces`, `/v1/metrics` and `/v1/logs` are added.
    pub endpoint: String,
    /// Header names and their (secret) values.
    pub headers: Vec<(String, String)>,
    pub tier: TelemetryTier,
    pub sampling_ratio: f64,
    /// How long spans and logs wait to be sent together (`OTEL_BSP_SCHEDULE_DELAY`, 5 s).
    pub batch_delay: Duration,
    /// How often metrics are sent (`OTEL_METRIC_EXPORT_INTERVAL`, 60 s).
    pub metric_interval: Duration,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header values are secrets.
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Settings")
            .field("endpoint", &self.endpoint)
            .field("headers", &names)
            .field("tier", &self.tier)
            .field("sampling_ratio", &self.sampling_ratio)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Settings for `endpoint`, with the batch delay and metric interval from the standard
    /// OpenTelemetry environment variables when set.
    pub fn new(endpoint: &str, tier: TelemetryTier, sampling_ratio: f64) -> Settings {
        Settings {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            headers: Vec::new(),
            tier,
            sampling_ratio: sampling_ratio.clamp(0.0, 1.0),
            batch_delay: env_ms("OTEL_BSP_SCHEDULE_DELAY", 5_000),
            metric_interval: env_ms("OTEL_METRIC_EXPORT_INTERVAL", 60_000),
        }
    }

    pub(crate) fn url(&self, signal: &str) -> String {
        format!("{}/v1/{signal}", self.endpoint)
    }
}

fn env_ms(var: &str, default: u64) -> Duration {
    let ms = std::env::var(var)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .unwrap_or(default);
    Duration::from_millis(ms)
}

/// Whether a trace is exported at `ratio`: decided from the trace id alone, so every span of
/// a trace gets the same answer.
pub fn sampled(trace_id: &str, ratio: f64) -> bool {
    if ratio >= 1.0 {
        return true;
    }
    if ratio <= 0.0 {
        return false;
    }
    let tail = &trace_id[trace_id.len().saturating_sub(16)..];
    let Ok(n) = u64::from_str_radix(tail, 16) else {
        return true;
    };
    (n as f64) < ratio * (u64::MAX as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_follows_the_ratio_and_is_stable_per_trace() {
        let ids: Vec<String> = (0u64..2000)
            .map(|i| format!("{:016x}{:016x}", i, i.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .collect();
        let kept = ids.iter().filter(|t| sampled(t, 0.25)).count();
        assert!((400..600).contains(&kept), "{kept} of 2000 at 0.25");
        assert!(ids.iter().all(|t| sampled(t, 1.0)));
        assert!(!ids.iter().any(|t| sampled(t, 0.0)));
        assert_eq!(sampled(&ids[7], 0.5), sampled(&ids[7], 0.5));
    }

    #[test]
    fn header_values_never_show_in_debug_output() {
        let mut s = Settings::new("http://127.0.0.1:4318/", TelemetryTier::Standard, 2.0);
        s.headers
            .push(("authorization".into(), "Bearer s3cr3t-value".into()));
        let shown = format!("{s:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert_eq!(s.url("traces"), "http://127.0.0.1:4318/v1/traces");
        assert_eq!(s.sampling_ratio, 1.0);
    }
}
