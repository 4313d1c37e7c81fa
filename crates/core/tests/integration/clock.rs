//! The task clock as tests drive it: a time from RFC 3339, runs due at a chosen time started
//! and waited for.

use chrono::{DateTime, Utc};
use pryx_core::Core;
use pryx_protocol::api::{RunStatus, TaskRunView};
use std::time::Duration;

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Waits until a run has ended: recorded, and its task no longer counted as running (which
/// happens just after the record, and until then a due slot is left for the next tick).
pub async fn wait_run(core: &Core, id: &str) -> TaskRunView {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let r = core.store().task_run(id).unwrap().unwrap();
        if r.status != RunStatus::Running && !core.task_show(&r.task_id).unwrap().running {
            return r;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "run {id} did not end"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs due at `now`, waited for until they end.
pub async fn tick(core: &Core, now: &str) -> Vec<TaskRunView> {
    let mut done = Vec::new();
    for run in core.tick_tasks_at(at(now)) {
        done.push(wait_run(core, &run.id).await);
    }
    done
}
