//! The schema (validation, key paths, "did you mean") and the serde types are written
//! separately; these tests keep them describing the same document, key for key.

use super::*;
use crate::config::{
    Agent, AgentProfile, CONFIG_VERSION, Channel, ChannelKind, Config, Defaults, DmPolicy,
    GroupPolicy, Mcp, ModelOverride, Models, Provider, ProviderKind, SignatureStyle, SkillEntry,
    Skills, TelegramMode, Telemetry, TelemetryTier, Ui, Updates,
};
use serde_json::{Map, json};
use std::collections::{BTreeMap, BTreeSet};

/// Every provider kind. The match stops compiling when a kind is added, so it cannot be missed.
fn every_kind() -> Vec<ProviderKind> {
    let all = [ProviderKind::OpenAiCompatible, ProviderKind::Anthropic];
    for kind in all {
        match kind {
            ProviderKind::OpenAiCompatible | ProviderKind::Anthropic => {}
        }
    }
    all.to_vec()
}

/// A config with every key the types know set (no `..Default::default()` anywhere, so a new
/// field does not compile until it is set here), every map and list non-empty.
fn every_key() -> Config {
    let free_form: Map<String, Value> = [("any".to_string(), json!(["free", "form"]))]
        .into_iter()
        .collect();
    Config {
        version: CONFIG_VERSION.to_string(),
        telemetry: Telemetry {
            enabled: true,
            endpoint: Some("https://otel.example.com".into()),
            sampling_ratio: 0.25,
            redact_pii: false,
            tier: TelemetryTier::Debug,
            headers: BTreeMap::from([("x-api-key".to_string(), "secret:otel".to_string())]),
        },
        defaults: Defaults {
            model: Some("openai/gpt-4o".into()),
            workspace: Some("~/code".into()),
            policy: "read-only".into(),
        },
        ui: Ui {
            theme: "dark".into(),
            port: Some(7777),
        },
        updates: Updates {
            channel: "beta".into(),
            auto_check: true,
            url: "https://releases.example.org/pryx".into(),
        },
        skills: Skills {
            enabled: false,
            extra_dirs: vec!["~/skills".into()],
            entries: BTreeMap::from([(
                "pdf".to_string(),
                SkillEntry {
                    enabled: false,
                    env: BTreeMap::from([("PDF_MODE".to_string(), "fast".to_string())]),
                    api_key: Some("secret:pdf".into()),
                    config: free_form.clone(),
                },
            )]),
        },
        mcp: Mcp {
            enabled: false,
            servers: BTreeMap::from([("files".to_string(), free_form)]),
        },
        providers: every_kind()
            .into_iter()
            .enumerate()
            .map(|(i, kind)| {
                let provider = Provider {
                    kind,
                    base_url: Some(format!("https://llm{i}.example.com/v1")),
                    api_key: Some(format!("env:LLM{i}_KEY")),
                    default_model: Some("m".into()),
                    headers: BTreeMap::from([("X-Title".to_string(), "pryx".to_string())]),
                    connect_timeout_ms: 1_000,
                    first_token_timeout_ms: 2_000,
                    stream_idle_timeout_ms: 3_000,
                    call_timeout_ms: 4_000,
                    catalog_id: Some("openai".into()),
                };
                (format!("p{i}"), provider)
            })
            .collect(),
        models: Models {
            auto_refresh: true,
            overrides: BTreeMap::from([(
                "openai/gpt-4o".to_string(),
                ModelOverride {
                    context: Some(128_000),
                    output: Some(16_384),
                    input_cost: Some(2.5),
                    output_cost: Some(10.0),
                    cache_read_cost: Some(1.25),
                    cache_write_cost: Some(3.0),
                    tool_call: Some(true),
                    attachment: Some(false),
                    reasoning: Some(true),
                },
            )]),
        },
        agent: Agent {
            max_steps: 20,
            session_budget_usd: Some(5.0),
            agent_daily_budget_usd: Some(3.0),
            daily_budget_usd: Some(10.0),
            monthly_budget_usd: Some(30.0),
            approval_timeout_secs: 60,
            compact_at_percent: 85,
            prune_after_turns: 6,
            broad_workspaces: vec!["~".into()],
        },
        agents: BTreeMap::from([(
            "research".to_string(),
            AgentProfile {
                workspace: Some("~/research".into()),
                model: Some("anthropic/claude-sonnet-4".into()),
                fallbacks: vec!["openai/gpt-4o".into()],
                policy: Some("read-only".into()),
                instructions: Some("AGENTS.md".into()),
                skills: Some(vec!["pdf".into()]),
                tools: Some(vec!["fs.read".into(), "github.*".into()]),
                max_steps: Some(10),
                session_budget_usd: Some(2.5),
                daily_budget_usd: Some(1.0),
            },
        )]),
        channels: BTreeMap::from([
            (
                "tg".to_string(),
                Channel {
                    kind: ChannelKind::Telegram,
                    enabled: false,
                    agent: Some("research".into()),
                    token: Some("secret:channel.tg.token".into()),
                    mode: TelegramMode::Webhook,
                    webhook_url: Some("https://bot.example.com/hooks/tg".into()),
                    api_base: Some("https://tg.example.com".into()),
                    poll_timeout_secs: 20,
                    dm_policy: DmPolicy::Allowlist,
                    allow_users: vec!["42".into()],
                    group_policy: GroupPolicy::Always,
                    allow_groups: vec!["-100".into()],
                    stream_blocks: false,
                    rate_limit_per_minute: 5,
                    secret: Some("secret:channel.tg.secret".into()),
                    signature: SignatureStyle::Pryx,
                    template: None,
                    callback_url: None,
                    max_body_bytes: 4096,
                },
            ),
            (
                "gh".to_string(),
                Channel {
                    kind: ChannelKind::Webhook,
                    template: Some("CI says: {{body}}".into()),
                    callback_url: Some("https://ci.example.com/cb".into()),
                    signature: SignatureStyle::Github,
                    secret: Some("env:GH_SECRET".into()),
                    ..Channel::new(ChannelKind::Webhook)
                },
            ),
        ]),
        revision: 7,
    }
}

#[derive(Debug, Clone, Copy)]
enum Fill {
    /// The smallest value each node allows (first of a list).
    Low,
    /// The largest value each node allows (last of a list).
    High,
    /// `null` wherever the schema allows it, `Low` elsewhere.
    Null,
}

fn sample_str(rule: Str, fill: Fill) -> String {
    let high = matches!(fill, Fill::High);
    match rule {
        Str::Any => "any".into(),
        Str::Url => "https://example.com".into(),
        Str::ModelRef => "provider/model".into(),
        Str::Name => "a-name".into(),
        Str::SecretRef if high => "env:SOME_VAR".into(),
        Str::SecretRef => "secret:a-name".into(),
        Str::OneOf(list) if high => list[list.len() - 1].into(),
        Str::OneOf(list) => list[0].into(),
        Str::OneOfOrName(_) if high => "custom-name".into(),
        Str::OneOfOrName(list) => list[0].into(),
    }
}

/// A document with every key the schema knows, each map holding one entry.
fn sample(node: &Node, fill: Fill) -> Value {
    let high = matches!(fill, Fill::High);
    match node {
        Node::Bool => Value::Bool(high),
        Node::Str(rule) => Value::String(sample_str(*rule, fill)),
        Node::Num { min, max } => json!(if high { *max } else { *min }),
        Node::Int { min, max } => json!(if high { *max } else { *min }),
        Node::Nullable(_) if matches!(fill, Fill::Null) => Value::Null,
        Node::Nullable(inner) => sample(inner, fill),
        Node::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|fd| (fd.name.to_string(), sample(&fd.node, fill)))
                .collect(),
        ),
        Node::Map { keys, value } => Value::Object(
            [(sample_str(*keys, fill), sample(value, fill))]
                .into_iter()
                .collect(),
        ),
        Node::Array(inner) => Value::Array(vec![sample(inner, fill)]),
        Node::AnyObject => json!({"any": ["free", "form"]}),
    }
}

/// The key paths present in `value`, read through the schema: map keys become `*`, list
/// items `[]`, free-form objects are not entered. Keys the schema lacks are listed too.
fn key_paths(node: &Node, value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match (node, value) {
        (Node::Nullable(inner), _) => key_paths(inner, value, prefix, out),
        (Node::Object(fields), Value::Object(map)) => {
            for (key, v) in map {
                let at = join(key);
                out.insert(at.clone());
                if let Some(fd) = fields.iter().find(|fd| fd.name == key) {
                    key_paths(&fd.node, v, &at, out);
                }
            }
        }
        (Node::Map { value: inner, .. }, Value::Object(map)) => {
            for v in map.values() {
                let at = join("*");
                out.insert(at.clone());
                key_paths(inner, v, &at, out);
            }
        }
        (Node::Array(inner), Value::Array(items)) => {
            for v in items {
                key_paths(inner, v, &join("[]"), out);
            }
        }
        _ => {}
    }
}

fn paths(value: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    key_paths(&root(), value, "", &mut out);
    out
}

fn problems(doc: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    validate(&root(), doc, &mut Vec::new(), &mut out);
    out
}

#[test]
fn every_key_of_the_types_is_known_to_the_schema() {
    let doc = serde_json::to_value(every_key()).unwrap();
    assert_eq!(problems(&doc), Vec::new(), "{doc:#}");
    assert_eq!(Config::from_value(doc).unwrap(), every_key());
}

#[test]
fn every_key_of_the_schema_deserializes_into_the_types() {
    for fill in [Fill::Low, Fill::High] {
        let doc = sample(&root(), fill);
        assert_eq!(problems(&doc), Vec::new(), "{fill:?}: {doc:#}");
        let config = Config::from_value(doc.clone())
            .unwrap_or_else(|e| panic!("{fill:?}: the types reject {e:?}"));
        // Nothing the schema accepts is dropped or changed on the way through the types.
        assert_eq!(config.to_value(), doc, "{fill:?}");
    }
}

#[test]
fn every_nullable_key_of_the_schema_takes_null_in_the_types() {
    let doc = sample(&root(), Fill::Null);
    assert_eq!(problems(&doc), Vec::new(), "{doc:#}");
    if let Err(e) = Config::from_value(doc) {
        panic!("the types reject a null the schema allows: {e:?}");
    }
}

#[test]
fn the_schema_and_the_types_know_the_same_keys() {
    let from_types = paths(&serde_json::to_value(every_key()).unwrap());
    let from_schema = paths(&sample(&root(), Fill::Low));
    let only_types: Vec<_> = from_types.difference(&from_schema).collect();
    let only_schema: Vec<_> = from_schema.difference(&from_types).collect();
    assert!(
        only_types.is_empty() && only_schema.is_empty(),
        "keys only in the serde types: {only_types:?}; keys only in the schema: {only_schema:?}"
    );
    // The walk saw the whole tree, down to the per-model overrides.
    assert!(from_schema.contains("models.overrides.*.cache_write_cost"));
}

#[test]
fn urls_must_parse_with_a_host() {
    let doc =
        |url: &str| json!({"providers": {"p": {"kind": "openai-compatible", "base_url": url}}});
    for good in [
        "http://127.0.0.1:11434/v1",
        "https://api.x.ai/v1",
        "http://[::1]:8080",
    ] {
        assert_eq!(problems(&doc(good)), Vec::new(), "{good}");
    }
    for bad in [
        "http://[::1",
        "https://[ÜI",
        "ftp://example.com",
        "http://",
        "example.com",
    ] {
        let p = problems(&doc(bad));
        assert!(
            p.iter().any(|p| p.message.contains("with a host")),
            "{bad}: {p:?}"
        );
    }
}
