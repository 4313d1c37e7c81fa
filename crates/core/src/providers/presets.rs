//! Providers Pryx knows how to set up: their API, address and where their key usually lives.

use crate::core::Core;
use pryx_protocol::api::{PresetList, ProviderPreset};

/// A provider Pryx knows how to set up.
pub(super) struct Preset {
    pub(super) id: &'static str,
    pub(super) name: &'static str,
    pub(super) kind: &'static str,
    pub(super) base_url: &'static str,
    pub(super) env: &'static [&'static str],
    pub(super) needs_key: bool,
    pub(super) local: bool,
    pub(super) suggested: Option<&'static str>,
    /// Where the catalog keeps its prices, when not under `id`.
    pub(super) catalog_id: Option<&'static str>,
}

const OPENAI: &str = "openai-compatible";

const PRESETS: &[Preset] = &[
    Preset {
        id: "openai",
        name: "OpenAI",
        kind: OPENAI,
        base_url: "https://api.openai.com/v1",
        env: &["OPENAI_API_KEY"],
        needs_key: true,
        local: false,
        suggested: Some("gpt-4o-mini"),
        catalog_id: None,
    },
    Preset {
        id: "anthropic",
        name: "Anthropic",
        kind: "anthropic",
        base_url: "https://api.anthropic.com/v1",
        env: &["ANTHROPIC_API_KEY"],
        needs_key: true,
        local: false,
        suggested: Some("claude-sonnet-4-5"),
        catalog_id: None,
    },
    Preset {
        id: "openrouter",
        name: "OpenRouter",
        kind: OPENAI,
        base_url: "https://openrouter.ai/api/v1",
        env: &["OPENROUTER_API_KEY"],
        needs_key: true,
        local: false,
        suggested: Some("anthropic/claude-sonnet-4.5"),
        catalog_id: None,
    },
    Preset {
        id: "ollama",
        name: "Ollama (this machine)",
        kind: OPENAI,
        base_url: "http://127.0.0.1:11434/v1",
        env: &[],
        needs_key: false,
        local: true,
        suggested: None,
        catalog_id: None,
    },
    Preset {
        id: "lmstudio",
        name: "LM Studio (this machine)",
        kind: OPENAI,
        base_url: "http://127.0.0.1:1234/v1",
        env: &[],
        needs_key: false,
        local: true,
        suggested: None,
        catalog_id: None,
    },
    Preset {
        id: "vllm",
        name: "vLLM (this machine)",
        kind: OPENAI,
        base_url: "http://127.0.0.1:8000/v1",
        env: &[],
        needs_key: false,
        local: true,
        suggested: None,
        catalog_id: None,
    },
    Preset {
        id: "groq",
        name: "Groq",
        kind: OPENAI,
        base_url: "https://api.groq.com/openai/v1",
        env: &["GROQ_API_KEY"],
        needs_key: true,
        local: false,
        suggested: Some("llama-3.3-70b-versatile"),
        catalog_id: None,
    },
    Preset {
        id: "together",
        name: "Together AI",
        kind: OPENAI,
        base_url: "https://api.together.xyz/v1",
        env: &["TOGETHER_API_KEY"],
        needs_key: true,
        local: false,
        suggested: None,
        catalog_id: Some("togetherai"),
    },
    Preset {
        id: "deepseek",
        name: "DeepSeek",
        kind: OPENAI,
        base_url: "https://api.deepseek.com/v1",
        env: &["DEEPSEEK_API_KEY"],
        needs_key: true,
        local: false,
        suggested: Some("deepseek-chat"),
        catalog_id: None,
    },
    Preset {
        id: "mistral",
        name: "Mistral",
        kind: OPENAI,
        base_url: "https://api.mistral.ai/v1",
        env: &["MISTRAL_API_KEY"],
        needs_key: true,
        local: false,
        suggested: Some("mistral-small-latest"),
        catalog_id: None,
    },
    Preset {
        id: "gemini",
        name: "Google Gemini (OpenAI endpoint)",
        kind: OPENAI,
        base_url: "https://generativelanguage.googleapis.com/v1beta/openai",
        env: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        needs_key: true,
        local: false,
        suggested: Some("gemini-2.5-flash"),
        catalog_id: Some("google"),
    },
];

/// The preset named `id`.
pub(super) fn find(id: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id == id)
}

/// Every preset id, for "known presets" messages.
pub(super) fn ids() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.id).collect()
}

impl Core {
    /// Every preset, with the first of its key variables set in this core's environment
    /// (offered to the user, never used without asking).
    pub fn provider_presets(&self) -> PresetList {
        PresetList {
            presets: PRESETS
                .iter()
                .map(|p| ProviderPreset {
                    id: p.id.into(),
                    name: p.name.into(),
                    kind: p.kind.into(),
                    base_url: p.base_url.into(),
                    env: p.env.iter().map(|e| e.to_string()).collect(),
                    env_found: p
                        .env
                        .iter()
                        .find(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
                        .map(|v| v.to_string()),
                    needs_key: p.needs_key,
                    local: p.local,
                    suggested_model: p.suggested.map(str::to_string),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::is_local_url;

    #[test]
    fn presets_have_valid_ids_and_urls() {
        for p in PRESETS {
            assert!(pryx_config::is_name(p.id), "{}", p.id);
            assert!(p.base_url.starts_with("http"), "{}", p.id);
            assert_eq!(p.local, is_local_url(p.base_url), "{}", p.id);
            assert_eq!(p.needs_key, !p.env.is_empty(), "{}", p.id);
        }
    }
}
