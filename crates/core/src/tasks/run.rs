//! One run of a task: a new session of the task's agent, the prompt with its variables filled
//! in, the turn waited for (at most the task's timeout), then what it cost and said, what was
//! denied, whether to retry, and its notifications — recorded in one step. Nobody may be there
//! to answer an approval: it waits for the policy's approval timeout (any surface may answer),
//! then the policy's default (deny) applies and the run's result says which call needed it.

use super::ms;
use crate::bus::BusEvent;
use crate::core::{Core, StartedTurn};
use chrono::Utc;
use pryx_protocol::api::{OnFailure, TaskRunView, TaskStatus, TaskTrigger};
use pryx_protocol::{EventPayload, NotRun, TurnEnd};
use pryx_store::{AfterRun, Retry, RunEnd, TaskRow};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::Receiver;
use tokio_util::sync::CancellationToken;

/// The summary keeps the start of the answer.
const SUMMARY_CHARS: usize = 600;
/// A heartbeat's alert is its answer: this much of it is kept and delivered.
const ALERT_CHARS: usize = 3500;

fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn failed(error: impl Into<String>) -> RunEnd {
    RunEnd {
        succeeded: false,
        error: Some(error.into()),
        ..Default::default()
    }
}

impl Core {
    /// Runs a claimed run to its end and records it. Returns early, leaving the run `running`,
    /// when the scheduler stops (it is then recorded as interrupted).
    pub(super) async fn execute_run(
        &self,
        task: TaskRow,
        run: TaskRunView,
        cancel: CancellationToken,
    ) {
        // A heartbeat's beat: planned when it was claimed, or now when it was run by hand.
        let beat = match &task.spec.heartbeat {
            None => None,
            Some(hb) => {
                let planned = super::lock(&self.tasks().beats).remove(&run.id);
                let (t, hb) = (task.clone(), hb.clone());
                match planned {
                    Some(p) => Some(p),
                    // Reading the checklist and noting the workspace's files is blocking work.
                    None => match self
                        .blocking(move |c| c.plan_beat(&t, &hb, Utc::now(), true))
                        .await
                    {
                        Ok(super::heartbeat::Beat::Run(p)) => Some(p),
                        Ok(super::heartbeat::Beat::Skip(_, why)) => {
                            self.finish(&task, &run, failed(why));
                            return;
                        }
                        Err(e) => {
                            self.finish(&task, &run, failed(e.to_string()));
                            return;
                        }
                    },
                }
            }
        };
        let prompt = beat.as_ref().map(|b| b.prompt.clone());
        let Some(end) = self.attempt(&task, &run, &cancel, prompt).await else {
            return;
        };
        if let Some(b) = beat {
            let (t, e) = (task.clone(), end.clone());
            let recorded = self
                .blocking(move |c| {
                    c.record_beat(&t, b, &e);
                    Ok(())
                })
                .await;
            if let Err(e) = recorded {
                tracing::warn!(task = %task.spec.name, error = %e, "cannot record a heartbeat");
            }
        }
        self.finish(&task, &run, end);
    }

    /// Records a run's end, its notifications and what follows it (a retry, a status).
    fn finish(&self, task: &TaskRow, run: &TaskRunView, end: RunEnd) {
        let now = Utc::now();
        let current = self.store().task(&task.id).ok().flatten();
        let after = after_run(current.as_ref().unwrap_or(task), run, &end, ms(now));
        let notes = super::notify::for_run(self, task, run, &end, &after);
        if let Err(e) = self
            .store()
            .finish_run(&run.id, &end, &after, &notes, ms(now))
        {
            tracing::warn!(task = %task.spec.name, error = %e, "cannot record a finished task run")
        }
        if let Some(r) = after.retry {
            tracing::info!(
                task = %task.spec.name,
                attempt = r.attempt,
                in_secs = (r.at_ms - ms(now)) / 1000,
                "the run failed; retrying"
            );
        }
        self.tasks().wake_notify.notify_one();
    }

    /// The run's turn, start to end. `None`: stopped before it ended.
    async fn attempt(
        &self,
        task: &TaskRow,
        run: &TaskRunView,
        cancel: &CancellationToken,
        beat_prompt: Option<String>,
    ) -> Option<RunEnd> {
        let spec = &task.spec;
        let mut vars = spec.vars.clone();
        if spec.trigger == TaskTrigger::Webhook {
            let body = self
                .store()
                .run_input(&run.id)
                .ok()
                .flatten()
                .unwrap_or_default();
            vars.insert(
                "body".into(),
                pryx_agent::prompt::untrusted("the webhook request's body", &body),
            );
        }
        let prompt = match beat_prompt {
            Some(p) => p,
            None => match pryx_scheduler::templates::render(&spec.prompt, &vars) {
                Ok(p) => p,
                Err(e) => return Some(failed(e.to_string())),
            },
        };
        let request = crate::SessionRequest {
            agent: spec.agent.clone(),
            title: Some(format!("Task: {} #{}", spec.name, run.run_number)),
            ..Default::default()
        };
        let session = match self.blocking(move |c| c.create_session(&request)).await {
            Ok(s) => s,
            Err(e) => return Some(failed(format!("no session could be made: {e}"))),
        };
        let _ = self.store().set_run_session(&run.id, &session.id);
        let rx = self.bus().subscribe();
        let started = match self.start_turn(&session.id, &prompt).await {
            Ok(s) => s,
            Err(e) => return Some(failed(e.to_string())),
        };
        let end = self
            .wait_run(rx, &started, cancel, Duration::from_secs(spec.timeout_secs))
            .await?;
        // A heartbeat's answer is the alert itself: kept whole enough to be read.
        let keep = if spec.heartbeat.is_some() {
            ALERT_CHARS
        } else {
            SUMMARY_CHARS
        };
        Some(self.run_end(&started, end, spec.timeout_secs, keep))
    }

    /// Waits for the turn's end; past `timeout` it is cancelled and counts as timed out.
    async fn wait_run(
        &self,
        rx: Receiver<Arc<BusEvent>>,
        started: &StartedTurn,
        cancel: &CancellationToken,
        timeout: Duration,
    ) -> Option<Result<TurnEnd, ()>> {
        let waiting = self.wait_turn_end(rx, started, cancel);
        tokio::pin!(waiting);
        tokio::select! {
            end = &mut waiting => end.map(Ok),
            _ = tokio::time::sleep(timeout) => {
                let _ = self.cancel_turn(&started.turn_id);
                // The turn records its cancellation; its end follows quickly.
                let _ = tokio::time::timeout(Duration::from_secs(10), waiting).await;
                Some(Err(()))
            }
        }
    }

    fn run_end(
        &self,
        started: &StartedTurn,
        end: Result<TurnEnd, ()>,
        timeout_secs: u64,
        keep_chars: usize,
    ) -> RunEnd {
        let session = self.store().get_session(&started.session_id).ok().flatten();
        let (tokens_in, tokens_out, cost) = session
            .map(|s| (s.total_tokens_in, s.total_tokens_out, s.total_cost_usd))
            .unwrap_or_default();
        let answer = self.turn_answer(started).unwrap_or_default();
        let denied = self.denied_calls(started);
        let error = match &end {
            Err(()) => Some(format!(
                "it ran longer than its timeout ({timeout_secs} s) and was stopped"
            )),
            Ok(TurnEnd::Completed { .. }) => None,
            Ok(TurnEnd::StepLimit { steps, .. }) => Some(format!(
                "it stopped at the step limit ({steps} steps) before finishing; raise the agent's max_steps"
            )),
            Ok(TurnEnd::BudgetExceeded { message, .. }) => Some(if message.is_empty() {
                "a budget stopped it".to_string()
            } else {
                message.clone()
            }),
            Ok(TurnEnd::Cancelled { .. }) => Some("it was cancelled".into()),
            Ok(TurnEnd::Error { message, .. }) => Some(message.clone()),
            Ok(TurnEnd::Interrupted) => Some("it was interrupted".into()),
        };
        RunEnd {
            succeeded: error.is_none(),
            tokens_in,
            tokens_out,
            cost_usd: cost,
            summary: (!answer.trim().is_empty()).then(|| cut(answer.trim(), keep_chars)),
            error,
            denied,
        }
    }

    /// Tool calls of the turn that were denied (by the policy, a person, or nobody answering).
    fn denied_calls(&self, started: &StartedTurn) -> Vec<String> {
        let events = self
            .store()
            .events_since(&started.session_id, started.after_version, u32::MAX)
            .unwrap_or_default();
        events
            .into_iter()
            .filter_map(|e| match e.payload {
                EventPayload::ToolComplete(c) if c.status == Some(NotRun::Denied) => {
                    Some(match c.message {
                        Some(m) => format!("{}: {}", c.tool, cut(&m, 300)),
                        None => c.tool,
                    })
                }
                _ => None,
            })
            .collect()
    }
}

/// What follows a run for its task: a retry while some are left, else the on-failure action;
/// a one-shot that failed for good is `failed`.
fn after_run(task: &TaskRow, run: &TaskRunView, end: &RunEnd, now_ms: i64) -> AfterRun {
    if end.succeeded || task.status != TaskStatus::Active {
        return AfterRun::default();
    }
    let policy = &task.spec.retry;
    if run.attempt < policy.max_retries {
        let attempt = run.attempt + 1;
        let wait = pryx_scheduler::backoff(policy, attempt);
        return AfterRun {
            retry: Some(Retry {
                at_ms: now_ms.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX)),
                attempt,
                run_number: run.run_number,
                slot_ms: run.slot.as_deref().and_then(|s| {
                    chrono::DateTime::parse_from_rfc3339(s)
                        .ok()
                        .map(|t| t.timestamp_millis())
                }),
            }),
            status: None,
        };
    }
    let why = format!(
        "run #{} failed after {} attempt(s): {}",
        run.run_number,
        run.attempt + 1,
        end.error.as_deref().unwrap_or("see its session")
    );
    let status = match task.spec.on_failure {
        OnFailure::Notify if matches!(task.spec.trigger, TaskTrigger::At { .. }) => {
            Some((TaskStatus::Failed, Some(why)))
        }
        OnFailure::Notify => None,
        OnFailure::Pause => Some((TaskStatus::Paused, Some(why))),
        OnFailure::Disable => Some((TaskStatus::Disabled, Some(why))),
    };
    AfterRun {
        retry: None,
        status,
    }
}
