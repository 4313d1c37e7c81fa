use super::*;
use serde_json::json;

fn build(v: Value) -> Result<Manifest, FieldError> {
    let Value::Object(m) = v else {
        panic!("object")
    };
    from_fields(&m, &mut Vec::new())
}

#[test]
fn reads_agent_skills_fields() {
    let m = build(json!({
        "name": "pdf-tools", "description": "Work with PDFs", "license": "MIT",
        "allowed-tools": "fs.read shell.exec", "compatibility": "needs poppler",
        "metadata": {"author": "x", "version": "1.0"}
    }))
    .unwrap();
    assert_eq!(m.allowed_tools, vec!["fs.read", "shell.exec"]);
    assert_eq!(m.license.as_deref(), Some("MIT"));
    assert!(m.user_invocable);
    assert!(!m.disable_model_invocation);
    assert_eq!(m.namespace, None);
    assert_eq!(m.requirements, Requirements::default());
}

#[test]
fn reads_pryx_namespace() {
    let m = build(json!({
        "name": "jq-helper", "description": "d",
        "metadata": {"pryx": {
            "emoji": "*", "os": ["linux", "darwin"], "always": false,
            "requires": {"bins": ["jq"], "anyBins": ["rg", "grep"], "env": ["API_KEY"], "config": ["ui.port"]},
            "primaryEnv": "API_KEY",
            "install": [{"id": "brew", "kind": "brew", "formula": "jq", "bins": ["jq"]}]
        }}
    }))
    .unwrap();
    let r = &m.requirements;
    assert_eq!(m.namespace, Some("pryx"));
    assert_eq!(r.bins, vec!["jq"]);
    assert_eq!(r.any_bins, vec!["rg", "grep"]);
    assert_eq!(r.env, vec!["API_KEY"]);
    assert_eq!(r.config, vec!["ui.port"]);
    assert_eq!(r.os, vec!["linux", "darwin"]);
    assert_eq!(r.primary_env.as_deref(), Some("API_KEY"));
    assert_eq!(r.install[0].kind, InstallKind::Brew);
    assert_eq!(r.install[0].target, "jq");
}

#[test]
fn reads_openclaw_namespace_as_a_json5_string() {
    let m = build(json!({
        "name": "gemini", "description": "d",
        "metadata": {"openclaw": "{ emoji: '♊️', requires: { bins: ['gemini'], }, install: [{ id: 'node', kind: 'node', package: '@google/gemini-cli', bins: ['gemini'] },], }"}
    }))
    .unwrap();
    assert_eq!(m.namespace, Some("openclaw"));
    assert_eq!(m.requirements.bins, vec!["gemini"]);
    assert_eq!(m.requirements.install[0].kind, InstallKind::Node);
    assert_eq!(m.requirements.install[0].target, "@google/gemini-cli");
    assert_eq!(m.metadata["openclaw"]["emoji"], json!("♊️"));
}

#[test]
fn reads_clawdbot_namespace_and_whole_metadata_string() {
    let m = build(json!({
        "name": "weather", "description": "d",
        "metadata": "{\"clawdbot\":{\"requires\":{\"anyBins\":[\"curl\",\"wget\"]},\"install\":[{\"kind\":\"go\",\"module\":\"example.com/w@latest\"}]}}"
    }))
    .unwrap();
    assert_eq!(m.namespace, Some("clawdbot"));
    assert_eq!(m.requirements.any_bins, vec!["curl", "wget"]);
    assert_eq!(m.requirements.install[0].id, "go-0");
}

#[test]
fn pryx_wins_over_openclaw_and_openclaw_over_clawdbot() {
    let m = build(json!({"name": "a", "description": "d", "metadata": {
        "clawdbot": {"requires": {"bins": ["c"]}},
        "openclaw": {"requires": {"bins": ["o"]}},
        "pryx": {"requires": {"bins": ["p"]}}
    }}))
    .unwrap();
    assert_eq!(m.requirements.bins, vec!["p"]);
    let m = build(json!({"name": "a", "description": "d", "metadata": {
        "clawdbot": {"requires": {"bins": ["c"]}},
        "openclaw": {"requires": {"bins": ["o"]}}
    }}))
    .unwrap();
    assert_eq!(m.requirements.bins, vec!["o"]);
}

#[test]
fn missing_name_or_description_is_an_error() {
    assert_eq!(build(json!({"description": "d"})).unwrap_err().key, "name");
    assert_eq!(
        build(json!({"name": "  ", "description": "d"}))
            .unwrap_err()
            .key,
        "name"
    );
    assert_eq!(build(json!({"name": "a"})).unwrap_err().key, "description");
    assert!(build(json!({"name": "has space", "description": "d"})).is_err());
    assert!(build(json!({"name": "a/b", "description": "d"})).is_err());
}

#[test]
fn wrong_types_and_bad_installers_are_errors() {
    let bad = [
        json!({"name": "a", "description": "d", "user-invocable": 3}),
        json!({"name": "a", "description": "d", "metadata": {"pryx": {"requires": {"bins": 5}}}}),
        json!({"name": "a", "description": "d", "metadata": {"pryx": {"install": [{"kind": "brew"}]}}}),
        json!({"name": "a", "description": "d", "metadata": {"pryx": {"install": [{"kind": "download", "url": "https://x", "sha256": "zz"}]}}}),
        json!({"name": "a", "description": "d", "metadata": {"openclaw": "{ broken"}}),
    ];
    for v in bad {
        assert!(build(v.clone()).is_err(), "{v}");
    }
}

#[test]
fn unknown_installer_kind_is_a_warning() {
    let Value::Object(m) = json!({"name": "a", "description": "d", "metadata": {"pryx": {"install": [{"kind": "apt", "package": "x"}]}}})
    else {
        unreachable!()
    };
    let mut warnings = Vec::new();
    let man = from_fields(&m, &mut warnings).unwrap();
    assert!(man.requirements.install.is_empty());
    assert!(warnings[0].contains("unknown kind `apt`"));
}

#[test]
fn spec_names() {
    assert!(is_spec_name("log-triage"));
    assert!(!is_spec_name("Log_Triage"));
    assert!(!is_spec_name("-a"));
    assert!(!is_spec_name("a--b"));
}

#[test]
fn hostile_skill_keys_are_refused_with_what_to_use() {
    for key in [
        "/tmp/evil",
        "../../bin",
        "a/b",
        "..",
        ".hidden",
        "",
        "tab\there",
        "esc\u{1b}[31m",
        "quote\"]",
        "\u{202e}rtl",
    ] {
        let v = json!({"name": "a", "description": "d", "metadata": {"pryx": {"skillKey": key}}});
        let e = build(v).unwrap_err();
        assert_eq!(e.key, "metadata", "{key:?}");
        assert!(
            e.message.contains("not a valid key"),
            "{key:?}: {}",
            e.message
        );
    }
    let v = json!({"name": "a", "description": "d", "metadata": {"pryx": {"skillKey": 7}}});
    assert!(build(v).is_err());
    let v =
        json!({"name": "a", "description": "d", "metadata": {"pryx": {"skillKey": "my.tool_2"}}});
    let m = build(v).unwrap();
    assert_eq!(m.requirements.skill_key.as_deref(), Some("my.tool_2"));
}
