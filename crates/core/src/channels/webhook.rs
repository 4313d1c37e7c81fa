//! Generic signed webhooks: `POST /hooks/<id>` with an HMAC-SHA256 signature (Pryx's own,
//! GitHub's or Stripe's headers), a replay window and request ids remembered on disk, a size
//! cap and a rate limit — all checked before anything runs. A good request becomes a turn of a
//! new session of the channel's agent, the body inside an untrusted boundary; its answer is
//! returned to a caller that waits (`?wait=30s`) and POSTed, signed the same way, to the
//! configured callback URL, retried, each attempt recorded as delivered or failed with why.

use super::limits::{Backoff, Rate, RateLimiter};
use super::status::StatusCell;
use crate::core::Core;
use crate::error::CoreError;
use pryx_channels::webhook::{self, Style};
use pryx_config::{Channel, ChannelKind, SecretStore, SignatureStyle};
use pryx_protocol::TurnEnd;
use pryx_store::{Outbound, now_ms};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How far a signed timestamp may be from this clock.
const WINDOW_SECS: i64 = 300;
/// GitHub signs no timestamp: its delivery ids are remembered longer.
const GITHUB_REPLAY_MS: i64 = 7 * 24 * 3600 * 1000;
/// The longest a caller may wait for the answer.
pub const MAX_WAIT: Duration = Duration::from_secs(120);
/// Callback attempts before a delivery is given up on.
const MAX_ATTEMPTS: u32 = 8;

/// An inbound request, as the server read it.
#[derive(Debug)]
pub struct HookRequest {
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// How long the caller waits for the answer.
    pub wait: Option<Duration>,
}

/// What the caller is told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HookAnswer {
    pub request_id: String,
    pub session_id: String,
    /// `completed`, `failed`, … once the turn ended; `running` when the caller did not wait
    /// long enough.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

/// Why a request was refused (nothing ran).
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("no webhook channel {0}")]
    NotFound(String),
    #[error("the webhook channel {0} is paused")]
    Paused(String),
    #[error("the body is larger than this webhook accepts ({0} bytes)")]
    TooLarge(u64),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("this request was delivered before (request id {0}); a replay is refused")]
    Replayed(String),
    #[error("too many requests: at most {0} a minute")]
    RateLimited(u32),
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// A webhook channel's running state, shared with the server's handler.
pub(crate) struct WebhookRuntime {
    limiter: Mutex<RateLimiter>,
    pub(crate) wake: Notify,
}

impl WebhookRuntime {
    pub fn new(cfg: &Channel) -> WebhookRuntime {
        WebhookRuntime {
            limiter: Mutex::new(RateLimiter::new(cfg.rate_limit_per_minute)),
            wake: Notify::new(),
        }
    }
}

/// The answer POSTed to the callback URL.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Callback {
    request_id: String,
    session_id: String,
    status: String,
    answer: String,
}

fn style(s: SignatureStyle) -> Style {
    match s {
        SignatureStyle::Pryx => Style::Pryx,
        SignatureStyle::Github => Style::Github,
        SignatureStyle::Stripe => Style::Stripe,
    }
}

fn now_secs() -> i64 {
    now_ms() / 1000
}

fn status_of(end: &TurnEnd) -> &'static str {
    match end {
        TurnEnd::Completed { .. } => "completed",
        TurnEnd::Cancelled { .. } => "cancelled",
        TurnEnd::StepLimit { .. } => "step_limit",
        TurnEnd::BudgetExceeded { .. } => "budget_exceeded",
        TurnEnd::Error { .. } => "failed",
        TurnEnd::Interrupted => "interrupted",
    }
}

/// The prompt: the channel's template with `{{body}}` and `{{header.NAME}}` filled in, each
/// inside an untrusted boundary.
fn prompt(id: &str, cfg: &Channel, req: &HookRequest) -> String {
    let body = String::from_utf8_lossy(&req.body);
    let boxed = pryx_agent::prompt::untrusted(&format!("webhook {id}"), &body);
    let template = cfg.template.clone().unwrap_or_else(|| {
        format!("The webhook `{id}` delivered this request; act on it as your instructions say.\n\n{{{{body}}}}")
    });
    let mut out = template.replace("{{body}}", &boxed);
    for (name, value) in &req.headers {
        let key = format!("{{{{header.{name}}}}}");
        if out.contains(&key) {
            out = out.replace(
                &key,
                &pryx_agent::prompt::untrusted(&format!("header {name}"), value),
            );
        }
    }
    out
}

impl Core {
    /// Handles a `POST /hooks/<id>` to a webhook channel.
    pub async fn webhook(&self, id: &str, req: HookRequest) -> Result<HookAnswer, HookError> {
        let cfg = self
            .settings()
            .config
            .channels
            .get(id)
            .filter(|c| c.kind == ChannelKind::Webhook)
            .cloned()
            .ok_or_else(|| HookError::NotFound(id.to_string()))?;
        if !cfg.enabled {
            return Err(HookError::Paused(id.to_string()));
        }
        let (runtime, status) = self
            .webhook_runtime(id)
            .ok_or_else(|| HookError::Paused(id.to_string()))?;
        if req.body.len() as u64 > cfg.max_body_bytes {
            return Err(HookError::TooLarge(cfg.max_body_bytes));
        }
        let secret = cfg
            .secret
            .as_deref()
            .and_then(|r| SecretStore::open(self.dir()).ok()?.resolve(r).ok())
            .ok_or_else(|| {
                HookError::Unauthenticated(
                    "this webhook has no signing secret; add the channel again".into(),
                )
            })?;
        let lookup = |name: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let verified = webhook::verify(
            style(cfg.signature),
            secret.expose().as_bytes(),
            lookup,
            &req.body,
            now_secs(),
            WINDOW_SECS,
        )
        .map_err(|e| {
            let msg = format!("refused a request: {e}");
            tracing::warn!(channel = %id, "{msg}");
            status.filtered(&msg);
            HookError::Unauthenticated(e.to_string())
        })?;
        let window = if cfg.signature == SignatureStyle::Github {
            GITHUB_REPLAY_MS
        } else {
            WINDOW_SECS * 2000
        };
        let rid = verified.request_id.clone();
        let owned = id.to_string();
        let fresh = self
            .blocking(move |c| Ok(c.store().remember_request(&owned, &rid, window)?))
            .await?;
        if !fresh {
            status.filtered(&format!(
                "refused a replayed request ({})",
                verified.request_id
            ));
            return Err(HookError::Replayed(verified.request_id));
        }
        match runtime
            .limiter
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .check("all")
        {
            Rate::Ok => {}
            Rate::JustOver | Rate::Over => {
                status.filtered("over the rate limit");
                return Err(HookError::RateLimited(cfg.rate_limit_per_minute));
            }
        }
        let session = self.create_session(&crate::SessionRequest {
            agent: Some(cfg.agent_id().to_string()),
            title: Some(format!("Webhook: {id}")),
            ..Default::default()
        })?;
        let (rid, sid, owned) = (
            verified.request_id.clone(),
            session.id.clone(),
            id.to_string(),
        );
        self.blocking(move |c| {
            Ok(c.store()
                .set_chat_session(&owned, &rid, &sid, &format!("Webhook: {owned}"))?)
        })
        .await?;
        let rx = self.bus().subscribe();
        let started = self
            .start_turn(&session.id, &prompt(id, &cfg, &req))
            .await?;
        status.ok("receiving signed requests");
        // The rest runs whether or not the caller waits: the callback goes out either way.
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let core = self.clone();
        let (cid, rid, has_callback) = (
            id.to_string(),
            verified.request_id.clone(),
            cfg.callback_url.is_some(),
        );
        tokio::spawn(async move {
            let end =
                crate::channels::wait_turn_end(&core, rx, &started, &CancellationToken::new())
                    .await;
            let status_text = end.as_ref().map_or("interrupted", status_of).to_string();
            let answer = crate::channels::turn_answer(&core, &started).unwrap_or_default();
            if has_callback {
                let cb = Callback {
                    request_id: rid.clone(),
                    session_id: started.session_id.clone(),
                    status: status_text.clone(),
                    answer: answer.clone(),
                };
                match core.store().enqueue_outbound(&cid, &rid, &cb) {
                    Ok(_) => {
                        if let Some((rt, _)) = core.webhook_runtime(&cid) {
                            rt.wake.notify_one();
                        }
                    }
                    Err(e) => tracing::warn!(channel = %cid, error = %e, "cannot queue a callback"),
                }
            }
            let _ = done_tx.send((status_text, answer));
        });
        let mut out = HookAnswer {
            request_id: verified.request_id,
            session_id: session.id,
            status: "running".into(),
            answer: None,
        };
        if let Some(wait) = req.wait
            && let Ok(Ok((s, a))) = tokio::time::timeout(wait.min(MAX_WAIT), done_rx).await
        {
            out.status = s;
            out.answer = Some(a);
        }
        Ok(out)
    }
}

/// Delivers a webhook channel's callbacks until `cancel`.
pub(crate) async fn run(
    core: Core,
    id: String,
    cfg: Channel,
    status: Arc<StatusCell>,
    runtime: Arc<WebhookRuntime>,
    cancel: CancellationToken,
) {
    status.ready("waiting for signed requests");
    let Some(url) = cfg.callback_url.clone() else {
        cancel.cancelled().await;
        return;
    };
    let http = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
    {
        Ok(h) => h,
        Err(e) => {
            status.down(&format!("cannot make an HTTP client: {e}"));
            return;
        }
    };
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
    loop {
        let wake = runtime.wake.notified();
        tokio::pin!(wake);
        wake.as_mut().enable();
        let rows: Vec<Outbound<Callback>> =
            core.store().pending_outbound(&id, 20).unwrap_or_default();
        let mut waited = false;
        for row in rows {
            let due = row.next_attempt_ms - now_ms();
            if due > 0 {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(u64::try_from(due).unwrap_or(0))) => {}
                }
            }
            waited = true;
            let store = core.store();
            let _ = store.outbound_sending(row.id);
            let secret = cfg
                .secret
                .as_deref()
                .and_then(|r| SecretStore::open(core.dir()).ok()?.resolve(r).ok());
            let body = serde_json::to_vec(&row.body).unwrap_or_default();
            let ts = now_secs();
            let mut req = http
                .post(&url)
                .header("content-type", "application/json")
                .header(webhook::TIMESTAMP_HEADER, ts.to_string())
                .header(webhook::REQUEST_ID_HEADER, format!("callback-{}", row.id));
            if let Some(s) = &secret {
                req = req.header(
                    webhook::SIGNATURE_HEADER,
                    webhook::sign(s.expose().as_bytes(), ts, &body),
                );
            }
            let result = tokio::select! {
                _ = cancel.cancelled() => return,
                r = req.body(body).send() => r,
            };
            let outcome = match result {
                Ok(r) if r.status().is_success() => {
                    backoff.reset();
                    status.ok("callbacks delivered");
                    store.outbound_sent(row.id, Some(&r.status().as_u16().to_string()))
                }
                Ok(r) => {
                    let why = format!("the callback URL answered {}", r.status());
                    retry(
                        &core,
                        &status,
                        &row,
                        &why,
                        r.status().is_server_error() || r.status().as_u16() == 429,
                        &mut backoff,
                    )
                }
                Err(e) => {
                    let why = format!("the callback URL cannot be reached: {}", e.without_url());
                    retry(&core, &status, &row, &why, true, &mut backoff)
                }
            };
            if let Err(e) = outcome {
                tracing::warn!(channel = %id, error = %e, "cannot record a callback delivery");
            }
        }
        if !waited {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = wake => {}
            }
        }
    }
}

fn retry(
    core: &Core,
    status: &StatusCell,
    row: &Outbound<Callback>,
    why: &str,
    transient: bool,
    backoff: &mut Backoff,
) -> Result<(), pryx_store::StoreError> {
    if transient && row.attempts + 1 < MAX_ATTEMPTS {
        status.degraded(why);
        let at = now_ms() + i64::try_from(backoff.step().as_millis()).unwrap_or(i64::MAX);
        core.store().outbound_retry(row.id, at, why)
    } else {
        status.error(&format!("a callback was not delivered: {why}"));
        core.store().outbound_failed(row.id, why)
    }
}
