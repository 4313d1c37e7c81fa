//! Redaction of secrets from tool arguments and results before they reach the audit log or a trace.

use regex::Regex;
use serde_json::Value;
use std::sync::OnceLock;

const MASK: &str = "***";

/// Object keys whose values are always masked.
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['-', '_'], "");
    [
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "authorization",
        "cookie",
        "credential",
        "privatekey",
    ]
    .iter()
    .any(|s| k.contains(s))
}

fn patterns() -> &'static [Regex] {
    static P: OnceLock<Vec<Regex>> = OnceLock::new();
    P.get_or_init(|| {
        [
            r"sk-[A-Za-z0-9_\-]{16,}",
            r"gh[pousr]_[A-Za-z0-9]{20,}",
            r"xox[abprs]-[A-Za-z0-9\-]{10,}",
            r"AKIA[0-9A-Z]{16}",
            r"(?i)bearer\s+[A-Za-z0-9._\-]{12,}",
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
        ]
        .iter()
        .filter_map(|p| Regex::new(p).ok())
        .collect()
    })
}

/// Masks well-known secret shapes and any of `known` (secret values in use, e.g. API keys) in text.
pub fn redact_text(text: &str, known: &[String]) -> String {
    let mut out = text.to_string();
    for k in known.iter().filter(|k| k.len() >= 6) {
        if out.contains(k.as_str()) {
            out = out.replace(k.as_str(), MASK);
        }
    }
    for re in patterns() {
        if re.is_match(&out) {
            out = re.replace_all(&out, MASK).into_owned();
        }
    }
    out
}

/// Redacts a JSON value: secret-named keys are masked whole, strings are scanned for secrets.
pub fn redact_json(value: &Value, known: &[String]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_secret_key(k) && !v.is_null() {
                        Value::String(MASK.into())
                    } else {
                        redact_json(v, known)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| redact_json(v, known)).collect()),
        Value::String(s) => Value::String(redact_text(s, known)),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_keys_patterns_and_known_values() {
        let v = json!({
            "url": "https://x.test",
            "headers": {"Authorization": "Bearer abcdefghijklmnop", "X-Api-Key": "k"},
            "command": "curl -H 'x: sk-abcdefghijklmnopqrstu' https://x.test && echo hunter2-planted",
        });
        let r = redact_json(&v, &["hunter2-planted".to_string()]);
        let s = r.to_string();
        assert!(!s.contains("abcdefghijklmnop"));
        assert!(!s.contains("sk-abc"));
        assert!(!s.contains("hunter2-planted"));
        assert_eq!(r["headers"]["X-Api-Key"], "***");
        assert_eq!(r["url"], "https://x.test");
    }
}
