//! File-change triggers: one OS watch per task on the folder its pattern starts from (recursive
//! only when the pattern reaches into subfolders), changes matched against the pattern, quiet
//! for the task's debounce before one run is queued. Changes made while the task's own run goes
//! (or just after) are its own writes and never re-trigger it. A watch the OS refuses (the
//! inotify limit) makes the task `failed` with what to do, never a silent gap.

use super::{lock, validate::glob_base};
use crate::core::Core;
use chrono::Utc;
use notify::{RecursiveMode, Watcher};
use pryx_protocol::api::{RunReason, TaskStatus, TaskTrigger};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// A task's running watch; dropping it stops the OS watch and its debounce task.
pub(crate) struct Watch {
    /// What it watches: a changed task gets a new one.
    key: (PathBuf, String, u64),
    _watcher: notify::RecommendedWatcher,
    debounce: tokio::task::JoinHandle<()>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.debounce.abort();
    }
}

fn limit_hint(e: &notify::Error) -> String {
    let limit = matches!(e.kind, notify::ErrorKind::MaxFilesWatch)
        || matches!(&e.kind, notify::ErrorKind::Io(io) if io.raw_os_error() == Some(28));
    if limit {
        "the system's limit of file watches is reached (fs.inotify.max_user_watches): raise it \
         (sysctl fs.inotify.max_user_watches=524288) or narrow the task's pattern"
            .to_string()
    } else {
        format!("cannot watch the files: {e}")
    }
}

impl Core {
    /// Makes the running watches match the active file-change tasks.
    pub(super) fn sync_watches(&self) {
        let tasks = match self.store().tasks() {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read tasks to watch");
                return;
            }
        };
        let mut wanted = Vec::new();
        for t in tasks {
            let TaskTrigger::FileChange { glob, debounce_ms } = &t.spec.trigger else {
                continue;
            };
            if t.status != TaskStatus::Active {
                continue;
            }
            match self.profile(t.spec.agent.as_deref()) {
                Ok(p) => wanted.push((t.id.clone(), (p.workspace, glob.clone(), *debounce_ms))),
                Err(e) => self.watch_failed(&t.id, &format!("its agent cannot be used: {e}")),
            }
        }
        let mut watches = lock(&self.tasks().watches);
        watches.retain(|id, w| wanted.iter().any(|(i, k)| i == id && *k == w.key));
        for (id, key) in wanted {
            if watches.contains_key(&id) {
                continue;
            }
            match self.start_watch(&id, key) {
                Ok(w) => {
                    watches.insert(id, w);
                }
                Err(why) => self.watch_failed(&id, &why),
            }
        }
    }

    fn watch_failed(&self, id: &str, why: &str) {
        tracing::warn!(task = %id, "{why}");
        let _ = self
            .store()
            .set_task_status(id, TaskStatus::Failed, Some(why), None, None);
    }

    fn start_watch(&self, id: &str, key: (PathBuf, String, u64)) -> Result<Watch, String> {
        let (workspace, glob, debounce_ms) = &key;
        let matcher = globset::GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("invalid pattern `{glob}`: {e}"))?
            .compile_matcher();
        let (base, deep) = glob_base(glob);
        let root = workspace
            .canonicalize()
            .map_err(|e| format!("cannot use the workspace {}: {e}", workspace.display()))?;
        let dir = root.join(base);
        let (tx, rx) = mpsc::unbounded_channel::<PathBuf>();
        let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
            if let Ok(ev) = ev
                && !matches!(ev.kind, notify::EventKind::Access(_))
            {
                for p in ev.paths {
                    let _ = tx.send(p);
                }
            }
        })
        .map_err(|e| limit_hint(&e))?;
        let mode = if deep {
            RecursiveMode::Recursive
        } else {
            RecursiveMode::NonRecursive
        };
        watcher.watch(&dir, mode).map_err(|e| limit_hint(&e))?;
        let data = self.dir().root();
        let data = data.canonicalize().unwrap_or_else(|_| data.to_path_buf());
        let debounce = tokio::spawn(debounce_loop(
            self.clone(),
            id.to_string(),
            rx,
            Filter {
                root,
                data,
                matcher,
            },
            Duration::from_millis(*debounce_ms),
        ));
        Ok(Watch {
            key,
            _watcher: watcher,
            debounce,
        })
    }
}

struct Filter {
    root: PathBuf,
    data: PathBuf,
    matcher: globset::GlobMatcher,
}

impl Filter {
    fn wants(&self, p: &Path) -> bool {
        if p.starts_with(&self.data) {
            return false;
        }
        p.strip_prefix(&self.root)
            .is_ok_and(|rel| self.matcher.is_match(rel))
    }
}

/// Waits for matching changes to go quiet for `quiet`, then queues one run.
async fn debounce_loop(
    core: Core,
    id: String,
    mut rx: mpsc::UnboundedReceiver<PathBuf>,
    filter: Filter,
    quiet: Duration,
) {
    loop {
        let Some(first) = rx.recv().await else { return };
        if !filter.wants(&first) {
            continue;
        }
        if core.tasks().is_running(&id) || core.tasks().ended_recently(&id, quiet) {
            *lock(&core.tasks().own_changes)
                .entry(id.clone())
                .or_default() += 1;
            tracing::debug!(task = %id, "a change made while the task's own run went is ignored");
            continue;
        }
        let mut deadline = Instant::now() + quiet;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, rx.recv()).await {
                Ok(Some(p)) if filter.wants(&p) => deadline = Instant::now() + quiet,
                Ok(Some(_)) => {}
                Ok(None) => return,
                Err(_) => break,
            }
        }
        let (store, at) = (core.store().clone(), Utc::now().timestamp_millis());
        let task = id.clone();
        let queued = tokio::task::spawn_blocking(move || {
            store.set_task_event(&task, at, RunReason::FileChange, None)
        })
        .await;
        match queued {
            Ok(Ok(true)) => core.wake_tasks(),
            Ok(Ok(false)) => {}
            Ok(Err(e)) => tracing::warn!(task = %id, error = %e, "cannot queue a file-change run"),
            Err(_) => return,
        }
    }
}
