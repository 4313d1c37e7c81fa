//! Form fields generated from the config schema: one per key, its widget chosen by what the key
//! holds, its text read back by the config crate (the same reading for every form), and the
//! change set a posted form makes against the effective config.

use pryx_config::Edit;
use pryx_config::keys::{self, PLACEHOLDER};
use pryx_protocol::api::{ConfigKey, ConfigKind};
use serde_json::Value;
use std::collections::BTreeMap;

/// What a posted settings form carries besides the CSRF token.
#[derive(Debug, Default)]
pub struct Posted {
    /// The config revision the form was rendered at.
    pub revision: Option<u64>,
    /// Field text by concrete key (the last value wins: a checkbox follows its hidden "off").
    pub fields: BTreeMap<String, String>,
    /// Other named values (`id`, `key`, `new:kind`, `provider_key`).
    pub extra: BTreeMap<String, String>,
}

impl Posted {
    pub fn parse(pairs: Vec<(String, String)>) -> Posted {
        let mut out = Posted::default();
        for (name, value) in pairs {
            if let Some(key) = name.strip_prefix("k:") {
                out.fields.insert(key.to_string(), value);
            } else if name == "revision" {
                out.revision = value.trim().parse().ok();
            } else if name != "_csrf" {
                out.extra.insert(name, value);
            }
        }
        out
    }

    pub fn extra(&self, name: &str) -> &str {
        self.extra.get(name).map_or("", |s| s.trim())
    }
}

/// An option of a select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One field as the template draws it.
pub struct FieldView {
    /// Concrete key path (the form field is `k:<key>`).
    pub key: String,
    /// The schema key it comes from (`providers.<id>.kind`).
    pub schema_key: String,
    /// Element id.
    pub id: String,
    pub label: String,
    /// `check`, `select`, `text`, `number`, `lines` or `json`.
    pub widget: &'static str,
    pub text: String,
    pub checked: bool,
    pub choices: Vec<Choice>,
    /// Suggestions for a free field (a policy name).
    pub suggestions: Vec<String>,
    pub hint: String,
    pub error: Option<String>,
}

/// The field of `spec` for entry `id` (if inside a collection), showing `current` unless the
/// user's own text is given back after a refused save.
pub fn field(
    spec: &ConfigKey,
    id: Option<&str>,
    current: &Value,
    posted: Option<&str>,
    error: Option<String>,
) -> FieldView {
    let key = match id {
        Some(id) => keys::concrete(&spec.key, id),
        None => spec.key.clone(),
    };
    let text = posted.map_or_else(|| keys::field_text(current), str::to_string);
    let widget = match spec.kind {
        ConfigKind::Bool => "check",
        ConfigKind::Choice => "select",
        ConfigKind::Number | ConfigKind::Integer => "number",
        ConfigKind::List | ConfigKind::Map => "lines",
        ConfigKind::Json => "json",
        ConfigKind::Text
        | ConfigKind::Url
        | ConfigKind::ModelRef
        | ConfigKind::Name
        | ConfigKind::SecretRef
        | ConfigKind::ChoiceOrName => "text",
    };
    let mut choices = Vec::new();
    if spec.kind == ConfigKind::Choice {
        if spec.nullable || !spec.required && text.is_empty() {
            choices.push(Choice {
                value: String::new(),
                label: "(default)".into(),
                selected: text.is_empty(),
            });
        }
        for c in &spec.choices {
            choices.push(Choice {
                value: c.clone(),
                label: c.clone(),
                selected: *c == text,
            });
        }
    }
    let label = spec
        .key
        .rsplit('.')
        .find(|s| *s != PLACEHOLDER)
        .unwrap_or(&spec.key)
        .replace('_', " ");
    FieldView {
        id: format!("f-{}", html_id(&key)),
        checked: text == "true",
        suggestions: if spec.kind == ConfigKind::ChoiceOrName {
            spec.choices.clone()
        } else {
            Vec::new()
        },
        hint: hint(spec),
        key,
        schema_key: spec.key.clone(),
        label,
        widget,
        text,
        choices,
        error,
    }
}

/// What to type, in words.
fn hint(spec: &ConfigKey) -> String {
    let range = match (spec.min, spec.max) {
        (Some(lo), Some(hi)) => format!("{lo} to {hi}"),
        _ => String::new(),
    };
    let base = match spec.kind {
        ConfigKind::Bool | ConfigKind::Choice => String::new(),
        ConfigKind::Text => String::new(),
        ConfigKind::Url => "An http:// or https:// address.".into(),
        ConfigKind::ModelRef => "provider/model, e.g. openai/gpt-4o.".into(),
        ConfigKind::Name => "Letters, digits, _ . - (up to 64).".into(),
        ConfigKind::SecretRef => {
            "secret:NAME (stored with pryx secrets set) or env:VAR; never the key itself.".into()
        }
        ConfigKind::ChoiceOrName => {
            format!("{}, or the name of a policy file.", spec.choices.join(", "))
        }
        ConfigKind::Number => format!("A number from {range}."),
        ConfigKind::Integer => format!("A whole number from {range}."),
        ConfigKind::List => "One per line.".into(),
        ConfigKind::Map => "One name = value per line.".into(),
        ConfigKind::Json => "A JSON object.".into(),
    };
    let empty = if spec.nullable {
        " Empty: not set."
    } else if spec.kind != ConfigKind::Bool && !spec.required {
        " Empty: the default."
    } else {
        ""
    };
    format!("{base}{empty}").trim().to_string()
}

fn html_id(key: &str) -> String {
    key.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// The changes a posted form makes: only fields whose value differs from `current(key)`. Field
/// errors (text that does not read as its key's value) come back by key.
pub fn changes(
    posted: &Posted,
    current: impl Fn(&str) -> Value,
) -> Result<Vec<Edit>, BTreeMap<String, String>> {
    let mut edits = Vec::new();
    let mut errors = BTreeMap::new();
    for (key, text) in &posted.fields {
        let now = current(key);
        match keys::read_field(key, text) {
            Err(e) => {
                errors.insert(key.clone(), e);
            }
            Ok(None) if now.is_null() => {}
            Ok(None) => edits.push(Edit::Unset(key.clone())),
            Ok(Some(v)) if same(&v, &now) => {}
            Ok(Some(v)) if hides_a_value(&now) && v.to_string().contains("***") => {
                errors.insert(
                    key.clone(),
                    "holds a hidden value (shown as ***): type it again in full, or change it with `pryx config set`".into(),
                );
            }
            Ok(Some(v)) => edits.push(Edit::Set(key.clone(), v)),
        }
    }
    if errors.is_empty() {
        Ok(edits)
    } else {
        Err(errors)
    }
}

/// Equal as settings: `null`, an empty list and an empty map are all "nothing".
fn same(a: &Value, b: &Value) -> bool {
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    a == b || (empty(a) && empty(b)) || numbers_equal(a, b)
}

/// `5` and `5.0` are one setting.
fn numbers_equal(a: &Value, b: &Value) -> bool {
    matches!((a.as_f64(), b.as_f64()), (Some(x), Some(y)) if a.is_number() && b.is_number() && x == y)
}

fn hides_a_value(v: &Value) -> bool {
    v.to_string().contains("***")
}

/// The field a problem belongs to: the longest field key its path starts with.
pub fn owner<'a>(problem: &str, fields: impl Iterator<Item = &'a String>) -> Option<String> {
    let p = keys::segments(problem)?;
    fields
        .filter_map(|k| keys::segments(k).map(|s| (k, s)))
        .filter(|(_, s)| p.starts_with(s))
        .max_by_key(|(_, s)| s.len())
        .map(|(k, _)| k.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn posted(fields: &[(&str, &str)]) -> Posted {
        Posted::parse(
            fields
                .iter()
                .map(|(k, v)| (format!("k:{k}"), (*v).to_string()))
                .collect(),
        )
    }

    #[test]
    fn only_changed_fields_become_edits() {
        let form = posted(&[
            ("agent.max_steps", "50"),
            ("telemetry.endpoint", ""),
            ("telemetry.sampling_ratio", "0.5"),
            ("agent.broad_workspaces", ""),
        ]);
        let current = |k: &str| match k {
            "agent.max_steps" => json!(50),
            "telemetry.sampling_ratio" => json!(1.0),
            "agent.broad_workspaces" => json!([]),
            _ => Value::Null,
        };
        let edits = changes(&form, current).unwrap();
        assert_eq!(
            edits,
            vec![Edit::Set("telemetry.sampling_ratio".into(), json!(0.5))]
        );
    }

    #[test]
    fn the_last_value_of_a_checkbox_wins_and_bad_text_is_a_field_error() {
        let form = Posted::parse(vec![
            ("k:telemetry.enabled".into(), "false".into()),
            ("k:telemetry.enabled".into(), "true".into()),
            ("k:agent.max_steps".into(), "lots".into()),
            ("revision".into(), "7".into()),
        ]);
        assert_eq!(form.revision, Some(7));
        let errors = changes(&form, |_| Value::Null).unwrap_err();
        assert!(errors["agent.max_steps"].contains("whole number"));
        assert!(!errors.contains_key("telemetry.enabled"));
    }

    #[test]
    fn a_masked_value_is_never_written_back() {
        let form = posted(&[("providers.p.headers", "a = ***\nb = new")]);
        let errors =
            changes(&form, |_| json!({"a": "***"})).expect_err("a masked value was written");
        assert!(errors["providers.p.headers"].contains("hidden"));
        let unchanged = posted(&[("providers.p.headers", "a = ***")]);
        assert_eq!(changes(&unchanged, |_| json!({"a": "***"})), Ok(vec![]));
    }

    #[test]
    fn a_problem_belongs_to_the_deepest_field_it_is_under() {
        let fields = [
            "agents.a.fallbacks".to_string(),
            "agents.a.model".to_string(),
        ];
        assert_eq!(
            owner("agents.a.fallbacks.0", fields.iter()).as_deref(),
            Some("agents.a.fallbacks")
        );
        assert_eq!(owner("agents.b", fields.iter()), None);
    }
}
