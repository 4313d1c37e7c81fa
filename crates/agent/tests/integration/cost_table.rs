#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What a call costs, per wire format, from the usage the provider reports to the cost stored
//! on the message and in the spend ledger: cache reads and writes and reasoning tokens included,
//! at the providers' published prices (USD per million tokens).

use crate::common;

use common::*;
use pryx_catalog::Catalog;
use pryx_llm::{ProviderKind, ProviderSettings};
use pryx_testkit::{ScriptedLlm, ScriptedUsage, Turn};
use tokio_util::sync::CancellationToken;

struct Case {
    kind: ProviderKind,
    model: &'static str,
    usage: ScriptedUsage,
    /// From the published prices, by hand.
    expected_usd: f64,
}

fn usage(
    input: u64,
    cache_read: u64,
    cache_write: u64,
    output: u64,
    reasoning: u64,
) -> ScriptedUsage {
    ScriptedUsage {
        input_tokens: input,
        output_tokens: output,
        cache_read_tokens: cache_read,
        cache_write_tokens: cache_write,
        reasoning_tokens: reasoning,
    }
}

#[tokio::test]
async fn each_wire_format_costs_what_the_published_prices_say() {
    let cases = [
        // OpenAI Chat Completions: `prompt_tokens` includes the cached ones.
        // gpt-4o: $2.50 input, $1.25 cached input, $10 output.
        Case {
            kind: ProviderKind::OpenAiCompatible,
            model: "openai/gpt-4o",
            usage: usage(1_000, 4_000, 0, 500, 0),
            expected_usd: (1_000.0 * 2.5 + 4_000.0 * 1.25 + 500.0 * 10.0) / 1e6,
        },
        // Reasoning tokens are part of the output and billed as output.
        // o3-mini: $1.10 input, $4.40 output.
        Case {
            kind: ProviderKind::OpenAiCompatible,
            model: "openai/o3-mini",
            usage: usage(2_000, 0, 0, 3_000, 2_500),
            expected_usd: (2_000.0 * 1.1 + 3_000.0 * 4.4) / 1e6,
        },
        // Anthropic Messages: input, cache reads and cache writes are reported apart.
        // claude-sonnet-4-5: $3 input, $0.30 cache read, $3.75 cache write, $15 output.
        Case {
            kind: ProviderKind::Anthropic,
            model: "anthropic/claude-sonnet-4-5",
            usage: usage(1_000, 10_000, 2_000, 800, 0),
            expected_usd: (1_000.0 * 3.0 + 10_000.0 * 0.3 + 2_000.0 * 3.75 + 800.0 * 15.0) / 1e6,
        },
    ];
    for case in cases {
        let server = ScriptedLlm::start().await;
        let mut r = rig(&server, workspace_only(), false);
        let provider = case.model.split('/').next().unwrap();
        let settings = ProviderSettings::new(provider, case.kind, server.base_url());
        r.tune(|p| {
            p.provider = pryx_llm::build_provider(settings).unwrap();
            p.model = Catalog::bundled().unwrap().resolve(case.model).info;
        });
        server.push(Turn::text("priced").with_usage(case.usage));
        let report = r
            .agent
            .run_turn(&r.session, "how much?", CancellationToken::new())
            .await
            .unwrap();
        let within = |got: f64| (got - case.expected_usd).abs() <= case.expected_usd * 1e-9;
        assert!(
            within(report.cost_usd),
            "{}: {} != {}",
            case.model,
            report.cost_usd,
            case.expected_usd
        );
        let stored = r.agent.store().list_messages(&r.session).unwrap();
        let answer = stored.last().unwrap();
        assert!(
            within(answer.usage.cost_usd.unwrap()),
            "{}: {:?}",
            case.model,
            answer.usage
        );
        assert_eq!(answer.model.as_deref(), Some(case.model));
        let ledger = r
            .agent
            .store()
            .spent_since("2000-01-01T00:00:00", None)
            .unwrap();
        assert!(within(ledger), "{}: ledger {ledger}", case.model);
        let session = r.agent.store().get_session(&r.session).unwrap().unwrap();
        assert!(within(session.total_cost_usd), "{}", case.model);
        assert_eq!(
            session.total_tokens_in,
            case.usage.input_tokens + case.usage.cache_read_tokens + case.usage.cache_write_tokens,
            "{}: every input token counts",
            case.model
        );
    }
}
