//! The shape of `config.json` as data, and a validator that walks raw JSON against it and
//! collects every problem (with its key path and a fix) rather than stopping at the first.
//! Written beside the serde types in `types`; the tests in `schema_tests.rs` fail when the two
//! stop describing the same keys.

use super::path::{self, suggest};
use super::secret_like::looks_like_secret;
use serde_json::Value;

/// One validation problem: where it is and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted key path (`providers.openai.kind`); empty for the document root.
    pub path: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() {
            "(top level)"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.message)
    }
}

/// Extra checks on a string value.
#[derive(Debug, Clone, Copy)]
pub enum Str {
    Any,
    /// http:// or https:// URL.
    Url,
    /// `provider/model`.
    ModelRef,
    /// `[A-Za-z0-9_.-]{1,64}`.
    Name,
    /// `secret:NAME` or `env:VAR`; literal keys are rejected.
    SecretRef,
    /// One of a fixed list.
    OneOf(&'static [&'static str]),
    /// Fixed list or a name (e.g. a policy preset or a custom policy file name).
    OneOfOrName(&'static [&'static str]),
}

/// A node of the schema tree.
#[derive(Debug, Clone)]
pub enum Node {
    Bool,
    Str(Str),
    /// Number with inclusive bounds.
    Num {
        min: f64,
        max: f64,
    },
    /// Non-negative integer with inclusive bounds.
    Int {
        min: u64,
        max: u64,
    },
    /// `null` or the inner node.
    Nullable(Box<Node>),
    /// Known fields; `required` ones must be present.
    Object(Vec<Field>),
    /// Arbitrary keys (checked by `keys`), values of one shape.
    Map {
        keys: Str,
        value: Box<Node>,
    },
    Array(Box<Node>),
    /// Any JSON object (free-form, owned by another component).
    AnyObject,
}

/// A named field of an object.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub node: Node,
    pub required: bool,
}

pub(crate) fn f(name: &'static str, node: Node) -> Field {
    Field {
        name,
        node,
        required: false,
    }
}
pub(crate) fn req(name: &'static str, node: Node) -> Field {
    Field {
        name,
        node,
        required: true,
    }
}
pub(crate) fn s(rule: Str) -> Node {
    Node::Str(rule)
}
pub(crate) fn opt(node: Node) -> Node {
    Node::Nullable(Box::new(node))
}
fn map(keys: Str, value: Node) -> Node {
    Node::Map {
        keys,
        value: Box::new(value),
    }
}
fn cost() -> Node {
    Node::Num { min: 0.0, max: 1e6 }
}
fn count() -> Node {
    Node::Int {
        min: 1,
        max: u64::from(u32::MAX),
    }
}

/// Allowed provider kinds.
pub const PROVIDER_KINDS: &[&str] = &["openai-compatible", "anthropic"];
/// Policy presets (custom policies are named after files under `policies/`).
pub const POLICY_PRESETS: &[&str] = &["workspace-only", "read-only", "network-allowlist"];

/// The schema of the whole document.
pub fn root() -> Node {
    Node::Object(vec![
        f("version", s(Str::OneOf(&["1.0"]))),
        f(
            "telemetry",
            Node::Object(vec![
                f("enabled", Node::Bool),
                f("endpoint", opt(s(Str::Url))),
                f("sampling_ratio", Node::Num { min: 0.0, max: 1.0 }),
                f("redact_pii", Node::Bool),
                f("tier", s(Str::OneOf(&["minimal", "standard", "debug"]))),
                f("headers", map(Str::Name, s(Str::SecretRef))),
            ]),
        ),
        f(
            "defaults",
            Node::Object(vec![
                f("model", opt(s(Str::ModelRef))),
                f("workspace", opt(s(Str::Any))),
                f("policy", s(Str::OneOfOrName(POLICY_PRESETS))),
            ]),
        ),
        f(
            "ui",
            Node::Object(vec![
                f("theme", s(Str::OneOf(&["system", "light", "dark"]))),
                f("port", opt(Node::Int { min: 1, max: 65535 })),
            ]),
        ),
        f(
            "updates",
            Node::Object(vec![
                f("channel", s(Str::OneOf(&["stable", "beta", "alpha"]))),
                f("auto_check", Node::Bool),
                f("url", s(Str::Url)),
            ]),
        ),
        f(
            "skills",
            Node::Object(vec![
                f("enabled", Node::Bool),
                f("extraDirs", Node::Array(Box::new(s(Str::Any)))),
                f(
                    "entries",
                    map(
                        Str::Name,
                        Node::Object(vec![
                            f("enabled", Node::Bool),
                            f("env", map(Str::Any, s(Str::Any))),
                            f("apiKey", opt(s(Str::SecretRef))),
                            f("config", Node::AnyObject),
                        ]),
                    ),
                ),
            ]),
        ),
        f(
            "mcp",
            Node::Object(vec![
                f("enabled", Node::Bool),
                f("servers", map(Str::Name, Node::AnyObject)),
            ]),
        ),
        f(
            "providers",
            map(
                Str::Name,
                Node::Object(vec![
                    req("kind", s(Str::OneOf(PROVIDER_KINDS))),
                    f("base_url", opt(s(Str::Url))),
                    f("api_key", opt(s(Str::SecretRef))),
                    f("default_model", opt(s(Str::Any))),
                    f("headers", map(Str::Any, s(Str::Any))),
                    f("connect_timeout_ms", count()),
                    f("first_token_timeout_ms", count()),
                    f("stream_idle_timeout_ms", count()),
                    f("call_timeout_ms", count()),
                    f("catalog_id", opt(s(Str::Any))),
                ]),
            ),
        ),
        f(
            "models",
            Node::Object(vec![
                f("auto_refresh", Node::Bool),
                f(
                    "overrides",
                    map(
                        Str::ModelRef,
                        Node::Object(vec![
                            f("context", count()),
                            f("output", count()),
                            f("input_cost", cost()),
                            f("output_cost", cost()),
                            f("cache_read_cost", cost()),
                            f("cache_write_cost", cost()),
                            f("tool_call", Node::Bool),
                            f("attachment", Node::Bool),
                            f("reasoning", Node::Bool),
                        ]),
                    ),
                ),
            ]),
        ),
        f(
            "agent",
            Node::Object(vec![
                f(
                    "max_steps",
                    Node::Int {
                        min: 1,
                        max: 10_000,
                    },
                ),
                f("session_budget_usd", opt(Node::Num { min: 0.0, max: 1e9 })),
                f(
                    "agent_daily_budget_usd",
                    opt(Node::Num { min: 0.0, max: 1e9 }),
                ),
                f("daily_budget_usd", opt(Node::Num { min: 0.0, max: 1e9 })),
                f("monthly_budget_usd", opt(Node::Num { min: 0.0, max: 1e9 })),
                f("approval_timeout_secs", count()),
                f("compact_at_percent", Node::Int { min: 50, max: 99 }),
                f("prune_after_turns", Node::Int { min: 0, max: 1_000 }),
                f("broad_workspaces", Node::Array(Box::new(s(Str::Any)))),
            ]),
        ),
        f(
            "agents",
            map(
                Str::Name,
                Node::Object(vec![
                    f("workspace", opt(s(Str::Any))),
                    f("model", opt(s(Str::ModelRef))),
                    f("fallbacks", Node::Array(Box::new(s(Str::ModelRef)))),
                    f("policy", opt(s(Str::OneOfOrName(POLICY_PRESETS)))),
                    f("instructions", opt(s(Str::Any))),
                    f("skills", opt(Node::Array(Box::new(s(Str::Name))))),
                    f("tools", opt(Node::Array(Box::new(s(Str::Any))))),
                    f(
                        "max_steps",
                        opt(Node::Int {
                            min: 1,
                            max: 10_000,
                        }),
                    ),
                    f("session_budget_usd", opt(Node::Num { min: 0.0, max: 1e9 })),
                    f("daily_budget_usd", opt(Node::Num { min: 0.0, max: 1e9 })),
                ]),
            ),
        ),
        f("channels", map(Str::Name, super::channels::schema())),
        f(
            "revision",
            Node::Int {
                min: 0,
                max: u64::MAX,
            },
        ),
    ])
}

impl Node {
    /// The schema node at `segments`, if the path exists in the schema.
    pub fn lookup(&self, segments: &[String]) -> Option<&Node> {
        let Some((first, rest)) = segments.split_first() else {
            return Some(self);
        };
        match self {
            Node::Nullable(inner) => inner.lookup(segments),
            Node::Object(fields) => fields.iter().find(|fd| fd.name == first)?.node.lookup(rest),
            Node::Map { value, .. } => value.lookup(rest),
            Node::AnyObject => Some(self),
            _ => None,
        }
    }

    /// True if this node takes a string (so a raw CLI value should stay a string).
    pub fn wants_string(&self) -> bool {
        match self {
            Node::Str(_) => true,
            Node::Nullable(inner) => inner.wants_string(),
            _ => false,
        }
    }

    /// Field names of an object node (for suggestions).
    pub fn field_names(&self) -> Vec<&'static str> {
        match self {
            Node::Object(fields) => fields.iter().map(|fd| fd.name).collect(),
            Node::Nullable(inner) => inner.field_names(),
            _ => Vec::new(),
        }
    }
}

/// Validates `value` against `node`, appending every problem found.
pub fn validate(node: &Node, value: &Value, at: &mut Vec<String>, out: &mut Vec<Problem>) {
    fn push(out: &mut Vec<Problem>, message: String, at: &[String]) {
        out.push(Problem {
            path: path::render(at),
            message,
        });
    }
    match (node, value) {
        (Node::Nullable(_), Value::Null) => {}
        (Node::Nullable(inner), v) => validate(inner, v, at, out),
        (Node::Bool, Value::Bool(_)) => {}
        (Node::Str(rule), Value::String(s)) => {
            if let Some(msg) = check_str(*rule, s) {
                push(out, msg, at);
            }
        }
        (Node::Num { min, max }, Value::Number(n)) => match n.as_f64() {
            Some(x) if x >= *min && x <= *max => {}
            _ => push(out, format!("must be a number from {min} to {max}"), at),
        },
        (Node::Int { min, max }, Value::Number(n)) => match n.as_u64() {
            Some(x) if x >= *min && x <= *max => {}
            _ => push(
                out,
                format!("must be a whole number from {min} to {max}"),
                at,
            ),
        },
        (Node::Object(fields), Value::Object(map)) => {
            for (key, v) in map {
                at.push(key.clone());
                match fields.iter().find(|fd| fd.name == key) {
                    Some(fd) => validate(&fd.node, v, at, out),
                    None => {
                        let hint = match suggest(key, fields.iter().map(|fd| fd.name)) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!(
                                "known keys: {}",
                                fields
                                    .iter()
                                    .map(|fd| fd.name)
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        };
                        out.push(Problem {
                            path: path::render(at),
                            message: format!("unknown key; {hint}"),
                        });
                    }
                }
                at.pop();
            }
            for fd in fields
                .iter()
                .filter(|fd| fd.required && !map.contains_key(fd.name))
            {
                at.push(fd.name.to_string());
                out.push(Problem {
                    path: path::render(at),
                    message: "is required".to_string(),
                });
                at.pop();
            }
        }
        (Node::Map { keys, value: inner }, Value::Object(map)) => {
            for (key, v) in map {
                at.push(key.clone());
                if let Some(msg) = check_str(*keys, key) {
                    push(out, format!("invalid key: {msg}"), at);
                }
                validate(inner, v, at, out);
                at.pop();
            }
        }
        (Node::Array(inner), Value::Array(items)) => {
            for (i, v) in items.iter().enumerate() {
                at.push(i.to_string());
                validate(inner, v, at, out);
                at.pop();
            }
        }
        (Node::AnyObject, Value::Object(_)) => {}
        (node, v) => push(
            out,
            format!("expected {}, got {}", describe(node), kind_of(v)),
            at,
        ),
    }
}

fn check_str(rule: Str, s: &str) -> Option<String> {
    match rule {
        Str::Any => None,
        Str::Url => {
            // Parsed, not just prefix-checked: `http://[::1` must not reach a client.
            let ok = url::Url::parse(s).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && u.host_str().is_some_and(|h| !h.is_empty())
            });
            (!ok).then(|| "must be an http:// or https:// URL with a host".to_string())
        }
        Str::ModelRef => {
            let ok = s
                .split_once('/')
                .is_some_and(|(p, m)| !p.is_empty() && !m.is_empty());
            (!ok).then(|| "must look like `provider/model` (e.g. `openai/gpt-4o`)".to_string())
        }
        Str::Name => (!is_name(s))
            .then(|| "names use only letters, digits, `_`, `.`, `-` (1-64 chars)".into()),
        Str::SecretRef => check_secret_ref(s),
        Str::OneOf(allowed) => (!allowed.contains(&s)).then(|| one_of_message(s, allowed)),
        Str::OneOfOrName(allowed) => {
            (!allowed.contains(&s) && !is_name(s)).then(|| one_of_message(s, allowed))
        }
    }
}

fn one_of_message(s: &str, allowed: &[&str]) -> String {
    let list = allowed
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    match suggest(s, allowed.iter().copied()) {
        Some(sug) => format!("must be one of {list}; did you mean `{sug}`?"),
        None => format!("must be one of {list}"),
    }
}

/// Checks a secret reference; the message never repeats the value.
pub fn check_secret_ref(s: &str) -> Option<String> {
    if let Some(name) = s.strip_prefix("secret:") {
        return (!is_name(name)).then(|| {
            "`secret:NAME` needs a name of letters, digits, `_`, `.`, `-` (1-64 chars)".into()
        });
    }
    if let Some(var) = s.strip_prefix("env:") {
        let ok = !var.is_empty() && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        return (!ok).then(|| "`env:VAR` needs an environment variable name".into());
    }
    let what = if looks_like_secret(s) {
        "looks like a literal API key"
    } else {
        "is not a secret reference"
    };
    Some(format!(
        "{what}; keys never go in config.json: run `pryx secrets set NAME` and use `secret:NAME` (or `env:VAR`)"
    ))
}

/// `[A-Za-z0-9_.-]{1,64}`.
pub fn is_name(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn describe(node: &Node) -> String {
    match node {
        Node::Bool => "true or false".into(),
        Node::Str(Str::OneOf(a)) => format!("a string, one of {}", a.join(", ")),
        Node::Str(Str::SecretRef) => {
            "a secret reference string (`secret:NAME` or `env:VAR`)".into()
        }
        Node::Str(_) => "a string".into(),
        Node::Num { .. } => "a number".into(),
        Node::Int { .. } => "a whole number".into(),
        Node::Nullable(inner) => format!("{} or null", describe(inner)),
        Node::Object(_) | Node::Map { .. } | Node::AnyObject => "an object".into(),
        Node::Array(_) => "an array".into(),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
#[path = "schema_tests.rs"]
mod tests;
