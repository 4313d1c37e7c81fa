//! Generic signed webhooks: `POST /hooks/<id>` with an HMAC-SHA256 signature (Pryx's own,
//! GitHub's or Stripe's headers), a replay window and request ids remembered on disk, a size
//! cap and a rate limit — all checked before anything runs. A good request is stored and
//! acknowledged at once; a worker runs it as a turn of a new session of the channel's agent (the
//! body inside an untrusted boundary, [`jobs`]); its answer goes to a caller that waits
//! (`?wait=30s`) and, signed the same way, to the configured callback URL, retried, each attempt
//! recorded as delivered or failed with why ([`callbacks`]).

mod callbacks;
mod jobs;

use super::limits::{Rate, RateLimiter};
use super::status::StatusCell;
use crate::core::Core;
use crate::error::CoreError;
use pryx_channels::webhook::{self, Style};
use pryx_config::{Channel, ChannelKind, SecretStore, SignatureStyle};
use pryx_protocol::TurnEnd;
use pryx_store::now_ms;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// How far a signed timestamp may be from this clock.
const WINDOW_SECS: i64 = 300;
/// GitHub signs no timestamp: its delivery ids are remembered longer.
const GITHUB_REPLAY_MS: i64 = 7 * 24 * 3600 * 1000;
/// The longest a caller may wait for the answer.
pub const MAX_WAIT: Duration = Duration::from_secs(120);

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
    /// Known once the turn started (a caller that waits gets it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// `completed`, `failed`, … once the turn ended; `accepted` when the caller did not wait
    /// (or not long enough).
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// A failed turn's trace (`pryx trace <id>` shows its spans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
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
    /// New requests are stored.
    pub(crate) wake_jobs: Notify,
    /// New callbacks are queued.
    pub(crate) wake_callbacks: Notify,
    /// Callers waiting for a request's answer, by request id.
    waiters: Mutex<HashMap<String, oneshot::Sender<Finished>>>,
    /// The signing secret, resolved once when the channel starts (a changed secret restarts
    /// the channel).
    secret: Option<pryx_config::Secret>,
    /// Requests to store: one writer commits all that arrived together in one transaction.
    intake: mpsc::UnboundedSender<Intake>,
    intake_rx: Mutex<Option<mpsc::UnboundedReceiver<Intake>>>,
}

/// A verified request waiting to be stored; told its update number, or `None` for a replay.
struct Intake {
    job: Job,
    window_ms: i64,
    reply: oneshot::Sender<Result<Option<i64>, String>>,
}

/// How a request's turn ended.
#[derive(Debug, Clone)]
pub(crate) struct Finished {
    pub session_id: String,
    pub status: String,
    pub answer: String,
    /// A failed turn's trace.
    pub trace_id: Option<String>,
}

impl WebhookRuntime {
    pub fn new(cfg: &Channel, dir: &pryx_config::DataDir) -> WebhookRuntime {
        let secret = cfg
            .secret
            .as_deref()
            .and_then(|r| SecretStore::open(dir).ok()?.resolve(r).ok());
        let (intake, rx) = mpsc::unbounded_channel();
        WebhookRuntime {
            limiter: Mutex::new(RateLimiter::new(cfg.rate_limit_per_minute)),
            wake_jobs: Notify::new(),
            wake_callbacks: Notify::new(),
            waiters: Mutex::default(),
            secret,
            intake,
            intake_rx: Mutex::new(Some(rx)),
        }
    }

    pub(crate) fn secret(&self) -> Option<&pryx_config::Secret> {
        self.secret.as_ref()
    }

    fn waiters(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<Finished>>> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tells a caller waiting for `request_id`, if one is.
    pub(crate) fn finished(&self, request_id: &str, f: Finished) {
        if let Some(tx) = self.waiters().remove(request_id) {
            let _ = tx.send(f);
        }
    }
}

/// A stored request, run by the job worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Job {
    pub request_id: String,
    pub prompt: String,
}

fn style(s: SignatureStyle) -> Style {
    match s {
        SignatureStyle::Pryx => Style::Pryx,
        SignatureStyle::Github => Style::Github,
        SignatureStyle::Stripe => Style::Stripe,
    }
}

pub(crate) fn now_secs() -> i64 {
    now_ms() / 1000
}

pub(crate) fn status_of(end: &TurnEnd) -> &'static str {
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
        let secret = runtime.secret().ok_or_else(|| {
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
        // Over the limit before it is remembered: the sender may deliver it again later.
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
        let window_ms = if cfg.signature == SignatureStyle::Github {
            GITHUB_REPLAY_MS
        } else {
            WINDOW_SECS * 2000
        };
        let job = Job {
            request_id: verified.request_id.clone(),
            prompt: prompt(id, &cfg, &req),
        };
        let waiter = req.wait.map(|_| {
            let (tx, rx) = oneshot::channel();
            runtime.waiters().insert(job.request_id.clone(), tx);
            rx
        });
        // Stored (and its id remembered) before it is acknowledged: a crash from here on loses
        // nothing, and a replay is refused even after a restart.
        let (reply, stored) = oneshot::channel();
        let sent = runtime.intake.send(Intake {
            job: job.clone(),
            window_ms,
            reply,
        });
        let outcome = match sent {
            Ok(()) => stored
                .await
                .unwrap_or_else(|_| Err("the channel stopped".into())),
            Err(_) => Err("the channel stopped".into()),
        };
        match outcome {
            Ok(Some(_)) => {}
            Ok(None) => {
                runtime.waiters().remove(&job.request_id);
                status.filtered(&format!("refused a replayed request ({})", job.request_id));
                return Err(HookError::Replayed(job.request_id));
            }
            Err(e) => {
                runtime.waiters().remove(&job.request_id);
                return Err(HookError::Core(CoreError::Internal(format!(
                    "the request could not be stored: {e}; deliver it again"
                ))));
            }
        }
        runtime.wake_jobs.notify_one();
        status.ok("receiving signed requests");
        let mut out = HookAnswer {
            request_id: job.request_id.clone(),
            session_id: None,
            status: "accepted".into(),
            answer: None,
            trace_id: None,
        };
        if let (Some(wait), Some(rx)) = (req.wait, waiter) {
            match tokio::time::timeout(wait.min(MAX_WAIT), rx).await {
                Ok(Ok(f)) => {
                    out.session_id = (!f.session_id.is_empty()).then_some(f.session_id);
                    out.status = f.status;
                    out.answer = Some(f.answer);
                    out.trace_id = f.trace_id;
                }
                _ => {
                    runtime.waiters().remove(&job.request_id);
                }
            }
        }
        Ok(out)
    }
}

/// Runs a webhook channel until `cancel`: its stored requests as turns, its callbacks.
pub(crate) async fn run(
    core: Core,
    id: String,
    cfg: Channel,
    status: Arc<StatusCell>,
    runtime: Arc<WebhookRuntime>,
    cancel: CancellationToken,
) {
    status.ready("waiting for signed requests");
    tokio::join!(
        store_requests(&core, &id, &runtime, &cancel),
        jobs::run(&core, &id, &cfg, &status, &runtime, &cancel),
        callbacks::run(&core, &id, &cfg, &status, &runtime, &cancel),
    );
}

/// The one writer of a channel's requests: what arrived together is stored in one transaction
/// (one commit), so many concurrent requests are acknowledged about as fast as one.
async fn store_requests(
    core: &Core,
    id: &str,
    runtime: &WebhookRuntime,
    cancel: &CancellationToken,
) {
    let taken = runtime
        .intake_rx
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    let Some(mut rx) = taken else { return };
    loop {
        let first = tokio::select! {
            _ = cancel.cancelled() => return,
            m = rx.recv() => match m { Some(m) => m, None => return },
        };
        let mut batch = vec![first];
        while batch.len() < 256 {
            match rx.try_recv() {
                Ok(m) => batch.push(m),
                Err(_) => break,
            }
        }
        let window = batch.iter().map(|b| b.window_ms).max().unwrap_or(0);
        let items: Vec<(String, Job)> = batch
            .iter()
            .map(|b| (b.job.request_id.clone(), b.job.clone()))
            .collect();
        let owned = id.to_string();
        let result = core
            .blocking(move |c| Ok(c.store().accept_requests(&owned, window, &items)?))
            .await;
        match result {
            Ok(ids) => {
                for (b, n) in batch.into_iter().zip(ids) {
                    let _ = b.reply.send(Ok(n));
                }
            }
            Err(e) => {
                for b in batch {
                    let _ = b.reply.send(Err(e.to_string()));
                }
            }
        }
    }
}
