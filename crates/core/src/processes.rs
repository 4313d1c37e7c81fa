//! Background processes on the core: a session's list for the API, and watch matches turned
//! into a `process.matched` event and, while the session is idle, a turn for the agent to look
//! at what happened (at most [`WATCH_TURNS`] per process, so a fix that fails again cannot
//! loop forever).

use crate::core::Core;
use crate::error::CoreError;
use pryx_protocol::{EventPayload, ProcessMatched, ProcessView, Surface};
use pryx_tools::process::{ProcessInfo, ProcessMatch, Status};
use std::sync::Arc;

/// Turns started by one process's watch matches; later matches are only announced.
pub const WATCH_TURNS: u32 = 3;

pub(crate) fn view(p: ProcessInfo) -> ProcessView {
    ProcessView {
        id: p.id,
        command: p.command,
        pid: p.pid,
        status: p.status.describe(),
        running: p.status == Status::Running,
        started_at: p.started_at,
        stdout_lines: p.stdout_lines,
        stderr_lines: p.stderr_lines,
        stdout_tail: p.stdout_tail,
        stderr_tail: p.stderr_tail,
    }
}

/// Tells the core of every watch match (through a weak handle: the table lives in the core).
pub(crate) fn watch(core: &Core) {
    let weak = Arc::downgrade(&core.inner);
    let handle = tokio::runtime::Handle::try_current().ok();
    core.inner
        .processes
        .set_match_sink(Arc::new(move |m: ProcessMatch| {
            let (Some(inner), Some(rt)) = (weak.upgrade(), handle.clone()) else {
                return;
            };
            let core = Core { inner };
            rt.spawn(async move { core.on_match(m).await });
        }));
}

impl Core {
    /// The session's background processes, oldest first, with their last lines.
    pub fn session_processes(&self, session_id: &str) -> Result<Vec<ProcessView>, CoreError> {
        if self.store().get_session(session_id)?.is_none() {
            return Err(CoreError::SessionNotFound(session_id.to_string()));
        }
        Ok(self
            .inner
            .processes
            .list(session_id, 10)
            .into_iter()
            .map(view)
            .collect())
    }

    /// Returns once no turn runs in the session (a match during a turn waits for its end).
    async fn until_idle(&self, session_id: &str) {
        let mut rx = self.bus().subscribe();
        while self.is_busy(session_id) && !self.is_shutting_down() {
            match rx.recv().await {
                Ok(e)
                    if e.event.session_id == session_id
                        && matches!(e.event.payload, EventPayload::TurnCompleted(_)) => {}
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    }

    async fn on_match(&self, m: ProcessMatch) {
        let turns = {
            let mut counts = self
                .inner
                .watch_turns
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let n = counts.entry(m.process_id.clone()).or_default();
            *n += 1;
            *n
        };
        if turns <= WATCH_TURNS {
            self.until_idle(&m.session_id).await;
        }
        let may_start = turns <= WATCH_TURNS && !self.is_shutting_down();
        let prompt = format!(
            "Background process {} (`{}`) printed a line on {} matching the watch pattern `{}`{}. Look at what happened (process.output shows more) and fix it if you can; say so if you cannot.\n{}",
            m.process_id,
            m.command,
            m.stream.as_str(),
            m.pattern,
            if m.more > 0 {
                format!(" ({} more matching lines since the last notice)", m.more)
            } else {
                String::new()
            },
            pryx_agent::prompt::untrusted(&format!("process {}", m.process_id), &m.line)
        );
        let started = may_start && self.start_turn(&m.session_id, &prompt).await.is_ok();
        let payload = EventPayload::ProcessMatched(ProcessMatched {
            process_id: m.process_id.clone(),
            command: m.command.clone(),
            stream: m.stream.as_str().to_string(),
            pattern: m.pattern.clone(),
            line: m.line.clone(),
            more: m.more,
            turn_started: started,
        });
        let store = self.store().clone();
        let sid = m.session_id.clone();
        let stored =
            tokio::task::spawn_blocking(move || store.append_event(&sid, Surface::Core, &payload))
                .await;
        match stored {
            Ok(Ok(event)) => self.deliver_event(&event),
            Ok(Err(e)) => {
                tracing::warn!(session = %m.session_id, error = %e, "cannot record a watch match")
            }
            Err(e) => tracing::warn!(error = %e, "recording a watch match failed"),
        }
    }
}
