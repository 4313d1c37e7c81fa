//! Cost of a model call in USD from token counts and catalog prices (USD per million tokens).
//!
//! Rule: in [`TokenUsage`], `input` counts only the *uncached* input tokens; cache reads and
//! cache writes are separate. Providers report this differently, so build the struct with
//! [`TokenUsage::from_openai`] (whose `prompt_tokens` include cached tokens) or
//! [`TokenUsage::from_anthropic`] (whose `input_tokens` exclude cache reads and writes).
//! `output` includes reasoning tokens, as both APIs report and bill them; `reasoning` is the
//! part of `output` spent thinking and is priced apart only when the model has its own
//! reasoning price.

use serde::{Deserialize, Serialize};

use super::model::ModelInfo;

const PER_MILLION: f64 = 1_000_000.0;

/// Token counts of one call (or a sum of calls). See the module docs for what `input` means.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    /// Uncached input tokens.
    pub input: u64,
    /// Output tokens, reasoning included.
    pub output: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read: u64,
    /// Input tokens written to the prompt cache.
    pub cache_write: u64,
    /// Part of `output` spent on reasoning.
    pub reasoning: u64,
}

impl TokenUsage {
    /// From OpenAI-style counts: `prompt_tokens` includes `cached_tokens`
    /// (`prompt_tokens_details.cached_tokens`), `completion_tokens` includes `reasoning_tokens`.
    pub fn from_openai(prompt: u64, completion: u64, cached: u64, reasoning: u64) -> Self {
        Self {
            input: prompt.saturating_sub(cached),
            output: completion,
            cache_read: cached.min(prompt),
            cache_write: 0,
            reasoning: reasoning.min(completion),
        }
    }

    /// From Anthropic-style counts: `input_tokens` excludes `cache_read_input_tokens` and
    /// `cache_creation_input_tokens`; thinking tokens are part of `output_tokens`.
    pub fn from_anthropic(input: u64, output: u64, cache_read: u64, cache_creation: u64) -> Self {
        Self {
            input,
            output,
            cache_read,
            cache_write: cache_creation,
            reasoning: 0,
        }
    }

    /// All input tokens the model saw (uncached + cache reads + cache writes).
    pub fn total_input(&self) -> u64 {
        self.input
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_write)
    }

    /// Adds another call's counts (for per-turn or per-session totals).
    pub fn add(&mut self, other: &TokenUsage) {
        self.input = self.input.saturating_add(other.input);
        self.output = self.output.saturating_add(other.output);
        self.cache_read = self.cache_read.saturating_add(other.cache_read);
        self.cache_write = self.cache_write.saturating_add(other.cache_write);
        self.reasoning = self.reasoning.saturating_add(other.reasoning);
    }
}

/// Cost split by token kind, in USD. `known` is false when the model has no prices (all 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CostBreakdown {
    pub input: f64,
    pub output: f64,
    pub cache_read: f64,
    pub cache_write: f64,
    pub total: f64,
    pub known: bool,
}

/// Cost of `usage` on `info`, split by token kind. Cache reads and writes without their own
/// price are billed at the input price; reasoning tokens at the reasoning price if the model
/// has one, else as output.
pub fn cost_breakdown(info: &ModelInfo, usage: &TokenUsage) -> CostBreakdown {
    let c = &info.cost;
    if !c.known {
        return CostBreakdown::default();
    }
    // Multiply first, divide once: whole token counts times prices stay exact far longer.
    let part = |tokens: u64, price: f64| tokens as f64 * price / PER_MILLION;
    let output = match c.reasoning {
        Some(rp) => {
            let reasoning = usage.reasoning.min(usage.output);
            ((usage.output - reasoning) as f64 * c.output + reasoning as f64 * rp) / PER_MILLION
        }
        None => part(usage.output, c.output),
    };
    let input = part(usage.input, c.input);
    let cache_read = part(usage.cache_read, c.cache_read.unwrap_or(c.input));
    let cache_write = part(usage.cache_write, c.cache_write.unwrap_or(c.input));
    CostBreakdown {
        input,
        output,
        cache_read,
        cache_write,
        total: input + output + cache_read + cache_write,
        known: true,
    }
}

/// Total cost in USD of `usage` on `info`; 0 when the model's prices are unknown (check
/// `info.cost.known` before showing it as a figure).
pub fn cost_usd(info: &ModelInfo, usage: &TokenUsage) -> f64 {
    cost_breakdown(info, usage).total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cost;

    fn priced(
        input: f64,
        output: f64,
        cache_read: Option<f64>,
        cache_write: Option<f64>,
    ) -> ModelInfo {
        let mut m = ModelInfo::unknown("p", "m");
        m.cost = Cost {
            input,
            output,
            cache_read,
            cache_write,
            reasoning: None,
            known: true,
        };
        m
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn input_only_is_exact() {
        let m = priced(3.0, 15.0, None, None);
        let u = TokenUsage {
            input: 1_234,
            ..Default::default()
        };
        assert_eq!(cost_usd(&m, &u), 0.003702);
    }

    #[test]
    fn output_only_is_exact() {
        let m = priced(3.0, 15.0, None, None);
        let u = TokenUsage {
            output: 2_000,
            ..Default::default()
        };
        assert_eq!(cost_usd(&m, &u), 0.03);
    }

    #[test]
    fn anthropic_usage_with_cache_read_and_write() {
        // Sonnet-like prices: $3 in, $15 out, $0.30 cache read, $3.75 cache write.
        let m = priced(3.0, 15.0, Some(0.3), Some(3.75));
        let u = TokenUsage::from_anthropic(1_000, 500, 10_000, 2_000);
        let b = cost_breakdown(&m, &u);
        assert!(close(b.input, 0.003));
        assert!(close(b.output, 0.0075));
        assert!(close(b.cache_read, 0.003));
        assert!(close(b.cache_write, 0.0075));
        assert!(close(b.total, 0.021));
        assert!(b.known);
        assert_eq!(u.total_input(), 13_000);
    }

    #[test]
    fn openai_usage_subtracts_cached_from_prompt() {
        // $2.50 in, $10 out, $1.25 cached; 10,000 prompt tokens of which 8,000 cached.
        let m = priced(2.5, 10.0, Some(1.25), None);
        let u = TokenUsage::from_openai(10_000, 1_000, 8_000, 400);
        assert_eq!(
            (u.input, u.cache_read, u.output, u.reasoning),
            (2_000, 8_000, 1_000, 400)
        );
        let b = cost_breakdown(&m, &u);
        assert!(close(b.input, 0.005));
        assert!(close(b.cache_read, 0.01));
        assert!(close(b.output, 0.01));
        assert!(close(b.total, 0.025));
    }

    #[test]
    fn openai_constructor_never_underflows() {
        let u = TokenUsage::from_openai(100, 10, 500, 50);
        assert_eq!((u.input, u.cache_read, u.reasoning), (0, 100, 10));
    }

    #[test]
    fn cache_without_own_price_costs_input_price() {
        let m = priced(2.0, 8.0, None, None);
        let u = TokenUsage {
            cache_read: 500_000,
            cache_write: 250_000,
            ..Default::default()
        };
        let b = cost_breakdown(&m, &u);
        assert_eq!(b.cache_read, 1.0);
        assert_eq!(b.cache_write, 0.5);
        assert_eq!(b.total, 1.5);
    }

    #[test]
    fn separate_reasoning_price_applies_to_reasoning_share_only() {
        let mut m = priced(1.0, 4.0, None, None);
        m.cost.reasoning = Some(10.0);
        let u = TokenUsage {
            output: 1_000,
            reasoning: 300,
            ..Default::default()
        };
        // 700 × $4/M + 300 × $10/M = 0.0028 + 0.003
        assert!(close(cost_usd(&m, &u), 0.0058));
        // Without a reasoning price all output is billed at the output price.
        m.cost.reasoning = None;
        assert!(close(cost_usd(&m, &u), 0.004));
    }

    #[test]
    fn unknown_prices_cost_zero_and_say_so() {
        let m = ModelInfo::unknown("p", "m");
        let u = TokenUsage {
            input: 1_000_000,
            output: 1_000_000,
            ..Default::default()
        };
        let b = cost_breakdown(&m, &u);
        assert_eq!(b.total, 0.0);
        assert!(!b.known);
    }

    #[test]
    fn fractional_prices_and_large_counts() {
        // $0.0043/M for 123,456,789 tokens = 0.5308641927
        let m = priced(0.0043, 0.0, None, None);
        let u = TokenUsage {
            input: 123_456_789,
            ..Default::default()
        };
        assert!(close(cost_usd(&m, &u), 0.530_864_192_7));
        // A million tokens at a price costs exactly that price.
        let m = priced(0.132, 1.254, None, None);
        let u = TokenUsage {
            input: 1_000_000,
            output: 1_000_000,
            ..Default::default()
        };
        assert_eq!(cost_usd(&m, &u), 0.132 + 1.254);
    }

    #[test]
    fn usage_adds_up() {
        let mut total = TokenUsage::from_anthropic(10, 20, 30, 40);
        total.add(&TokenUsage::from_openai(100, 50, 60, 5));
        assert_eq!(
            total,
            TokenUsage {
                input: 50,
                output: 70,
                cache_read: 90,
                cache_write: 40,
                reasoning: 5
            }
        );
    }
}
