use super::*;
use crate::action::Action;
use crate::approval_keys::APPROVAL_KEYS;
use crate::state::Effect;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use pryx_protocol::api::{ApprovalAnswer, ApprovalDecision, ApprovalOutcome, ApprovalScope};
use pryx_protocol::{Event, EventPayload, NotRun, Surface, TurnStop};
use pryx_testkit::events::{
    assistant_call, assistant_message, event, text_delta, tool_executing, tool_not_run, tool_ran,
    tool_request, tool_result_message, turn_completed, turn_started, user_message,
};
use serde_json::json;

/// An event of `session` (the chat reads no versions).
fn ev(session: &str, payload: impl Into<EventPayload>) -> Event {
    event(session, None, payload)
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn chat_in(session: &str) -> ChatState {
    let mut c = ChatState::new();
    c.session_id = Some(session.to_string());
    c
}

fn approval(id: &str, session: &str) -> PendingApproval {
    PendingApproval {
        fingerprint: "f".into(),
        rule: "shell-asks".into(),
        reason: "shell commands ask".into(),
        preview: "rm -rf build".into(),
        timeout_secs: 60,
        created_at: "2026-01-27T12:00:00Z".into(),
        looks_like_secret: Vec::new(),
        workspace: None,
        policy: None,
        ..pryx_testkit::events::approval(
            id,
            session,
            "tc1",
            "shell.exec",
            json!({"command": "rm -rf build"}),
        )
    }
}

fn type_text(c: &mut ChatState, text: &str) {
    for ch in text.chars() {
        c.handle_key(key(KeyCode::Char(ch)));
    }
}

#[test]
fn deltas_accumulate_and_the_stored_message_replaces_them() {
    let mut c = chat_in("s1");
    c.apply(&ev("s1", turn_started()));
    assert!(c.turn_running);
    c.apply(&ev("s1", text_delta("Hel")));
    c.apply(&ev("s1", text_delta("lo")));
    assert_eq!(
        c.entries,
        vec![Entry::Assistant {
            text: "Hello".into(),
            streaming: true
        }]
    );
    c.apply(&ev("s1", assistant_message(2, "Hello!")));
    assert_eq!(
        c.entries,
        vec![Entry::Assistant {
            text: "Hello!".into(),
            streaming: false
        }]
    );
    let actions = c.apply(&ev("s1", turn_completed(TurnStop::Completed, 1, 0.5)));
    assert!(!c.turn_running);
    assert!((c.cost_usd - 0.5).abs() < 1e-9);
    assert_eq!(
        actions,
        vec![Action::RefreshTotals {
            session_id: "s1".into()
        }]
    );
}

#[test]
fn events_of_other_sessions_are_ignored_except_approvals() {
    let mut c = chat_in("s1");
    c.apply(&ev("s2", text_delta("x")));
    assert!(c.entries.is_empty());
    c.apply(&ev("s2", approval("a1", "s2")));
    assert_eq!(c.approvals.len(), 1);
}

#[test]
fn tool_cards_follow_the_call() {
    let mut c = chat_in("s1");
    c.apply(&ev("s1", text_delta("Let me look.")));
    c.apply(&ev(
        "s1",
        tool_request("tc1", "fs.read", json!({"path": "a.txt"})),
    ));
    let card = |c: &ChatState| match c.entries.last() {
        Some(Entry::Tool(t)) => t.clone(),
        other => panic!("expected a card, got {other:?}"),
    };
    assert_eq!(card(&c).status, ToolStatus::Requested);
    assert_eq!(card(&c).args, "path=a.txt");
    // The streamed text before the card is finished.
    assert!(matches!(
        c.entries[0],
        Entry::Assistant {
            streaming: false,
            ..
        }
    ));
    c.apply(&ev("s1", tool_executing("tc1", "fs.read")));
    assert_eq!(card(&c).status, ToolStatus::Running);
    c.apply(&ev("s1", tool_ran("tc1", "fs.read", false, 12)));
    assert_eq!(card(&c).status, ToolStatus::Done);
    assert_eq!(card(&c).duration_ms, Some(12));
    // A denied call carries its reason.
    c.apply(&ev("s1", tool_request("tc2", "shell.exec", json!({}))));
    c.apply(&ev(
        "s1",
        tool_not_run("tc2", "shell.exec", NotRun::Denied, "denied by rule"),
    ));
    assert_eq!(card(&c).status, ToolStatus::Denied);
    assert_eq!(card(&c).message.as_deref(), Some("denied by rule"));
}

#[test]
fn approval_appears_once_and_disappears_when_resolved_elsewhere() {
    let mut c = chat_in("s1");
    c.apply(&ev("s1", tool_request("tc1", "shell.exec", json!({}))));
    c.apply(&ev("s1", approval("a1", "s1")));
    c.apply(&ev("s1", approval("a1", "s1")));
    assert_eq!(c.approvals.len(), 1);
    assert!(
        matches!(c.entries.last(), Some(Entry::Tool(t)) if t.status == ToolStatus::AwaitingApproval)
    );
    assert!(!c.captures_text());
    let outcome = ApprovalOutcome::Answered(ApprovalAnswer {
        decision: ApprovalDecision::Approve,
        scope: ApprovalScope::Once,
        surface: Surface::Web,
    });
    c.apply(&ev(
        "s1",
        pryx_testkit::events::approval_resolved("a1", "tc1", outcome),
    ));
    assert!(c.approvals.is_empty());
    assert!(c.captures_text());
    assert!(matches!(c.entries.last(), Some(Entry::Tool(t)) if t.status == ToolStatus::Requested));
}

#[test]
fn approval_keys_answer_with_the_scope() {
    // The card takes exactly the shared table's keys (the prompt of `pryx run` takes the same).
    for k in &APPROVAL_KEYS {
        for c in std::iter::once(k.key).chain(k.also.iter().copied()) {
            let mut chat = chat_in("s1");
            chat.apply(&ev("s1", approval("a1", "s1")));
            let effects = chat.handle_key(key(KeyCode::Char(c)));
            assert_eq!(
                effects,
                Some(vec![Effect::Do(Action::AnswerApproval {
                    id: "a1".into(),
                    decision: k.decision,
                    scope: k.scope
                })]),
                "{c}"
            );
            assert!(chat.approvals.is_empty());
            assert!(
                chat.input.is_empty(),
                "approval keys must not reach the input"
            );
        }
    }
    assert_eq!(
        crate::approval_keys::answer_for_key('y'),
        Some((ApprovalDecision::Approve, ApprovalScope::Once))
    );
    // A digit switches screens elsewhere: on the card it answers nothing.
    let mut chat = chat_in("s1");
    chat.apply(&ev("s1", approval("a1", "s1")));
    assert_eq!(chat.handle_key(key(KeyCode::Char('1'))), Some(vec![]));
    assert_eq!(chat.approvals.len(), 1);
}

#[test]
fn enter_sends_and_alt_enter_adds_a_line() {
    let mut c = ChatState::new();
    type_text(&mut c, "hello");
    c.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT));
    c.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::SHIFT));
    type_text(&mut c, "world");
    assert_eq!(c.input_text(), "hello\n\nworld");
    let effects = c.handle_key(key(KeyCode::Enter));
    assert_eq!(
        effects,
        Some(vec![Effect::Do(Action::SendPrompt {
            session_id: None,
            text: "hello\n\nworld".into()
        })])
    );
    assert!(c.input.is_empty());
    assert!(c.awaiting_session && c.turn_running);
    assert_eq!(
        c.entries,
        vec![Entry::User {
            text: "hello\n\nworld".into(),
            confirmed: false
        }]
    );
    // Empty input sends nothing.
    assert_eq!(c.handle_key(key(KeyCode::Enter)), Some(vec![]));
}

#[test]
fn the_core_confirms_our_message_without_duplicating_it() {
    let mut c = chat_in("s1");
    type_text(&mut c, "hi");
    c.handle_key(key(KeyCode::Enter));
    c.apply(&ev("s1", user_message(1, "hi")));
    assert_eq!(
        c.entries,
        vec![Entry::User {
            text: "hi".into(),
            confirmed: true
        }]
    );
    // A message typed on another surface appears.
    c.apply(&ev("s1", user_message(3, "from web")));
    assert_eq!(c.entries.len(), 2);
}

#[test]
fn esc_and_ctrl_c_cancel_a_running_turn() {
    let mut c = chat_in("s1");
    assert_eq!(c.handle_key(key(KeyCode::Esc)), Some(vec![]));
    c.turn_running = true;
    let cancel = Some(vec![Effect::Do(Action::CancelTurn {
        session_id: "s1".into(),
    })]);
    assert_eq!(c.handle_key(key(KeyCode::Esc)), cancel);
    assert_eq!(
        c.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        cancel
    );
    // Idle: Ctrl-C clears the input, then quits.
    c.turn_running = false;
    type_text(&mut c, "draft");
    assert_eq!(
        c.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        Some(vec![])
    );
    assert!(c.input.is_empty());
    assert_eq!(
        c.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
        Some(vec![Effect::Quit])
    );
}

#[test]
fn slash_commands() {
    let mut c = chat_in("s1");
    let run = |c: &mut ChatState, line: &str| {
        type_text(c, line);
        c.handle_key(key(KeyCode::Enter)).unwrap_or_default()
    };
    assert_eq!(run(&mut c, "/new"), vec![Effect::Do(Action::NewSession)]);
    assert_eq!(
        run(&mut c, "/model"),
        vec![Effect::Do(Action::LoadModels { provider: None })]
    );
    // With a session open, /model and /policy change that session.
    assert_eq!(
        run(&mut c, "/model openai/gpt-5"),
        vec![Effect::Do(Action::UpdateSession {
            session_id: "s1".into(),
            model: Some("openai/gpt-5".into()),
            policy: None,
        })]
    );
    assert_eq!(
        run(&mut c, "/policy strict"),
        vec![Effect::Do(Action::UpdateSession {
            session_id: "s1".into(),
            model: None,
            policy: Some("strict".into()),
        })]
    );
    assert_eq!(run(&mut c, "/setup"), vec![Effect::OpenSetup]);
    assert_eq!(
        run(&mut c, "/export json"),
        vec![Effect::Do(Action::ExportSession {
            id: "s1".into(),
            format: crate::model::ExportFormat::Json
        })]
    );
    assert_eq!(run(&mut c, "/help"), vec![Effect::Help]);
    assert_eq!(run(&mut c, "/bogus"), vec![]);
    assert!(matches!(
        c.entries.last(),
        Some(Entry::Notice {
            level: Level::Error,
            ..
        })
    ));
    assert!(c.input.is_empty());
}

#[test]
fn resume_rebuilds_text_and_tool_cards() {
    use pryx_protocol::MessageStored;
    use pryx_protocol::api::MessageView;
    let msg = |m: MessageStored| MessageView {
        id: m.message_id,
        seq: m.seq,
        role: m.role,
        text: m.content.text(),
        content: m.content,
        tool_call_id: None,
        model: None,
        tokens_in: 0,
        tokens_out: 0,
        cost_usd: 0.0,
        created_at: "t".into(),
        pinned: false,
    };
    let detail = SessionDetail {
        session: SessionSummary {
            id: "s9".into(),
            workspace_id: None,
            title: "Old".into(),
            status: "idle".into(),
            model: Some("m".into()),
            agent: None,
            policy: None,
            workspace: None,
            workspace_warning: None,
            created_at: "t".into(),
            updated_at: "t".into(),
            total_tokens_in: 100,
            total_tokens_out: 20,
            total_cost_usd: 0.01,
            busy: false,
            parent_id: None,
            snippet: None,
        },
        messages: vec![
            msg(user_message(1, "read it")),
            msg(assistant_call(2, "c1", "fs.read", &json!({"path": "a"}))),
            msg(tool_result_message(3, "c1", "boom", true)),
            msg(assistant_message(4, "It failed.")),
        ],
        last_version: 4,
    };
    let mut c = ChatState::new();
    c.load(detail);
    assert_eq!(c.session_id.as_deref(), Some("s9"));
    assert_eq!((c.tokens_in, c.tokens_out), (100, 20));
    assert_eq!(c.entries.len(), 3);
    assert!(
        matches!(&c.entries[1], Entry::Tool(t) if t.status == ToolStatus::Failed && t.args == "path=a")
    );
    assert!(matches!(&c.entries[1], Entry::Tool(t) if t.output.as_deref() == Some("boom")));
}

#[test]
fn events_already_in_a_loaded_session_are_not_applied_again() {
    let mut c = chat_in("s1");
    c.load(SessionDetail {
        messages: vec![],
        last_version: 4,
        ..detail_of("s1")
    });
    // A message the load already holds (version 4) and a new one (version 5).
    c.apply(&event("s1", Some(4), user_message(4, "old")));
    assert!(c.entries.is_empty(), "{:?}", c.entries);
    c.apply(&event("s1", Some(5), user_message(5, "new")));
    assert_eq!(c.entries.len(), 1);
    // Another session resets what counts as loaded.
    c.on_session_created(detail_of("s2").session);
    c.apply(&event("s2", Some(1), user_message(1, "first")));
    assert_eq!(c.entries.len(), 1);
}

#[test]
fn a_reload_racing_a_send_keeps_the_prompt_on_screen() {
    let mut c = chat_in("s1");
    c.entries.push(Entry::User {
        text: "after".into(),
        confirmed: false,
    });
    c.turn_running = true;
    // The core came back and the session is reloaded before the prompt is stored.
    c.load(detail_of("s1"));
    assert!(
        matches!(c.entries.last(), Some(Entry::User { text, confirmed: false }) if text == "after"),
        "{:?}",
        c.entries
    );
    assert!(c.turn_running, "the prompt's turn is still coming");
    // Once stored, it is the same entry, confirmed.
    c.apply(&event("s1", Some(1), user_message(1, "after")));
    let users: Vec<_> = c
        .entries
        .iter()
        .filter(|e| matches!(e, Entry::User { .. }))
        .collect();
    assert_eq!(users.len(), 1, "{:?}", c.entries);
    assert!(matches!(
        users[0],
        Entry::User {
            confirmed: true,
            ..
        }
    ));
    // A reload of another session keeps nothing of this one.
    c.entries.push(Entry::User {
        text: "lost?".into(),
        confirmed: false,
    });
    c.turn_running = true;
    c.load(detail_of("s2"));
    assert!(c.entries.is_empty(), "{:?}", c.entries);
    // A send that was refused is over: it stays on screen with why, not as running.
    c.entries.push(Entry::User {
        text: "refused".into(),
        confirmed: false,
    });
    c.notice("Could not send the prompt: the core is down", Level::Error);
    c.turn_running = false;
    c.load(detail_of("s2"));
    assert_eq!(c.entries.len(), 2, "{:?}", c.entries);
    assert!(!c.turn_running);
}

/// A stored session without messages.
fn detail_of(id: &str) -> SessionDetail {
    SessionDetail {
        session: SessionSummary {
            id: id.into(),
            workspace_id: None,
            title: "t".into(),
            status: "idle".into(),
            model: None,
            agent: None,
            policy: None,
            workspace: None,
            workspace_warning: None,
            created_at: "t".into(),
            updated_at: "t".into(),
            total_tokens_in: 0,
            total_tokens_out: 0,
            total_cost_usd: 0.0,
            busy: false,
            parent_id: None,
            snippet: None,
        },
        messages: vec![],
        last_version: 0,
    }
}

#[test]
fn the_stored_tool_result_fills_its_card_without_the_boundary() {
    let mut c = chat_in("s1");
    c.apply(&ev(
        "s1",
        tool_request("tc1", "fs.read", json!({"path": "a"})),
    ));
    c.apply(&ev("s1", tool_ran("tc1", "fs.read", false, 3)));
    let wrapped = "<untrusted-0123456789abcdef source=\"fs.read\">\nline 1\nline 2\n</untrusted-0123456789abcdef>";
    // Named by the model's call id, not the stored row's.
    c.apply(&ev(
        "s1",
        tool_result_message(4, "call-tc1", wrapped, false),
    ));
    c.apply(&ev(
        "s1",
        tool_result_message(5, "tc1", "not this card's", false),
    ));
    let Some(Entry::Tool(card)) = c.entries.last() else {
        panic!("{:?}", c.entries)
    };
    assert_eq!(card.output.as_deref(), Some("line 1\nline 2"));
    assert!(!card.expanded);
}

#[test]
fn ctrl_o_opens_the_last_card_and_alt_o_every_card() {
    let mut c = chat_in("s1");
    let ctrl_o = KeyEvent::new(KeyCode::Char('o'), KeyModifiers::CONTROL);
    let alt_o = KeyEvent::new(KeyCode::Char('o'), KeyModifiers::ALT);
    assert!(matches!(
        c.handle_key(ctrl_o).as_deref(),
        Some([Effect::Flash(_)])
    ));
    for id in ["tc1", "tc2"] {
        c.apply(&ev("s1", tool_request(id, "fs.read", json!({}))));
    }
    let open = |c: &ChatState| {
        c.entries
            .iter()
            .filter_map(|e| match e {
                Entry::Tool(t) => Some(t.expanded),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(c.handle_key(ctrl_o), Some(vec![]));
    assert_eq!(open(&c), [false, true]);
    assert!(c.input.is_empty(), "Ctrl-O is not typed");
    c.handle_key(alt_o);
    assert_eq!(open(&c), [true, true]);
    c.handle_key(alt_o);
    assert_eq!(open(&c), [false, false]);
    c.handle_key(ctrl_o);
    c.handle_key(ctrl_o);
    assert_eq!(open(&c), [false, false]);
}

#[test]
fn a_failed_turn_is_said_once() {
    use pryx_protocol::ErrorCode;
    use pryx_testkit::events::{error_occurred, turn_failed};
    let errors = |c: &ChatState| {
        c.entries
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Entry::Notice {
                        level: Level::Error,
                        ..
                    }
                )
            })
            .count()
    };
    let mut c = chat_in("s1");
    c.apply(&ev("s1", user_message(1, "hi")));
    c.apply(&ev("s1", turn_started()));
    c.apply(&ev("s1", error_occurred(ErrorCode::LlmAuth, "bad key")));
    c.apply(&ev("s1", turn_failed(ErrorCode::LlmAuth, "bad key")));
    assert_eq!(errors(&c), 1, "{:?}", c.entries);
    // `turn.completed` alone (its `error.occurred` missed) still says it.
    c.apply(&ev("s1", user_message(2, "again")));
    c.apply(&ev("s1", turn_failed(ErrorCode::LlmAuth, "bad key")));
    assert_eq!(errors(&c), 2, "{:?}", c.entries);
    assert!(matches!(
        c.entries.last(),
        Some(Entry::Notice { text, .. }) if text.ends_with(": bad key")
    ));
    // A failure with its trace says where to look, once, after the error.
    c.apply(&ev("s1", user_message(3, "once more")));
    let mut end = turn_failed(ErrorCode::LlmAuth, "bad key");
    if let pryx_protocol::TurnEnd::Error { trace_id, .. } = &mut end {
        *trace_id = Some("0af7651916cd43dd8448eb211c80319c".into());
    }
    c.apply(&ev("s1", end));
    assert_eq!(errors(&c), 3);
    assert!(matches!(
        c.entries.last(),
        Some(Entry::Notice { text, level: Level::Info }) if text == "trace 1c80319c: `pryx trace 1c80319c` shows its spans"
    ));
}

#[test]
fn a_call_stopped_by_cancel_shows_as_cancelled_not_failed() {
    let mut c = chat_in("s1");
    c.apply(&ev(
        "s1",
        tool_request("tc9", "shell.exec", json!({"command": "sleep 20"})),
    ));
    c.apply(&ev("s1", tool_executing("tc9", "shell.exec")));
    let mut stopped = tool_ran("tc9", "shell.exec", true, 1737);
    stopped.cancelled = true;
    c.apply(&ev("s1", stopped));
    match c.entries.last() {
        Some(Entry::Tool(card)) => {
            assert_eq!(card.status, ToolStatus::Cancelled);
            assert_eq!(card.status.label(), "cancelled");
        }
        other => panic!("expected a card, got {other:?}"),
    }
}

#[test]
fn without_a_session_model_and_policy_set_the_core_defaults() {
    let mut c = ChatState::new();
    let mut run = |line: &str| {
        type_text(&mut c, line);
        c.handle_key(key(KeyCode::Enter)).unwrap_or_default()
    };
    assert_eq!(
        run("/model openai/gpt-5"),
        vec![Effect::Do(Action::SetDefaultModel {
            model: "openai/gpt-5".into()
        })]
    );
    assert_eq!(
        run("/policy strict"),
        vec![Effect::Do(Action::SetDefaultPolicy {
            policy: "strict".into()
        })]
    );
}

fn model_view(id: &str, default: bool) -> pryx_protocol::api::ModelView {
    pryx_protocol::api::ModelView {
        id: id.into(),
        provider: id.split('/').next().unwrap_or_default().into(),
        name: id.into(),
        context: 128_000,
        output: 16_000,
        tool_call: true,
        reasoning: false,
        input_cost: 1.0,
        output_cost: 2.0,
        default,
    }
}

#[test]
fn the_model_picker_switches_the_open_session_and_keeps_keys_from_the_input() {
    let mut c = chat_in("s1");
    c.model = Some("openai/gpt-4o".into());
    c.open_picker(vec![
        model_view("openai/gpt-4o-mini", true),
        model_view("openai/gpt-4o", false),
        model_view("anthropic/claude-sonnet-4", false),
    ]);
    let p = c.picker.as_ref().unwrap();
    assert_eq!(p.selected, 1, "opens at the model in use");
    assert!(!c.captures_text());
    assert_eq!(c.handle_key(key(KeyCode::Char('j'))), Some(vec![]));
    assert!(c.input.is_empty(), "picker keys are not typed");
    assert_eq!(
        c.handle_key(key(KeyCode::Enter)),
        Some(vec![Effect::Do(Action::UpdateSession {
            session_id: "s1".into(),
            model: Some("anthropic/claude-sonnet-4".into()),
            policy: None,
        })])
    );
    assert!(c.picker.is_none());
    // Esc closes it without switching; an empty list says how to get models.
    c.open_picker(vec![model_view("openai/gpt-4o", true)]);
    assert_eq!(c.handle_key(key(KeyCode::Esc)), Some(vec![]));
    assert!(c.picker.is_none());
    c.open_picker(vec![]);
    assert!(c.picker.is_none());
    assert!(
        matches!(c.entries.last(), Some(Entry::Notice { text, .. }) if text.contains("/setup"))
    );
}

#[test]
fn a_fallback_and_a_budget_warning_are_said_in_the_transcript() {
    use pryx_protocol::{BudgetWarning, ErrorCode, ModelFallback};
    let mut c = chat_in("s1");
    c.apply(&ev("s1", user_message(1, "hi")));
    c.apply(&ev("s1", turn_started()));
    c.apply(&ev(
        "s1",
        ModelFallback {
            from: "openai/gpt-4o".into(),
            to: "anthropic/claude-sonnet-4-5".into(),
            code: ErrorCode::LlmServer,
            message: "503".into(),
        },
    ));
    c.apply(&ev(
        "s1",
        BudgetWarning {
            budget: "per day".into(),
            setting: "agent.daily_budget_usd".into(),
            limit_usd: 5.0,
            spent_usd: 4.25,
        },
    ));
    let notices: Vec<&str> = c
        .entries
        .iter()
        .filter_map(|e| match e {
            Entry::Notice { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        notices,
        [
            "openai/gpt-4o failed (LLM_SERVER); continuing on anthropic/claude-sonnet-4-5.",
            "Budget per day: $4.2500 of $5.00 used; raise `agent.daily_budget_usd` to allow more."
        ]
    );
}

#[test]
fn retry_drops_the_last_exchange_and_asks_the_core_to_run_it_again() {
    use pryx_protocol::ErrorCode;
    use pryx_testkit::events::{assistant_message, error_occurred, turn_failed};
    let run = |c: &mut ChatState, line: &str| {
        type_text(c, line);
        c.handle_key(key(KeyCode::Enter)).unwrap_or_default()
    };
    let mut none = ChatState::new();
    assert!(run(&mut none, "/retry").is_empty(), "no session yet");
    let mut c = chat_in("s1");
    c.apply(&ev("s1", user_message(1, "first")));
    c.apply(&ev("s1", assistant_message(2, "one")));
    c.apply(&ev("s1", user_message(3, "tell me a story")));
    c.apply(&ev("s1", turn_started()));
    c.apply(&ev("s1", assistant_message(4, "half of")));
    assert!(run(&mut c, "/retry").is_empty(), "not while the turn runs");
    c.apply(&ev("s1", error_occurred(ErrorCode::LlmNetwork, "cut")));
    c.apply(&ev("s1", turn_failed(ErrorCode::LlmNetwork, "cut")));
    assert_eq!(
        run(&mut c, "/retry --model other/gpt-4o-mini"),
        vec![Effect::Do(Action::RetryLast {
            session_id: "s1".into(),
            model: Some("other/gpt-4o-mini".into()),
        })]
    );
    let texts: Vec<&str> = c
        .entries
        .iter()
        .filter_map(|e| match e {
            Entry::User { text, .. } | Entry::Assistant { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["first", "one"], "{:?}", c.entries);
    assert_eq!(c.model.as_deref(), Some("other/gpt-4o-mini"));
    assert_eq!(
        run(&mut c, "/retry"),
        vec![Effect::Do(Action::RetryLast {
            session_id: "s1".into(),
            model: None,
        })]
    );
}
