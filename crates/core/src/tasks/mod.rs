//! Scheduled tasks, hosted by the core that owns the data dir (`pryx serve`): a timer loop that
//! sleeps until the next due time and claims each due run in the database before starting it,
//! file watches and signed webhooks that trigger tasks, the runs themselves (a session of the
//! task's agent, unattended), and the delivery of their notifications. The arithmetic (cron,
//! catch-up, backoff) is `pryx-scheduler`'s; what is stored is `pryx-store`'s.

mod heartbeat;
mod hook;
mod manage;
mod notify;
mod run;
mod scheduler;
mod validate;
mod watch;

use crate::core::Core;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub(crate) use heartbeat::is_ack as is_heartbeat_ack;
pub use hook::{MAX_TASK_HOOK_BODY, TaskHookError, TaskHookRequest};

/// The scheduler's live state.
#[derive(Default)]
pub(crate) struct Tasks {
    /// Only the core that owns the data dir runs tasks.
    hosting: AtomicBool,
    /// A task changed or a run ended: the timer loop looks again.
    wake: Notify,
    /// Notifications were queued.
    wake_notify: Notify,
    /// Runs going now, by task id.
    running: Mutex<HashMap<String, Running>>,
    /// When each task's last run ended here (its own writes may still be reported by a watch).
    ended: Mutex<HashMap<String, std::time::Instant>>,
    /// File watches, by task id.
    watches: Mutex<HashMap<String, watch::Watch>>,
    /// File-change tasks: changes their own runs made, ignored (by task id).
    own_changes: Mutex<HashMap<String, u64>>,
    /// Heartbeat beats claimed and about to run, by run id: their prompt and what to keep.
    beats: Mutex<HashMap<String, Box<heartbeat::Planned>>>,
    /// Signed webhook request ids seen recently (replays are refused).
    seen_hooks: Mutex<HashMap<String, i64>>,
    stop: CancellationToken,
    loops: Mutex<Vec<JoinHandle<()>>>,
}

/// A run going now.
struct Running {
    cancel: CancellationToken,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Tasks {
    fn is_running(&self, task_id: &str) -> bool {
        lock(&self.running).contains_key(task_id)
    }

    fn ended_recently(&self, task_id: &str, within: std::time::Duration) -> bool {
        lock(&self.ended)
            .get(task_id)
            .is_some_and(|t| t.elapsed() < within)
    }
}

/// The wall clock in Unix ms.
fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl Core {
    pub(crate) fn tasks(&self) -> &Tasks {
        &self.inner.tasks
    }

    /// Starts the scheduler (`pryx serve`, which owns the data dir): runs a stopped process
    /// left going are marked interrupted, then due runs start, file watches are set up and
    /// queued notifications are delivered.
    pub fn host_tasks(&self) {
        let t = self.tasks();
        if t.hosting.swap(true, Ordering::SeqCst) {
            return;
        }
        let (core, stop) = (self.clone(), t.stop.clone());
        let mut loops = lock(&t.loops);
        loops.push(tokio::spawn(scheduler::run(core, stop)));
        let (core, stop) = (self.clone(), t.stop.clone());
        loops.push(tokio::spawn(notify::run(core, stop)));
    }

    pub(crate) fn hosts_tasks(&self) -> bool {
        self.tasks().hosting.load(Ordering::SeqCst)
    }

    /// Stops the scheduler: watches end, running runs are cancelled and recorded as interrupted.
    pub(crate) async fn stop_tasks(&self) {
        let t = self.tasks();
        if !t.hosting.load(Ordering::SeqCst) {
            return;
        }
        t.stop.cancel();
        lock(&t.watches).clear();
        for r in lock(&t.running).values() {
            r.cancel.cancel();
        }
        let loops: Vec<JoinHandle<()>> = lock(&t.loops).drain(..).collect();
        for h in loops {
            let _ = tokio::time::timeout(std::time::Duration::from_millis(500), h).await;
        }
        let core = self.clone();
        let _ = self
            .blocking(move |c| {
                Ok(c.store()
                    .interrupt_running_runs(|run| notify::interrupted(&core, run))?)
            })
            .await;
    }

    /// Tells the timer loop to look again (a task changed).
    pub(crate) fn wake_tasks(&self) {
        self.tasks().wake.notify_one();
    }
}
