//! Heuristic for "this string looks like a credential", used to mask displays and to refuse
//! literal keys with a helpful message.

const PREFIXES: &[&str] = &[
    "sk-",
    "sk_",
    "pk_",
    "rk_",
    "ghp_",
    "gho_",
    "ghs_",
    "github_pat_",
    "xoxb-",
    "xoxp-",
    "xapp-",
    "AKIA",
    "AIza",
    "glpat-",
    "hf_",
    "Bearer ",
    "bearer ",
    "Basic ",
];

/// True if `s` is probably a key or token rather than an ordinary setting.
pub fn looks_like_secret(s: &str) -> bool {
    if s.starts_with("secret:") || s.starts_with("env:") {
        return false;
    }
    if PREFIXES.iter().any(|p| s.starts_with(p)) && s.len() >= 8 {
        return true;
    }
    // Long unbroken runs mixing letters and digits (random tokens), but not URLs or paths.
    s.len() >= 24
        && !s.contains(['/', ' ', ':'])
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars().any(|c| c.is_ascii_alphabetic())
}

/// True if a map key (header or env var name) suggests its value is a credential.
pub fn sensitive_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["auth", "key", "token", "secret", "password", "cookie"]
        .iter()
        .any(|w| k.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_keys_not_settings() {
        assert!(looks_like_secret("sk-proj-abcdef123456"));
        assert!(looks_like_secret("a1b2c3d4e5f6a7b8c9d0e1f2a3b4"));
        assert!(!looks_like_secret("secret:OPENAI"));
        assert!(!looks_like_secret("https://api.openai.com/v1"));
        assert!(!looks_like_secret("workspace-only"));
        assert!(!looks_like_secret("anthropic/claude-sonnet-4-20250514"));
        assert!(sensitive_key("Authorization"));
        assert!(sensitive_key("X-Api-Key"));
        assert!(!sensitive_key("HTTP-Referer"));
    }
}
