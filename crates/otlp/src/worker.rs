//! The task that sends: it batches spans and log lines from the queue, sends them every batch
//! delay (or when a batch is full), and collects and sends the metrics every metric interval.
//! A failed send is counted, its items dropped; it never reaches the turn that made them.

use crate::exporter::Inner;
use crate::metrics::MetricsPipe;
use crate::redaction::scrub;
use crate::settings::{Settings, sampled};
use crate::span_map;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{SpanContext, SpanId, Status, TraceFlags, TraceId, TraceState};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{LogBatch, LogExporter as _, SdkLogRecord, SdkLoggerProvider};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter as _, SpanLinks};
use pryx_protocol::api::TelemetryTier;
use pryx_store::{Span, SpanKind, Store};
use pryx_telemetry::Redactor;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, oneshot};

/// Items sent in one request at most.
const MAX_BATCH: usize = 512;
/// How long one export request may take.
const TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) enum Item {
    Span(Box<Span>),
    Log(LogLine),
}

/// A log event as the log layer saw it (redacted in the worker).
pub(crate) struct LogLine {
    pub level: tracing::Level,
    pub target: String,
    pub message: String,
    pub trace_id: Option<String>,
    pub at: SystemTime,
}

pub(crate) struct Worker {
    settings: Settings,
    store: Store,
    shared: Arc<Inner>,
    spans: opentelemetry_otlp::SpanExporter,
    logs: opentelemetry_otlp::LogExporter,
    metrics: MetricsPipe,
    scope: InstrumentationScope,
    /// Only mints log records; the worker sends them itself.
    logger: opentelemetry_sdk::logs::SdkLogger,
}

fn headers(settings: &Settings) -> HashMap<String, String> {
    settings.headers.iter().cloned().collect()
}

fn build_err(what: &str, e: impl std::fmt::Display) -> String {
    format!("cannot set up the OTLP {what} export: {e}")
}

fn resource() -> Resource {
    Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", "pryx"),
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            KeyValue::new("os.type", std::env::consts::OS),
        ])
        .build()
}

impl Worker {
    pub fn build(settings: &Settings, store: Store, shared: Arc<Inner>) -> Result<Worker, String> {
        let client = pryx_http::client().map_err(|e| build_err("HTTP client", e))?;
        let resource = resource();
        let mut spans = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client.clone())
            .with_endpoint(settings.url("traces"))
            .with_headers(headers(settings))
            .with_timeout(TIMEOUT)
            .build()
            .map_err(|e| build_err("trace", e))?;
        spans.set_resource(&resource);
        let mut logs = opentelemetry_otlp::LogExporter::builder()
            .with_http()
            .with_http_client(client.clone())
            .with_endpoint(settings.url("logs"))
            .with_headers(headers(settings))
            .with_timeout(TIMEOUT)
            .build()
            .map_err(|e| build_err("log", e))?;
        logs.set_resource(&resource);
        let metric_exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_endpoint(settings.url("metrics"))
            .with_headers(headers(settings))
            .with_timeout(TIMEOUT)
            .build()
            .map_err(|e| build_err("metric", e))?;
        let metrics = MetricsPipe::build(resource, store.clone(), metric_exporter);
        Ok(Worker {
            settings: settings.clone(),
            store,
            shared,
            spans,
            logs,
            metrics,
            scope: InstrumentationScope::builder("pryx")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
            logger: SdkLoggerProvider::builder().build().logger("pryx"),
        })
    }

    pub async fn run(
        self,
        mut rx: mpsc::Receiver<Item>,
        mut stop: oneshot::Receiver<oneshot::Sender<()>>,
        pressure: Arc<tokio::sync::Notify>,
    ) {
        let mut batch_tick = tokio::time::interval(self.settings.batch_delay);
        let mut metric_tick = tokio::time::interval(self.settings.metric_interval);
        batch_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        metric_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        metric_tick.tick().await;
        let done = loop {
            tokio::select! {
                _ = batch_tick.tick() => self.drain(&mut rx).await,
                () = pressure.notified() => self.drain(&mut rx).await,
                _ = metric_tick.tick() => self.send_metrics().await,
                done = &mut stop => break done.ok(),
            }
        };
        // Stopping: what is queued goes, then the metrics once more.
        self.drain(&mut rx).await;
        self.send_metrics().await;
        if let Some(done) = done {
            let _ = done.send(());
        }
    }

    /// Sends what waits in the queue, in batches of at most [`MAX_BATCH`].
    async fn drain(&self, rx: &mut mpsc::Receiver<Item>) {
        loop {
            let mut spans: Vec<SpanData> = Vec::new();
            let mut logs: Vec<SdkLogRecord> = Vec::new();
            let redactor = self.store.redactor();
            while spans.len() < MAX_BATCH && logs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(item) => self.take(item, &redactor, &mut spans, &mut logs),
                    Err(_) => break,
                }
            }
            if spans.is_empty() && logs.is_empty() {
                return;
            }
            self.flush(&mut spans, &mut logs).await;
        }
    }

    fn tier(&self) -> TelemetryTier {
        self.settings.tier
    }

    fn take(
        &self,
        item: Item,
        redactor: &Redactor,
        spans: &mut Vec<SpanData>,
        logs: &mut Vec<SdkLogRecord>,
    ) {
        match item {
            Item::Span(span) => {
                if span.kind == SpanKind::ModelCall {
                    self.metrics.model_call(&span, duration(&span));
                }
                if self.tier() != TelemetryTier::Minimal
                    && sampled(&span.trace_id, self.settings.sampling_ratio)
                {
                    spans.push(self.span_data(&span, redactor));
                }
            }
            Item::Log(line) => logs.push(self.log_record(line, redactor)),
        }
    }

    fn span_data(&self, span: &Span, redactor: &Redactor) -> SpanData {
        let args = match (self.tier(), span.kind) {
            (TelemetryTier::Debug, SpanKind::ToolCall) => self.tool_args(span),
            _ => None,
        };
        let mapped = span_map::map(span, self.tier(), redactor, args.as_ref());
        let trace_id = TraceId::from_hex(&span.trace_id).unwrap_or(TraceId::INVALID);
        let start = parse_time(&span.started_at).unwrap_or_else(SystemTime::now);
        SpanData {
            span_context: SpanContext::new(
                trace_id,
                span_id(&span.id),
                TraceFlags::SAMPLED,
                false,
                TraceState::NONE,
            ),
            parent_span_id: span.parent_id.as_deref().map_or(SpanId::INVALID, span_id),
            parent_span_is_remote: false,
            span_kind: match span.kind {
                SpanKind::ModelCall => opentelemetry::trace::SpanKind::Client,
                _ => opentelemetry::trace::SpanKind::Internal,
            },
            name: mapped.name.into(),
            start_time: start,
            end_time: start + duration(span),
            attributes: mapped.attributes,
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: match mapped.error {
                Some(e) => Status::error(e),
                None => Status::Ok,
            },
            instrumentation_scope: self.scope.clone(),
        }
    }

    fn tool_args(&self, span: &Span) -> Option<serde_json::Value> {
        let session = span.session_id.as_deref()?;
        let call = span.attributes.get("tool_call_id")?.as_str()?;
        let row = self.store.get_tool_call(session, call).ok()??;
        Some(row.arguments)
    }

    fn log_record(&self, line: LogLine, redactor: &Redactor) -> SdkLogRecord {
        let mut r = self.logger.create_log_record();
        let (number, text) = match line.level {
            tracing::Level::ERROR => (Severity::Error, "ERROR"),
            tracing::Level::WARN => (Severity::Warn, "WARN"),
            tracing::Level::INFO => (Severity::Info, "INFO"),
            tracing::Level::DEBUG => (Severity::Debug, "DEBUG"),
            tracing::Level::TRACE => (Severity::Trace, "TRACE"),
        };
        r.set_severity_number(number);
        r.set_severity_text(text);
        r.set_timestamp(line.at);
        r.set_observed_timestamp(SystemTime::now());
        r.set_body(AnyValue::from(scrub(redactor, &line.message)));
        r.add_attribute("code.namespace", line.target);
        if let Some(t) = line
            .trace_id
            .as_deref()
            .and_then(|t| TraceId::from_hex(t).ok())
        {
            r.set_trace_context(t, SpanId::INVALID, Some(TraceFlags::SAMPLED));
        }
        r
    }

    async fn flush(&self, spans: &mut Vec<SpanData>, logs: &mut Vec<SdkLogRecord>) {
        if !spans.is_empty() {
            let batch = std::mem::take(spans);
            let n = batch.len() as u64;
            let result = self.spans.export(batch).await;
            self.settle(result, n, &self.shared.counts.spans);
        }
        if !logs.is_empty() {
            let batch = std::mem::take(logs);
            let n = batch.len() as u64;
            let pairs: Vec<(&SdkLogRecord, &InstrumentationScope)> =
                batch.iter().map(|r| (r, &self.scope)).collect();
            let result = self.logs.export(LogBatch::new(&pairs)).await;
            self.settle(result, n, &self.shared.counts.logs);
        }
    }

    async fn send_metrics(&self) {
        let result = self.metrics.send().await;
        self.settle(result, 1, &self.shared.counts.metric_exports);
    }

    fn settle(
        &self,
        result: opentelemetry_sdk::error::OTelSdkResult,
        n: u64,
        sent: &std::sync::atomic::AtomicU64,
    ) {
        let c = &self.shared.counts;
        match result {
            Ok(()) => {
                sent.fetch_add(n, Ordering::Relaxed);
                *lock(&self.shared.last_export_at) = Some(now_rfc3339());
                *lock(&self.shared.last_error) = None;
            }
            Err(e) => {
                c.failures.fetch_add(1, Ordering::Relaxed);
                if !std::ptr::eq(sent, &c.metric_exports) {
                    c.dropped.fetch_add(n, Ordering::Relaxed);
                }
                *lock(&self.shared.last_error) = Some(format!(
                    "{} did not take the export: {e}",
                    self.settings.endpoint
                ));
            }
        }
    }
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc();
    // Whole seconds: shown as they are.
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

pub(crate) fn parse_time(ts: &str) -> Option<SystemTime> {
    time::OffsetDateTime::parse(ts, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(SystemTime::from)
}

/// How long a span took (zero while it runs or when its times do not parse).
pub(crate) fn duration(span: &Span) -> Duration {
    let start = parse_time(&span.started_at);
    let end = span.ended_at.as_deref().and_then(parse_time);
    match (start, end) {
        (Some(s), Some(e)) => e.duration_since(s).unwrap_or_default(),
        _ => Duration::ZERO,
    }
}

/// An OpenTelemetry span id for a stored span id (a UUID): its last 64 bits.
fn span_id(id: &str) -> SpanId {
    let hex: String = id.chars().filter(char::is_ascii_hexdigit).collect();
    let tail = &hex[hex.len().saturating_sub(16)..];
    match u64::from_str_radix(tail, 16) {
        Ok(n) if n != 0 => SpanId::from_bytes(n.to_be_bytes()),
        _ => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            id.hash(&mut h);
            SpanId::from_bytes(h.finish().max(1).to_be_bytes())
        }
    }
}
