//! The timer loop: it sleeps until the earliest due time in the database (or a change wakes it),
//! then claims each due run — moving the task's next time forward in the same transaction — and
//! starts it. Sleeps are capped so a machine that slept is noticed within seconds of waking: due
//! runs are always computed from the wall clock, never from a timer that stood still.

use super::{Running, from_ms, heartbeat, lock, ms};
use crate::core::Core;
use chrono::{DateTime, TimeDelta, Utc};
use pryx_protocol::api::{RunReason, TaskRunView, TaskStatus};
use pryx_scheduler::Schedule;
use pryx_store::{Claim, TaskRow};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The longest sleep: how late a run can be after the machine wakes from suspend (a sleeping
/// timer's clock does not count suspended time).
const MAX_SLEEP: Duration = Duration::from_secs(15);
/// A wall clock this far ahead of the monotonic one after a sleep means the machine slept (or
/// the clock was set).
const JUMP: TimeDelta = TimeDelta::seconds(5);

pub(super) async fn run(core: Core, stop: CancellationToken) {
    let store = core.store().clone();
    let c = core.clone();
    match tokio::task::spawn_blocking(move || {
        store.interrupt_running_runs(|run| super::notify::interrupted(&c, run))
    })
    .await
    {
        Ok(Ok(runs)) if !runs.is_empty() => {
            tracing::info!(
                runs = runs.len(),
                "task runs a previous process left going are marked interrupted"
            );
            core.tasks().wake_notify.notify_one();
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot close task runs a previous process left going")
        }
        _ => {}
    }
    core.sync_watches();
    loop {
        let wake = core.tasks().wake.notified();
        tokio::pin!(wake);
        wake.as_mut().enable();
        let now = Utc::now();
        let c = core.clone();
        let next = tokio::task::spawn_blocking(move || {
            c.tick_tasks_at(now);
            c.store().next_due_ms()
        })
        .await;
        let wait = match next {
            Ok(Ok(Some(due))) => {
                let ms_left = due - ms(Utc::now());
                Duration::from_millis(u64::try_from(ms_left).unwrap_or(0)).min(MAX_SLEEP)
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot read when tasks are due");
                MAX_SLEEP
            }
            _ => MAX_SLEEP,
        };
        let (slept_at, mono) = (Utc::now(), Instant::now());
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = wake => {}
            _ = tokio::time::sleep(wait) => {}
        }
        let wall = Utc::now() - slept_at;
        let mono = TimeDelta::from_std(mono.elapsed()).unwrap_or_default();
        if wall - mono > JUMP {
            tracing::info!(
                ahead_secs = (wall - mono).num_seconds(),
                "the wall clock moved ahead of the timers (the machine slept or the clock was set); due tasks are computed from the wall clock"
            );
        }
    }
}

impl Core {
    /// Claims and starts every run due at `now` (the timer loop calls it with the wall clock;
    /// tests with any time). Store work: call off the async workers.
    pub fn tick_tasks_at(&self, now: DateTime<Utc>) -> Vec<TaskRunView> {
        let due = match self.store().due_tasks(ms(now)) {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read due tasks");
                return Vec::new();
            }
        };
        let mut started = Vec::new();
        for task in due {
            if self.tasks().is_running(&task.id) {
                continue;
            }
            match self.claim_due(&task, now) {
                Ok(Some(run)) => {
                    started.push(run.clone());
                    self.spawn_run(task, run);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(task = %task.spec.name, error = %e, "cannot start a due task")
                }
            }
        }
        started
    }

    /// What runs of a due task: a waiting retry first, then an event, then its slot (with the
    /// catch-up policy when it is late).
    fn claim_due(
        &self,
        task: &TaskRow,
        now: DateTime<Utc>,
    ) -> Result<Option<TaskRunView>, crate::CoreError> {
        let now_ms = ms(now);
        let base = Claim {
            reason: RunReason::Schedule,
            slot_ms: None,
            attempt: 0,
            retry_of_run: None,
            next_run_ms: None,
            clears_retry: false,
            clears_event: false,
            any_status: false,
        };
        if let Some(r) = task.retry.filter(|r| r.at_ms <= now_ms) {
            let claim = Claim {
                reason: RunReason::Retry,
                slot_ms: r.slot_ms,
                attempt: r.attempt,
                retry_of_run: Some(r.run_number),
                clears_retry: true,
                ..base
            };
            return Ok(self.store().claim_run(&task.id, &claim, now_ms)?);
        }
        if let Some((_, reason)) = task.event.filter(|e| e.0 <= now_ms) {
            let claim = Claim {
                reason,
                clears_event: true,
                ..base
            };
            return Ok(self.store().claim_run(&task.id, &claim, now_ms)?);
        }
        let Some(due) = task.next_run_ms.filter(|d| *d <= now_ms) else {
            return Ok(None);
        };
        let schedule = match Schedule::new(&task.spec.trigger, from_ms(task.anchor_ms)) {
            Ok(s) => s,
            Err(e) => {
                // Only a hand edit of the database gets here: say so and stop trying.
                self.store().set_task_status(
                    &task.id,
                    TaskStatus::Failed,
                    Some(&e.to_string()),
                    Some(None),
                    None,
                )?;
                return Ok(None);
            }
        };
        let plan = pryx_scheduler::plan(&schedule, from_ms(due), now, task.spec.catch_up);
        if plan.skipped > 0 {
            tracing::info!(
                task = %task.spec.name,
                skipped = plan.skipped,
                policy = ?task.spec.catch_up,
                "runs missed while Pryx was not running (or the machine slept) are not run"
            );
        }
        let next = plan.next.map(ms);
        match plan.run {
            Some((slot, reason)) => {
                // A heartbeat's beat runs only when there is something to look at.
                let mut beat = None;
                if let Some(hb) = &task.spec.heartbeat {
                    match self.plan_beat(task, hb, now, false)? {
                        heartbeat::Beat::Skip(outcome, detail) => {
                            tracing::debug!(task = %task.spec.name, ?outcome, "{detail}");
                            self.record_skipped_beat(task, outcome, detail, now);
                            self.store().skip_to(&task.id, next)?;
                            return Ok(None);
                        }
                        heartbeat::Beat::Run(p) => beat = Some(p),
                    }
                }
                let claim = Claim {
                    reason,
                    slot_ms: Some(ms(slot)),
                    next_run_ms: Some(next),
                    ..base
                };
                let run = self.store().claim_run(&task.id, &claim, now_ms)?;
                match (&run, beat) {
                    (None, _) => {
                        // This slot ran before (a restart between its claim and now): move on.
                        self.store().skip_to(&task.id, next)?;
                    }
                    (Some(r), Some(p)) => {
                        lock(&self.tasks().beats).insert(r.id.clone(), p);
                    }
                    (Some(_), None) => {}
                }
                Ok(run)
            }
            None => {
                self.store().skip_to(&task.id, next)?;
                Ok(None)
            }
        }
    }

    /// Starts a claimed run in the background.
    pub(super) fn spawn_run(&self, task: TaskRow, run: TaskRunView) {
        let cancel = self.tasks().stop.child_token();
        lock(&self.tasks().running).insert(
            task.id.clone(),
            Running {
                cancel: cancel.clone(),
            },
        );
        let core = self.clone();
        tokio::spawn(async move {
            let id = task.id.clone();
            core.execute_run(task, run, cancel).await;
            lock(&core.tasks().ended).insert(id.clone(), std::time::Instant::now());
            lock(&core.tasks().running).remove(&id);
            core.wake_tasks();
        });
    }
}
