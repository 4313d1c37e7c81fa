//! Metrics over OTLP: the counter families `/metrics` serves (read from the store when
//! collected, so both agree and survive restarts), the open sessions and running turns, and a
//! model-call latency histogram recorded as calls end. Collected on the worker's schedule
//! through a manual reader, so no second timer thread runs.

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Histogram, MeterProvider as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter as _;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{
    InstrumentKind, ManualReader, Pipeline, SdkMeterProvider, Temporality,
};
use pryx_store::{COUNTER_FAMILIES, LATENCY_BUCKETS, MetricsSnapshot, Span, Store};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// A snapshot serves every instrument of one collection.
const FRESH: Duration = Duration::from_secs(1);

pub(crate) struct MetricsPipe {
    // Kept: dropping the provider would end the callbacks.
    _provider: SdkMeterProvider,
    _instruments: Vec<Box<dyn std::any::Any + Send + Sync>>,
    reader: Shared,
    exporter: opentelemetry_otlp::MetricExporter,
    latency: Histogram<f64>,
}

/// The manual reader, held by the provider and by the worker that collects through it.
#[derive(Debug, Clone)]
struct Shared(Arc<ManualReader>);

impl MetricReader for Shared {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }
    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

/// An observed gauge: name, help, and its value in a snapshot.
type Gauge = (&'static str, &'static str, fn(&MetricsSnapshot) -> u64);

type Cache = Arc<Mutex<Option<(Instant, Arc<MetricsSnapshot>)>>>;

fn snapshot(store: &Store, cache: &Cache) -> Option<Arc<MetricsSnapshot>> {
    let mut c = cache
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some((at, snap)) = c.as_ref()
        && at.elapsed() < FRESH
    {
        return Some(snap.clone());
    }
    let snap = Arc::new(store.metrics_snapshot().ok()?);
    *c = Some((Instant::now(), snap.clone()));
    Some(snap)
}

/// `pryx_turns_total` → `pryx_turns` (OTLP sums carry no `_total`).
fn otel_name(prometheus: &str) -> String {
    prometheus
        .strip_suffix("_total")
        .unwrap_or(prometheus)
        .to_string()
}

impl MetricsPipe {
    pub fn build(
        resource: Resource,
        store: Store,
        exporter: opentelemetry_otlp::MetricExporter,
    ) -> MetricsPipe {
        let reader = Shared(Arc::new(ManualReader::builder().build()));
        let provider = SdkMeterProvider::builder()
            .with_resource(resource)
            .with_reader(reader.clone())
            .build();
        let meter = provider.meter("pryx");
        let cache: Cache = Arc::default();
        let mut instruments: Vec<Box<dyn std::any::Any + Send + Sync>> = Vec::new();
        for (name, help, keys, rows) in COUNTER_FAMILIES {
            let (store, cache) = (store.clone(), cache.clone());
            let counter = meter
                .f64_observable_counter(otel_name(name))
                .with_description(help)
                .with_callback(move |obs| {
                    let Some(snap) = snapshot(&store, &cache) else {
                        return;
                    };
                    for r in rows(&snap) {
                        let labels: Vec<KeyValue> = keys
                            .iter()
                            .zip(r.labels.iter())
                            .map(|(k, v)| KeyValue::new(*k, v.clone()))
                            .collect();
                        obs.observe(r.value, &labels);
                    }
                })
                .build();
            instruments.push(Box::new(counter));
        }
        let gauges: [Gauge; 2] = [
            ("pryx_sessions", "Sessions stored.", |s| s.sessions),
            ("pryx_turns_running", "Turns running now.", |s| {
                s.turns_running
            }),
        ];
        for (name, help, value) in gauges {
            let (store, cache) = (store.clone(), cache.clone());
            let gauge = meter
                .u64_observable_gauge(name)
                .with_description(help)
                .with_callback(move |obs| {
                    if let Some(snap) = snapshot(&store, &cache) {
                        obs.observe(value(&snap), &[]);
                    }
                })
                .build();
            instruments.push(Box::new(gauge));
        }
        let latency = meter
            .f64_histogram("pryx_model_call_duration")
            .with_description("How long model calls took, by model and status.")
            .with_unit("s")
            .with_boundaries(LATENCY_BUCKETS.to_vec())
            .build();
        MetricsPipe {
            _provider: provider,
            _instruments: instruments,
            reader,
            exporter,
            latency,
        }
    }

    /// Records a model call that ended.
    pub fn model_call(&self, span: &Span, took: Duration) {
        self.latency.record(
            took.as_secs_f64(),
            &[
                KeyValue::new("model", span.name.clone()),
                KeyValue::new("status", span.status.as_str()),
            ],
        );
    }

    /// Collects (reading the store off the async workers) and sends.
    pub async fn send(&self) -> OTelSdkResult {
        let reader = self.reader.clone();
        let collected = tokio::task::spawn_blocking(move || {
            let mut rm = ResourceMetrics::default();
            reader.collect(&mut rm).map(|()| rm)
        })
        .await
        .map_err(|e| {
            opentelemetry_sdk::error::OTelSdkError::InternalFailure(format!(
                "collecting metrics stopped: {e}"
            ))
        })??;
        self.exporter.export(&collected).await
    }
}
