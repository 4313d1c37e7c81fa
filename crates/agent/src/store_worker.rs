//! The agent's store work runs on one thread of its own, never on an async worker: SQLite may wait
//! up to its busy timeout for a lock, and that wait must not stall the other sessions' turns or
//! the API on the same runtime. A dedicated thread costs one hand-off per call (tens of
//! microseconds), much less than a trip through the runtime's blocking pool, and runs the calls
//! in the order they were made.

use crate::error::AgentError;
use pryx_store::{Store, StoreError};
use std::sync::mpsc;

type Job = Box<dyn FnOnce(&Store) + Send>;

/// Runs closures against the store on the worker thread, in order. The thread ends when the
/// last handle is dropped.
pub(crate) struct StoreWorker {
    jobs: mpsc::Sender<Job>,
}

impl StoreWorker {
    /// Starts the thread; `None` when the system refuses a new thread (callers then use the
    /// runtime's blocking pool).
    pub fn start(store: Store) -> Option<StoreWorker> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("pryx-store".into())
            .spawn(move || {
                for job in queue {
                    job(&store);
                }
            })
            .ok()?;
        Some(StoreWorker { jobs })
    }

    /// Runs `f` on the worker thread and waits for its result.
    pub async fn run<T, F>(&self, f: F) -> Result<T, AgentError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |store: &Store| {
                let _ = done.send(f(store));
            }))
            .map_err(|_| AgentError::Internal("the store thread has stopped".into()))?;
        match result.await {
            Ok(r) => Ok(r?),
            Err(_) => Err(AgentError::Internal(
                "the store thread dropped a call (it panicked)".into(),
            )),
        }
    }
}
