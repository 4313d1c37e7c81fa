#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The event wire as clients have always seen it: every kind's golden JSON decodes into its
//! typed payload and encodes back to exactly the same JSON. A renamed or retyped field breaks
//! this test before it breaks a client.

use pryx_protocol::message::{AssistantPart, Message};
use pryx_protocol::{Event, EventKind, EventPayload, TurnEnd};
use serde_json::{Value, json};
use std::collections::HashSet;

const GOLDEN: &str = include_str!("golden/events.jsonl");

fn golden() -> Vec<(Value, Event)> {
    GOLDEN
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let wire: Value = serde_json::from_str(l).unwrap();
            let event: Event = serde_json::from_str(l).unwrap();
            (wire, event)
        })
        .collect()
}

#[test]
fn every_golden_event_decodes_to_its_typed_payload_and_encodes_back_unchanged() {
    for (wire, event) in golden() {
        assert!(
            event.kind().is_some(),
            "decoded as unknown (a field no longer matches its type): {wire}"
        );
        assert_eq!(event.name(), wire["event"].as_str().unwrap());
        assert_eq!(serde_json::to_value(&event).unwrap(), wire);
    }
}

#[test]
fn every_event_kind_has_a_golden_line() {
    let seen: HashSet<EventKind> = golden().iter().filter_map(|(_, e)| e.kind()).collect();
    for kind in EventKind::ALL {
        assert!(seen.contains(&kind), "no golden line for {}", kind.name());
        let wire = serde_json::to_value(kind).unwrap();
        assert_eq!(wire, kind.name(), "EventKind and its name disagree");
        assert_eq!(EventKind::from_name(kind.name()), Some(kind));
    }
}

#[test]
fn ephemeral_events_carry_no_version() {
    for (_, event) in golden() {
        assert_eq!(
            event.payload.is_ephemeral(),
            event.version.is_none(),
            "{}",
            event.name()
        );
    }
}

#[test]
fn typed_payloads_read_what_the_surfaces_need() {
    let events = golden();
    let assistant = events
        .iter()
        .find_map(|(_, e)| match &e.payload {
            EventPayload::SessionMessage(m) if matches!(m.content, Message::Assistant { .. }) => {
                Some(m)
            }
            _ => None,
        })
        .unwrap();
    assert_eq!(assistant.content.text(), "Listing.");
    let calls: Vec<_> = assistant.content.tool_calls().collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].name, "fs.list");
    assert!(matches!(
        &assistant.content,
        Message::Assistant { content } if matches!(content[1], AssistantPart::RedactedReasoning { .. })
    ));
    let errors: Vec<&TurnEnd> = events
        .iter()
        .filter_map(|(_, e)| match &e.payload {
            EventPayload::TurnCompleted(end @ TurnEnd::Error { .. }) => Some(end),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].stop(), None);
}

#[test]
fn an_event_from_a_newer_core_is_kept_as_unknown_never_an_error() {
    let wire = json!({"type": "event", "event": "session.renamed", "session_id": "s",
        "surface": "web", "payload": {"title": "New"}, "timestamp": "t", "version": 4});
    let event: Event = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(event.kind(), None);
    assert_eq!(event.name(), "session.renamed");
    assert!(matches!(&event.payload, EventPayload::Unknown(u) if u.payload["title"] == "New"));
    assert_eq!(serde_json::to_value(&event).unwrap(), wire);

    // A known kind whose payload changed shape is kept too, rather than failing the stream.
    let changed = json!({"type": "event", "event": "tool.complete", "session_id": "s",
        "surface": "core", "payload": {"tool_call_id": 7}, "timestamp": "t", "version": 5});
    let event: Event = serde_json::from_value(changed.clone()).unwrap();
    assert!(matches!(&event.payload, EventPayload::Unknown(u) if u.event == "tool.complete"));
    assert_eq!(serde_json::to_value(&event).unwrap(), changed);

    // New fields on a known payload are ignored.
    let extra = json!({"type": "event", "event": "tool.executing", "session_id": "s",
        "surface": "core", "payload": {"tool_call_id": "c", "tool": "fs.read", "pid": 4},
        "timestamp": "t", "version": 6});
    let event: Event = serde_json::from_value(extra).unwrap();
    assert_eq!(event.kind(), Some(EventKind::ToolExecuting));
}

#[test]
fn a_message_that_is_not_an_event_envelope_is_refused() {
    let control = json!({"type": "resync", "dropped": 3});
    assert!(serde_json::from_value::<Event>(control).is_err());
}
