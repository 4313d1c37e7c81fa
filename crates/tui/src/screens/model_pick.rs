//! A list of models to pick one from: the `/model` picker in Chat and the last step of setup. The
//! order is the core's (configured providers first); the core's default is marked.

use super::{ellipsize, navigate};
use crate::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent};
use pryx_protocol::api::ModelView;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, Row, Table, TableState};

/// What a key did to the picker.
#[derive(Debug, Clone, PartialEq)]
pub enum Pick {
    /// The user chose this model (`provider/model`).
    Chosen(String),
    /// The key moved the selection or did nothing.
    Stay,
    /// Not a picker key.
    Ignored,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelPicker {
    pub models: Vec<ModelView>,
    pub selected: usize,
    /// The model in use where the pick applies (the open session's), marked in the list.
    pub current: Option<String>,
}

impl ModelPicker {
    /// Selects `preselect` when listed (by full id, or by name within its provider), else the
    /// core's default, else the first.
    pub fn new(models: Vec<ModelView>, preselect: Option<&str>, current: Option<String>) -> Self {
        let by_pick = preselect.and_then(|p| models.iter().position(|m| names(m, p)));
        let by_default = || models.iter().position(|m| m.default);
        let selected = by_pick.or_else(by_default).unwrap_or(0);
        ModelPicker {
            models,
            selected,
            current,
        }
    }

    pub fn selected_model(&self) -> Option<&ModelView> {
        self.models.get(self.selected)
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> Pick {
        if navigate(&mut self.selected, self.models.len(), key) {
            return Pick::Stay;
        }
        match key.code {
            KeyCode::Enter => match self.selected_model() {
                Some(m) => Pick::Chosen(m.id.clone()),
                None => Pick::Stay,
            },
            _ => Pick::Ignored,
        }
    }

    /// The list as a table filling `area`, scrolled to the selection.
    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        if self.models.is_empty() {
            frame.render_widget(Line::styled("No models listed.", theme.dim), area);
            return;
        }
        let id_w = usize::from(area.width.saturating_sub(2 + 6 + 16 + 9 + 3)).max(8);
        let rows = self.models.iter().map(|m| {
            let mut marks = Vec::new();
            if m.default {
                marks.push("default");
            }
            if self.current.as_deref() == Some(m.id.as_str()) {
                marks.push("in use");
            }
            Row::new(vec![
                Cell::from(ellipsize(&m.id, id_w)),
                Cell::from(context(m.context)),
                Cell::from(price(m)),
                Cell::from(marks.join(" ")).style(theme.ok),
            ])
        });
        let widths = [
            Constraint::Min(8),
            Constraint::Length(6),
            Constraint::Length(16),
            Constraint::Length(9),
        ];
        let table = Table::new(rows, widths)
            .header(Row::new(["Model", "Ctx", "$/M in · out", ""]).style(theme.title))
            .row_highlight_style(theme.selected)
            .highlight_symbol("› ");
        let mut ts = TableState::default().with_selected(Some(self.selected));
        frame.render_stateful_widget(table, area, &mut ts);
    }
}

/// Whether `m` is the model `wanted` names: `provider/model`, or `model` within its provider.
fn names(m: &ModelView, wanted: &str) -> bool {
    m.id == wanted || m.id == format!("{}/{wanted}", m.provider)
}

/// Prices per million tokens; a local model costs nothing.
fn price(m: &ModelView) -> String {
    if m.input_cost == 0.0 && m.output_cost == 0.0 {
        return "free".to_string();
    }
    format!("{} · {}", dollars(m.input_cost), dollars(m.output_cost))
}

fn dollars(usd: f64) -> String {
    format!("${usd:.2}")
}

/// The context window in thousands of tokens, as model lists usually give it.
fn context(tokens: u32) -> String {
    match tokens {
        0..=999 => tokens.to_string(),
        1_000..=999_999 => format!("{}k", tokens / 1_000),
        _ => format!("{}M", tokens / 1_000_000),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyModifiers;

    fn model(id: &str, default: bool) -> ModelView {
        let (provider, name) = id.split_once('/').unwrap_or(("p", id));
        ModelView {
            id: id.into(),
            provider: provider.into(),
            name: name.into(),
            context: 128_000,
            output: 16_000,
            tool_call: true,
            reasoning: false,
            input_cost: 0.15,
            output_cost: 0.6,
            default,
        }
    }

    #[test]
    fn preselects_the_wanted_model_then_the_default() {
        let list = vec![
            model("openai/gpt-4o", false),
            model("openai/gpt-4o-mini", true),
            model("openai/o3", false),
        ];
        assert_eq!(ModelPicker::new(list.clone(), Some("o3"), None).selected, 2);
        assert_eq!(
            ModelPicker::new(list.clone(), Some("openai/gpt-4o"), None).selected,
            0
        );
        assert_eq!(
            ModelPicker::new(list.clone(), Some("absent"), None).selected,
            1
        );
        assert_eq!(ModelPicker::new(vec![], None, None).selected, 0);
        let mut p = ModelPicker::new(list, None, None);
        let key = |c| KeyEvent::new(c, KeyModifiers::NONE);
        assert_eq!(p.handle_key(&key(KeyCode::Down)), Pick::Stay);
        assert_eq!(
            p.handle_key(&key(KeyCode::Enter)),
            Pick::Chosen("openai/o3".into())
        );
        assert_eq!(p.handle_key(&key(KeyCode::Char('x'))), Pick::Ignored);
    }

    #[test]
    fn prices() {
        let mut m = model("ollama/llama3", false);
        m.input_cost = 0.0;
        m.output_cost = 0.0;
        assert_eq!(price(&m), "free");
        assert_eq!(price(&model("a/b", false)), "$0.15 · $0.60");
        assert_eq!(context(128_000), "128k");
        assert_eq!(context(1_048_576), "1M");
    }
}
