#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The exporter's account when the collector is away: every span handed over is counted as
//! dropped after the failed send, and the failure and its cause are reported; the log levels
//! follow the tier.

use pryx_otlp::{Exporter, Settings};
use pryx_protocol::api::TelemetryTier;
use pryx_store::{NewSession, NewSpan, SpanEnd, SpanKind, SpanStatus, Store};
use std::time::Duration;

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_is_away_costs_nothing_and_is_reported() {
    let store = Store::open_in_memory().unwrap();
    let exporter = Exporter::default();
    let spans = exporter.clone();
    store.observe_spans(std::sync::Arc::new(move |s| spans.span(s)));
    let mut settings = Settings::new(
        &format!("http://127.0.0.1:{}", closed_port()),
        TelemetryTier::Standard,
        1.0,
    );
    settings.batch_delay = Duration::from_secs(3600);
    exporter.start(settings, store.clone()).await.unwrap();
    assert!(exporter.wants_log(tracing::Level::WARN));
    assert!(
        !exporter.wants_log(tracing::Level::INFO),
        "standard: warnings and errors"
    );

    let session = store.create_session(&NewSession::default()).unwrap();
    for _ in 0..50 {
        let span = store
            .start_span(&NewSpan {
                trace_id: None,
                parent_id: None,
                session_id: Some(session.id.clone()),
                kind: SpanKind::Turn,
                name: "turn".into(),
                attributes: serde_json::json!({"model": "mock/m"}),
            })
            .unwrap();
        store
            .end_span(&span.id, &SpanEnd::status(SpanStatus::Ok))
            .unwrap();
    }
    // Stopping sends what is queued: to nobody.
    exporter.stop().await;
    let state = exporter.state();
    assert_eq!(state.counts.spans, 0);
    assert_eq!(state.counts.dropped, 50, "{state:?}");
    assert!(state.counts.failures >= 1, "{state:?}");
    assert!(
        state
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("did not take the export")),
        "{state:?}"
    );
    assert!(!exporter.is_on());
    assert!(
        !exporter.wants_log(tracing::Level::ERROR),
        "off exports nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiers_set_the_log_floor() {
    let store = Store::open_in_memory().unwrap();
    let exporter = Exporter::default();
    for (tier, lowest) in [
        (TelemetryTier::Minimal, tracing::Level::ERROR),
        (TelemetryTier::Standard, tracing::Level::WARN),
        (TelemetryTier::Debug, tracing::Level::INFO),
    ] {
        let settings = Settings::new("http://127.0.0.1:9", tier, 1.0);
        exporter.start(settings, store.clone()).await.unwrap();
        assert!(exporter.wants_log(lowest), "{tier:?}");
        assert!(!exporter.wants_log(tracing::Level::DEBUG), "{tier:?}");
        assert_eq!(exporter.is_debug(), tier == TelemetryTier::Debug);
    }
    exporter.stop().await;
}
