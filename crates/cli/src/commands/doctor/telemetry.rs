//! `telemetry`: whether anything leaves the machine (nothing does: the OTLP exporter the
//! `telemetry` keys are for is not built yet, which an `enabled: true` is warned about), and
//! where what is observable locally is read.

use super::report::Check;
use pryx_config::Config;

const NAME: &str = "telemetry";
const LOCAL: &str = "metrics on /metrics (behind the token), a turn's spans with `pryx trace`, the log with `pryx logs`";

pub fn check(config: Option<&Config>) -> Check {
    match config.map(|c| &c.telemetry) {
        Some(t) if t.enabled => Check::warn(
            NAME,
            format!(
                "telemetry.enabled is true{}, but OTLP export is not built yet: nothing is sent; {LOCAL}",
                t.endpoint
                    .as_deref()
                    .map(|e| format!(" (endpoint {e})"))
                    .unwrap_or_default()
            ),
            "`pryx config set telemetry.enabled false` until export exists",
        ),
        _ => Check::ok(NAME, format!("off: nothing leaves the machine; {LOCAL}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::doctor::report::Status;

    #[test]
    fn off_says_nothing_leaves_and_on_warns_that_nothing_is_sent() {
        let mut config = Config::default();
        let off = check(Some(&config));
        assert_eq!(off.status, Status::Ok);
        assert!(off.message.starts_with("off: nothing leaves the machine"));
        config.telemetry.enabled = true;
        config.telemetry.endpoint = Some("https://otel.example.com".into());
        let on = check(Some(&config));
        assert_eq!(on.status, Status::Warn);
        assert!(
            on.message.contains("endpoint https://otel.example.com"),
            "{}",
            on.message
        );
        assert!(on.hint.unwrap().contains("telemetry.enabled false"));
    }
}
