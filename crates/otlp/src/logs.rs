//! The `tracing` layer that hands log events to the exporter: only at the levels the tier
//! exports, never the exporter's own (or its HTTP stack's) lines, which would feed themselves.

use crate::exporter::Exporter;
use crate::worker::LogLine;
use std::fmt::Write as _;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::Context;

/// Targets whose events are never exported.
const OWN: [&str; 7] = [
    "pryx_otlp",
    "opentelemetry",
    "reqwest",
    "hyper",
    "h2",
    "rustls",
    "tower",
];

/// A layer for the process's subscriber; with export off it costs one atomic load per event.
pub struct OtlpLogLayer {
    exporter: Exporter,
}

impl OtlpLogLayer {
    pub fn new(exporter: Exporter) -> OtlpLogLayer {
        OtlpLogLayer { exporter }
    }
}

/// A log event's fields: the message and its `error` always go; the other fields (ids,
/// paths, counts) only with the debug tier.
#[derive(Default)]
struct Fields {
    message: String,
    error: String,
    rest: String,
    trace_id: Option<String>,
}

impl Fields {
    fn other(&mut self, name: &str, value: std::fmt::Arguments<'_>) {
        let to = if name == "error" {
            &mut self.error
        } else {
            &mut self.rest
        };
        let _ = write!(to, " {name}={value}");
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message.push_str(value),
            "trace_id" => self.trace_id = Some(value.to_string()),
            name => self.other(name, format_args!("{value}")),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            "trace_id" => self.trace_id = Some(format!("{value:?}").trim_matches('"').to_string()),
            name => self.other(name, format_args!("{value:?}")),
        }
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for OtlpLogLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        if !self.exporter.wants_log(*meta.level()) {
            return;
        }
        let target = meta.target();
        if OWN.iter().any(|own| target.starts_with(own)) {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let rest = if self.exporter.is_debug() {
            fields.rest.as_str()
        } else {
            ""
        };
        self.exporter.log(LogLine {
            level: *meta.level(),
            target: target.to_string(),
            message: format!("{}{}{rest}", fields.message, fields.error),
            trace_id: fields.trace_id,
            at: std::time::SystemTime::now(),
        });
    }
}
