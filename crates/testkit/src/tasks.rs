//! Task views as the API returns them, for tests of the surfaces that show tasks.

use pryx_protocol::api::{
    RetryPolicy, RunReason, RunStatus, TaskRunView, TaskSpec, TaskStatus, TaskTrigger, TaskView,
};

/// A task every 10 s, described as `schedule`.
pub fn task(id: &str, name: &str, status: TaskStatus, schedule: &str) -> TaskView {
    TaskView {
        id: id.into(),
        spec: TaskSpec {
            name: name.into(),
            prompt: "Summarise the new issues\nand post the list".into(),
            vars: Default::default(),
            agent: None,
            trigger: TaskTrigger::Every { seconds: 10 },
            catch_up: Default::default(),
            retry: RetryPolicy::default(),
            on_failure: Default::default(),
            notify: Default::default(),
            notify_targets: vec![],
            timeout_secs: 1800,
            heartbeat: None,
        },
        status,
        error: None,
        next_run_at: Some("2026-12-01T19:45:10Z".into()),
        schedule: schedule.into(),
        last_run: None,
        runs: 0,
        running: false,
        own_changes_ignored: 0,
        cost_this_month_usd: 0.0,
        heartbeat: None,
        created_at: "2026-12-01T19:00:00Z".into(),
        updated_at: "2026-12-01T19:00:00Z".into(),
    }
}

/// Run `n` of task `task_id`, started by hand at 19:45:00.
pub fn task_run(task_id: &str, n: u64, status: RunStatus) -> TaskRunView {
    TaskRunView {
        id: format!("{task_id}-r{n}"),
        task_id: task_id.into(),
        run_number: n,
        attempt: 0,
        reason: RunReason::Manual,
        slot: None,
        status,
        started_at: "2026-12-01T19:45:00Z".into(),
        finished_at: None,
        duration_ms: None,
        session_id: None,
        tokens_in: 0,
        tokens_out: 0,
        cost_usd: 0.0,
        summary: None,
        error: None,
        denied: vec![],
        notifications: vec![],
    }
}
