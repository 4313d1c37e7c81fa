//! Heartbeats: a task with a `heartbeat` section beats on its schedule, but a beat calls the
//! model only when there is something to look at — a timed checklist item is due, the checklist
//! changed, or something happened since the last beat (a turn or task run failed, a background
//! process printed an error, files changed in the workspace). Otherwise the beat is idle and
//! costs nothing. A beat that runs is a light turn in a new session: the checklist and what
//! happened, not a history. Its answer is delivered unless it is just `HEARTBEAT_OK`; outside
//! the active hours or over its daily budget it does not run, and what happened waits.

mod checklist;
mod files;

use super::{from_ms, ms};
use crate::core::Core;
use crate::error::CoreError;
use chrono::{DateTime, TimeZone, Utc};
use pryx_protocol::api::{BeatOutcome, HeartbeatSpec, HeartbeatStatus};
use pryx_protocol::{EventKind, EventPayload};
use pryx_scheduler::{ActiveHours, Tz};
use pryx_store::{FailedRun, Happening, RunEnd, TaskRow, ms_to_ts};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The answer that means "nothing needs attention".
pub(crate) const ACK: &str = "HEARTBEAT_OK";
/// What happened, listed at most (each kind), so a busy day still makes a light turn.
const MAX_LISTED: u32 = 20;
/// Changed files named at most.
const MAX_FILES_NAMED: usize = 30;

/// What a heartbeat keeps between beats.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct State {
    /// Positions (events, task runs) the last beat that looked had seen.
    event_mark: u64,
    run_mark: u64,
    checklist_hash: Option<String>,
    files: files::Snapshot,
    /// Timed checklist items (by key): when last looked at, Unix ms.
    items: BTreeMap<String, i64>,
    /// When a beat last looked (ran the model and ended well), Unix ms.
    looked_ms: Option<i64>,
    /// The UTC day the counts are of (`YYYY-MM-DD`).
    day: String,
    model_beats: u32,
    idle_beats: u32,
    skipped_beats: u32,
    last_outcome: Option<BeatOutcome>,
    last_detail: Option<String>,
    last_ms: Option<i64>,
}

impl State {
    /// The counts start again on a new UTC day.
    fn on_day(mut self, now: DateTime<Utc>) -> State {
        let day = now.format("%Y-%m-%d").to_string();
        if self.day != day {
            self.day = day;
            self.model_beats = 0;
            self.idle_beats = 0;
            self.skipped_beats = 0;
        }
        self
    }
}

/// A beat that will call the model: what it asks, and what to keep once it ends well.
pub(super) struct Planned {
    pub prompt: String,
    next: State,
    /// What it looks at, in a line.
    seen: String,
}

pub(super) enum Beat {
    Skip(BeatOutcome, String),
    Run(Box<Planned>),
}

/// Whether an answer is only the acknowledgement (formatting around it aside).
pub(crate) fn is_ack(answer: &str) -> bool {
    answer.trim().trim_matches(|c: char| {
        c.is_whitespace() || matches!(c, '*' | '_' | '`' | '"' | '\'' | '.' | '!')
    }) == ACK
}

fn zone(spec: &HeartbeatSpec) -> Tz {
    spec.tz
        .as_deref()
        .and_then(|z| pryx_scheduler::parse_zone(z).ok())
        .unwrap_or(Tz::UTC)
}

fn day_start_ms(now: DateTime<Utc>) -> i64 {
    let d = now.date_naive();
    Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
        .timestamp_millis()
}

/// Checks a heartbeat's own fields (the task's are checked as any task's).
pub(super) fn check(spec: &mut HeartbeatSpec) -> Result<(), CoreError> {
    let b = spec.daily_budget_usd;
    if !b.is_finite() || b <= 0.0 || b > 1000.0 {
        return Err(CoreError::Unusable(
            "heartbeat.daily_budget_usd must be more than 0 and at most 1000".into(),
        ));
    }
    if let Some(h) = &spec.active_hours {
        ActiveHours::parse(h)?;
    }
    match &spec.tz {
        Some(z) => {
            pryx_scheduler::parse_zone(z)?;
        }
        None => spec.tz = Some(pryx_scheduler::local_zone()),
    }
    Ok(())
}

/// Whether an event of the agent's sessions is news for its heartbeat.
fn kinds() -> [&'static str; 2] {
    [
        EventKind::ErrorOccurred.name(),
        EventKind::ProcessMatched.name(),
    ]
}

fn describe_happening(h: &Happening) -> Option<String> {
    let title = &h.session_title;
    match &h.event.payload {
        EventPayload::ErrorOccurred(e) => Some(format!(
            "In session \"{title}\": an error ({:?}): {}",
            e.code, e.message
        )),
        EventPayload::ProcessMatched(p) => Some(format!(
            "In session \"{title}\": background process {} (`{}`) printed a line matching `{}` on {}: {}",
            p.process_id, p.command, p.pattern, p.stream, p.line
        )),
        _ => None,
    }
}

fn describe_run(r: &FailedRun) -> String {
    format!(
        "Task \"{}\" run #{} failed: {}",
        r.task,
        r.run_number,
        r.error.as_deref().unwrap_or("(no error recorded)")
    )
}

impl Core {
    fn heartbeat_state(&self, task: &TaskRow, now: DateTime<Utc>) -> State {
        self.store()
            .heartbeat_state::<State>(&task.id)
            .ok()
            .flatten()
            .unwrap_or_default()
            .on_day(now)
    }

    fn save_beat(&self, task: &TaskRow, state: &State) {
        if let Err(e) = self.store().save_heartbeat_state(&task.id, state) {
            tracing::warn!(task = %task.spec.name, error = %e, "cannot record a heartbeat");
        }
    }

    /// Decides a due beat of `task` at `now`: skip it (idle, outside hours, budget spent) or
    /// run it with the prompt made here. `forced` (run by hand) skips only without a checklist.
    pub(super) fn plan_beat(
        &self,
        task: &TaskRow,
        spec: &HeartbeatSpec,
        now: DateTime<Utc>,
        forced: bool,
    ) -> Result<Beat, CoreError> {
        let state = self.heartbeat_state(task, now);
        let tz = zone(spec);
        if !forced {
            if let Some(h) = spec.active_hours.as_deref()
                && ActiveHours::parse(h).is_ok_and(|a| !a.contains(now, tz))
            {
                return Ok(Beat::Skip(
                    BeatOutcome::OutsideHours,
                    format!("outside its active hours {h} ({tz})"),
                ));
            }
            let spent = self.store().task_cost_since(&task.id, day_start_ms(now))?;
            if spent >= spec.daily_budget_usd {
                return Ok(Beat::Skip(
                    BeatOutcome::BudgetSpent,
                    format!(
                        "today's budget is spent (${spent:.4} of ${:.2}); it beats again tomorrow (UTC)",
                        spec.daily_budget_usd
                    ),
                ));
            }
        }
        let profile = self.profile(task.spec.agent.as_deref())?;
        let list = match checklist::read(&profile.workspace) {
            Ok(Some(c)) => c,
            Ok(None) => {
                return Ok(Beat::Skip(
                    BeatOutcome::Idle,
                    format!(
                        "no {} in the workspace {}: write the checklist there",
                        checklist::FILE,
                        profile.workspace.display()
                    ),
                ));
            }
            Err(e) => return Ok(Beat::Skip(BeatOutcome::Idle, e)),
        };
        let (event_mark, run_mark) = self.store().heartbeat_marks()?;
        let data_dir = self.dir().root().to_path_buf();
        let files_now = files::snapshot(&profile.workspace, &data_dir);
        let agent = profile.id.clone();
        // What happened before the first beat is not news to it.
        let (changed, events, runs) = if state.looked_ms.is_some() {
            let own = format!("Task: {} #", task.spec.name);
            let events: Vec<String> = self
                .store()
                .agent_events_after(&agent, state.event_mark, &kinds(), &own, MAX_LISTED)?
                .iter()
                .filter_map(describe_happening)
                .collect();
            let runs: Vec<String> = self
                .store()
                .failed_runs_after(state.run_mark, &task.id, MAX_LISTED)?
                .iter()
                .map(describe_run)
                .collect();
            (files::changed(&state.files, &files_now), events, runs)
        } else {
            (Vec::new(), Vec::new(), Vec::new())
        };
        let due = checklist::due(&list.items, &state.items, now, tz);
        let new_list = state.checklist_hash.as_deref() != Some(list.hash.as_str());
        let mut seen = Vec::new();
        if new_list {
            seen.push(format!("{} is new or changed", checklist::FILE));
        }
        if !due.is_empty() {
            seen.push(format!("{} timed item(s) due", due.len()));
        }
        if !runs.is_empty() {
            seen.push(format!("{} failed task run(s)", runs.len()));
        }
        if !events.is_empty() {
            seen.push(format!("{} event(s) in its sessions", events.len()));
        }
        if !changed.is_empty() {
            seen.push(format!("{} changed file(s)", changed.len()));
        }
        if seen.is_empty() && !forced {
            return Ok(Beat::Skip(
                BeatOutcome::Idle,
                "nothing was due and nothing happened".into(),
            ));
        }
        if seen.is_empty() {
            seen.push("run by hand".into());
        }
        let mut next = state.clone();
        next.event_mark = event_mark;
        next.run_mark = run_mark;
        next.checklist_hash = Some(list.hash.clone());
        next.files = files_now;
        for item in &due {
            next.items.insert(item.key(), ms(now));
        }
        // Items no longer on the list are forgotten.
        let keys: std::collections::HashSet<String> =
            list.items.iter().map(checklist::Item::key).collect();
        next.items.retain(|k, _| keys.contains(k));
        next.looked_ms = Some(ms(now));
        let since = state.looked_ms.map(|t| {
            from_ms(t)
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M %Z")
                .to_string()
        });
        let prompt = prompt(&Prompt {
            agent: &agent,
            now: now
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M %Z")
                .to_string(),
            since,
            due: due.iter().map(|i| i.text.as_str()).collect(),
            checklist: &list.text,
            note: task.spec.prompt.trim(),
            runs: &runs,
            events: &events,
            changed: &changed,
        });
        Ok(Beat::Run(Box::new(Planned {
            prompt,
            next,
            seen: seen.join(", "),
        })))
    }

    /// Records a beat that did not run.
    pub(super) fn record_skipped_beat(
        &self,
        task: &TaskRow,
        outcome: BeatOutcome,
        detail: String,
        now: DateTime<Utc>,
    ) {
        let mut state = self.heartbeat_state(task, now);
        match outcome {
            BeatOutcome::Idle => state.idle_beats += 1,
            _ => state.skipped_beats += 1,
        }
        state.last_outcome = Some(outcome);
        state.last_detail = Some(detail);
        state.last_ms = Some(ms(now));
        self.save_beat(task, &state);
    }

    /// Records a beat that ran: on success what it saw is behind it (the workspace noted again
    /// now, so the beat's own writes are not news next time); on failure it is looked at again.
    pub(super) fn record_beat(&self, task: &TaskRow, planned: Box<Planned>, end: &RunEnd) {
        // The beat's time is the one it was planned at (the scheduler's clock).
        let now = planned.next.looked_ms.map_or_else(Utc::now, from_ms);
        let (mut state, outcome, detail) = if end.succeeded {
            let mut next = planned.next;
            if let Ok(profile) = self.profile(task.spec.agent.as_deref()) {
                next.files = files::snapshot(&profile.workspace, self.dir().root());
            }
            let ack = end.summary.as_deref().is_some_and(is_ack);
            let outcome = if ack {
                BeatOutcome::Ok
            } else {
                BeatOutcome::Alert
            };
            (next, outcome, planned.seen)
        } else {
            let error = end.error.clone().unwrap_or_default();
            (
                self.heartbeat_state(task, now),
                BeatOutcome::Failed,
                format!("{}; failed: {error}", planned.seen),
            )
        };
        state = state.on_day(now);
        state.model_beats += 1;
        state.last_outcome = Some(outcome);
        state.last_detail = Some(detail);
        state.last_ms = Some(ms(now));
        self.save_beat(task, &state);
    }

    /// How a heartbeat task is doing today.
    pub(super) fn heartbeat_status(
        &self,
        task: &TaskRow,
        spec: &HeartbeatSpec,
        now: DateTime<Utc>,
    ) -> Result<HeartbeatStatus, CoreError> {
        let state = self.heartbeat_state(task, now);
        let checklist = self
            .profile(task.spec.agent.as_deref())
            .ok()
            .is_some_and(|p| p.workspace.join(checklist::FILE).is_file());
        Ok(HeartbeatStatus {
            checklist,
            last_outcome: state.last_outcome,
            last_detail: state.last_detail,
            last_beat_at: state.last_ms.map(ms_to_ts),
            model_beats_today: state.model_beats,
            idle_beats_today: state.idle_beats,
            skipped_beats_today: state.skipped_beats,
            cost_today_usd: self.store().task_cost_since(&task.id, day_start_ms(now))?,
            daily_budget_usd: spec.daily_budget_usd,
        })
    }
}

struct Prompt<'a> {
    agent: &'a str,
    now: String,
    since: Option<String>,
    due: Vec<&'a str>,
    checklist: &'a str,
    note: &'a str,
    runs: &'a [String],
    events: &'a [String],
    changed: &'a [String],
}

/// The beat's question: the checklist, what is due, and what happened (which came from
/// outside — error texts, process output, file names — so it is marked untrusted).
fn prompt(p: &Prompt<'_>) -> String {
    let mut out = format!(
        "Heartbeat check for agent `{}` at {}.\n\
         This is an unattended, light turn, not a conversation. Follow the checklist below strictly; \
         do not infer tasks from elsewhere or repeat old ones. If nothing needs the user's attention, \
         reply with exactly {ACK} and nothing else (it is not delivered). Otherwise reply with a short \
         message for the user saying what needs attention: it is delivered to them.\n\n",
        p.agent, p.now
    );
    if !p.due.is_empty() {
        out.push_str("Due now:\n");
        for d in &p.due {
            out.push_str(&format!("- {d}\n"));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "The checklist ({}):\n{}\n\n",
        checklist::FILE,
        p.checklist.trim_end()
    ));
    if !p.note.is_empty() {
        out.push_str(&format!("Also: {}\n\n", p.note));
    }
    let mut news = Vec::new();
    news.extend(p.runs.iter().cloned());
    news.extend(p.events.iter().cloned());
    if !p.changed.is_empty() {
        let named: Vec<&str> = p
            .changed
            .iter()
            .take(MAX_FILES_NAMED)
            .map(String::as_str)
            .collect();
        let more = p.changed.len().saturating_sub(MAX_FILES_NAMED);
        let mut line = format!("Files changed in the workspace: {}", named.join(", "));
        if more > 0 {
            line.push_str(&format!(" … and {more} more"));
        }
        news.push(line);
    }
    let when = match &p.since {
        Some(s) => format!("since the last beat ({s})"),
        None => "before this first beat".to_string(),
    };
    if news.is_empty() {
        out.push_str(&format!("Nothing happened {when}.\n"));
    } else {
        let body: String = news.iter().map(|n| format!("- {n}\n")).collect();
        out.push_str(&format!(
            "What happened {when}:\n{}\n",
            pryx_agent::prompt::untrusted(
                "what happened since the last heartbeat",
                body.trim_end()
            )
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_bare_acknowledgement_is_one() {
        for yes in [
            "HEARTBEAT_OK",
            " HEARTBEAT_OK\n",
            "**HEARTBEAT_OK**",
            "`HEARTBEAT_OK`.",
        ] {
            assert!(is_ack(yes), "{yes}");
        }
        for no in [
            "HEARTBEAT_OK but the disk is 95% full",
            "The build failed. HEARTBEAT_OK",
            "heartbeat ok",
            "",
        ] {
            assert!(!is_ack(no), "{no}");
        }
    }

    #[test]
    fn the_prompt_marks_what_happened_as_untrusted() {
        let runs = vec!["Task \"backup\" run #3 failed: disk full".to_string()];
        let p = prompt(&Prompt {
            agent: "main",
            now: "2026-12-02 10:00 UTC".into(),
            since: Some("2026-12-02 09:30 UTC".into()),
            due: vec!["(every 2h) inbox"],
            checklist: "- (every 2h) inbox\n- check backups",
            note: "",
            runs: &runs,
            events: &[],
            changed: &["a.txt".to_string()],
        });
        assert!(p.contains("Due now:\n- (every 2h) inbox"));
        assert!(p.contains("- check backups"));
        let start = p.find("<untrusted-").unwrap();
        assert!(p[start..].contains("backup\" run #3 failed: disk full"));
        assert!(p[start..].contains("Files changed in the workspace: a.txt"));
        assert!(p.contains(ACK));
    }
}
