//! Long conversations against the scripted model: the context warning, compaction keeping
//! pinned messages verbatim, a failed summary, pruning and the cache-stable request prefix.
//! Every check reads the request bytes the model received.

use crate::common::{Rig, call, rig, tool_specs, workspace_only};
use pryx_agent::{AgentError, ContextSettings};
use pryx_protocol::{ErrorCode, EventPayload};
use pryx_testkit::{ScriptedLlm, Turn};
use tokio_util::sync::CancellationToken;

/// The summariser's requests carry this in their system prompt.
const SUMMARISER_MARK: &str = "You compact a conversation";

/// Estimated tokens of the system prompt and the tool definitions: what every request carries.
fn base_tokens(r: &Rig) -> u32 {
    let specs = tool_specs(&r.agent);
    pryx_catalog::estimate_tokens(&pryx_agent::prompt::system_prompt(r.agent.workspace()))
        + pryx_catalog::estimate_tokens(&serde_json::to_string(&specs).unwrap())
}

async fn turn(r: &Rig, prompt: &str) -> Result<pryx_agent::TurnReport, AgentError> {
    r.agent
        .run_turn(&r.session, prompt, CancellationToken::new())
        .await
}

fn is_summary_request(body: &serde_json::Value) -> bool {
    body["messages"][0]["content"]
        .as_str()
        .is_some_and(|s| s.contains(SUMMARISER_MARK))
}

/// The messages of a request, each as the exact JSON text sent.
fn sent(body: &serde_json::Value) -> Vec<String> {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.to_string())
        .collect()
}

fn events(r: &mut Rig) -> Vec<EventPayload> {
    let mut out = Vec::new();
    while let Ok(e) = r.events.try_recv() {
        out.push(e.payload);
    }
    out
}

/// About `tokens` tokens of plain text that says which turn it is.
fn filler(turn: u32, tokens: u32) -> String {
    format!(
        "turn {turn} notes: {}",
        "lorem ipsum ".repeat(tokens as usize / 3)
    )
}

#[tokio::test]
async fn the_warning_comes_once_past_80_percent_before_any_compaction() {
    let server = ScriptedLlm::start().await;
    let mut r = rig(&server, workspace_only(), false);
    let base = base_tokens(&r);
    r.tune(|p| p.model.context = base + 10_000);
    server.push_all([Turn::text("one"), Turn::text("two"), Turn::text("three")]);
    turn(&r, &filler(1, 4_000)).await.unwrap();
    assert!(
        !events(&mut r)
            .iter()
            .any(|e| matches!(e, EventPayload::ContextWarning(_))),
        "not yet"
    );
    turn(&r, &filler(2, 3_600)).await.unwrap();
    let warnings: Vec<_> = events(&mut r)
        .into_iter()
        .filter_map(|e| match e {
            EventPayload::ContextWarning(w) => Some(w),
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        (80.0..90.0).contains(&warnings[0].percent),
        "{:?}",
        warnings[0]
    );
    assert_eq!(warnings[0].compact_at_percent, 90);
    turn(&r, "short").await.unwrap();
    assert!(
        !events(&mut r)
            .iter()
            .any(|e| matches!(e, EventPayload::ContextWarning(_))),
        "said once"
    );
    assert!(
        server
            .requests()
            .iter()
            .all(|q| !is_summary_request(&q.body))
    );
}

#[tokio::test]
async fn twenty_pinned_rules_survive_three_compactions_verbatim() {
    let server = ScriptedLlm::start().await;
    let mut r = rig(&server, workspace_only(), false);
    let base = base_tokens(&r);
    r.tune(|p| p.model.context = base + 4_000);
    let rules: Vec<String> = (1..=20)
        .map(|i| format!("RULE-{i:02}: keep the constant K{i} at {}", i * 7))
        .collect();
    server.push(Turn::text("I will keep to these rules."));
    turn(&r, &rules.join("\n")).await.unwrap();
    let first = r.agent.store().list_messages(&r.session).unwrap()[0].clone();
    r.agent
        .store()
        .set_message_pinned(&r.session, &first.id, true)
        .unwrap();
    // Each later turn brings ~1,700 tokens: from turn 3 on, every turn compacts first.
    server.push(Turn::text("answer 2"));
    turn(&r, &filler(2, 1_700)).await.unwrap();
    for n in 3..=5 {
        server.push(Turn::text(format!(
            "## Goal\n- summary {n}\n## Decisions\n- none\n## Files touched\n- none\n## Open tasks\n- none\n## User preferences\n- none"
        )));
        server.push(Turn::text(format!("answer {n}")));
        turn(&r, &filler(n, 1_700)).await.unwrap();
    }
    let requests = server.requests();
    let summaries = requests
        .iter()
        .filter(|q| is_summary_request(&q.body))
        .count();
    assert_eq!(summaries, 3, "three compactions");
    assert_eq!(
        r.agent.store().list_compactions(&r.session).unwrap().len(),
        3
    );
    let last = &requests.last().unwrap().body;
    assert!(!is_summary_request(last));
    let text = last.to_string();
    let body: String = sent(last).join("\n");
    for rule in &rules {
        let json_rule = serde_json::to_string(rule).unwrap();
        let json_rule = json_rule.trim_matches('"');
        assert!(
            body.contains(json_rule),
            "{rule} lost after 3 compactions: {text}"
        );
    }
    assert!(body.contains("summary 5"), "the newest summary is sent");
    assert!(!body.contains("summary 4"), "an older summary is not");
    assert!(
        !body.contains("turn 4 notes"),
        "compacted turns are not sent"
    );
    assert!(body.contains("turn 5 notes"), "the latest request is");
    // Nothing is deleted.
    assert_eq!(r.agent.store().list_messages(&r.session).unwrap().len(), 10);
    let compacted: Vec<_> = events(&mut r)
        .into_iter()
        .filter_map(|e| match e {
            EventPayload::ContextCompacted(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(compacted.len(), 3);
    assert!(
        compacted
            .iter()
            .all(|c| c.trigger == "auto" && c.tokens_after < c.tokens_before)
    );
}

#[tokio::test]
async fn a_failed_summary_fails_the_turn_and_changes_nothing() {
    let server = ScriptedLlm::start().await;
    let mut r = rig(&server, workspace_only(), false);
    let base = base_tokens(&r);
    r.tune(|p| p.model.context = base + 4_000);
    server.push(Turn::text("one"));
    turn(&r, &filler(1, 1_700)).await.unwrap();
    let before = r.agent.store().list_messages(&r.session).unwrap();
    // Two such requests pass 90 %: the second turn compacts first, and the summary fails.
    server.push(Turn::status(400, None, "the summariser refuses"));
    let e = turn(&r, &filler(2, 1_700)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::CompactionFailed);
    assert!(e.to_string().contains("nothing was changed"), "{e}");
    assert!(
        r.agent
            .store()
            .list_compactions(&r.session)
            .unwrap()
            .is_empty()
    );
    let after = r.agent.store().list_messages(&r.session).unwrap();
    assert_eq!(after[..before.len()], before[..], "history untouched");
    assert_eq!(after.len(), before.len() + 1, "the new request is kept");
    let requests = server.requests();
    assert!(is_summary_request(&requests.last().unwrap().body));
}

#[tokio::test]
async fn user_compaction_of_an_empty_or_compact_session_is_refused_plainly() {
    let server = ScriptedLlm::start().await;
    let r = rig(&server, workspace_only(), false);
    let cancel = CancellationToken::new();
    let e = r
        .agent
        .compact_session(&r.session, &cancel)
        .await
        .unwrap_err();
    assert!(matches!(e, AgentError::CannotCompact(_)), "{e}");
    assert!(e.to_string().contains("empty"), "{e}");
    server.push_all([Turn::text("a"), Turn::text("b"), Turn::text("- summary")]);
    turn(&r, "first").await.unwrap();
    turn(&r, "second").await.unwrap();
    let done = r.agent.compact_session(&r.session, &cancel).await.unwrap();
    assert_eq!((done.trigger.as_str(), done.messages), ("user", 2));
    let e = r
        .agent
        .compact_session(&r.session, &cancel)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("already compact"), "{e}");
    let ctx = r.agent.session_context(&r.session).await.unwrap();
    assert_eq!((ctx.compactions, ctx.compacted_through), (1, Some(2)));
    assert!(ctx.compaction.is_none(), "nothing left to estimate");
}

#[tokio::test]
async fn old_results_are_pruned_and_the_prefix_only_changes_at_pruning_steps() {
    let server = ScriptedLlm::start().await;
    let mut r = rig(&server, workspace_only(), false);
    r.tune(|p| {
        p.settings.context = ContextSettings {
            prune_step: 2,
            ..ContextSettings::default()
        }
    });
    std::fs::write(r.ws.path().join("big.txt"), "B".repeat(10_000)).unwrap();
    for n in 1..=8 {
        server.push(Turn::tool_calls([call(
            &format!("c{n}"),
            "fs.read",
            serde_json::json!({"path": "big.txt"}),
        )]));
        server.push(Turn::text(format!("read it, {n}")));
        turn(&r, &format!("read big.txt again ({n})"))
            .await
            .unwrap();
    }
    let requests: Vec<Vec<String>> = server.requests().iter().map(|q| sent(&q.body)).collect();
    assert_eq!(requests.len(), 16);
    // Each turn's first request; the line moves when turns 5 and 7 start (3 kept, steps of 2).
    let mut moved = Vec::new();
    for n in 2..=8usize {
        let (prev, now) = (&requests[2 * (n - 2)], &requests[2 * (n - 1)]);
        if now.len() < prev.len() || now[..prev.len()] != prev[..] {
            moved.push(n);
        }
        // Within a turn the request only grows.
        let second = &requests[2 * (n - 1) + 1];
        assert_eq!(second[..now.len()], now[..], "turn {n}");
    }
    assert_eq!(moved, vec![5, 7]);
    let last = requests.last().unwrap().join("\n");
    assert!(
        last.contains("[result of fs.read big.txt, 10 KB, elided to save context"),
        "{last}"
    );
    assert!(
        last.contains("of this result elided to save context"),
        "trimmed ones"
    );
    let ctx = r.agent.session_context(&r.session).await.unwrap();
    assert!(ctx.pruned.len() >= 4, "{:?}", ctx.pruned);
    assert!(ctx.parts.tool_results > 0 && ctx.parts.tools > 0 && ctx.parts.system > 0);
}

#[tokio::test]
async fn one_turn_of_many_large_results_squeezes_its_older_ones_instead_of_failing() {
    let server = ScriptedLlm::start().await;
    let mut r = rig(&server, workspace_only(), false);
    let base = base_tokens(&r);
    // Room for about four of the 6,000-token results.
    r.tune(|p| p.model.context = base + 28_000);
    for n in 0..8 {
        std::fs::write(
            r.ws.path().join(format!("part{n}.txt")),
            format!("PART{n} ").repeat(3_000),
        )
        .unwrap();
    }
    for n in 0..8 {
        server.push(Turn::tool_calls([call(
            &format!("c{n}"),
            "fs.read",
            serde_json::json!({"path": format!("part{n}.txt")}),
        )]));
    }
    server.push(Turn::text("read them all"));
    turn(&r, "read part0.txt to part7.txt, one at a time")
        .await
        .unwrap();
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        9,
        "no summary request: one turn cannot be compacted"
    );
    let last = sent(&requests.last().unwrap().body).join("\n");
    // The newest four results whole, the older ones cut down.
    for n in 4..8 {
        assert!(
            last.contains(&format!("PART{n} ").repeat(2_900)),
            "part{n} is sent whole"
        );
    }
    for n in 0..4 {
        assert!(
            !last.contains(&format!("PART{n} ").repeat(1_000)),
            "part{n} is squeezed"
        );
    }
    assert!(last.contains("elided to save context"), "{last}");
    let tokens = pryx_catalog::estimate_tokens(&last);
    assert!(tokens < base + 28_000, "the request fits: {tokens} tokens");
}
