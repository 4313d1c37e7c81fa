//! Telemetry export as the core runs it: follows the `telemetry` section of `config.json`
//! (edited by hand, `pryx config set`, the TUI or `PUT /telemetry`), starts and stops the
//! exporter, audits every destination it starts sending to, and ends the debug tier after an
//! hour by writing `standard` back.

use crate::core::Core;
use crate::error::CoreError;
use pryx_config::{Edit, SecretStore, Telemetry};
use pryx_otlp::{Exporter, Settings};
use pryx_protocol::api::{PutTelemetry, TelemetryStatus, TelemetryTier};
use std::sync::OnceLock;
use std::time::Duration;
use time::OffsetDateTime;

/// How long the debug tier lasts before it switches itself back to standard.
pub const DEBUG_FOR: Duration = Duration::from_secs(3600);

#[derive(Default)]
pub(crate) struct TelemetryHost {
    exporter: OnceLock<Exporter>,
    applied: tokio::sync::Mutex<Applied>,
    /// What the status reports between changes.
    seen: std::sync::Mutex<Seen>,
}

#[derive(Default)]
struct Applied {
    config: Option<Telemetry>,
    debug_since: Option<OffsetDateTime>,
}

#[derive(Default, Clone)]
struct Seen {
    problem: Option<String>,
    debug_ends_at: Option<OffsetDateTime>,
}

/// When a debug tier first seen at `since` switches itself back to standard.
fn debug_ends(since: OffsetDateTime) -> OffsetDateTime {
    since + DEBUG_FOR
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Core {
    /// Hands every ended span to `exporter` and applies the config's telemetry section now.
    /// Called once by the core that owns the data dir.
    pub async fn host_telemetry(&self, exporter: Exporter) {
        let spans = exporter.clone();
        self.store()
            .observe_spans(std::sync::Arc::new(move |s| spans.span(s)));
        let _ = self.inner.telemetry.exporter.set(exporter);
        self.sync_telemetry().await;
    }

    /// Applies a changed `telemetry` section (a no-op when nothing changed).
    pub async fn sync_telemetry(&self) {
        self.apply_telemetry("core").await;
    }

    /// Sends what is queued and stops exporting (at shutdown).
    pub async fn stop_telemetry(&self) {
        if let Some(exporter) = self.inner.telemetry.exporter.get() {
            exporter.stop().await;
        }
    }

    async fn apply_telemetry(&self, actor: &str) {
        let Some(exporter) = self.inner.telemetry.exporter.get() else {
            return;
        };
        let mut wanted = self.settings().config.telemetry.clone();
        let mut applied = self.inner.telemetry.applied.lock().await;
        let now = OffsetDateTime::now_utc();
        let mut debug_ends_at = None;
        if wanted.enabled && wanted.tier == TelemetryTier::Debug {
            let since = *applied.debug_since.get_or_insert(now);
            let ends = debug_ends(since);
            if now >= ends {
                wanted.tier = TelemetryTier::Standard;
                applied.debug_since = None;
                let edit = Edit::Set("telemetry.tier".into(), "standard".into());
                if let Err(e) = self.write_config(&[edit]) {
                    tracing::warn!(error = %e, "cannot switch the debug telemetry tier back to standard in config.json");
                }
                self.audit_telemetry(actor, "telemetry.debug_ended", &wanted);
            } else {
                debug_ends_at = Some(ends);
            }
        } else {
            applied.debug_since = None;
        }
        if applied.config.as_ref() == Some(&wanted) {
            return;
        }
        let was_on = exporter.is_on();
        let problem = if wanted.enabled {
            match self.export_settings(&wanted) {
                Ok(settings) => match exporter.start(settings, self.store().clone()).await {
                    Ok(()) => {
                        self.audit_telemetry(actor, "telemetry.enabled", &wanted);
                        tracing::info!(
                            endpoint = wanted.endpoint.as_deref().unwrap_or(""),
                            tier = wanted.tier.as_str(),
                            "telemetry export on"
                        );
                        None
                    }
                    Err(e) => Some(e),
                },
                Err(problem) => {
                    exporter.stop().await;
                    Some(problem)
                }
            }
        } else {
            exporter.stop().await;
            if was_on {
                self.audit_telemetry(actor, "telemetry.disabled", &wanted);
            }
            None
        };
        if let Some(p) = &problem {
            tracing::warn!(problem = %p, "telemetry export is off");
        }
        *self
            .inner
            .telemetry
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Seen {
            problem,
            debug_ends_at,
        };
        applied.config = Some(wanted);
    }

    /// The exporter's settings for `t`, header secrets resolved (and from now on masked
    /// wherever the core writes).
    fn export_settings(&self, t: &Telemetry) -> Result<Settings, String> {
        let endpoint = t.endpoint.as_deref().ok_or(
            "telemetry.enabled is true but no endpoint is set: `pryx config set telemetry.endpoint http://HOST:4318`",
        )?;
        let mut settings = Settings::new(endpoint, t.tier, t.sampling_ratio);
        if !t.headers.is_empty() {
            let secrets = SecretStore::open(self.dir()).map_err(|e| {
                format!("cannot open the secret store for the telemetry headers: {e}")
            })?;
            for (name, reference) in &t.headers {
                let value = secrets.resolve(reference).map_err(|e| {
                    format!("telemetry header {name} ({reference}) cannot be read: {e}")
                })?;
                self.store().add_secrets([pryx_telemetry::KnownSecret::new(
                    format!("telemetry.headers.{name}"),
                    value.expose(),
                )]);
                settings
                    .headers
                    .push((name.clone(), value.expose().to_string()));
            }
        }
        Ok(settings)
    }

    fn audit_telemetry(&self, actor: &str, action: &str, t: &Telemetry) {
        let entry = pryx_store::AuditEntry {
            actor: actor.to_string(),
            action: action.to_string(),
            resource_type: "telemetry".to_string(),
            resource_id: t.endpoint.clone(),
            session_id: None,
            details: serde_json::json!({
                "endpoint": t.endpoint,
                "tier": t.tier.as_str(),
                "sampling_ratio": t.sampling_ratio,
                "headers": t.headers.keys().collect::<Vec<_>>(),
            }),
            outcome: "success".to_string(),
        };
        if let Err(e) = self.store().append_audit(&entry) {
            tracing::warn!(error = %e, action, "cannot audit the telemetry change");
        }
    }

    /// Turns export on or off through `config.json` and applies it at once.
    pub async fn set_telemetry(
        &self,
        put: &PutTelemetry,
        actor: &str,
    ) -> Result<TelemetryStatus, CoreError> {
        let endpoint = put
            .endpoint
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty());
        let mut edits = vec![Edit::Set("telemetry.enabled".into(), put.enabled.into())];
        if let Some(endpoint) = endpoint {
            edits.push(Edit::Set("telemetry.endpoint".into(), endpoint.into()));
        }
        if let Some(tier) = put.tier {
            edits.push(Edit::Set("telemetry.tier".into(), tier.as_str().into()));
        }
        let config = &self.settings().config.telemetry;
        if put.enabled && endpoint.is_none() && config.endpoint.is_none() {
            return Err(crate::setup::SetupError::Invalid(
                "name the collector to send to: an `endpoint` such as http://127.0.0.1:4318".into(),
            )
            .into());
        }
        self.write_config(&edits)?;
        self.apply_telemetry(actor).await;
        let core = self.clone();
        tokio::task::spawn_blocking(move || core.telemetry_status())
            .await
            .map_err(|e| CoreError::Internal(format!("the telemetry status stopped: {e}")))?
    }

    /// The export's state without the sample (no store read).
    pub fn telemetry_brief(&self) -> pryx_protocol::api::ExportBrief {
        let Some(exporter) = self.inner.telemetry.exporter.get() else {
            return Default::default();
        };
        let state = exporter.state();
        pryx_protocol::api::ExportBrief {
            enabled: exporter.is_on(),
            counts: state.counts,
            last_error: state.last_error,
        }
    }

    /// Whether anything is exported, where to, and how it goes; with the latest turn as the
    /// current tier would send it. Reads the store: call off the async workers.
    pub fn telemetry_status(&self) -> Result<TelemetryStatus, CoreError> {
        let t = self.settings().config.telemetry.clone();
        let exporter = self.inner.telemetry.exporter.get();
        let state = exporter.map(Exporter::state);
        let seen = self
            .inner
            .telemetry
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let spans = self.store().latest_trace()?;
        Ok(TelemetryStatus {
            enabled: exporter.is_some_and(Exporter::is_on),
            endpoint: t.endpoint.clone(),
            tier: t.tier,
            sampling_ratio: t.sampling_ratio,
            headers: t.headers.keys().cloned().collect(),
            debug_ends_at: seen.debug_ends_at.map(rfc3339),
            counts: state.as_ref().map(|s| s.counts.clone()).unwrap_or_default(),
            last_export_at: state.as_ref().and_then(|s| s.last_export_at.clone()),
            last_error: state.and_then(|s| s.last_error),
            problem: seen.problem.or_else(|| {
                (t.enabled && exporter.is_none())
                    .then(|| "this process does not export (only the core does)".to_string())
            }),
            sample: pryx_otlp::sample(&spans, t.tier, &self.store().redactor()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_debug_tier_lasts_an_hour_and_times_read_in_whole_seconds() {
        let since = time::macros::datetime!(2026-12-03 10:15:30.123456 UTC);
        assert_eq!(
            debug_ends(since),
            time::macros::datetime!(2026-12-03 11:15:30.123456 UTC)
        );
        assert_eq!(rfc3339(debug_ends(since)), "2026-12-03T11:15:30Z");
    }
}
