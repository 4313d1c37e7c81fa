//! Adding, changing, pausing, resuming, running and removing tasks, and how each is shown
//! (status, next run in words and time, last result, cost this month). Every change wakes the
//! timer loop and re-syncs the file watches.

use super::{from_ms, ms};
use crate::core::Core;
use crate::error::CoreError;
use chrono::{DateTime, Datelike, TimeZone, Utc};
use pryx_config::{Secret, SecretStore};
use pryx_protocol::api::{
    RunReason, RunStatus, TaskCreated, TaskRunView, TaskSpec, TaskStatus, TaskTemplate,
    TaskTrigger, TaskView,
};
use pryx_scheduler::Schedule;
use pryx_store::{Claim, TaskRow, ms_to_ts};

/// The secret-store name of a webhook-triggered task's signing key.
pub(super) fn hook_secret_name(id: &str) -> String {
    format!("task.{id}.secret")
}

fn random_secret() -> Result<String, CoreError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| CoreError::Internal(format!("the system random source failed: {e}")))?;
    Ok(hex::encode(bytes))
}

/// The next slot by the clock for a task (re)started at `now`.
fn first_slot(schedule: &Schedule, now: DateTime<Utc>) -> Option<i64> {
    match schedule {
        // A one-shot at its time, even when that is this very instant.
        Schedule::At(at) => Some(ms(*at)),
        s => s.next_after(now).map(ms),
    }
}

fn month_start(now: DateTime<Utc>) -> i64 {
    Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .map(ms)
        .unwrap_or(0)
}

impl Core {
    fn find_task(&self, id: &str) -> Result<TaskRow, CoreError> {
        self.store()
            .task(id)?
            .ok_or_else(|| CoreError::TaskNotFound(id.to_string()))
    }

    /// How a task is shown.
    pub(super) fn task_view_of(
        &self,
        t: TaskRow,
        now: DateTime<Utc>,
    ) -> Result<TaskView, CoreError> {
        let schedule = Schedule::new(&t.spec.trigger, from_ms(t.anchor_ms)).ok();
        let words = match (&t.spec.trigger, &schedule) {
            (TaskTrigger::FileChange { glob, .. }, _) => format!("when `{glob}` changes"),
            (TaskTrigger::Webhook, _) => format!("on a signed POST to /hooks/tasks/{}", t.id),
            (TaskTrigger::Manual, _) => "only when run by hand".to_string(),
            (_, Some(s)) => s.describe(),
            (_, None) => "cannot be scheduled".to_string(),
        };
        let last_run = self.store().task_runs(&t.id, 1)?.into_iter().next();
        let cost = self.store().task_cost_since(&t.id, month_start(now))?;
        let next = t.due_ms().or(if t.status == TaskStatus::Active {
            None
        } else {
            t.next_run_ms
        });
        let running = self.tasks().is_running(&t.id)
            || last_run
                .as_ref()
                .is_some_and(|r| r.status == RunStatus::Running);
        let heartbeat = match &t.spec.heartbeat {
            Some(hb) => Some(self.heartbeat_status(&t, hb, now)?),
            None => None,
        };
        let own_changes_ignored = super::lock(&self.tasks().own_changes)
            .get(&t.id)
            .copied()
            .unwrap_or(0);
        Ok(TaskView {
            running,
            own_changes_ignored,
            next_run_at: next.map(ms_to_ts),
            id: t.id,
            spec: t.spec,
            status: t.status,
            error: t.error,
            schedule: words,
            last_run,
            runs: t.runs,
            cost_this_month_usd: cost,
            heartbeat,
            created_at: t.created_at,
            updated_at: t.updated_at,
        })
    }

    /// Every task, by name.
    pub fn task_list(&self) -> Result<Vec<TaskView>, CoreError> {
        let now = Utc::now();
        self.store()
            .tasks()?
            .into_iter()
            .map(|t| self.task_view_of(t, now))
            .collect()
    }

    /// One task, by id or name.
    pub fn task_show(&self, id: &str) -> Result<TaskView, CoreError> {
        self.task_show_at(id, Utc::now())
    }

    /// [`Core::task_show`] as if the wall clock said `now` (what "today" and "this month" are).
    pub fn task_show_at(&self, id: &str, now: DateTime<Utc>) -> Result<TaskView, CoreError> {
        let t = self.find_task(id)?;
        self.task_view_of(t, now)
    }

    /// Adds a task. A webhook-triggered one gets a signing key, returned this once.
    pub fn task_create(&self, spec: TaskSpec) -> Result<TaskCreated, CoreError> {
        self.task_create_at(spec, Utc::now())
    }

    /// [`Core::task_create`] as if the wall clock said `now` (tests drive the scheduler's
    /// clock through these `_at` methods).
    pub fn task_create_at(
        &self,
        spec: TaskSpec,
        now: DateTime<Utc>,
    ) -> Result<TaskCreated, CoreError> {
        let (spec, schedule) = self.check_task(spec, now, None)?;
        let row = self
            .store()
            .create_task(&spec, ms(now), first_slot(&schedule, now))
            .map_err(|e| match e {
                pryx_store::StoreError::Invalid { detail, .. } => CoreError::Conflict(detail),
                e => e.into(),
            })?;
        let mut secret = None;
        if spec.trigger == TaskTrigger::Webhook {
            let s = random_secret()?;
            let name = hook_secret_name(&row.id);
            if let Err(e) =
                SecretStore::open(self.dir()).and_then(|st| st.set(&name, &Secret::new(s.as_str())))
            {
                let _ = self.store().delete_task(&row.id);
                return Err(CoreError::Internal(format!(
                    "cannot store the task's signing key: {e}"
                )));
            }
            self.store()
                .add_secrets([pryx_telemetry::KnownSecret::new(name, s.as_str())]);
            secret = Some(s);
        }
        self.audit_task("task.created", &row.id, &spec.name);
        self.tasks_changed(&[&spec.trigger]);
        Ok(TaskCreated {
            task: self.task_view_of(row, now)?,
            secret,
        })
    }

    /// Replaces a task's spec; its schedule starts again from now.
    pub fn task_update(&self, id: &str, spec: TaskSpec) -> Result<TaskView, CoreError> {
        let now = Utc::now();
        let t = self.find_task(id)?;
        let (spec, schedule) = self.check_task(spec, now, Some(&t.id))?;
        if t.spec.trigger == TaskTrigger::Webhook && spec.trigger != TaskTrigger::Webhook {
            return Err(CoreError::Unusable(
                "a webhook-triggered task keeps its trigger; add a new task for another one".into(),
            ));
        }
        if spec.trigger == TaskTrigger::Webhook && t.spec.trigger != TaskTrigger::Webhook {
            return Err(CoreError::Unusable(
                "a task becomes webhook-triggered only when added (its signing key is shown then)"
                    .into(),
            ));
        }
        self.store()
            .update_task(&t.id, &spec, ms(now), first_slot(&schedule, now))?;
        self.audit_task("task.updated", &t.id, &spec.name);
        self.tasks_changed(&[&t.spec.trigger, &spec.trigger]);
        self.task_show(&t.id)
    }

    /// Removes a task with its history (sessions of its runs stay).
    pub fn task_delete(&self, id: &str) -> Result<(), CoreError> {
        let t = self.find_task(id)?;
        if let Some(r) = super::lock(&self.tasks().running).get(&t.id) {
            r.cancel.cancel();
        }
        self.store().delete_task(&t.id)?;
        if t.spec.trigger == TaskTrigger::Webhook
            && let Ok(s) = SecretStore::open(self.dir())
        {
            let _ = s.remove(&hook_secret_name(&t.id));
        }
        self.audit_task("task.deleted", &t.id, &t.spec.name);
        self.tasks_changed(&[&t.spec.trigger]);
        Ok(())
    }

    /// Pauses a task: nothing of it runs until resumed (a run going now finishes).
    pub fn task_pause(&self, id: &str) -> Result<TaskView, CoreError> {
        let t = self.find_task(id)?;
        self.store()
            .set_task_status(&t.id, TaskStatus::Paused, None, None, None)?;
        self.audit_task("task.paused", &t.id, &t.spec.name);
        self.tasks_changed(&[&t.spec.trigger]);
        self.task_show(&t.id)
    }

    /// Resumes (or re-enables) a task; its next run is computed from now, so what it missed while
    /// paused does not run.
    pub fn task_resume(&self, id: &str) -> Result<TaskView, CoreError> {
        self.task_resume_at(id, Utc::now())
    }

    /// [`Core::task_resume`] as if the wall clock said `now`.
    pub fn task_resume_at(&self, id: &str, now: DateTime<Utc>) -> Result<TaskView, CoreError> {
        let t = self.find_task(id)?;
        let schedule = Schedule::new(&t.spec.trigger, now)?;
        let next = match &schedule {
            // A one-shot whose time passed while paused does not come back.
            Schedule::At(at) if *at <= now => None,
            s => first_slot(s, now),
        };
        self.store()
            .set_task_status(&t.id, TaskStatus::Active, None, Some(next), Some(ms(now)))?;
        self.audit_task("task.resumed", &t.id, &t.spec.name);
        self.tasks_changed(&[&t.spec.trigger]);
        self.task_view_of(self.find_task(&t.id)?, now)
    }

    /// Runs a task now, in the background (a paused task too; its schedule is not touched).
    /// Refused while a run of it goes.
    pub async fn task_run_now(&self, id: &str) -> Result<TaskRunView, CoreError> {
        let (t, run) = self.claim_manual(id)?;
        self.spawn_run(t, run.clone());
        Ok(run)
    }

    /// Runs a task now and waits for its end (`pryx tasks run` with no `pryx serve` running).
    pub async fn task_run_here(&self, id: &str) -> Result<TaskRunView, CoreError> {
        let (t, run) = self.claim_manual(id)?;
        let run_id = run.id.clone();
        self.execute_run(t, run, tokio_util::sync::CancellationToken::new())
            .await;
        self.store()
            .task_run(&run_id)?
            .ok_or_else(|| CoreError::Internal(format!("run {run_id} is gone")))
    }

    fn claim_manual(&self, id: &str) -> Result<(TaskRow, TaskRunView), CoreError> {
        let t = self.find_task(id)?;
        let busy = || {
            CoreError::Conflict(format!(
                "task {} is running now; wait for that run to end",
                t.spec.name
            ))
        };
        if self.tasks().is_running(&t.id) {
            return Err(busy());
        }
        let claim = Claim {
            reason: RunReason::Manual,
            slot_ms: None,
            attempt: 0,
            retry_of_run: None,
            next_run_ms: None,
            clears_retry: false,
            clears_event: false,
            any_status: true,
        };
        let run = self
            .store()
            .claim_run(&t.id, &claim, ms(Utc::now()))?
            .ok_or_else(busy)?;
        self.audit_task("task.run", &t.id, &t.spec.name);
        Ok((t, run))
    }

    /// A task's runs, newest first.
    pub fn task_runs(&self, id: &str, limit: u32) -> Result<Vec<TaskRunView>, CoreError> {
        let t = self.find_task(id)?;
        Ok(self
            .store()
            .task_runs(&t.id, limit.min(pryx_store::RUNS_KEPT))?)
    }

    /// The built-in templates.
    pub fn task_templates(&self) -> Vec<TaskTemplate> {
        pryx_scheduler::templates::all()
    }

    /// After any change: the timer loop looks again, and the watches follow when a file-change
    /// task was (or now is) involved.
    fn tasks_changed(&self, triggers: &[&TaskTrigger]) {
        self.wake_tasks();
        let watched = triggers
            .iter()
            .any(|t| matches!(t, TaskTrigger::FileChange { .. }));
        if watched && self.hosts_tasks() {
            self.sync_watches();
        }
    }

    fn audit_task(&self, action: &str, id: &str, name: &str) {
        let entry = pryx_store::AuditEntry {
            actor: "user".into(),
            action: action.to_string(),
            resource_type: "task".into(),
            resource_id: Some(id.to_string()),
            session_id: None,
            details: serde_json::json!({ "name": name }),
            outcome: "success".into(),
        };
        if let Err(e) = self.store().append_audit(&entry) {
            tracing::warn!(task = %id, error = %e, "cannot audit a task change");
        }
    }
}
