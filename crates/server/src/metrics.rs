//! `GET /metrics`: the Prometheus text exposition format (version 0.0.4), behind the gateway
//! token like the API. The numbers come from the store at scrape time; the format is written
//! here (three rules: `# HELP`/`# TYPE` lines, escaped label values, one sample per line)
//! rather than through a client library, whose registries hold counters in memory that would
//! start at zero with every restart.

use crate::error::{ApiError, blocking};
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use pryx_store::{COUNTER_FAMILIES, Counted, LATENCY_BUCKETS, MetricsSnapshot};
use std::fmt::Write as _;
use std::sync::Arc;

pub const METRICS_PATH: &str = "/metrics";

pub fn router() -> axum::Router<Arc<AppState>> {
    axum::Router::new().route(METRICS_PATH, axum::routing::get(metrics))
}

async fn metrics(State(st): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let store = st.core.store().clone();
    let snap = blocking(move || Ok(store.metrics_snapshot()?)).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&snap, env!("CARGO_PKG_VERSION")),
    )
        .into_response())
}

/// A label value as the format wants it: backslash, quote and newline escaped.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            let inner: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = write!(self.0, "{{{}}}", inner.join(","));
        }
        let _ = writeln!(self.0, " {}", number(value));
    }

    fn counted(&mut self, name: &str, kind: &str, help: &str, keys: &[&str], rows: &[Counted]) {
        self.family(name, kind, help);
        for r in rows {
            let labels: Vec<(&str, &str)> = keys
                .iter()
                .zip(r.labels.iter())
                .map(|(k, v)| (*k, v.as_str()))
                .collect();
            self.sample(name, &labels, r.value);
        }
    }
}

fn number(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v}")
    }
}

/// The exposition text of a snapshot.
pub fn render(s: &MetricsSnapshot, version: &str) -> String {
    let mut o = Out(String::new());
    for (name, help, value) in [
        ("pryx_build_info", "The running Pryx build.", None),
        ("pryx_sessions", "Sessions stored.", Some(s.sessions)),
        (
            "pryx_turns_running",
            "Turns running now.",
            Some(s.turns_running),
        ),
    ] {
        o.family(name, "gauge", help);
        match value {
            Some(v) => o.sample(name, &[], v as f64),
            None => o.sample(name, &[("version", version)], 1.0),
        }
    }
    for (name, help, keys, rows) in COUNTER_FAMILIES {
        o.counted(name, "counter", help, keys, rows(s));
    }
    let name = "pryx_model_call_duration_seconds";
    o.family(name, "histogram", "How long model calls took, by model.");
    for l in &s.latency {
        for (bound, n) in LATENCY_BUCKETS.iter().zip(&l.buckets) {
            let le = number(*bound);
            o.sample(
                &format!("{name}_bucket"),
                &[("model", &l.model), ("le", &le)],
                *n as f64,
            );
        }
        o.sample(
            &format!("{name}_bucket"),
            &[("model", &l.model), ("le", "+Inf")],
            l.count as f64,
        );
        o.sample(&format!("{name}_sum"), &[("model", &l.model)], l.sum_secs);
        o.sample(
            &format!("{name}_count"),
            &[("model", &l.model)],
            l.count as f64,
        );
    }
    o.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_numbers_plain() {
        let snap = MetricsSnapshot {
            sessions: 2,
            tool_calls: vec![Counted {
                labels: vec!["odd\"tool\\\nname".into(), "completed".into()],
                value: 3.0,
            }],
            cost_usd: vec![Counted {
                labels: vec!["mock/gpt-4o".into()],
                value: 0.0125,
            }],
            ..Default::default()
        };
        let text = render(&snap, "0.1.0");
        assert!(text.contains("pryx_sessions 2\n"), "{text}");
        assert!(
            text.contains(
                r#"pryx_tool_calls_total{tool="odd\"tool\\\nname",status="completed"} 3"#
            ),
            "{text}"
        );
        assert!(text.contains("pryx_cost_usd_total{model=\"mock/gpt-4o\"} 0.0125\n"));
        assert!(text.contains("# TYPE pryx_model_call_duration_seconds histogram\n"));
    }
}
