//! Checks made before a request is sent (FR1.7): does the prompt fit, how many output tokens
//! may be asked for, and does the model take tools and images at all. Failing here is cheaper
//! and clearer than a provider's 400.

use pryx_protocol::ErrorCode;

use super::model::ModelInfo;

/// Rough token count of `text`, deliberately on the high side so limits are not overshot.
///
/// Heuristic: ASCII text averages about 4 characters per token for English and code, so ASCII
/// characters count 1/4 token each (rounded up); every non-ASCII character counts as a whole
/// token, because CJK and many other scripts tokenize at about one token per character. A 10 %
/// margin plus 4 tokens (message framing) is added on top. Exact counts need the provider's
/// tokenizer; this only has to keep requests safely inside the window.
pub fn estimate_tokens(text: &str) -> u32 {
    let (ascii, other) = text.chars().fold((0u64, 0u64), |(a, o), c| {
        if c.is_ascii() { (a + 1, o) } else { (a, o + 1) }
    });
    let base = ascii.div_ceil(4) + other;
    let with_margin = base + base.div_ceil(10) + 4;
    u32::try_from(with_margin).unwrap_or(u32::MAX)
}

/// What the model cannot take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsupported {
    Tools,
    Images,
}

/// A request that must not be sent to this model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConstraintError {
    /// The prompt alone does not fit the context (or input) limit.
    #[error(
        "the request needs about {estimated} input tokens but the model's limit is {limit}; \
         shorten the conversation or pick a model with a larger context"
    )]
    ContextExceeded { estimated: u32, limit: u32 },
    /// The model does not support a feature the request uses.
    #[error("{}", unsupported_message(*what, model))]
    Unsupported { what: Unsupported, model: String },
}

fn unsupported_message(what: Unsupported, model: &str) -> String {
    match what {
        Unsupported::Tools => format!(
            "model {model} does not support tool calls; pick a model with tool support or \
             run without tools"
        ),
        Unsupported::Images => format!(
            "model {model} does not accept images; pick a vision model or remove the images"
        ),
    }
}

impl ConstraintError {
    /// The wire error code (`LLM_CONTEXT_EXCEEDED` or `LLM_UNSUPPORTED`).
    pub fn code(&self) -> ErrorCode {
        match self {
            ConstraintError::ContextExceeded { .. } => ErrorCode::LlmContextExceeded,
            ConstraintError::Unsupported { .. } => ErrorCode::LlmUnsupported,
        }
    }
}

/// A request that passed the checks, with the output budget to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    /// `max_tokens` to send: the requested value (or the model's output limit when none was
    /// requested), capped at the output limit and at what the context leaves after the input.
    pub max_tokens: u32,
}

/// Validates a request against the model's limits and capabilities before sending it.
pub fn check_request(
    info: &ModelInfo,
    estimated_input_tokens: u32,
    wants_tools: bool,
    has_images: bool,
    requested_max_tokens: Option<u32>,
) -> Result<Checked, ConstraintError> {
    if wants_tools && !info.tool_call {
        return Err(ConstraintError::Unsupported {
            what: Unsupported::Tools,
            model: info.full_id(),
        });
    }
    if has_images && !info.supports_images() {
        return Err(ConstraintError::Unsupported {
            what: Unsupported::Images,
            model: info.full_id(),
        });
    }
    if let Some(limit) = info.input_limit
        && estimated_input_tokens > limit
    {
        return Err(ConstraintError::ContextExceeded {
            estimated: estimated_input_tokens,
            limit,
        });
    }
    // At least one output token must fit, so an input filling the whole window is too big.
    if estimated_input_tokens >= info.context {
        return Err(ConstraintError::ContextExceeded {
            estimated: estimated_input_tokens,
            limit: info.context,
        });
    }
    let left = info.context - estimated_input_tokens;
    let wanted = requested_max_tokens.unwrap_or(info.output);
    Ok(Checked {
        max_tokens: wanted.min(info.output).min(left).max(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(context: u32, output: u32) -> ModelInfo {
        let mut m = ModelInfo::unknown("p", "m");
        m.context = context;
        m.output = output;
        m
    }

    #[test]
    fn estimate_counts_ascii_by_four_with_margin() {
        assert_eq!(estimate_tokens(""), 4);
        // 400 ASCII chars → 100 + 10 % + 4
        assert_eq!(estimate_tokens(&"a".repeat(400)), 114);
        // 3 chars → ceil(3/4) = 1, +1 margin, +4
        assert_eq!(estimate_tokens("abc"), 6);
    }

    #[test]
    fn estimate_counts_non_ascii_as_whole_tokens() {
        // 10 CJK characters → 10 + 1 + 4
        assert_eq!(estimate_tokens("日本語のテキストです"), 15);
        assert!(estimate_tokens("日本語のテキストです") > estimate_tokens("abcdefghij"));
    }

    #[test]
    fn estimate_never_undercounts_plain_english() {
        let text = "The quick brown fox jumps over the lazy dog. ".repeat(50);
        // Real tokenizers give about 10 tokens per repetition.
        assert!(estimate_tokens(&text) >= 500);
    }

    #[test]
    fn fits_and_caps_at_output_limit() {
        let m = model(200_000, 64_000);
        assert_eq!(
            check_request(&m, 1_000, false, false, None),
            Ok(Checked { max_tokens: 64_000 })
        );
        assert_eq!(
            check_request(&m, 1_000, false, false, Some(100_000)).map(|c| c.max_tokens),
            Ok(64_000)
        );
        assert_eq!(
            check_request(&m, 1_000, false, false, Some(500)).map(|c| c.max_tokens),
            Ok(500)
        );
    }

    #[test]
    fn caps_at_what_the_context_leaves() {
        let m = model(8_192, 4_096);
        assert_eq!(
            check_request(&m, 6_000, false, false, Some(4_000)).map(|c| c.max_tokens),
            Ok(2_192)
        );
        assert_eq!(
            check_request(&m, 8_191, false, false, None).map(|c| c.max_tokens),
            Ok(1)
        );
    }

    #[test]
    fn over_context_is_a_typed_error_with_code() {
        let m = model(8_192, 4_096);
        let err = check_request(&m, 8_192, false, false, None).unwrap_err();
        assert_eq!(
            err,
            ConstraintError::ContextExceeded {
                estimated: 8_192,
                limit: 8_192
            }
        );
        assert_eq!(err.code().as_str(), "LLM_CONTEXT_EXCEEDED");
        assert!(err.to_string().contains("8192"));
    }

    #[test]
    fn separate_input_limit_is_enforced() {
        let mut m = model(400_000, 128_000);
        m.input_limit = Some(272_000);
        assert!(check_request(&m, 272_000, false, false, None).is_ok());
        let err = check_request(&m, 272_001, false, false, None).unwrap_err();
        assert_eq!(
            err,
            ConstraintError::ContextExceeded {
                estimated: 272_001,
                limit: 272_000
            }
        );
    }

    #[test]
    fn refuses_tools_on_models_without_tool_calls() {
        let mut m = model(8_192, 4_096);
        m.tool_call = false;
        let err = check_request(&m, 10, true, false, None).unwrap_err();
        assert_eq!(err.code().as_str(), "LLM_UNSUPPORTED");
        assert!(err.to_string().contains("does not support tool calls"));
        assert!(check_request(&m, 10, false, false, None).is_ok());
    }

    #[test]
    fn refuses_images_without_vision() {
        let mut m = model(8_192, 4_096);
        let err = check_request(&m, 10, false, true, None).unwrap_err();
        assert_eq!(
            err,
            ConstraintError::Unsupported {
                what: Unsupported::Images,
                model: "p/m".into()
            }
        );
        assert!(err.to_string().contains("does not accept images"));
        m.attachment = true;
        m.modalities.input = vec!["text".into(), "image".into()];
        assert!(check_request(&m, 10, false, true, None).is_ok());
    }
}
