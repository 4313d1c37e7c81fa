//! The handle every part of the process holds: spans and log lines are handed to it without
//! waiting (a bounded queue; what does not fit is dropped and counted), and a worker task
//! sends them in batches. Off, every call returns at once and nothing connects anywhere.

use crate::settings::Settings;
use crate::span_map;
use crate::worker::{self, Item, LogLine};
use pryx_protocol::api::{ExportCounts, ExportSample, TelemetryTier};
use pryx_store::{Span, Store};
use pryx_telemetry::Redactor;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::{Notify, mpsc, oneshot};

/// Spans and log records waiting to be sent, at most.
pub const QUEUE: usize = 2048;

/// The exporter of one process.
#[derive(Clone, Default)]
pub struct Exporter {
    inner: Arc<Inner>,
}

#[derive(Default)]
pub(crate) struct Inner {
    on: AtomicBool,
    tier: AtomicU8,
    running: Mutex<Option<Running>>,
    pub(crate) counts: Counts,
    pub(crate) last_export_at: Mutex<Option<String>>,
    pub(crate) last_error: Mutex<Option<String>>,
}

struct Running {
    settings: Settings,
    queue: mpsc::Sender<Item>,
    /// Wakes the worker early when the queue is half full (it otherwise wakes per batch
    /// delay, not per item, so a turn costs no context switches).
    pressure: Arc<Notify>,
    stop: oneshot::Sender<oneshot::Sender<()>>,
}

#[derive(Default)]
pub(crate) struct Counts {
    pub spans: AtomicU64,
    pub logs: AtomicU64,
    pub metric_exports: AtomicU64,
    pub dropped: AtomicU64,
    pub failures: AtomicU64,
}

/// What the exporter has done since the process started.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportState {
    pub counts: ExportCounts,
    pub last_export_at: Option<String>,
    pub last_error: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn tier_code(t: TelemetryTier) -> u8 {
    match t {
        TelemetryTier::Minimal => 1,
        TelemetryTier::Standard => 2,
        TelemetryTier::Debug => 3,
    }
}

impl Exporter {
    /// The process's exporter (the log layer and the core share it).
    pub fn global() -> &'static Exporter {
        static GLOBAL: OnceLock<Exporter> = OnceLock::new();
        GLOBAL.get_or_init(Exporter::default)
    }

    /// Starts exporting with `settings` (replacing a running export), on the current Tokio
    /// runtime. `store` gives the metrics and, in the debug tier, tool arguments.
    pub async fn start(&self, settings: Settings, store: Store) -> Result<(), String> {
        self.stop().await;
        let (queue, rx) = mpsc::channel(QUEUE);
        let (stop, stopped) = oneshot::channel();
        let pressure = Arc::new(Notify::new());
        let work = worker::Worker::build(&settings, store, self.inner.clone())?;
        tokio::spawn(work.run(rx, stopped, pressure.clone()));
        self.inner
            .tier
            .store(tier_code(settings.tier), Ordering::Relaxed);
        *lock(&self.inner.running) = Some(Running {
            settings,
            queue,
            pressure,
            stop,
        });
        self.inner.on.store(true, Ordering::Release);
        Ok(())
    }

    /// Stops exporting: what is queued is sent (waiting 2.5 s at most), then nothing more.
    pub async fn stop(&self) {
        self.inner.on.store(false, Ordering::Release);
        let running = lock(&self.inner.running).take();
        if let Some(r) = running {
            drop(r.queue);
            let (done, finished) = oneshot::channel();
            if r.stop.send(done).is_ok() {
                let _ =
                    tokio::time::timeout(std::time::Duration::from_millis(2500), finished).await;
            }
        }
    }

    /// Whether anything is being exported now.
    pub fn is_on(&self) -> bool {
        self.inner.on.load(Ordering::Acquire)
    }

    /// The settings of the running export.
    pub fn settings(&self) -> Option<Settings> {
        lock(&self.inner.running)
            .as_ref()
            .map(|r| r.settings.clone())
    }

    /// Hands an ended span over; never waits.
    pub fn span(&self, span: &Span) {
        if !self.is_on() {
            return;
        }
        self.offer(Item::Span(Box::new(span.clone())));
    }

    /// Whether a log line at `level` is exported by the current tier (error for minimal, warn
    /// for standard, info for debug).
    pub fn wants_log(&self, level: tracing::Level) -> bool {
        if !self.is_on() {
            return false;
        }
        let floor = match self.inner.tier.load(Ordering::Relaxed) {
            3 => tracing::Level::INFO,
            2 => tracing::Level::WARN,
            _ => tracing::Level::ERROR,
        };
        level <= floor
    }

    /// Whether the debug tier is exporting (log lines then carry all their fields).
    pub fn is_debug(&self) -> bool {
        self.is_on() && self.inner.tier.load(Ordering::Relaxed) == 3
    }

    pub(crate) fn log(&self, line: LogLine) {
        if self.is_on() {
            self.offer(Item::Log(line));
        }
    }

    fn offer(&self, item: Item) {
        let guard = lock(&self.inner.running);
        let Some(r) = guard.as_ref() else {
            self.inner.counts.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        if r.queue.try_send(item).is_err() {
            self.inner.counts.dropped.fetch_add(1, Ordering::Relaxed);
        }
        if r.queue.capacity() < QUEUE / 2 {
            r.pressure.notify_one();
        }
    }

    pub fn state(&self) -> ExportState {
        let c = &self.inner.counts;
        ExportState {
            counts: ExportCounts {
                spans: c.spans.load(Ordering::Relaxed),
                logs: c.logs.load(Ordering::Relaxed),
                metric_exports: c.metric_exports.load(Ordering::Relaxed),
                dropped: c.dropped.load(Ordering::Relaxed),
                failures: c.failures.load(Ordering::Relaxed),
            },
            last_export_at: lock(&self.inner.last_export_at).clone(),
            last_error: lock(&self.inner.last_error).clone(),
        }
    }
}

/// `spans` as `tier` would send them (the sample shown before export is switched on).
pub fn sample(spans: &[Span], tier: TelemetryTier, redactor: &Redactor) -> Vec<ExportSample> {
    if tier == TelemetryTier::Minimal {
        return Vec::new();
    }
    spans
        .iter()
        .filter(|s| s.ended_at.is_some())
        .map(|s| {
            let m = span_map::map(s, tier, redactor, None);
            let mut attributes: std::collections::BTreeMap<String, String> = m
                .attributes
                .iter()
                .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                .collect();
            if let Some(e) = m.error {
                attributes.insert("status".into(), format!("error: {e}"));
            }
            ExportSample {
                name: m.name,
                kind: s.kind.as_str().to_string(),
                duration_ms: worker::duration(s)
                    .as_millis()
                    .try_into()
                    .unwrap_or(u64::MAX),
                attributes,
            }
        })
        .collect()
}
