#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Model fallbacks and budgets, in process against scripted model servers: a primary that keeps
//! failing hands over to the next model (the event and the span say so), a bad key or a failure
//! after output was shown does not; budgets stop a turn before the call that would pass them,
//! counting that call at its worst case, and warn at 80 %.

use crate::common;

use common::*;
use pryx_agent::{Budgets, ModelChoice, TurnStop};
use pryx_catalog::Catalog;
use pryx_llm::{ProviderKind, ProviderSettings, RetryPolicy};
use pryx_protocol::{ErrorCode, Event, EventPayload, TurnEnd};
use pryx_store::{CallCost, SpanKind};
use pryx_testkit::{ScriptedLlm, ScriptedUsage, Turn};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A client of `server` as provider `id`, retrying quickly (the retries are what is tested,
/// not their backoff).
fn quick(id: &str, server: &ScriptedLlm) -> Arc<dyn pryx_llm::Provider> {
    let settings = ProviderSettings::new(id, ProviderKind::OpenAiCompatible, server.base_url());
    let policy = RetryPolicy {
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..RetryPolicy::default()
    };
    pryx_llm::build_provider_with(settings, policy).unwrap()
}

fn model(provider: &str, id: &str) -> pryx_catalog::ModelInfo {
    let mut info = Catalog::bundled().unwrap().resolve(id).info;
    info.provider = provider.into();
    info
}

/// A rig whose primary is `primary` (as `mock/gpt-4o`) with `backup` as its fallback
/// (`backup/gpt-4o-mini`).
fn with_fallback(primary: &ScriptedLlm, backup: &ScriptedLlm) -> Rig {
    let mut r = rig(primary, workspace_only(), false);
    r.tune(|p| {
        p.provider = quick("mock", primary);
        p.fallbacks = vec![ModelChoice {
            provider: quick("backup", backup),
            model: model("backup", "openai/gpt-4o-mini"),
        }];
    });
    r
}

fn drain(r: &mut Rig) -> Vec<Event> {
    let mut out = Vec::new();
    while let Ok(e) = r.events.try_recv() {
        out.push(e);
    }
    out
}

/// Runs one turn that must not fail.
async fn turn(r: &Rig, prompt: &str) -> pryx_agent::TurnReport {
    r.agent
        .run_turn(&r.session, prompt, CancellationToken::new())
        .await
        .unwrap()
}

fn usage(input_tokens: u64) -> ScriptedUsage {
    ScriptedUsage {
        input_tokens,
        output_tokens: 0,
        cache_read_tokens: 0,
        cache_write_tokens: 0,
        reasoning_tokens: 0,
    }
}

#[tokio::test]
async fn a_primary_failing_after_its_retries_hands_over_to_the_fallback() {
    let (primary, backup) = (ScriptedLlm::start().await, ScriptedLlm::start().await);
    let mut r = with_fallback(&primary, &backup);
    // The first try and its three retries.
    primary.push_all((0..4).map(|_| Turn::server_error()));
    backup.push(Turn::text("from the backup"));
    let report = turn(&r, "hello").await;
    assert_eq!(report.stop, TurnStop::Completed);
    assert_eq!(report.answer, "from the backup");
    assert_eq!(primary.requests().len(), 4);
    assert_eq!(backup.requests().len(), 1);

    let events = drain(&mut r);
    let fallback = events
        .iter()
        .find_map(|e| match &e.payload {
            EventPayload::ModelFallback(f) => Some(f.clone()),
            _ => None,
        })
        .expect("a model.fallback event");
    assert_eq!(
        (fallback.from.as_str(), fallback.to.as_str(), fallback.code),
        ("mock/gpt-4o", "backup/gpt-4o-mini", ErrorCode::LlmServer)
    );
    assert!(fallback.message.contains("500"), "{}", fallback.message);
    let stored = r.agent.store().events_since(&r.session, 0, 100).unwrap();
    assert!(
        stored
            .iter()
            .any(|e| matches!(e.payload, EventPayload::ModelFallback(_))),
        "the fallback is recorded for replay"
    );

    let spans = r.agent.store().list_spans(&r.session).unwrap();
    let calls: Vec<_> = spans
        .iter()
        .filter(|s| s.kind == SpanKind::ModelCall)
        .collect();
    assert_eq!(calls.len(), 2, "{calls:#?}");
    assert_eq!(calls[0].name, "mock/gpt-4o");
    assert_eq!(calls[1].name, "backup/gpt-4o-mini");
    assert_eq!(calls[1].attributes["fallback_from"], "mock/gpt-4o");
    assert_eq!(calls[1].attributes["fallback_reason"], "LLM_SERVER");
    let messages = r.agent.store().list_messages(&r.session).unwrap();
    assert_eq!(
        messages.last().unwrap().model.as_deref(),
        Some("backup/gpt-4o-mini"),
        "the answer says which model gave it"
    );

    // The next turn starts on the primary again.
    primary.push(Turn::text("primary is back"));
    let report = turn(&r, "again").await;
    assert_eq!(report.answer, "primary is back");
}

#[tokio::test]
async fn a_bad_key_or_a_failure_after_output_does_not_fall_back() {
    let (primary, backup) = (ScriptedLlm::start().await, ScriptedLlm::start().await);
    let mut r = with_fallback(&primary, &backup);
    primary.push(Turn::status(401, None, "invalid api key"));
    let err = r
        .agent
        .run_turn(&r.session, "one", CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::LlmAuth);

    primary.push(Turn::cut_mid_stream("half an answer that is cut"));
    let err = r
        .agent
        .run_turn(&r.session, "two", CancellationToken::new())
        .await
        .unwrap_err();
    assert_ne!(err.code(), ErrorCode::LlmAuth, "{err}");
    assert!(backup.requests().is_empty(), "the backup was never asked");
    assert!(
        !drain(&mut r)
            .iter()
            .any(|e| matches!(e.payload, EventPayload::ModelFallback(_)))
    );
}

#[tokio::test]
async fn a_conversation_too_large_for_the_primary_goes_to_a_fallback_that_takes_it() {
    let (primary, backup) = (ScriptedLlm::start().await, ScriptedLlm::start().await);
    let mut r = with_fallback(&primary, &backup);
    primary.push(Turn::text("noted"));
    turn(&r, &"word ".repeat(4_000)).await;
    // Now the primary's window takes a short message, but not with that history.
    let specs = common::tool_specs(&r.agent);
    let base = pryx_catalog::estimate_tokens(&format!(
        "{}{}",
        pryx_agent::prompt::system_prompt(r.agent.workspace()),
        serde_json::to_string(&specs).unwrap()
    ));
    // Compaction (which would summarise first) is off here: this is about handing over.
    r.tune(|p| {
        p.model.context = base + 2_000;
        p.settings.context.compact_at = f64::INFINITY;
    });
    backup.push(Turn::text("fits here"));
    let report = turn(&r, "and now?").await;
    assert_eq!(report.answer, "fits here");
    assert_eq!(
        primary.requests().len(),
        1,
        "never sent what it cannot take"
    );
    let fallback = drain(&mut r)
        .into_iter()
        .find_map(|e| match e.payload {
            EventPayload::ModelFallback(f) => Some(f),
            _ => None,
        })
        .expect("a model.fallback event");
    assert_eq!(fallback.code, ErrorCode::LlmContextExceeded);
}

#[tokio::test]
async fn the_session_budget_stops_before_the_call_that_could_pass_it() {
    let server = ScriptedLlm::start().await;
    let mut r = rig(&server, workspace_only(), false);
    // gpt-4o at its full output cap could cost ~$0.17 a call: a cent is not enough to start.
    r.tune(|p| p.settings.budgets.session = Some(0.01));
    let report = turn(&r, "spend").await;
    assert_eq!(report.stop, TurnStop::BudgetExceeded);
    assert!(server.requests().is_empty(), "stopped before the call");
    let why = report.stop_reason.unwrap();
    assert!(why.contains("session budget of $0.01"), "{why}");
    assert!(why.contains("agent.session_budget_usd"), "{why}");
    let end = drain(&mut r)
        .into_iter()
        .find_map(|e| match e.payload {
            EventPayload::TurnCompleted(end) => Some(end),
            _ => None,
        })
        .unwrap();
    assert!(
        matches!(&end, TurnEnd::BudgetExceeded { message, .. } if message.contains("session budget")),
        "{end:?}"
    );

    // With a small output cap the first call fits; what it spends leaves no room for the next.
    r.tune(|p| {
        p.settings.max_tokens = Some(100);
        p.settings.budgets.session = Some(0.10);
    });
    server.push_all([
        Turn::tool_calls([call("a", "fs.list", json!({}))]).with_usage(usage(100_000)),
        Turn::text("unreachable"),
    ]);
    let report = turn(&r, "spend").await;
    assert_eq!(report.stop, TurnStop::BudgetExceeded);
    assert!((report.cost_usd - 0.25).abs() < 1e-9, "{}", report.cost_usd);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn daily_budgets_count_every_session_and_warn_at_80_percent() {
    let server = ScriptedLlm::start().await;
    let mut r = rig(&server, workspace_only(), false);
    r.tune(|p| {
        p.settings.max_tokens = Some(100);
        p.settings.budgets = Budgets {
            agent_daily: Some(1.0),
            daily: Some(5.0),
            ..Budgets::default()
        };
    });
    let store = r.agent.store().clone();
    let other = store
        .create_session(&pryx_store::NewSession::default())
        .unwrap();
    let spend = |cost_usd: f64, agent: &str| {
        store
            .record_call_cost(&CallCost {
                session_id: other.id.clone(),
                agent: agent.into(),
                model: "mock/gpt-4o".into(),
                tokens_in: 1,
                tokens_out: 1,
                cost_usd,
            })
            .unwrap()
    };
    // Another agent's spend counts for the day, not for this agent's own daily budget.
    spend(3.0, "coder");
    spend(0.85, "main");
    server.push(Turn::text("still fine"));
    let report = turn(&r, "one").await;
    assert_eq!(report.stop, TurnStop::Completed);
    let warnings: Vec<_> = drain(&mut r)
        .into_iter()
        .filter_map(|e| match e.payload {
            EventPayload::BudgetWarning(w) => Some(w),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0].budget, "agent main per day");
    assert_eq!(warnings[0].setting, "agent.agent_daily_budget_usd");
    assert!(warnings[0].spent_usd >= 0.85 && warnings[0].spent_usd < 1.0);

    // Past the global daily budget no new turn reaches the model.
    spend(1.2, "coder");
    let before = server.requests().len();
    let report = turn(&r, "two").await;
    assert_eq!(report.stop, TurnStop::BudgetExceeded);
    let why = report.stop_reason.unwrap();
    assert!(why.contains("per day budget of $5.00"), "{why}");
    assert!(why.contains("agent.daily_budget_usd"), "{why}");
    assert_eq!(server.requests().len(), before);
}
