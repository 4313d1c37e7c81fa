use super::*;
use crate::action::{Action, ContextPurpose};
use crate::state::Effect;
use pryx_protocol::{CompactionEstimate, ContextParts, ContextSource, SessionContext};
use pryx_testkit::events::{assistant_message, event, user_message};

fn chat() -> ChatState {
    let mut c = ChatState::new();
    c.session_id = Some("s1".into());
    for m in [
        user_message(1, "rule"),
        assistant_message(2, "ok"),
        user_message(3, "next"),
    ] {
        c.apply(&event("s1", None, m));
    }
    c
}

fn context(estimate: Option<CompactionEstimate>) -> SessionContext {
    SessionContext {
        session_id: "s1".into(),
        model: "p/m".into(),
        window: 1000,
        tokens: 850,
        source: ContextSource::Estimate,
        percent: 85.0,
        warn_at_percent: 80,
        compact_at_percent: 90,
        parts: ContextParts::default(),
        messages: 3,
        messages_sent: 3,
        compactions: 0,
        compacted_through: None,
        pinned: Vec::new(),
        pinned_chars: 0,
        pinned_cap: 20_000,
        pruned: Vec::new(),
        compaction: estimate,
    }
}

fn last_notice(c: &ChatState) -> String {
    match c.entries.last() {
        Some(Entry::Notice { text, .. }) => text.clone(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn compact_shows_the_cost_and_runs_on_the_second_ask() {
    let mut c = chat();
    assert_eq!(
        slash::run(&mut c, "/compact"),
        vec![Effect::Do(Action::LoadContext {
            session_id: "s1".into(),
            purpose: ContextPurpose::Compact
        })]
    );
    c.on_context(
        &context(Some(CompactionEstimate {
            messages: 2,
            input_tokens: 1200,
            max_output_tokens: 250,
            cost_usd: 0.0042,
            model: "p/m".into(),
        })),
        ContextPurpose::Compact,
    );
    let said = last_notice(&c);
    assert!(
        said.contains("2 earlier messages") && said.contains("$0.0042"),
        "{said}"
    );
    assert!(said.contains("/compact again"), "{said}");
    assert_eq!(c.context.map(|g| g.percent), Some(85.0));
    assert_eq!(
        slash::run(&mut c, "/compact"),
        vec![Effect::Do(Action::CompactSession {
            session_id: "s1".into()
        })]
    );
    assert!(!c.compact_pending);
}

#[test]
fn nothing_to_compact_is_said_and_nothing_runs() {
    let mut c = chat();
    c.on_context(&context(None), ContextPurpose::Compact);
    assert!(last_notice(&c).starts_with("Nothing to compact"));
    assert!(!c.compact_pending);
}

#[test]
fn pin_defaults_to_the_last_user_message_and_names_missing_ones() {
    let mut c = chat();
    let effects = slash::run(&mut c, "/pin");
    let Some(Effect::Do(Action::PinMessage { seq, pinned, .. })) = effects.first() else {
        panic!("{effects:?}");
    };
    assert_eq!((*seq, *pinned), (3, true));
    assert!(slash::run(&mut c, "/pin 99").is_empty());
    assert!(
        last_notice(&c).contains("no message 99"),
        "{}",
        last_notice(&c)
    );
    assert!(slash::run(&mut c, "/unpin").is_empty());
    assert!(last_notice(&c).starts_with("Usage: /unpin"));
    assert!(slash::run(&mut c, "/pin x").is_empty());
    let effects = slash::run(&mut c, "/unpin #1");
    assert!(matches!(
        effects.first(),
        Some(Effect::Do(Action::PinMessage {
            seq: 1,
            pinned: false,
            ..
        }))
    ));
}

#[test]
fn fork_takes_the_whole_session_or_up_to_a_message() {
    let mut c = chat();
    assert_eq!(
        slash::run(&mut c, "/fork"),
        vec![Effect::Do(Action::ForkSession {
            session_id: "s1".into(),
            message_id: None
        })]
    );
    let effects = slash::run(&mut c, "/fork 2");
    let Some(Effect::Do(Action::ForkSession {
        message_id: Some(id),
        ..
    })) = effects.first()
    else {
        panic!("{effects:?}");
    };
    assert!(!id.is_empty());
    let mut none = ChatState::new();
    assert!(slash::run(&mut none, "/fork").is_empty());
}
