//! Turning provider error answers (HTTP status + body, or an error inside a stream) into `LlmError`.

use std::time::Duration;

use crate::error::LlmError;

/// Longest provider message kept in an error.
const MAX_MESSAGE: usize = 400;

/// Most bytes of a non-success answer's body that are read. Real error bodies are a few hundred
/// bytes; the rest of a larger one is never read, so a broken or hostile server cannot make the
/// client buffer an arbitrarily large body just to classify an error.
pub const MAX_ERROR_BODY: usize = 64 * 1024;

/// Phrases providers use when the prompt does not fit the model's context window.
const CONTEXT_PHRASES: &[&str] = &[
    "context length",
    "context_length",
    "context window",
    "maximum context",
    "prompt is too long",
    "too many tokens",
    "reduce the length",
    "exceeds the context",
    "input is too long",
];

/// True when a provider message says the prompt is too long.
pub fn is_context_exceeded(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    CONTEXT_PHRASES.iter().any(|p| lower.contains(p))
}

/// Pulls a human message and an error type out of an OpenAI- or Anthropic-style error body.
pub fn extract_message(body: &str) -> (String, String) {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let err = parsed.as_ref().map(|v| v.get("error").unwrap_or(v));
    let message = err
        .and_then(|e| {
            e.get("message")
                .and_then(|m| m.as_str())
                .or_else(|| e.as_str())
        })
        .map(str::to_string)
        .or_else(|| parsed.is_none().then(|| cut_message(body)).flatten())
        .unwrap_or_else(|| body.trim().to_string());
    let kind = err
        .and_then(|e| e.get("type").or_else(|| e.get("code")))
        .map(|t| match t {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default();
    (message, kind)
}

/// The `"message"` string of a JSON body that does not parse, typically because it was cut at
/// [`MAX_ERROR_BODY`]: decoded up to its closing quote, or as far as the body goes.
fn cut_message(body: &str) -> Option<String> {
    const KEY: &str = "\"message\"";
    let at = body.find(KEY)? + KEY.len();
    let rest = body[at..].trim_start().strip_prefix(':')?.trim_start();
    let mut chars = rest.strip_prefix('"')?.chars();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('b' | 'f') => out.push(' '),
                Some('u') => {
                    let hex: String = chars.by_ref().take(4).collect();
                    let decoded = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                    out.push(decoded.unwrap_or(char::REPLACEMENT_CHARACTER));
                }
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    Some(out)
}

/// Cuts a message to a sane length and removes the API key should the provider echo it.
pub fn sanitize(message: &str, api_key: Option<&str>) -> String {
    let mut m = message.to_string();
    if let Some(key) = api_key.filter(|k| k.len() >= 4) {
        m = m.replace(key, "***");
    }
    if m.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !m.is_char_boundary(cut) {
            cut -= 1;
        }
        m.truncate(cut);
        m.push('…');
    }
    if m.is_empty() {
        "no details given".to_string()
    } else {
        m
    }
}

/// Parses `Retry-After` (seconds) or OpenAI's `retry-after-ms`.
pub fn parse_retry_after(
    retry_after: Option<&str>,
    retry_after_ms: Option<&str>,
) -> Option<Duration> {
    if let Some(ms) = retry_after_ms
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
    {
        return Some(Duration::from_millis(ms as u64));
    }
    retry_after
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0 && *v < 1e9)
        .map(Duration::from_secs_f64)
}

/// Classifies a non-success HTTP answer.
pub fn from_status(
    provider: &str,
    status: u16,
    body: &str,
    retry_after: Option<Duration>,
    api_key: Option<&str>,
) -> LlmError {
    let (raw, kind) = extract_message(body);
    let message = sanitize(&raw, api_key);
    let provider = provider.to_string();
    if is_context_exceeded(&raw) || kind.contains("context_length") || status == 413 {
        return LlmError::ContextExceeded { message };
    }
    match status {
        401 | 403 => LlmError::Auth {
            provider,
            status,
            message,
        },
        429 => LlmError::RateLimited {
            provider,
            retry_after,
            message,
        },
        408 | 409 | 500..=599 => LlmError::Server {
            provider,
            status,
            message,
        },
        _ => LlmError::BadRequest {
            provider,
            status,
            message,
        },
    }
}

/// Classifies an error object that arrived inside a stream (`kind` is its type or code).
pub fn from_stream_error(
    provider: &str,
    kind: &str,
    raw_message: &str,
    api_key: Option<&str>,
) -> LlmError {
    let message = sanitize(raw_message, api_key);
    let provider = provider.to_string();
    let k = kind.to_ascii_lowercase();
    if is_context_exceeded(raw_message) || k.contains("context_length") {
        return LlmError::ContextExceeded { message };
    }
    if let Some(status) = k.parse::<u16>().ok().filter(|s| (400..600).contains(s)) {
        let body = serde_json::json!({"error": {"message": raw_message}}).to_string();
        return from_status(&provider, status, &body, None, api_key);
    }
    if k.contains("rate_limit") || k.contains("rate-limit") {
        LlmError::RateLimited {
            provider,
            retry_after: None,
            message,
        }
    } else if k.contains("auth") || k.contains("permission") || k.contains("api_key") {
        LlmError::Auth {
            provider,
            status: 0,
            message,
        }
    } else if k.contains("invalid_request") || k.contains("not_found") || k.contains("bad_request")
    {
        LlmError::BadRequest {
            provider,
            status: 0,
            message,
        }
    } else {
        LlmError::Server {
            provider,
            status: 0,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pryx_protocol::ErrorCode;

    #[test]
    fn statuses_map_to_codes() {
        let body = r#"{"error":{"message":"nope","type":"x"}}"#;
        let code = |s| from_status("p", s, body, None, None).code();
        assert_eq!(code(401), ErrorCode::LlmAuth);
        assert_eq!(code(403), ErrorCode::LlmAuth);
        assert_eq!(code(429), ErrorCode::LlmRateLimited);
        assert_eq!(code(400), ErrorCode::LlmBadRequest);
        assert_eq!(code(404), ErrorCode::LlmBadRequest);
        assert_eq!(code(500), ErrorCode::LlmServer);
        assert_eq!(code(529), ErrorCode::LlmServer);
        assert_eq!(code(413), ErrorCode::LlmContextExceeded);
    }

    #[test]
    fn context_errors_are_detected_from_both_providers() {
        let openai = r#"{"error":{"message":"This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.","type":"invalid_request_error","code":"context_length_exceeded"}}"#;
        let anthropic = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#;
        assert_eq!(
            from_status("p", 400, openai, None, None).code(),
            ErrorCode::LlmContextExceeded
        );
        assert_eq!(
            from_status("p", 400, anthropic, None, None).code(),
            ErrorCode::LlmContextExceeded
        );
    }

    #[test]
    fn rate_limit_carries_retry_after_ms() {
        let after = parse_retry_after(Some("7"), None);
        let err = from_status("p", 429, "slow down", after, None);
        assert_eq!(err.retry_after_ms(), Some(7000));
        assert_eq!(err.details()["retry_after_ms"], 7000);
        assert_eq!(
            parse_retry_after(Some("3"), Some("250")),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            parse_retry_after(Some("Wed, 21 Oct 2015 07:28:00 GMT"), None),
            None
        );
    }

    #[test]
    fn api_keys_never_survive_into_messages() {
        let body = r#"{"error":{"message":"Incorrect API key provided: sk-secret-123"}}"#;
        let err = from_status("p", 401, body, None, Some("sk-secret-123"));
        assert!(!err.to_string().contains("sk-secret-123"), "{err}");
        assert!(err.to_string().contains("check the key"));
    }

    #[test]
    fn stream_errors_are_classified() {
        assert_eq!(
            from_stream_error("p", "overloaded_error", "Overloaded", None).code(),
            ErrorCode::LlmServer
        );
        assert_eq!(
            from_stream_error("p", "rate_limit_error", "slow", None).code(),
            ErrorCode::LlmRateLimited
        );
        assert_eq!(
            from_stream_error("p", "429", "slow", None).code(),
            ErrorCode::LlmRateLimited
        );
        assert_eq!(
            from_stream_error("p", "invalid_request_error", "bad", None).code(),
            ErrorCode::LlmBadRequest
        );
        assert_eq!(
            from_stream_error("p", "", "maximum context length exceeded", None).code(),
            ErrorCode::LlmContextExceeded
        );
    }

    #[test]
    fn a_json_body_cut_short_still_yields_its_message_and_class() {
        let mut body =
            r#"{"error":{"message":"This model's maximum context length is 8192 tokens \"really\" \u00e9"#
                .to_string();
        body.push_str(&"x".repeat(MAX_ERROR_BODY));
        let err = from_status("p", 400, &body, None, None);
        assert_eq!(err.code(), ErrorCode::LlmContextExceeded);
        let text = err.to_string();
        assert!(
            text.contains("maximum context length is 8192 tokens \"really\" é"),
            "{text}"
        );
        assert!(!text.contains("{\"error\""), "{text}");
        assert!(text.len() < 700, "{}", text.len());
        let (message, _) = extract_message(r#"{"type":"error","error":{"message":"overloaded"#);
        assert_eq!(message, "overloaded");
        let (message, _) = extract_message("<html>bad gateway</html>");
        assert_eq!(message, "<html>bad gateway</html>");
    }

    #[test]
    fn long_bodies_are_cut() {
        let body = "x".repeat(5000);
        let err = from_status("p", 500, &body, None, None);
        assert!(err.to_string().len() < 700);
    }
}
