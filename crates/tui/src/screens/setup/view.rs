//! Drawing the setup steps. Everything the core sent (names, variables, errors) goes through
//! `escape`; a typed key is shown as its length only.

use super::{SetupState, Step};
use crate::safe_text::escape;
use crate::screens::{compact, ellipsize, money};
use crate::theme::Theme;
use crate::ui::wrap::wrap;
use pryx_protocol::api::{ProviderPreset, ProviderTestReport};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};

/// Most bullets drawn for a key, whatever its length.
const BULLETS: usize = 24;

pub fn render(frame: &mut Frame, area: Rect, st: &SetupState, theme: &Theme) {
    let (n, label) = step_label(&st.step);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.accent)
        .title(Span::styled(
            format!(" Set up a model provider · step {n} of 4: {label} "),
            theme.title,
        ))
        .title_bottom(Line::styled(format!(" {} ", keys(st)), theme.dim));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let name = st
        .preset()
        .map(|p| escape(&p.name).into_owned())
        .unwrap_or_default();
    let lines = match &st.step {
        Step::Presets => return render_presets(frame, inner, st, theme),
        Step::Models(picker) => {
            let intro = match picker {
                Some(_) => "Choose the model new sessions run on (/model switches any time):",
                None => "Loading the models…",
            };
            let [top, list, bottom] = split(inner, 2, error_height(st, inner));
            text(frame, top, vec![Line::styled(intro, theme.base)]);
            if let Some(p) = picker {
                p.render(frame, list, theme);
            }
            text(frame, bottom, error_lines(st, theme));
            return;
        }
        Step::Key { use_env, key } => key_lines(st, *use_env, key, &name, theme),
        Step::Endpoint { url } => vec![
            Line::styled(
                format!("{name} runs on this machine: no key needed, no cost."),
                theme.base,
            ),
            Line::styled(
                "Where does it listen? Enter keeps the address shown.",
                theme.dim,
            ),
            Line::default(),
            Line::from(vec![
                Span::styled("› Base URL: ", theme.title),
                Span::styled(format!("{}▍", escape(url)), theme.accent),
            ]),
        ],
        Step::ModelName { name: typed } => vec![
            Line::styled(
                format!(
                    "{name} lists no models. Type the name of one it serves (e.g. llama3.1:8b):"
                ),
                theme.base,
            ),
            Line::default(),
            Line::from(vec![
                Span::styled("› Model: ", theme.title),
                Span::styled(format!("{}▍", escape(typed)), theme.accent),
            ]),
        ],
        Step::Saving => vec![Line::styled(format!("Saving {name}…"), theme.dim)],
        Step::Testing => vec![Line::styled(
            format!("Testing {name} with one tiny call…"),
            theme.dim,
        )],
        Step::Tested(r) => report_lines(r, st.preset(), theme),
        Step::Failed { what, error } => vec![
            Line::styled(format!("✗ Could not {what}:"), theme.error),
            Line::styled(escape(error).into_owned(), theme.error),
        ],
        Step::Finishing { model, .. } => vec![Line::styled(
            format!("Setting {} as the default model…", escape(model)),
            theme.dim,
        )],
    };
    let mut lines = lines;
    let errors = error_lines(st, theme);
    if !errors.is_empty() {
        lines.push(Line::default());
        lines.extend(errors);
    }
    text(frame, inner, lines);
}

fn step_label(step: &Step) -> (u8, &'static str) {
    match step {
        Step::Presets => (1, "provider"),
        Step::Key { .. } => (2, "key"),
        Step::Endpoint { .. } => (2, "address"),
        Step::Saving | Step::Testing | Step::Tested(_) | Step::Failed { .. } => (3, "test"),
        Step::Models(_) | Step::ModelName { .. } | Step::Finishing { .. } => (4, "default model"),
    }
}

/// The keys of the current step, for the bottom border.
fn keys(st: &SetupState) -> String {
    let has_env = st.preset().is_some_and(|p| p.env_found.is_some());
    let fix = if st.preset().is_some_and(|p| p.needs_key) {
        "fix the key"
    } else {
        "fix the address"
    };
    match &st.step {
        Step::Presets if st.presets.is_none() => "Enter retry · Esc skip setup".into(),
        Step::Presets => "↑↓ choose · Enter select · Esc skip setup".into(),
        Step::Key { .. } if has_env => "↑↓ key or variable · Enter save and test · Esc back".into(),
        Step::Key { .. } => "Enter save and test · Ctrl-U clear · Esc back".into(),
        Step::Endpoint { .. } => "Enter save and test · Ctrl-U clear · Esc back".into(),
        Step::Saving | Step::Finishing { .. } => "one moment…".into(),
        Step::Testing => "Esc back".into(),
        Step::Tested(r) if r.ok => "Enter choose the model · r test again · Esc back".into(),
        Step::Tested(_) => format!("Enter {fix} · r test again · Esc back"),
        Step::Failed { .. } => format!("Enter {fix} · Esc back"),
        Step::Models(_) => "↑↓ choose · Enter set as default · r reload · Esc back".into(),
        Step::ModelName { .. } => "Enter set as default · Ctrl-U clear · Esc back".into(),
    }
}

fn render_presets(frame: &mut Frame, area: Rect, st: &SetupState, theme: &Theme) {
    let intro = if st.first_run {
        "Pryx has no model provider yet. Choose one to talk to:"
    } else {
        "Choose a provider to add or set up again:"
    };
    let [top, list, bottom] = split(area, 2, error_height(st, area).max(2));
    text(frame, top, vec![Line::styled(intro, theme.base)]);
    let Some(presets) = &st.presets else {
        let mut lines = error_lines(st, theme);
        if lines.is_empty() {
            lines.push(Line::styled("Loading the providers Pryx knows…", theme.dim));
        }
        text(frame, list, lines);
        return;
    };
    if presets.is_empty() {
        text(
            frame,
            list,
            vec![Line::styled(
                "The core offers no providers to set up.",
                theme.dim,
            )],
        );
        return;
    }
    let name_w = usize::from(list.width / 3).max(8);
    let rows = presets.iter().map(|p| {
        let (key, style) = match (&p.env_found, p.needs_key) {
            (_, false) => ("no key needed".to_string(), theme.dim),
            (Some(var), true) => (format!("key found in ${}", escape(var)), theme.ok),
            (None, true) => ("needs a key".to_string(), theme.dim),
        };
        Row::new(vec![
            Cell::from(ellipsize(&p.name, name_w)),
            Cell::from(if p.local { "local" } else { "cloud" }),
            Cell::from(key).style(style),
        ])
    });
    let widths = [
        Constraint::Length(u16::try_from(name_w).unwrap_or(u16::MAX)),
        Constraint::Length(6),
        Constraint::Min(10),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(["Provider", "Runs", "Key"]).style(theme.title))
        .row_highlight_style(theme.selected)
        .highlight_symbol("› ");
    let mut ts = TableState::default().with_selected(Some(st.selected));
    frame.render_stateful_widget(table, list, &mut ts);
    let mut lines = Vec::new();
    if let Some(p) = st.preset() {
        lines.push(Line::styled(preset_detail(p), theme.dim));
    }
    lines.extend(error_lines(st, theme));
    text(frame, bottom, lines);
}

/// One line about the preset under the cursor: where it is reached, what it starts with.
fn preset_detail(p: &ProviderPreset) -> String {
    let mut s = format!("{}: {}", escape(&p.name), escape(&p.base_url));
    if let Some(m) = &p.suggested_model {
        s.push_str(&format!(" · suggested model {}", escape(m)));
    }
    s
}

fn key_lines(
    st: &SetupState,
    use_env: bool,
    key: &crate::secret::Secret,
    name: &str,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::styled(format!("{name} needs an API key."), theme.base),
        Line::styled(
            "The core keeps it in its secret store; it is never shown again.",
            theme.dim,
        ),
        Line::default(),
    ];
    let field = if key.is_empty() {
        Span::styled("(type or paste it)", theme.dim)
    } else {
        let n = key.len();
        let more = if n > BULLETS { "…" } else { "" };
        Span::styled(
            format!("{}{more}  ({n} characters)", "•".repeat(n.min(BULLETS))),
            theme.accent,
        )
    };
    let mark = |on: bool| if on { "› " } else { "  " };
    let style = |on: bool| if on { theme.title } else { theme.base };
    let env = st.preset().and_then(|p| p.env_found.as_deref());
    lines.push(Line::from(vec![
        Span::styled(mark(!use_env), style(!use_env)),
        Span::styled("Key: ", style(!use_env)),
        field,
    ]));
    if let Some(var) = env {
        lines.push(Line::from(vec![
            Span::styled(mark(use_env), style(use_env)),
            Span::styled(
                format!(
                    "Use the key found in ${} (the core's environment)",
                    escape(var)
                ),
                style(use_env),
            ),
        ]));
    }
    lines
}

fn report_lines(
    r: &ProviderTestReport,
    preset: Option<&ProviderPreset>,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let model = escape(&r.model).into_owned();
    let provider = preset
        .map(|p| escape(&p.name).into_owned())
        .unwrap_or_default();
    // Without a model to call, the provider was tested by listing its models.
    if r.ok && r.model.is_empty() {
        return vec![
            Line::styled(
                format!("✓ {provider} answered in {} ms.", r.latency_ms),
                theme.ok,
            ),
            Line::default(),
            Line::styled("Next: the model new sessions run on.", theme.base),
        ];
    }
    let what = if r.model.is_empty() {
        format!("The test of {provider}")
    } else {
        format!("The test call to {model}")
    };
    if r.ok {
        return vec![
            Line::styled(
                format!("✓ {model} answered in {} ms.", r.latency_ms),
                theme.ok,
            ),
            Line::styled(
                format!(
                    "  {} tokens in · {} out · {}",
                    compact(r.tokens_in),
                    compact(r.tokens_out),
                    cost(r.cost_usd)
                ),
                theme.dim,
            ),
            Line::default(),
            Line::styled("Next: the model new sessions run on.", theme.base),
        ];
    }
    let code = r.error_code.map(|c| format!(" ({c})")).unwrap_or_default();
    let hint = if preset.is_some_and(|p| p.needs_key) {
        "Check the key (and that the account can use this model), then try again."
    } else {
        "Check that it runs and listens at the address, then try again."
    };
    vec![
        Line::styled(format!("✗ {what} failed{code}:"), theme.error),
        Line::styled(
            escape(r.error.as_deref().unwrap_or("no reason given")).into_owned(),
            theme.error,
        ),
        Line::default(),
        Line::styled(hint, theme.base),
    ]
}

/// A test call costs a tiny fraction of a cent: say so rather than show `$0.0000`.
fn cost(usd: f64) -> String {
    if usd <= 0.0 {
        "no cost".to_string()
    } else if usd < 0.000_1 {
        "under $0.0001".to_string()
    } else {
        money(usd)
    }
}

fn error_lines(st: &SetupState, theme: &Theme) -> Vec<Line<'static>> {
    st.error
        .iter()
        .map(|e| Line::styled(escape(e).into_owned(), theme.error))
        .collect()
}

/// Rows the error needs when wrapped to `area`, at most half of it.
fn error_height(st: &SetupState, area: Rect) -> u16 {
    let rows = st
        .error
        .as_deref()
        .map_or(0, |e| wrap(&escape(e), usize::from(area.width)).len());
    u16::try_from(rows).unwrap_or(u16::MAX).min(area.height / 2)
}

/// `area` as an intro of `top` rows, a list, and `bottom` rows under it.
fn split(area: Rect, top: u16, bottom: u16) -> [Rect; 3] {
    Layout::vertical([
        Constraint::Length(top),
        Constraint::Min(1),
        Constraint::Length(bottom),
    ])
    .areas(area)
}

fn text(frame: &mut Frame, area: Rect, lines: Vec<Line<'static>>) {
    frame.render_widget(
        Paragraph::new(lines)
            .style(Style::default())
            .wrap(Wrap { trim: false }),
        area,
    );
}
