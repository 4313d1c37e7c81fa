//! The one scrub applied to every string that leaves through the exporter: known secret
//! values first (by name), then personal data and secret-shaped tokens by pattern.

use pryx_telemetry::{Redactor, redact_pii};

/// Longest string attribute or log body sent; longer ones are cut (after redaction).
pub const MAX_TEXT: usize = 512;

pub fn scrub(redactor: &Redactor, text: &str) -> String {
    let known = redactor.text(text);
    let clean = redact_pii(&known);
    cut(&clean, MAX_TEXT)
}

fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use pryx_telemetry::KnownSecret;

    #[test]
    fn known_secrets_and_personal_data_are_replaced_and_long_text_is_cut() {
        let r = Redactor::named([KnownSecret::new("otel", "tok-9f8e7d6c5b4a")]);
        let out = scrub(&r, "auth tok-9f8e7d6c5b4a for ada@example.com at 10.1.2.3");
        assert!(!out.contains("tok-9f8e7d6c5b4a"), "{out}");
        assert!(!out.contains("ada@example.com"), "{out}");
        assert!(!out.contains("10.1.2.3"), "{out}");
        let long = scrub(&r, &"é".repeat(600));
        assert!(long.len() <= MAX_TEXT + '…'.len_utf8(), "{}", long.len());
    }
}
