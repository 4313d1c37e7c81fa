//! Lookups, overrides and unknown models against the bundled catalog.

use super::*;

fn bundled() -> Catalog {
    Catalog::bundled().unwrap()
}

#[test]
fn looks_up_provider_slash_model_with_all_fields() {
    let m = bundled().lookup("anthropic/claude-opus-4-7").unwrap();
    assert_eq!(
        (m.provider.as_str(), m.id.as_str()),
        ("anthropic", "claude-opus-4-7")
    );
    assert_eq!((m.context, m.output), (1_000_000, 128_000));
    assert!(m.limits_known);
    assert_eq!(m.cost.input, 5.0);
    assert_eq!(m.cost.output, 25.0);
    assert_eq!(m.cost.cache_read, Some(0.5));
    assert_eq!(m.cost.cache_write, Some(6.25));
    assert!(m.cost.known && m.tool_call && m.attachment && m.reasoning);
    assert!(!m.temperature);
    assert!(m.supports_images());
    assert_eq!(m.family.as_deref(), Some("claude-opus"));
    assert_eq!(m.modalities.input, vec!["text", "image", "pdf"]);
    assert_eq!(m.release_date.as_deref(), Some("2026-04-16"));
    assert_eq!(m.knowledge.as_deref(), Some("2026-01-31"));
    assert_eq!(m.status, None);
}

#[test]
fn deprecated_status_is_reported() {
    let m = bundled()
        .lookup("anthropic/claude-3-5-sonnet-20240620")
        .unwrap();
    assert_eq!(m.status.as_deref(), Some("deprecated"));
}

#[test]
fn model_ids_containing_slashes_resolve() {
    let cat = bundled();
    let m = cat.lookup("zenmux/x-ai/grok-code-fast-1").unwrap();
    assert_eq!(
        (m.provider.as_str(), m.id.as_str()),
        ("zenmux", "x-ai/grok-code-fast-1")
    );
    assert_eq!(m.full_id(), "zenmux/x-ai/grok-code-fast-1");
}

#[test]
fn bare_id_resolves_only_when_unambiguous() {
    let cat = bundled();
    // Find an id listed by exactly one provider, and one listed by several.
    let mut owners: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (pid, p) in &cat.data().providers {
        for mid in p.models.keys() {
            owners.entry(mid.as_str()).or_default().push(pid.as_str());
        }
    }
    let (single, provider) = owners
        .iter()
        .find(|(_, v)| v.len() == 1)
        .map(|(k, v)| (*k, v[0]))
        .unwrap();
    let m = cat.lookup(single).unwrap();
    assert_eq!(m.provider, provider);

    match cat.lookup("claude-sonnet-4-5") {
        Err(LookupError::Ambiguous { candidates, .. }) => {
            assert!(candidates.contains(&"anthropic/claude-sonnet-4-5".to_string()));
            assert!(candidates.len() > 1);
        }
        other => panic!("expected ambiguity, got {other:?}"),
    }
}

#[test]
fn lists_providers_and_filters_models() {
    let cat = bundled();
    let providers = cat.providers();
    assert_eq!(providers.len(), 147);
    let anthropic = cat.provider("anthropic").unwrap();
    assert_eq!(anthropic.env, vec!["ANTHROPIC_API_KEY".to_string()]);
    assert!(anthropic.doc.is_some());
    let openai = cat.provider("openai").unwrap();
    assert_eq!(openai.name, "OpenAI");
    let models = cat.models(Some("anthropic"));
    assert_eq!(models.len(), anthropic.model_count);
    assert!(models.iter().all(|m| m.provider == "anthropic"));
    assert_eq!(cat.models(None).len(), 5276);
    assert!(cat.models(Some("no-such-provider")).is_empty());
}

#[test]
fn overrides_apply_to_get_lookup_list_and_resolve() {
    let o = ModelOverride {
        context: Some(50_000),
        input_cost: Some(1.0),
        tool_call: Some(false),
        ..Default::default()
    };
    let cat = bundled().with_overrides([("anthropic/claude-opus-4-7".to_string(), o)].into());
    let m = cat.lookup("anthropic/claude-opus-4-7").unwrap();
    assert_eq!(
        (m.context, m.output, m.cost.input, m.cost.output),
        (50_000, 128_000, 1.0, 25.0)
    );
    assert!(!m.tool_call);
    assert_eq!(cat.resolve("anthropic/claude-opus-4-7").info, m);
    let listed = cat
        .models(Some("anthropic"))
        .into_iter()
        .find(|x| x.id == "claude-opus-4-7")
        .unwrap();
    assert_eq!(listed, m);
    // Other models are untouched.
    assert_eq!(
        cat.lookup("anthropic/claude-opus-4-5").unwrap().cost.input,
        5.0
    );
}

#[test]
fn unknown_model_resolves_to_defaults_with_a_warning() {
    let r = bundled().resolve("ollama-local/my-finetune");
    assert!(!r.known);
    assert_eq!(
        (r.info.context, r.info.output),
        (DEFAULT_CONTEXT, DEFAULT_OUTPUT)
    );
    assert!(!r.info.cost.known && r.info.tool_call && !r.info.attachment);
    let w = r.warning.unwrap();
    assert!(
        w.contains("unknown model `ollama-local/my-finetune`"),
        "{w}"
    );
    assert!(
        w.contains("conservative defaults") && !w.contains('\n'),
        "{w}"
    );
}

#[test]
fn unknown_model_under_a_known_provider_keeps_the_provider() {
    let r = bundled().resolve("openai/gpt-99");
    assert!(!r.known);
    assert_eq!(
        (r.info.provider.as_str(), r.info.id.as_str()),
        ("openai", "gpt-99")
    );
}

#[test]
fn unknown_model_takes_its_override() {
    let o = ModelOverride {
        context: Some(131_072),
        output: Some(8_192),
        input_cost: Some(0.0),
        output_cost: Some(0.0),
        ..Default::default()
    };
    let cat = bundled().with_overrides([("lmlocal/qwen-coder".to_string(), o)].into());
    let r = cat.resolve("lmlocal/qwen-coder");
    assert!(!r.known);
    assert_eq!((r.info.context, r.info.output), (131_072, 8_192));
    assert!(r.info.cost.known);
    assert!(r.warning.unwrap().contains("your overrides"));
}

#[test]
fn ambiguous_bare_id_resolves_to_defaults_naming_candidates() {
    let r = bundled().resolve("claude-sonnet-4-5");
    assert!(!r.known);
    assert!(r.warning.unwrap().contains("anthropic/claude-sonnet-4-5"));
}

#[test]
fn load_without_cache_uses_bundled() {
    let home = tempfile::tempdir().unwrap();
    let loaded = Catalog::load(home.path()).unwrap();
    assert_eq!(loaded.source, CatalogSource::Bundled);
    assert!(loaded.warning.is_none());
}

#[test]
fn price_only_entries_borrow_limits_from_the_same_model_elsewhere() {
    let m = bundled().lookup("openai/gpt-5").unwrap();
    assert!(m.limits_known);
    // Smallest context among complete gpt-5 entries (the Azure ones list 272k, others 400k);
    // ties go to the first provider id.
    assert_eq!((m.context, m.output), (272_000, 128_000));
    assert_eq!(m.inferred_from.as_deref(), Some("azure/gpt-5"));
    // Prices stay the provider's own.
    assert_eq!(
        (m.cost.input, m.cost.output, m.cost.cache_read),
        (1.25, 10.0, Some(0.125))
    );
}
