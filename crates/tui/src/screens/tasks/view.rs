//! Drawing the Tasks screen: the task table, the selected task's pane, its run history and the
//! key line. A task's prompt, summary and errors can quote anything the agent read, so every
//! text from the core is escaped.

use super::{History, REFRESH, TasksState};
use crate::safe_text::escape;
use crate::screens::{compact, ellipsize, money, render_empty};
use crate::theme::Theme;
use pryx_protocol::api::{BeatOutcome, RunReason, RunStatus, TaskRunView, TaskStatus, TaskView};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};

/// Width of the labels in the panes.
const LABEL: usize = 12;

/// The word for a task's status, as `pryx tasks list` says it.
pub fn status_name(s: TaskStatus) -> &'static str {
    match s {
        TaskStatus::Active => "active",
        TaskStatus::Paused => "paused",
        TaskStatus::Failed => "failed",
        TaskStatus::Disabled => "disabled",
    }
}

fn status_style(s: TaskStatus, theme: &Theme) -> Style {
    match s {
        TaskStatus::Active => theme.ok,
        TaskStatus::Paused | TaskStatus::Disabled => theme.dim,
        TaskStatus::Failed => theme.error,
    }
}

fn run_name(s: RunStatus) -> &'static str {
    match s {
        RunStatus::Running => "running",
        RunStatus::Succeeded => "ok",
        RunStatus::Failed => "failed",
        RunStatus::Interrupted => "interrupted",
    }
}

fn run_style(s: RunStatus, theme: &Theme) -> Style {
    match s {
        RunStatus::Running => theme.warn,
        RunStatus::Succeeded => theme.ok,
        RunStatus::Failed | RunStatus::Interrupted => theme.error,
    }
}

fn reason_name(r: RunReason) -> &'static str {
    match r {
        RunReason::Schedule => "on schedule",
        RunReason::CatchUp => "to catch up a missed time",
        RunReason::Retry => "as a retry",
        RunReason::Manual => "by hand",
        RunReason::FileChange => "by a file change",
        RunReason::Webhook => "by a webhook",
    }
}

fn plain(s: &str) -> String {
    escape(s).into_owned()
}

/// The first line of a text, escaped.
fn first_line(s: &str) -> String {
    plain(
        s.lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim(),
    )
}

/// `2026-12-01T19:45:10Z` → `2026-12-01 19:45:10 UTC`; anything else as it is.
pub fn when(ts: &str) -> String {
    match split_ts(ts) {
        Some((date, time)) => format!("{date} {time} UTC"),
        None => plain(ts),
    }
}

/// `2026-12-01T19:45:10Z` → `12-01 19:45`, for the tables.
fn short(ts: &str) -> String {
    match split_ts(ts) {
        Some((date, time)) => format!("{} {}", &date[5..], &time[..5]),
        None => ellipsize(ts, 11),
    }
}

/// `(YYYY-MM-DD, HH:MM:SS)` of an RFC 3339 UTC time.
fn split_ts(ts: &str) -> Option<(&str, &str)> {
    let utc = ts.ends_with('Z') || ts.ends_with("+00:00");
    let ok = utc && ts.len() >= 20 && ts.is_char_boundary(19) && ts.as_bytes()[10] == b'T';
    ok.then(|| (&ts[..10], &ts[11..19]))
}

/// `850 ms`, `1.2 s`, `2 min 05 s`.
fn duration(ms: u64) -> String {
    match ms {
        0..=999 => format!("{ms} ms"),
        1_000..=59_999 => format!("{:.1} s", ms as f64 / 1e3),
        _ => format!("{} min {:02} s", ms / 60_000, (ms % 60_000) / 1000),
    }
}

/// When an active task runs next (a paused one's old time does not come back on resume).
fn next_run(t: &TaskView) -> Option<&str> {
    t.next_run_at
        .as_deref()
        .filter(|_| t.status == TaskStatus::Active)
}

fn field(label: &str, value: impl Into<String>, style: Style, theme: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{label:<LABEL$}"), theme.dim),
        Span::styled(value.into(), style),
    ])
}

pub fn render(frame: &mut Frame, area: Rect, st: &TasksState, unread: u64, theme: &Theme) {
    if let Some(h) = &st.history {
        render_history(frame, area, st, h, theme);
        return;
    }
    if st.tasks.is_empty() {
        render_empty(frame, area, empty_lines(st), theme);
        return;
    }
    let rows = u16::try_from(st.tasks.len() + 1).unwrap_or(u16::MAX);
    let [list, pane, keys] = Layout::vertical([
        Constraint::Length(rows.clamp(2, (area.height / 2).max(2))),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    render_table(frame, list, st, theme);
    if let Some(t) = st.current() {
        render_pane(frame, pane, t, st.stale.as_deref(), theme);
    }
    let line = key_line(st.current(), unread);
    frame.render_widget(Line::styled(line, theme.dim), keys);
}

fn empty_lines(st: &TasksState) -> Vec<Line<'static>> {
    if !st.listed {
        return vec![Line::from("Loading…")];
    }
    let mut lines = vec![
        Line::from("No scheduled tasks yet."),
        Line::default(),
        Line::from("A task is a prompt an agent runs by itself: every few hours, at a time, when"),
        Line::from("files change or on a signed webhook. Add one from a terminal:"),
        Line::from("pryx tasks add digest --prompt \"Summarise today's notes\" --every 4h"),
        Line::from("Ready-made ones:  pryx tasks templates"),
        Line::default(),
        Line::from(format!("Refreshes by itself every {} s", REFRESH.as_secs())),
    ];
    if let Some(e) = &st.stale {
        lines.push(Line::from(format!("Not refreshed: {}", plain(e))));
    }
    lines
}

/// The last-run cell: what it did and when, or that a run is being asked for.
fn last_cell(t: &TaskView, starting: bool, theme: &Theme) -> Cell<'static> {
    if starting {
        return Cell::from("starting…").style(theme.warn);
    }
    match &t.last_run {
        Some(r) => Cell::from(format!("{} {}", run_name(r.status), short(&r.started_at)))
            .style(run_style(r.status, theme)),
        None => Cell::from("never").style(theme.dim),
    }
}

fn render_table(frame: &mut Frame, area: Rect, st: &TasksState, theme: &Theme) {
    let widths = [
        Constraint::Length(12),
        Constraint::Length(9),
        Constraint::Min(10),
        Constraint::Length(11),
        Constraint::Length(20),
        Constraint::Length(8),
    ];
    let sched_w = usize::from(area.width).saturating_sub(12 + 9 + 11 + 20 + 8 + 5 + 2);
    let rows = st.tasks.iter().map(|t| {
        let changing = st.changing.as_ref().filter(|(id, _)| *id == t.id);
        let (status, style) = match changing {
            Some((_, true)) => ("resuming…", theme.warn),
            Some((_, false)) => ("pausing…", theme.warn),
            None => (status_name(t.status), status_style(t.status, theme)),
        };
        let next = next_run(t).map(short).unwrap_or_else(|| "—".into());
        Row::new(vec![
            Cell::from(ellipsize(&t.spec.name, 12)),
            Cell::from(status).style(style),
            Cell::from(ellipsize(&t.schedule, sched_w.max(10))),
            Cell::from(next),
            last_cell(t, st.starting.as_deref() == Some(t.id.as_str()), theme),
            Cell::from(money(t.cost_this_month_usd)),
        ])
    });
    let header = [
        "Task",
        "Status",
        "Schedule",
        "Next (UTC)",
        "Last run",
        "Month",
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.title))
        .row_highlight_style(theme.selected)
        .highlight_symbol("› ");
    let mut ts = TableState::default().with_selected(Some(st.selected));
    frame.render_stateful_widget(table, area, &mut ts);
}

/// A run's number, outcome, start and duration.
fn run_line(r: &TaskRunView, theme: &Theme) -> Vec<Span<'static>> {
    let mut spans = vec![
        Span::raw(format!("#{} ", r.run_number)),
        Span::styled(run_name(r.status), run_style(r.status, theme)),
        Span::raw(format!(" · {}", when(&r.started_at))),
    ];
    if let Some(ms) = r.duration_ms {
        spans.push(Span::raw(format!(" · took {}", duration(ms))));
    }
    spans
}

/// A run's tokens and cost.
fn usage(r: &TaskRunView) -> String {
    format!(
        "{} in / {} out · {}",
        compact(r.tokens_in),
        compact(r.tokens_out),
        money(r.cost_usd)
    )
}

fn render_pane(frame: &mut Frame, area: Rect, t: &TaskView, stale: Option<&str>, theme: &Theme) {
    let mut lines = Vec::new();
    if let Some(e) = stale {
        lines.push(Line::styled(
            format!("Not refreshed: {}", plain(e)),
            theme.warn,
        ));
    }
    lines.push(field(
        "status",
        status_name(t.status),
        status_style(t.status, theme),
        theme,
    ));
    if let Some(e) = &t.error {
        lines.push(field("problem", plain(e), theme.error, theme));
    }
    lines.push(field("schedule", plain(&t.schedule), theme.base, theme));
    let next = match (next_run(t), t.status) {
        (Some(n), _) => when(n),
        (None, TaskStatus::Active) => "none".to_string(),
        // Resuming computes it again from then.
        (None, _) => format!("none while {}", status_name(t.status)),
    };
    lines.push(field("next run", next, theme.base, theme));
    match &t.last_run {
        Some(r) => {
            let mut spans = vec![Span::styled(format!("{:<LABEL$}", "last run"), theme.dim)];
            spans.extend(run_line(r, theme));
            lines.push(Line::from(spans));
            lines.push(field("", usage(r), theme.base, theme));
            if let Some(e) = &r.error {
                lines.push(field("", first_line(e), theme.error, theme));
            }
            if let Some(s) = &r.summary {
                lines.push(field("", first_line(s), theme.base, theme));
            }
            if !r.denied.is_empty() {
                let what = format!("needed approval: {}", plain(&r.denied.join(", ")));
                lines.push(field("", what, theme.warn, theme));
            }
        }
        None => lines.push(field("last run", "never", theme.dim, theme)),
    }
    lines.push(field(
        "runs",
        format!("{} · {} this month", t.runs, money(t.cost_this_month_usd)),
        theme.base,
        theme,
    ));
    if let Some(hb) = &t.heartbeat {
        let day = format!(
            "today {} with the model · {} idle · {} held back · {} of {}",
            hb.model_beats_today,
            hb.idle_beats_today,
            hb.skipped_beats_today,
            money(hb.cost_today_usd),
            money(hb.daily_budget_usd)
        );
        lines.push(field("heartbeat", day, theme.base, theme));
        if !hb.checklist {
            let no = "no HEARTBEAT.md in the workspace: every beat is idle";
            lines.push(field("", no.to_string(), theme.warn, theme));
        }
        if let Some(o) = hb.last_outcome {
            let what = format!(
                "{} — {}",
                beat_word(o),
                plain(hb.last_detail.as_deref().unwrap_or_default())
            );
            let style = match o {
                BeatOutcome::Alert | BeatOutcome::Failed | BeatOutcome::BudgetSpent => theme.warn,
                _ => theme.base,
            };
            lines.push(field("last beat", what, style, theme));
        }
    }
    let agent = t.spec.agent.as_deref().unwrap_or("main");
    lines.push(field("agent", plain(agent), theme.base, theme));
    lines.push(field(
        "prompt",
        first_line(&t.spec.prompt),
        theme.base,
        theme,
    ));
    let title = format!(" {} · {} ", plain(&t.spec.name), plain(&t.schedule));
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.dim)
        .title(Span::styled(title, theme.title));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

/// A beat's outcome in words.
fn beat_word(o: BeatOutcome) -> &'static str {
    match o {
        BeatOutcome::Idle => "idle, no model call",
        BeatOutcome::Ok => "all well (not delivered)",
        BeatOutcome::Alert => "alert delivered",
        BeatOutcome::Failed => "failed",
        BeatOutcome::OutsideHours => "held back: outside its hours",
        BeatOutcome::BudgetSpent => "held back: budget spent",
    }
}

/// The keys that work on the selected task.
fn key_line(t: Option<&TaskView>, unread: u64) -> String {
    let mut keys = vec!["↑↓ choose".to_string()];
    if let Some(t) = t {
        keys.push("Enter history".into());
        keys.push(if t.status == TaskStatus::Active {
            "Space pause".into()
        } else {
            "Space resume".into()
        });
        keys.push("r run now".into());
    }
    if unread > 0 {
        keys.push(format!("m mark {unread} read"));
    }
    format!(
        "{} (refreshes every {} s)",
        keys.join(" · "),
        REFRESH.as_secs()
    )
}

fn render_history(frame: &mut Frame, area: Rect, st: &TasksState, h: &History, theme: &Theme) {
    let task = st.tasks.iter().find(|t| t.id == h.task_id);
    let [head, body, keys] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(area);
    let mut title = vec![Span::styled(
        format!("{} · run history", plain(&h.name)),
        theme.title,
    )];
    if let Some(t) = task {
        title.push(Span::styled(
            format!(" · {} · {}", status_name(t.status), plain(&t.schedule)),
            theme.dim,
        ));
    }
    frame.render_widget(Line::from(title), head);
    let active = task.is_none_or(|t| t.status == TaskStatus::Active);
    let line = format!(
        "↑↓ choose a run · Esc back · {} · r run now (refreshes every {} s)",
        if active {
            "Space pause"
        } else {
            "Space resume"
        },
        REFRESH.as_secs()
    );
    frame.render_widget(Line::styled(line, theme.dim), keys);
    if h.runs.is_empty() {
        let text = if h.listed {
            "No runs yet. r runs it now."
        } else {
            "Loading…"
        };
        render_empty(frame, body, vec![Line::from(text)], theme);
        return;
    }
    let rows = u16::try_from(h.runs.len() + 1).unwrap_or(u16::MAX);
    let [list, pane] = Layout::vertical([
        Constraint::Length(rows.clamp(2, (body.height / 2).max(2))),
        Constraint::Min(3),
    ])
    .areas(body);
    render_runs(frame, list, h, theme);
    if let Some(r) = h.runs.get(h.selected) {
        render_run(frame, pane, r, theme);
    }
}

fn render_runs(frame: &mut Frame, area: Rect, h: &History, theme: &Theme) {
    let widths = [
        Constraint::Length(5),
        Constraint::Length(11),
        Constraint::Length(11),
        Constraint::Length(8),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Min(8),
    ];
    let detail_w = usize::from(area.width).saturating_sub(5 + 11 + 11 + 8 + 10 + 8 + 6 + 2);
    let rows = h.runs.iter().map(|r| {
        let number = match r.attempt {
            0 => format!("{}", r.run_number),
            n => format!("{}.{n}", r.run_number),
        };
        let (detail, style) = match (&r.error, &r.summary) {
            (Some(e), _) => (first_line(e), theme.error),
            (None, Some(s)) => (first_line(s), theme.base),
            (None, None) => (String::new(), theme.base),
        };
        Row::new(vec![
            Cell::from(number),
            Cell::from(run_name(r.status)).style(run_style(r.status, theme)),
            Cell::from(short(&r.started_at)),
            Cell::from(r.duration_ms.map(duration).unwrap_or_default()),
            Cell::from(format!(
                "{}/{}",
                compact(r.tokens_in),
                compact(r.tokens_out)
            )),
            Cell::from(money(r.cost_usd)),
            Cell::from(ellipsize(&detail, detail_w.max(8))).style(style),
        ])
    });
    let header = [
        "Run",
        "Status",
        "Started",
        "Took",
        "Tokens",
        "Cost",
        "Error / answer",
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.title))
        .row_highlight_style(theme.selected)
        .highlight_symbol("› ");
    let mut ts = TableState::default().with_selected(Some(h.selected));
    frame.render_stateful_widget(table, area, &mut ts);
}

fn render_run(frame: &mut Frame, area: Rect, r: &TaskRunView, theme: &Theme) {
    let mut lines = vec![
        Line::from(run_line(r, theme)),
        field("", usage(r), theme.base, theme),
    ];
    let mut why = format!("started {}", reason_name(r.reason));
    if r.attempt > 0 {
        why.push_str(&format!(", retry {}", r.attempt));
    }
    if let Some(f) = &r.finished_at {
        why.push_str(&format!(" · finished {}", when(f)));
    }
    lines.push(field("", why, theme.dim, theme));
    if let Some(e) = &r.error {
        lines.push(field("error", plain(e), theme.error, theme));
    }
    if let Some(s) = &r.summary {
        lines.push(field("answer", first_line(s), theme.base, theme));
    }
    for (i, d) in r.denied.iter().enumerate() {
        let label = if i == 0 { "denied" } else { "" };
        lines.push(field(label, plain(d), theme.warn, theme));
    }
    for (i, n) in r.notifications.iter().enumerate() {
        let label = if i == 0 { "notified" } else { "" };
        let style = match n.state.as_str() {
            "delivered" => theme.ok,
            "failed" => theme.error,
            _ => theme.warn,
        };
        let mut text = format!("{} {} {}", plain(&n.target), plain(&n.state), short(&n.at));
        if let Some(why) = &n.reason {
            text.push_str(&format!(": {}", plain(why)));
        }
        lines.push(field(label, text, style, theme));
    }
    if let Some(s) = &r.session_id {
        lines.push(field("session", plain(s), theme.dim, theme));
    }
    let block = Block::default()
        .borders(Borders::TOP)
        .border_style(theme.dim)
        .title(Span::styled(
            format!(" run #{} ", r.run_number),
            theme.title,
        ));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
