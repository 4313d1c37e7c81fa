//! The provider step's checks and rendering.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;

fn presets() -> Vec<ProviderPreset> {
    let p = |id: &str, needs_key: bool, local: bool, url: &str| ProviderPreset {
        id: id.into(),
        name: id.to_uppercase(),
        kind: CUSTOM.into(),
        base_url: url.into(),
        env: if needs_key {
            vec!["X_KEY".into()]
        } else {
            vec![]
        },
        env_found: None,
        needs_key,
        local,
        suggested_model: None,
    };
    vec![
        p("openai", true, false, "https://api.openai.com/v1"),
        p("ollama", false, true, "http://127.0.0.1:11434/v1"),
    ]
}

fn form(preset: &str, base_url: &str, key: &str, model: &str, action: &str) -> Form {
    Form {
        preset: preset.into(),
        base_url: base_url.into(),
        key: key.into(),
        model: model.into(),
        model_custom: String::new(),
        action: action.into(),
    }
}

fn page(errors: FieldErrors, key_saved: bool) -> Page {
    Page {
        layout: Layout {
            title: "Welcome: provider".into(),
            nav: "welcome",
            csrf: "csrf-token".into(),
            theme: "system".into(),
        },
        progress: Progress {
            step: 2,
            total: 3,
            steps: Vec::new(),
        },
        presets: presets(),
        preset: "openai".into(),
        base_url: String::new(),
        key_saved,
        models: vec![ModelOption {
            value: "gpt-4o-mini".into(),
            label: "gpt-4o-mini — $0.15 in / $0.6 out per Mtok, 128k context".into(),
            selected: true,
            suggested: false,
        }],
        model_custom: String::new(),
        test: None,
        errors,
    }
}

#[test]
fn a_custom_local_server_needs_no_key_and_is_called_local() {
    let c = check(
        &form(CUSTOM, "http://127.0.0.1:4010/v1", "", "mock-model", "save"),
        &presets(),
        false,
    )
    .unwrap();
    assert_eq!(c.id, "local");
    assert_eq!(c.body.kind.as_deref(), Some(CUSTOM));
    assert_eq!(c.body.preset, None);
    assert_eq!(c.body.api_key, None);
    assert_eq!(c.model.as_deref(), Some("mock-model"));
}

#[test]
fn a_custom_server_needs_an_address() {
    let e = check(&form(CUSTOM, "", "k", "m", "test"), &presets(), false).unwrap_err();
    assert!(e.has("base_url"));
    let e = check(
        &form(CUSTOM, "ftp://x/v1", "k", "m", "test"),
        &presets(),
        false,
    )
    .unwrap_err();
    assert!(e.has("base_url"));
    let e = check(
        &form(CUSTOM, "http:// x/v1", "k", "m", "test"),
        &presets(),
        false,
    )
    .unwrap_err();
    assert!(e.has("base_url"));
}

#[test]
fn a_cloud_preset_needs_a_key_unless_one_is_stored() {
    let e = check(
        &form("openai", "", "", "gpt-4o-mini", "save"),
        &presets(),
        false,
    )
    .unwrap_err();
    assert!(e.has("key"));
    let c = check(
        &form("openai", "", "", "gpt-4o-mini", "save"),
        &presets(),
        true,
    )
    .unwrap();
    assert_eq!(c.body.api_key, None, "the stored key is kept");
    let c = check(
        &form("openai", "", " sk-1 ", "gpt-4o-mini", "save"),
        &presets(),
        false,
    )
    .unwrap();
    assert_eq!(c.body.api_key.as_deref(), Some("sk-1"));
    assert!(check(&form("ollama", "", "", "llama3", "save"), &presets(), false).is_ok());
}

#[test]
fn saving_needs_a_model_and_unknown_presets_are_refused() {
    let e = check(&form("ollama", "", "", "", "save"), &presets(), false).unwrap_err();
    assert!(e.has("model"));
    assert!(check(&form("ollama", "", "", "", "test"), &presets(), false).is_ok());
    let e = check(&form("nope", "", "", "m", "save"), &presets(), false).unwrap_err();
    assert!(e.has("preset"));
    let e = check(
        &form("ollama", "", "", "-bad model", "save"),
        &presets(),
        false,
    )
    .unwrap_err();
    assert!(e.has("model"));
}

#[test]
fn the_key_is_never_rendered_and_errors_are_tied_to_fields() {
    let mut errors = FieldErrors::default();
    errors.set("key", "OpenAI needs an API key; paste it here.");
    let html = page(errors, false).render().unwrap();
    assert!(!html.contains("sk-secret"), "no key value in the page");
    assert!(
        html.contains(r#"aria-describedby="key-hint key-error""#),
        "{html}"
    );
    assert!(html.contains(r#"id="key-error""#));
    assert!(html.contains(r#"type="password""#));
    assert!(html.contains(r#"autocomplete="off""#));
    for id in [
        "provider-preset",
        "provider-key",
        "provider-base-url",
        "provider-test",
        "model-select",
        "provider-save",
        "step-skip",
    ] {
        assert!(html.contains(&format!(r#"data-testid="{id}""#)), "{id}");
    }
    let input = html
        .split(r#"data-testid="provider-key""#)
        .next()
        .and_then(|before| before.rsplit("<input").next())
        .unwrap();
    assert!(
        !input.contains("value="),
        "the key field has no value: {input}"
    );
}

#[test]
fn a_test_result_shows_latency_tokens_and_cost_or_the_error() {
    let mut p = page(FieldErrors::default(), true);
    p.test = Some(TestView::from_report(ProviderTestReport {
        ok: true,
        model: "openai/gpt-4o-mini".into(),
        latency_ms: 321,
        tokens_in: 12,
        tokens_out: 3,
        cost_usd: 0.0000036,
        error_code: None,
        error: None,
    }));
    let html = p.render().unwrap();
    assert!(html.contains("321 ms"), "{html}");
    assert!(html.contains("$0.000004"), "{html}");
    assert!(html.contains(r#"data-testid="provider-test-result""#));
    p.test = Some(TestView::from_report(ProviderTestReport {
        ok: false,
        model: "openai/gpt-4o-mini".into(),
        latency_ms: 0,
        tokens_in: 0,
        tokens_out: 0,
        cost_usd: 0.0,
        error_code: Some(pryx_protocol::ErrorCode::Unauthorized),
        error: Some("the key <was> refused".into()),
    }));
    let html = p.render().unwrap();
    assert!(
        html.contains("the key &#60;was&#62; refused")
            || html.contains("the key &lt;was&gt; refused"),
        "{html}"
    );
}

#[test]
fn prices_read_per_million_tokens() {
    let m = ModelView {
        id: "openai/gpt-4o-mini".into(),
        provider: "openai".into(),
        name: "GPT-4o mini".into(),
        context: 128_000,
        output: 16_384,
        tool_call: true,
        reasoning: false,
        input_cost: 0.15,
        output_cost: 0.6,
        default: false,
    };
    assert_eq!(
        label(&m, false),
        "gpt-4o-mini (GPT-4o mini) — $0.15 in / $0.6 out per Mtok, 128k context"
    );
    assert!(label(&m, true).contains("free (this machine)"));
}
