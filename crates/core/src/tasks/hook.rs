//! `POST /hooks/tasks/<id>`: a signed request that triggers a webhook task, signed like the
//! webhooks channel (`X-Pryx-Timestamp`, `X-Pryx-Signature: sha256=HMAC(key, "<ts>.<body>")`,
//! five minutes' window, each request id once). The body fills the prompt's `{{body}}`, marked
//! as untrusted text. Requests that come while a run waits or goes make one more run.

use super::{lock, manage::hook_secret_name};
use crate::core::Core;
use chrono::Utc;
use pryx_channels::webhook::{self, Style};
use pryx_config::SecretStore;
use pryx_protocol::api::{RunReason, TaskStatus, TaskTrigger};

/// The signature's window, either side of now.
const WINDOW_SECS: i64 = 300;
/// The largest body a task hook accepts.
pub const MAX_TASK_HOOK_BODY: usize = 256 * 1024;

/// A request to a task hook, as the server read it.
#[derive(Debug)]
pub struct TaskHookRequest {
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Why a task hook refused a request.
#[derive(Debug, thiserror::Error)]
pub enum TaskHookError {
    #[error("no webhook-triggered task {0}")]
    NotFound(String),
    #[error("task {0} is not active (paused, disabled or failed); resume it first")]
    NotActive(String),
    #[error("the body is larger than a task hook accepts ({MAX_TASK_HOOK_BODY} bytes)")]
    TooLarge,
    #[error("{0}")]
    Unauthenticated(String),
    #[error("this request was delivered before (request id {0}); a replay is refused")]
    Replayed(String),
    #[error("the scheduler cannot take it now: {0}")]
    Unavailable(String),
}

impl Core {
    /// Checks a task hook request and queues the run it asks for.
    pub fn task_hook(&self, id: &str, req: TaskHookRequest) -> Result<(), TaskHookError> {
        let task = self
            .store()
            .task(id)
            .map_err(|e| TaskHookError::Unavailable(e.to_string()))?
            .filter(|t| t.id == id && t.spec.trigger == TaskTrigger::Webhook)
            .ok_or_else(|| TaskHookError::NotFound(id.to_string()))?;
        if req.body.len() > MAX_TASK_HOOK_BODY {
            return Err(TaskHookError::TooLarge);
        }
        let secret = SecretStore::open(self.dir())
            .and_then(|s| s.get(&hook_secret_name(id)))
            .ok()
            .flatten()
            .ok_or_else(|| {
                TaskHookError::Unauthenticated("this task has no signing key; add it again".into())
            })?;
        let header = |name: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let now = Utc::now().timestamp();
        let verified = webhook::verify(
            Style::Pryx,
            secret.expose().as_bytes(),
            header,
            &req.body,
            now,
            WINDOW_SECS,
        )
        .map_err(|e| TaskHookError::Unauthenticated(e.to_string()))?;
        {
            let mut seen = lock(&self.tasks().seen_hooks);
            seen.retain(|_, at| now - *at < 2 * WINDOW_SECS);
            let key = format!("{id}\n{}", verified.request_id);
            if seen.insert(key, now).is_some() {
                return Err(TaskHookError::Replayed(verified.request_id));
            }
        }
        if task.status != TaskStatus::Active {
            return Err(TaskHookError::NotActive(task.spec.name));
        }
        let body = String::from_utf8_lossy(&req.body).into_owned();
        let queued = self
            .store()
            .set_task_event(
                id,
                Utc::now().timestamp_millis(),
                RunReason::Webhook,
                Some(&body),
            )
            .map_err(|e| TaskHookError::Unavailable(e.to_string()))?;
        if !queued {
            return Err(TaskHookError::NotActive(task.spec.name));
        }
        self.wake_tasks();
        Ok(())
    }
}
