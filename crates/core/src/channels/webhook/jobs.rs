//! Stored webhook requests run as turns, a few at a time: each gets a new session of the
//! channel's agent; when it ends, the caller waiting for it is told and the callback is queued
//! in the same step that marks the request done. A request whose turn a stopped process left
//! running is answered as interrupted.

use super::{Finished, Job, WebhookRuntime, status_of};
use crate::channels::status::StatusCell;
use crate::core::Core;
use pryx_config::Channel;
use pryx_protocol::TurnEnd;
use pryx_store::{OpenUpdate, UpdateState};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Turns of one webhook channel running at once.
const PARALLEL: usize = 8;

/// The answer POSTed to the callback URL.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Callback {
    pub request_id: String,
    pub session_id: String,
    pub status: String,
    pub answer: String,
    /// A failed turn's trace (`pryx trace <id>` shows its spans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

pub(super) async fn run(
    core: &Core,
    id: &str,
    cfg: &Channel,
    status: &Arc<StatusCell>,
    runtime: &Arc<WebhookRuntime>,
    cancel: &CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(PARALLEL));
    let busy: Arc<Mutex<HashSet<i64>>> = Arc::default();
    let mut first = true;
    loop {
        let wake = runtime.wake_jobs.notified();
        tokio::pin!(wake);
        wake.as_mut().enable();
        let open: Vec<OpenUpdate<Job>> = core.store().open_updates(id).unwrap_or_else(|e| {
            status.degraded(&format!("cannot read stored requests: {e}"));
            Vec::new()
        });
        for u in open {
            if !busy
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(u.update_id)
            {
                continue;
            }
            if first && u.state == UpdateState::Running {
                let f = Finished {
                    session_id: String::new(),
                    status: "interrupted".into(),
                    answer: "the turn was interrupted by a restart; send the request again".into(),
                    trace_id: None,
                };
                done(core, id, cfg, runtime, &u, None, f);
                continue;
            }
            let permit = tokio::select! {
                _ = cancel.cancelled() => return,
                p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            };
            let (core, id, cfg, runtime, cancel, busy) = (
                core.clone(),
                id.to_string(),
                cfg.clone(),
                runtime.clone(),
                cancel.clone(),
                busy.clone(),
            );
            tokio::spawn(async move {
                let _permit = permit;
                one(&core, &id, &cfg, &runtime, &cancel, &u).await;
                busy.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&u.update_id);
            });
        }
        first = false;
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = wake => {}
        }
    }
}

/// Runs one request's turn to its end (or leaves it open when the channel stops first).
async fn one(
    core: &Core,
    id: &str,
    cfg: &Channel,
    runtime: &WebhookRuntime,
    cancel: &CancellationToken,
    u: &OpenUpdate<Job>,
) {
    let store = core.store();
    let _ = store.set_update_state(id, u.update_id, UpdateState::Running, None);
    let request = crate::SessionRequest {
        agent: Some(cfg.agent_id().to_string()),
        title: Some(format!("Webhook: {id}")),
        ..Default::default()
    };
    // Store work runs off the async workers (SQLite may wait for a lock).
    let session = match core.blocking(move |c| c.create_session(&request)).await {
        Ok(s) => s,
        Err(e) => {
            let f = Finished {
                session_id: String::new(),
                status: "failed".into(),
                answer: format!("no session could be made: {e}"),
                trace_id: None,
            };
            return done(core, id, cfg, runtime, u, None, f);
        }
    };
    let _ = store.set_chat_session(
        id,
        &u.payload.request_id,
        &session.id,
        &format!("Webhook: {id}"),
    );
    let rx = core.bus().subscribe();
    let started = match core.start_turn(&session.id, &u.payload.prompt).await {
        Ok(s) => s,
        Err(e) => {
            let f = Finished {
                session_id: session.id.clone(),
                status: "failed".into(),
                answer: e.to_string(),
                trace_id: None,
            };
            return done(core, id, cfg, runtime, u, Some(&session.id), f);
        }
    };
    let Some(end) = core.wait_turn_end(rx, &started, cancel).await else {
        return;
    };
    let f = Finished {
        session_id: session.id.clone(),
        status: status_of(&end).into(),
        answer: core.turn_answer(&started).unwrap_or_default(),
        trace_id: match &end {
            TurnEnd::Error { trace_id, .. } => trace_id.clone(),
            _ => None,
        },
    };
    done(core, id, cfg, runtime, u, Some(&session.id), f);
}

/// Marks the request done, queuing its callback in the same step, and tells a waiting caller.
fn done(
    core: &Core,
    id: &str,
    cfg: &Channel,
    runtime: &WebhookRuntime,
    u: &OpenUpdate<Job>,
    session: Option<&str>,
    f: Finished,
) {
    let callbacks: Vec<(String, Callback)> = cfg
        .callback_url
        .as_ref()
        .map(|_| {
            (
                u.payload.request_id.clone(),
                Callback {
                    request_id: u.payload.request_id.clone(),
                    session_id: session.unwrap_or_default().to_string(),
                    status: f.status.clone(),
                    answer: f.answer.clone(),
                    trace_id: f.trace_id.clone(),
                },
            )
        })
        .into_iter()
        .collect();
    match core
        .store()
        .finish_update(id, u.update_id, Some(&f.status), &callbacks)
    {
        Ok(()) if !callbacks.is_empty() => runtime.wake_callbacks.notify_one(),
        Ok(()) => {}
        Err(e) => {
            tracing::warn!(channel = %id, error = %e, "cannot record a finished webhook request")
        }
    }
    runtime.finished(&u.payload.request_id, f);
}
