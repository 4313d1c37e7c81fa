//! The schema as a flat list of keys, for forms generated from it (the dashboard's Settings) and
//! their tests, and the reading of a form field's text into the JSON value for its key.

use super::path;
use super::schema::{Node, Str, root};
use pryx_protocol::api::{ConfigCollection, ConfigKey, ConfigKind, ConfigSchema};
use serde_json::{Map, Value, json};

/// The placeholder for an entry's name in keys inside a collection.
pub const PLACEHOLDER: &str = "<id>";

/// Keys the file manages itself, never edited by hand.
const MANAGED: &[&str] = &["version", "revision"];

/// Every key a user can set, and the collections holding named entries.
pub fn schema() -> ConfigSchema {
    let mut out = ConfigSchema {
        keys: Vec::new(),
        collections: Vec::new(),
    };
    if let Node::Object(fields) = root() {
        for fd in fields.iter().filter(|fd| !MANAGED.contains(&fd.name)) {
            walk(&fd.node, fd.name.to_string(), fd.required, &mut out);
        }
    }
    out
}

fn walk(node: &Node, key: String, required: bool, out: &mut ConfigSchema) {
    match node {
        Node::Object(fields) => {
            for fd in fields {
                walk(&fd.node, format!("{key}.{}", fd.name), fd.required, out);
            }
        }
        Node::Map { keys, value } if matches!(**value, Node::Object(_) | Node::AnyObject) => {
            out.collections.push(ConfigCollection {
                key: key.clone(),
                placeholder: PLACEHOLDER.to_string(),
                id: kind_of_str(*keys),
                example_id: example_str(*keys).as_str().unwrap_or_default().to_string(),
                example: required_example(value),
            });
            let inner = format!("{key}.{PLACEHOLDER}");
            match &**value {
                Node::AnyObject => out.keys.push(leaf(value, inner, required)),
                other => walk(other, inner, false, out),
            }
        }
        _ => out.keys.push(leaf(node, key, required)),
    }
}

fn leaf(node: &Node, key: String, required: bool) -> ConfigKey {
    let (nullable, node) = match node {
        Node::Nullable(inner) => (true, &**inner),
        other => (false, other),
    };
    let mut k = ConfigKey {
        key,
        kind: kind_of(node),
        nullable,
        required,
        choices: Vec::new(),
        min: None,
        max: None,
        item: None,
        example: example(node),
    };
    match node {
        Node::Str(Str::OneOf(list) | Str::OneOfOrName(list)) => {
            k.choices = list.iter().map(|c| (*c).to_string()).collect();
        }
        Node::Num { min, max } => (k.min, k.max) = (Some(*min), Some(*max)),
        #[allow(clippy::cast_precision_loss)]
        Node::Int { min, max } => (k.min, k.max) = (Some(*min as f64), Some(*max as f64)),
        Node::Array(inner) | Node::Map { value: inner, .. } => k.item = Some(kind_of(inner)),
        _ => {}
    }
    k
}

fn kind_of(node: &Node) -> ConfigKind {
    match node {
        Node::Bool => ConfigKind::Bool,
        Node::Str(rule) => kind_of_str(*rule),
        Node::Num { .. } => ConfigKind::Number,
        Node::Int { .. } => ConfigKind::Integer,
        Node::Nullable(inner) => kind_of(inner),
        Node::Array(_) => ConfigKind::List,
        Node::Map { .. } => ConfigKind::Map,
        Node::Object(_) | Node::AnyObject => ConfigKind::Json,
    }
}

fn kind_of_str(rule: Str) -> ConfigKind {
    match rule {
        Str::Any => ConfigKind::Text,
        Str::Url => ConfigKind::Url,
        Str::ModelRef => ConfigKind::ModelRef,
        Str::Name => ConfigKind::Name,
        Str::SecretRef => ConfigKind::SecretRef,
        Str::OneOf(_) => ConfigKind::Choice,
        Str::OneOfOrName(_) => ConfigKind::ChoiceOrName,
    }
}

fn example_str(rule: Str) -> Value {
    Value::String(match rule {
        Str::Any => "example".into(),
        Str::Url => "http://127.0.0.1:4318".into(),
        Str::ModelRef => "example/model-1".into(),
        Str::Name => "example".into(),
        Str::SecretRef => "secret:example".into(),
        Str::OneOf(list) => list.last().copied().unwrap_or_default().into(),
        Str::OneOfOrName(_) => "example-policy".into(),
    })
}

/// A valid value, away from the bounds and (for choices) the usual default.
fn example(node: &Node) -> Value {
    match node {
        Node::Bool => Value::Bool(true),
        Node::Str(rule) => example_str(*rule),
        Node::Num { min, max } => json!(min + (max - min) / 4.0),
        Node::Int { min, max } => json!(min + (max - min) / 4),
        Node::Nullable(inner) => example(inner),
        Node::Array(inner) => Value::Array(vec![example(inner)]),
        Node::Map { keys, value } => {
            let key = match keys {
                Str::Name | Str::Any => "x-example".to_string(),
                other => example_str(*other).as_str().unwrap_or_default().to_string(),
            };
            json!({ key: example(value) })
        }
        Node::Object(_) => required_example(node),
        Node::AnyObject => json!({"example": true}),
    }
}

/// The required keys of an object, each with an example.
fn required_example(node: &Node) -> Value {
    match node {
        Node::Object(fields) => Value::Object(
            fields
                .iter()
                .filter(|fd| fd.required)
                .map(|fd| (fd.name.to_string(), example(&fd.node)))
                .collect(),
        ),
        _ => Value::Object(Map::new()),
    }
}

/// A schema key with its placeholder replaced by an entry's name, quoted when the name needs it
/// (`models.overrides["a/b.c"].context`).
pub fn concrete(template: &str, id: &str) -> String {
    let segments: Vec<String> = template
        .split('.')
        .map(|s| if s == PLACEHOLDER { id } else { s }.to_string())
        .collect();
    path::render(&segments)
}

/// The key path a problem names, in the form [`concrete`] writes (a problem's path is rendered
/// the same way), or its parts when a caller needs them.
pub fn segments(key: &str) -> Option<Vec<String>> {
    path::parse(key)
}

/// How a form field reads: `None` for an empty field (the key goes back to its default, or to
/// `null` where that is allowed), else the value for `key`. The error says what to type.
pub fn read_field(key: &str, text: &str) -> Result<Option<Value>, String> {
    let segments = path::parse(key).ok_or_else(|| format!("`{key}` is not a key path"))?;
    let schema = root();
    let node = schema
        .lookup(&segments)
        .ok_or_else(|| format!("`{key}` is not a setting"))?;
    let (nullable, node) = match node {
        Node::Nullable(inner) => (true, &**inner),
        other => (false, other),
    };
    let text = text.trim();
    if text.is_empty() && !matches!(node, Node::Array(_) | Node::Map { .. }) {
        return Ok(nullable.then_some(Value::Null));
    }
    let value = match node {
        Node::Bool => match text {
            "true" | "on" | "yes" => Value::Bool(true),
            "false" | "off" | "no" => Value::Bool(false),
            _ => return Err("choose on or off".into()),
        },
        Node::Str(_) => Value::String(text.to_string()),
        Node::Num { min, max } => match text.parse::<f64>() {
            Ok(n) if n.is_finite() => json!(n),
            _ => return Err(format!("type a number from {min} to {max}")),
        },
        Node::Int { min, max } => match text.parse::<u64>() {
            Ok(n) => json!(n),
            Err(_) => return Err(format!("type a whole number from {min} to {max}")),
        },
        Node::Array(_) => Value::Array(lines(text).map(Value::from).collect()),
        Node::Map { .. } => {
            let mut map = Map::new();
            for line in lines(text) {
                let Some((name, value)) = line.split_once('=') else {
                    return Err(format!(
                        "write one `name = value` per line (`{line}` has no `=`)"
                    ));
                };
                map.insert(name.trim().to_string(), Value::from(value.trim()));
            }
            Value::Object(map)
        }
        Node::Object(_) | Node::AnyObject => match serde_json::from_str::<Value>(text) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return Err("write a JSON object: `{ ... }`".into()),
            Err(e) => return Err(format!("not valid JSON: {e}")),
        },
        Node::Nullable(_) => return Err(format!("`{key}` cannot be edited as text")),
    };
    Ok(Some(value))
}

/// The text a form shows for a value: the inverse of [`read_field`].
pub fn field_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Object(map) if map.values().all(Value::is_string) && !map.is_empty() => map
            .iter()
            .map(|(k, v)| format!("{k} = {}", v.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Object(map) if map.is_empty() => String::new(),
        other @ Value::Object(_) => serde_json::to_string_pretty(other).unwrap_or_default(),
        other => other.to_string(),
    }
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_reads_its_own_example_back() {
        let schema = schema();
        for k in &schema.keys {
            let concrete = k.key.replace(PLACEHOLDER, "p1");
            let text = field_text(&k.example);
            let read = read_field(&concrete, &text).unwrap_or_else(|e| panic!("{}: {e}", k.key));
            assert_eq!(read, Some(k.example.clone()), "{}", k.key);
        }
    }

    #[test]
    fn collections_and_their_keys_are_listed() {
        let schema = schema();
        let names: Vec<_> = schema.collections.iter().map(|c| c.key.as_str()).collect();
        for c in [
            "providers",
            "agents",
            "channels",
            "skills.entries",
            "models.overrides",
            "mcp.servers",
        ] {
            assert!(names.contains(&c), "{c} in {names:?}");
        }
        let keys: Vec<_> = schema.keys.iter().map(|k| k.key.as_str()).collect();
        assert!(keys.contains(&"providers.<id>.kind"));
        assert!(keys.contains(&"mcp.servers.<id>"));
        assert!(keys.contains(&"telemetry.headers"));
        assert!(!keys.contains(&"revision"));
        let providers = &schema.collections[names.iter().position(|n| *n == "providers").unwrap()];
        assert_eq!(providers.example, json!({"kind": "anthropic"}));
    }

    #[test]
    fn concrete_keys_quote_names_with_dots() {
        assert_eq!(concrete("providers.<id>.kind", "p1"), "providers.p1.kind");
        assert_eq!(
            concrete("models.overrides.<id>.context", "a/b.c"),
            "models.overrides[\"a/b.c\"].context"
        );
    }

    #[test]
    fn empty_fields_unset_or_null_and_bad_text_says_what_to_type() {
        assert_eq!(read_field("telemetry.endpoint", " "), Ok(Some(Value::Null)));
        assert_eq!(read_field("agent.max_steps", ""), Ok(None));
        assert_eq!(
            read_field("agent.broad_workspaces", ""),
            Ok(Some(json!([])))
        );
        assert!(
            read_field("agent.max_steps", "many")
                .unwrap_err()
                .contains("whole number")
        );
        assert!(
            read_field("telemetry.enabled", "maybe")
                .unwrap_err()
                .contains("on or off")
        );
        assert!(
            read_field("telemetry.headers", "novalue")
                .unwrap_err()
                .contains("name = value")
        );
        assert!(
            read_field("mcp.servers.x", "[1]")
                .unwrap_err()
                .contains("JSON object")
        );
        assert!(read_field("no.such", "1").is_err());
        assert_eq!(
            read_field("providers.p.headers", "a = b\n\n c=d "),
            Ok(Some(json!({"a": "b", "c": "d"})))
        );
    }
}
