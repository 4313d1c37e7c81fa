use super::*;
use crate::model::KeySource;
use pryx_protocol::ErrorCode;

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn preset(id: &str, name: &str, needs_key: bool, env_found: Option<&str>) -> ProviderPreset {
    ProviderPreset {
        id: id.into(),
        name: name.into(),
        kind: "openai-compatible".into(),
        base_url: format!("https://api.{id}.example/v1"),
        env: vec![format!("{}_API_KEY", id.to_uppercase())],
        env_found: env_found.map(Into::into),
        needs_key,
        local: !needs_key,
        suggested_model: Some(format!("{id}-small")),
    }
}

/// OpenAI (key in the environment), Anthropic (no key found), Ollama (local).
pub(crate) fn presets() -> Vec<ProviderPreset> {
    let mut ollama = preset("ollama", "Ollama", false, None);
    ollama.base_url = "http://localhost:11434/v1".into();
    vec![
        preset("anthropic", "Anthropic", true, None),
        preset("openai", "OpenAI", true, Some("OPENAI_API_KEY")),
        ollama,
    ]
}

pub(crate) fn report(ok: bool) -> ProviderTestReport {
    ProviderTestReport {
        ok,
        model: "openai/openai-small".into(),
        latency_ms: 412,
        tokens_in: 12,
        tokens_out: 3,
        cost_usd: 0.000_05,
        error_code: (!ok).then_some(ErrorCode::LlmAuth),
        error: (!ok).then(|| "Incorrect API key provided".to_string()),
    }
}

fn view(id: &str) -> ProviderView {
    ProviderView {
        id: id.into(),
        kind: "openai-compatible".into(),
        base_url: None,
        default_model: None,
        key_ref: Some(format!("secret:{id}")),
        key_ok: true,
        local: false,
    }
}

fn type_text(s: &mut SetupState, text: &str) {
    for c in text.chars() {
        s.handle_key(key(KeyCode::Char(c)));
    }
}

fn opened() -> SetupState {
    let (mut s, load) = SetupState::open(true);
    assert_eq!(load, Action::LoadPresets);
    s.on_presets(presets());
    s
}

fn stay(actions: Vec<Action>) -> Outcome {
    Outcome::Stay(actions)
}

#[test]
fn the_preset_with_a_key_in_the_environment_is_preselected_but_its_key_is_not_used() {
    let mut s = opened();
    assert_eq!(s.preset().map(|p| p.id.as_str()), Some("openai"));
    assert_eq!(s.handle_key(key(KeyCode::Enter)), stay(vec![]));
    assert_eq!(
        s.step,
        Step::Key {
            use_env: false,
            key: Secret::default()
        }
    );
    // Enter with nothing typed asks for the key instead of falling back to the variable.
    assert_eq!(s.handle_key(key(KeyCode::Enter)), stay(vec![]));
    assert!(
        s.error
            .as_deref()
            .is_some_and(|e| e.contains("$OPENAI_API_KEY"))
    );
    assert_eq!(
        s.step,
        Step::Key {
            use_env: false,
            key: Secret::default()
        }
    );
    // Choosing the variable explicitly uses it.
    s.handle_key(key(KeyCode::Down));
    let Outcome::Stay(actions) = s.handle_key(key(KeyCode::Enter)) else {
        panic!("setup goes on");
    };
    assert_eq!(
        actions,
        vec![Action::SaveProvider(ProviderSetup {
            id: "openai".into(),
            preset: "openai".into(),
            key: KeySource::Env("OPENAI_API_KEY".into()),
            base_url: None,
            default_model: Some("openai-small".into()),
        })]
    );
    assert_eq!(s.step, Step::Saving);
}

#[test]
fn a_typed_key_is_saved_then_tested_then_the_model_is_set() {
    let mut s = opened();
    s.handle_key(key(KeyCode::Enter));
    type_text(&mut s, " sk-test-123 ");
    s.handle_key(KeyEvent::new(KeyCode::Char('1'), KeyModifiers::ALT));
    s.handle_key(key(KeyCode::Backspace));
    let Outcome::Stay(actions) = s.handle_key(key(KeyCode::Enter)) else {
        panic!("setup goes on");
    };
    let [Action::SaveProvider(setup)] = actions.as_slice() else {
        panic!("{actions:?}");
    };
    assert_eq!(setup.key, KeySource::Typed(Secret::new("sk-test-123")));
    assert!(!format!("{actions:?}").contains("sk-test"), "{actions:?}");
    assert_eq!(
        s.on_saved(&view("openai")),
        vec![Action::TestProvider {
            id: "openai".into(),
            model: None
        }]
    );
    assert_eq!(s.step, Step::Testing);
    s.on_tested("openai", report(true));
    assert_eq!(
        s.handle_key(key(KeyCode::Enter)),
        stay(vec![Action::LoadModels {
            provider: Some("openai".into())
        }])
    );
    assert!(!s.wants_models(None), "the picker's list is not ours");
    assert!(s.wants_models(Some("openai")));
    s.on_models(vec![
        model("openai/gpt-4o", true),
        model("openai/openai-small", false),
    ]);
    let Step::Models(Some(p)) = &s.step else {
        panic!("{:?}", s.step);
    };
    assert_eq!(p.selected, 1, "the suggested model is preselected");
    assert_eq!(
        s.handle_key(key(KeyCode::Enter)),
        stay(vec![Action::SetDefaultModel {
            model: "openai/openai-small".into()
        }])
    );
    assert!(s.finishing());
}

fn model(id: &str, default: bool) -> ModelView {
    ModelView {
        id: id.into(),
        provider: "openai".into(),
        name: id.trim_start_matches("openai/").into(),
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
fn a_failed_test_goes_back_to_a_fresh_key() {
    let mut s = opened();
    s.handle_key(key(KeyCode::Enter));
    type_text(&mut s, "wrong");
    s.handle_key(key(KeyCode::Enter));
    s.on_saved(&view("openai"));
    s.on_tested("openai", report(false));
    assert_eq!(s.step, Step::Tested(report(false)));
    // r tests again, Enter goes back to fix the key.
    assert_eq!(
        s.handle_key(key(KeyCode::Char('r'))),
        stay(vec![Action::TestProvider {
            id: "openai".into(),
            model: None
        }])
    );
    s.on_tested("openai", report(false));
    s.handle_key(key(KeyCode::Enter));
    assert_eq!(
        s.step,
        Step::Key {
            use_env: false,
            key: Secret::default()
        }
    );
}

#[test]
fn errors_of_the_core_stay_in_their_step() {
    let mut s = opened();
    s.handle_key(key(KeyCode::Enter));
    type_text(&mut s, "k");
    s.handle_key(key(KeyCode::Enter));
    assert!(!s.on_failed(action::LIST_MODELS, "late"), "not this step's");
    assert!(s.on_failed(action::SAVE_PROVIDER, "the core refused"));
    assert!(matches!(&s.step, Step::Failed { error, .. } if error == "the core refused"));
    s.handle_key(key(KeyCode::Enter));
    assert!(matches!(s.step, Step::Key { .. }));
    // Presets that did not load: the error shows, Enter asks again.
    let (mut s, _) = SetupState::open(false);
    assert!(s.on_failed(action::LIST_PRESETS, "unreachable"));
    assert_eq!(s.error.as_deref(), Some("unreachable"));
    assert_eq!(
        s.handle_key(key(KeyCode::Enter)),
        stay(vec![Action::LoadPresets])
    );
}

#[test]
fn a_local_preset_asks_for_its_address_not_a_key() {
    let mut s = opened();
    s.handle_key(key(KeyCode::Down));
    assert_eq!(s.preset().map(|p| p.id.as_str()), Some("ollama"));
    s.handle_key(key(KeyCode::Enter));
    assert_eq!(
        s.step,
        Step::Endpoint {
            url: "http://localhost:11434/v1".into()
        }
    );
    // Unchanged, the preset's address is kept (not sent).
    let Outcome::Stay(actions) = s.handle_key(key(KeyCode::Enter)) else {
        panic!("setup goes on");
    };
    assert!(
        matches!(&actions[..], [Action::SaveProvider(p)] if p.key == KeySource::None && p.base_url.is_none())
    );
    // The core refused: back to the address, which can be edited.
    s.on_failed(action::SAVE_PROVIDER, "refused");
    s.handle_key(key(KeyCode::Enter));
    for _ in 0..4 {
        s.handle_key(key(KeyCode::Backspace));
    }
    type_text(&mut s, "9/v1");
    let Outcome::Stay(actions) = s.handle_key(key(KeyCode::Enter)) else {
        panic!("setup goes on");
    };
    assert!(
        matches!(&actions[..], [Action::SaveProvider(p)] if p.base_url.as_deref() == Some("http://localhost:11439/v1"))
    );
}

#[test]
fn esc_steps_back_and_skips_from_the_first_step() {
    let mut s = opened();
    s.handle_key(key(KeyCode::Enter));
    s.on_paste("sk-pasted\n");
    assert!(matches!(&s.step, Step::Key { key, .. } if key.expose() == "sk-pasted"));
    assert_eq!(s.handle_key(key(KeyCode::Esc)), stay(vec![]));
    assert_eq!(s.step, Step::Presets);
    assert_eq!(s.handle_key(key(KeyCode::Esc)), Outcome::Skip);
    assert_eq!(
        s.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        Outcome::Quit
    );
}

#[test]
fn a_provider_without_models_takes_its_suggestion_or_a_typed_name() {
    let mut s = opened();
    s.step = Step::Models(None);
    s.on_models(vec![]);
    assert_eq!(
        s.handle_key(key(KeyCode::Enter)),
        stay(vec![Action::SetDefaultModel {
            model: "openai/openai-small".into()
        }])
    );
    let mut s = opened();
    if let Some(p) = s.presets.as_mut().and_then(|p| p.get_mut(1)) {
        p.suggested_model = None;
    }
    s.step = Step::Models(None);
    s.on_models(vec![]);
    assert_eq!(
        s.step,
        Step::ModelName {
            name: String::new()
        }
    );
    assert_eq!(s.handle_key(key(KeyCode::Enter)), stay(vec![]));
    assert!(s.error.is_some(), "an empty name is refused");
    for c in "m1".chars() {
        s.handle_key(key(KeyCode::Char(c)));
    }
    assert!(matches!(
        s.handle_key(key(KeyCode::Enter)),
        Outcome::Stay(a) if a.len() == 1 && matches!(&a[0], Action::SetDefaultModel { model } if model.ends_with("/m1"))
    ));
}

#[test]
fn bare_model_names() {
    assert_eq!(bare_model("openai", "openai/gpt-4o"), "gpt-4o");
    assert_eq!(bare_model("openai", "gpt-4o"), "gpt-4o");
    assert_eq!(bare_model("openai", "openaix/m"), "openaix/m");
}
