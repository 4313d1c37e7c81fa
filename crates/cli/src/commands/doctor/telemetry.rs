//! `telemetry`: whether anything leaves the machine and where to. With export on and a core
//! running, the core's own account: what it sent, dropped, and why the last export failed.

use super::report::Check;
use pryx_config::{Config, DataDir};
use pryx_protocol::api::TelemetryStatus;

const NAME: &str = "telemetry";
const LOCAL: &str = "metrics on /metrics (behind the token), a turn's spans with `pryx trace`, the log with `pryx logs`";

pub fn check(dir: &DataDir, config: Option<&Config>) -> Check {
    let Some(t) = config.map(|c| &c.telemetry) else {
        return Check::ok(NAME, "not checked (config.json is unreadable)");
    };
    if !t.enabled {
        return Check::ok(NAME, format!("off: nothing leaves the machine; {LOCAL}"));
    }
    let Some(endpoint) = t.endpoint.as_deref() else {
        return Check::warn(
            NAME,
            "telemetry.enabled is true but no endpoint is set, so nothing is exported",
            "`pryx config set telemetry.endpoint http://HOST:4318`, or `pryx config set telemetry.enabled false`",
        );
    };
    let what = format!(
        "on: spans, metrics and logs go to {endpoint} (tier {}, {}% of traces sampled, personal data redacted)",
        t.tier.as_str(),
        (t.sampling_ratio * 100.0).round()
    );
    match live(dir) {
        None => Check::ok(NAME, format!("{what}; no core is running to export")),
        Some(s) => judge(what, &s),
    }
}

/// The running core's export state, read into the check.
fn judge(what: String, s: &TelemetryStatus) -> Check {
    let c = &s.counts;
    let sent = format!(
        "{what}; sent {} spans, {} log records, {} metric exports; dropped {}",
        c.spans, c.logs, c.metric_exports, c.dropped
    );
    if let Some(problem) = &s.problem {
        return Check::fail(
            NAME,
            format!("{what}, but export is off: {problem}"),
            "fix the telemetry section (`pryx config get telemetry`); the core applies it within seconds",
        );
    }
    match &s.last_error {
        Some(e) => Check::warn(
            NAME,
            format!("{sent}; the last export failed: {e}"),
            "check that the collector runs and accepts OTLP/HTTP (protobuf) at that endpoint",
        ),
        None => Check::ok(NAME, sent),
    }
}

fn live(dir: &DataDir) -> Option<TelemetryStatus> {
    super::gateway::ask_core(dir, |c| async move { c.telemetry().await })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::doctor::report::Status;
    use pryx_protocol::api::{ExportCounts, TelemetryTier};

    fn status() -> TelemetryStatus {
        TelemetryStatus {
            enabled: true,
            endpoint: Some("http://127.0.0.1:4318".into()),
            tier: TelemetryTier::Standard,
            sampling_ratio: 1.0,
            headers: vec![],
            debug_ends_at: None,
            counts: ExportCounts {
                spans: 12,
                logs: 3,
                metric_exports: 2,
                dropped: 0,
                failures: 0,
            },
            last_export_at: None,
            last_error: None,
            problem: None,
            sample: vec![],
        }
    }

    #[test]
    fn off_says_nothing_leaves_and_on_names_the_endpoint() {
        let dir = DataDir::at(tempfile::tempdir().unwrap().path());
        let mut config = Config::default();
        let off = check(&dir, Some(&config));
        assert_eq!(off.status, Status::Ok);
        assert!(off.message.starts_with("off: nothing leaves the machine"));
        config.telemetry.enabled = true;
        let no_endpoint = check(&dir, Some(&config));
        assert_eq!(no_endpoint.status, Status::Warn);
        config.telemetry.endpoint = Some("https://otel.example.com".into());
        let on = check(&dir, Some(&config));
        assert_eq!(on.status, Status::Ok, "{}", on.message);
        assert!(
            on.message.contains("go to https://otel.example.com"),
            "{}",
            on.message
        );
    }

    #[test]
    fn the_cores_account_decides() {
        let ok = judge("on".into(), &status());
        assert_eq!(ok.status, Status::Ok);
        assert!(ok.message.contains("sent 12 spans"), "{}", ok.message);
        let mut failing = status();
        failing.last_error = Some("connection refused".into());
        assert_eq!(judge("on".into(), &failing).status, Status::Warn);
        let mut broken = status();
        broken.problem = Some("telemetry header x (secret:x) cannot be read".into());
        let b = judge("on".into(), &broken);
        assert_eq!(b.status, Status::Fail);
        assert!(b.message.contains("cannot be read"), "{}", b.message);
    }
}
