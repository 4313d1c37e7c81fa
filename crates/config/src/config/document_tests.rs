use super::*;
use crate::config::ProviderKind;

fn dir() -> (tempfile::TempDir, DataDir) {
    let tmp = tempfile::tempdir().unwrap();
    let d = DataDir::at(tmp.path().join("home"));
    d.ensure().unwrap();
    (tmp, d)
}

fn write(d: &DataDir, text: &str) {
    std::fs::write(d.config_file(), text).unwrap();
}

fn problems(d: &DataDir) -> Vec<Problem> {
    match Config::load(d).unwrap_err() {
        ConfigError::Invalid { problems, .. } => problems,
        other => panic!("unexpected {other}"),
    }
}

#[test]
fn missing_file_gives_private_defaults() {
    let (_t, d) = dir();
    let c = Config::load(&d).unwrap();
    assert!(!c.telemetry.enabled);
    assert_eq!(c.defaults.policy, "workspace-only");
    assert_eq!(c.agent.max_steps, 50);
    assert_eq!(c.agent.approval_timeout_secs, 300);
    assert!(!c.models.auto_refresh);
}

#[test]
fn unknown_key_suggests_the_closest() {
    let (_t, d) = dir();
    write(
        &d,
        r#"{"providers":{"openai":{"kind":"openai-compatible","baseurl":"https://x.example"}}}"#,
    );
    let p = problems(&d);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].path, "providers.openai.baseurl");
    assert!(
        p[0].message.contains("did you mean `base_url`?"),
        "{}",
        p[0].message
    );
}

#[test]
fn all_problems_are_collected() {
    let (_t, d) = dir();
    write(
        &d,
        r#"{"telemetry":{"enabled":"yes","sampling_ratio":2},"ui":{"theme":"blue","port":70000},
            "providers":{"a":{"kind":"openai"}},"agent":{"max_steps":0}}"#,
    );
    let p = problems(&d);
    let paths: Vec<_> = p.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "telemetry.enabled",
            "telemetry.sampling_ratio",
            "ui.theme",
            "ui.port",
            "providers.a.kind",
            "agent.max_steps"
        ]
    );
    assert!(
        p[0].message
            .contains("expected true or false, got a string"),
        "{}",
        p[0].message
    );
    assert!(
        p[2].message.contains("`system`, `light`, `dark`"),
        "{}",
        p[2].message
    );
    assert!(
        p[4].message.contains("`openai-compatible`"),
        "{}",
        p[4].message
    );
}

#[test]
fn missing_required_kind_is_named() {
    let (_t, d) = dir();
    write(
        &d,
        r#"{"providers":{"local":{"base_url":"http://127.0.0.1:11434/v1"}}}"#,
    );
    let p = problems(&d);
    assert_eq!(p[0].path, "providers.local.kind");
    assert_eq!(p[0].message, "is required");
}

#[test]
fn syntax_error_reports_line_and_column_and_keeps_file() {
    let (_t, d) = dir();
    let text = "{\n  \"ui\": {\n    \"theme\": \"dark\",,\n  }\n}\n";
    write(&d, text);
    match Config::load(&d).unwrap_err() {
        ConfigError::Syntax { line, column, .. } => assert_eq!((line, column), (3, 21)),
        other => panic!("unexpected {other}"),
    }
    assert!(Config::set_path(&d, "ui.theme", "light").is_err());
    assert_eq!(std::fs::read_to_string(d.config_file()).unwrap(), text);
}

#[test]
fn literal_api_key_is_rejected_without_echoing_it() {
    let (_t, d) = dir();
    let key = "sk-live-0123456789abcdefghij";
    let err = Config::set_path(&d, "providers.openai.api_key", key).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("providers.openai.api_key"), "{msg}");
    assert!(msg.contains("pryx secrets set"), "{msg}");
    assert!(!msg.contains(key), "{msg}");
    assert!(!d.config_file().exists());
}

#[test]
fn set_get_roundtrip_with_typed_parsing() {
    let (_t, d) = dir();
    Config::set_path(&d, "providers.openrouter.kind", "openai-compatible").unwrap();
    Config::set_path(&d, "providers.openrouter.api_key", "secret:OPENROUTER").unwrap();
    Config::set_path(
        &d,
        "providers.openrouter.headers.HTTP-Referer",
        "https://pryx.dev",
    )
    .unwrap();
    Config::set_path(&d, "ui.port", "8080").unwrap();
    // A string key keeps numeric-looking input as a string.
    Config::set_path(&d, "defaults.workspace", "123").unwrap();
    Config::set_path(
        &d,
        "models.overrides[\"openrouter/x-1.5\"].input_cost",
        "0.5",
    )
    .unwrap();
    let c = Config::load(&d).unwrap();
    let p = c.provider("openrouter").unwrap();
    assert_eq!(p.kind, ProviderKind::OpenAiCompatible);
    assert_eq!(p.connect_timeout_ms, 10_000);
    assert_eq!(p.first_token_timeout_ms, 60_000);
    assert_eq!(p.catalog_id("openrouter"), "openrouter");
    assert_eq!(c.ui.port, Some(8080));
    assert_eq!(c.defaults.workspace.as_deref(), Some("123"));
    assert_eq!(
        c.model_override("openrouter/x-1.5").unwrap().input_cost,
        Some(0.5)
    );
    assert_eq!(c.get_path("ui.port").unwrap(), Value::from(8080));
    assert_eq!(c.get_path("telemetry.enabled").unwrap(), Value::Bool(false));
    assert_eq!(c.get_path("agent.session_budget_usd").unwrap(), Value::Null);
    Config::unset_path(&d, "ui.port").unwrap();
    assert_eq!(Config::load(&d).unwrap().ui.port, None);
}

#[test]
fn get_unknown_key_suggests() {
    let c = Config::default();
    let err = c.get_path("telemetry.enabld").unwrap_err();
    assert!(
        err.to_string()
            .contains("did you mean `telemetry.enabled`?"),
        "{err}"
    );
    assert!(matches!(
        c.get_path("a..b"),
        Err(ConfigError::BadKey { .. })
    ));
}

#[test]
fn invalid_set_leaves_file_identical() {
    let (_t, d) = dir();
    Config::set_path(&d, "ui.theme", "dark").unwrap();
    let before = std::fs::read(d.config_file()).unwrap();
    assert!(Config::set_path(&d, "ui.theme", "neon").is_err());
    assert!(Config::set_path(&d, "ui.nope", "1").is_err());
    assert!(Config::set_path(&d, "ui.theme.x", "1").is_err());
    assert_eq!(std::fs::read(d.config_file()).unwrap(), before);
}

#[test]
fn masked_hides_credential_like_values() {
    let doc = serde_json::json!({
        "providers": {"p": {"kind": "anthropic", "api_key": "secret:ANTHROPIC",
            "headers": {"X-Api-Key": "plain", "X-Title": "Pryx"}}},
        "skills": {"entries": {"s": {"env": {"TOKEN": "abc", "MODE": "fast"}, "apiKey": "env:S_KEY"}}}
    });
    let c = Config::from_value(doc).unwrap();
    let m = c.masked();
    assert_eq!(m["providers"]["p"]["api_key"], "secret:ANTHROPIC");
    assert_eq!(m["providers"]["p"]["headers"]["X-Api-Key"], "***");
    assert_eq!(m["providers"]["p"]["headers"]["X-Title"], "Pryx");
    assert_eq!(m["skills"]["entries"]["s"]["env"]["TOKEN"], "***");
    assert_eq!(m["skills"]["entries"]["s"]["env"]["MODE"], "fast");
    assert_eq!(m["skills"]["entries"]["s"]["apiKey"], "env:S_KEY");
}

#[test]
fn every_write_bumps_the_revision_and_a_stale_base_is_refused() {
    let (_t, d) = dir();
    let c = Config::set_path(&d, "defaults.policy", "read-only").unwrap();
    assert_eq!(c.revision, 1);
    let c = Config::edit(
        &d,
        Some(1),
        &[
            Edit::Set("agents.research.model".into(), serde_json::json!("a/b")),
            Edit::Set(
                "agents.research.workspace".into(),
                serde_json::json!("/tmp"),
            ),
        ],
    )
    .unwrap();
    assert_eq!(c.revision, 2);
    assert_eq!(c.agents["research"].model.as_deref(), Some("a/b"));
    let before = std::fs::read(d.config_file()).unwrap();
    let e = Config::edit(
        &d,
        Some(1),
        &[Edit::Set(
            "defaults.policy".into(),
            serde_json::json!("workspace-only"),
        )],
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            ConfigError::Stale {
                base: 1,
                current: 2
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("changed elsewhere"), "{e}");
    assert_eq!(std::fs::read(d.config_file()).unwrap(), before);
    // Invalid values and unknown keys leave the file as it was, with the usual hints.
    let e = Config::edit(
        &d,
        None,
        &[Edit::Set(
            "agents.research.polcy".into(),
            serde_json::json!("x"),
        )],
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("did you mean `agents.research.policy`"),
        "{e}"
    );
    let e = Config::edit(
        &d,
        None,
        &[Edit::Set(
            "agents.research.model".into(),
            serde_json::json!("no-slash"),
        )],
    )
    .unwrap_err();
    assert!(matches!(e, ConfigError::Rejected { .. }), "{e}");
    assert_eq!(std::fs::read(d.config_file()).unwrap(), before);
    let c = Config::edit(&d, Some(2), &[Edit::Unset("agents.research".into())]).unwrap();
    assert!(c.agents.is_empty());
    assert_eq!(c.revision, 3);
}
