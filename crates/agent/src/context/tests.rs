use super::*;
use crate::context::compact::plan_compaction;
use pryx_llm::{AssistantPart, ToolCall};
use pryx_protocol::PrunedKind;
use pryx_store::CompactionTrigger;

/// A conversation under construction: each turn a user message, a tool call, its result and
/// an answer.
#[derive(Default)]
struct Build {
    conv: Conversation,
}

impl Build {
    fn add(&mut self, message: Message, pinned: bool) -> u64 {
        let seq = self.conv.entries.len() as u64 + 1;
        self.conv.entries.push(Entry {
            message,
            id: format!("m{seq}"),
            seq,
            pinned,
        });
        seq
    }

    fn turn(&mut self, n: u32, result: &str) {
        self.add(Message::user(format!("request {n}")), false);
        self.add(
            Message::Assistant {
                content: vec![AssistantPart::ToolCall(ToolCall {
                    id: format!("c{n}"),
                    name: "fs.read".into(),
                    arguments: format!(r#"{{"path":"src/file{n}.rs"}}"#),
                })],
            },
            false,
        );
        self.add(Message::tool_result(format!("c{n}"), result, false), false);
        self.add(Message::assistant(format!("answer {n}")), false);
    }

    fn compact(&mut self, through: u64, summary: &str) {
        self.conv.compactions += 1;
        self.conv.compaction = Some(pryx_store::Compaction {
            id: "k".into(),
            session_id: "s".into(),
            through_seq: through,
            summary: summary.into(),
            messages: through,
            tokens_before: 0,
            tokens_after: 0,
            model: "p/m".into(),
            tokens_in: 0,
            tokens_out: 0,
            cost_usd: 0.0,
            trigger: CompactionTrigger::Auto,
            created_at: String::new(),
        });
    }
}

fn no_pruning() -> ContextSettings {
    ContextSettings {
        prune_step: 0,
        ..ContextSettings::default()
    }
}

fn bytes(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .map(|m| serde_json::to_string(m).unwrap())
        .collect()
}

#[test]
fn an_uncompacted_session_is_sent_as_stored() {
    let mut b = Build::default();
    for n in 1..=3 {
        b.turn(n, "short result");
    }
    let a = assemble(&b.conv, &ContextSettings::default());
    assert_eq!(a.messages, b.conv.messages());
    assert_eq!(a.sent_as_is, 12);
    assert!(a.pruned.is_empty());
}

#[test]
fn a_compaction_replaces_what_it_covers_and_carries_pins_verbatim() {
    let mut b = Build::default();
    let rule = b.add(
        Message::user("RULE: never touch the vendor/ directory"),
        true,
    );
    b.add(Message::assistant("ok"), false);
    b.turn(2, "result two");
    b.turn(3, "result three");
    b.compact(6, "## Goal\n- fix the parser");
    let a = assemble(&b.conv, &no_pruning());
    let Message::User { .. } = &a.messages[0] else {
        panic!("the summary comes first: {:?}", a.messages[0]);
    };
    let first = a.messages[0].text();
    assert!(first.contains("## Goal\n- fix the parser"), "{first}");
    assert!(
        first.contains(&format!(
            "<pinned-message seq=\"{rule}\" role=\"user\">\nRULE: never touch the vendor/ directory\n</pinned-message>"
        )),
        "{first}"
    );
    assert_eq!(a.messages[1], Message::assistant(SUMMARY_ACK));
    assert_eq!(
        a.messages[2],
        Message::user("request 3"),
        "turn 3 kept whole"
    );
    assert_eq!(a.messages.len(), 2 + 4);
    assert!(a.parts.summary > 0 && a.parts.pinned > 0);
}

#[test]
fn old_tool_results_are_trimmed_then_elided_in_steps_of_whole_turns() {
    let big = format!("HEAD{}TAIL", "x".repeat(10_000));
    let mut b = Build::default();
    for n in 1..=30 {
        b.turn(n, &big);
    }
    let a = assemble(&b.conv, &ContextSettings::default());
    // 30 turns, 3 kept, steps of 10: turns 1–10 elided, 11–20 trimmed, 21–30 whole.
    let result_of = |n: usize| match &a.messages[(n - 1) * 4 + 2] {
        Message::Tool(r) => r.content.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        result_of(1),
        "[result of fs.read src/file1.rs, 10 KB, elided to save context; call the tool again if you need it]"
    );
    let trimmed = result_of(11);
    assert!(
        trimmed.starts_with("HEAD") && trimmed.ends_with("TAIL"),
        "{trimmed}"
    );
    assert!(trimmed.contains("elided to save context") && trimmed.len() < 2_500);
    assert_eq!(result_of(21), big);
    assert_eq!(result_of(30), big);
    let kinds: Vec<PrunedKind> = a.pruned.iter().map(|p| p.kind).collect();
    assert_eq!(kinds.len(), 20);
    assert!(kinds[..10].iter().all(|k| *k == PrunedKind::Elided));
    assert!(kinds[10..].iter().all(|k| *k == PrunedKind::Trimmed));
    assert_eq!(a.pruned[0].tool, "fs.read");
    assert_eq!(a.pruned[0].bytes, big.len() as u64);
}

#[test]
fn pinned_and_recent_results_are_never_pruned() {
    let big = "y".repeat(9_000);
    let mut b = Build::default();
    b.turn(1, &big);
    b.conv.entries[2].pinned = true;
    for n in 2..=40 {
        b.turn(n, &big);
    }
    let a = assemble(&b.conv, &ContextSettings::default());
    assert_eq!(
        a.messages[2], b.conv.entries[2].message,
        "pinned result whole"
    );
    let last = a.messages.len() - 2;
    assert_eq!(a.messages[last], b.conv.entries[last].message);
}

#[test]
fn the_request_prefix_is_byte_identical_between_pruning_steps() {
    let big = "z".repeat(6_000);
    let mut b = Build::default();
    let settings = ContextSettings::default();
    let mut previous: Option<Vec<String>> = None;
    let mut changes = Vec::new();
    for n in 1..=45 {
        b.turn(n, &big);
        let now = bytes(&assemble(&b.conv, &settings).messages);
        if let Some(prev) = &previous
            && now[..prev.len()] != prev[..]
        {
            changes.push(n);
        }
        previous = Some(now);
    }
    // The line moves when turn 13, 23, 33 and 43 start (3 kept, steps of 10).
    assert_eq!(changes, vec![13, 23, 33, 43]);
}

#[test]
fn nothing_to_compact_is_said_plainly() {
    let mut b = Build::default();
    let e = plan_compaction(&b.conv, 100).unwrap_err();
    assert!(e.contains("empty"), "{e}");
    b.add(Message::user("first"), false);
    b.add(Message::assistant("hi"), false);
    let e = plan_compaction(&b.conv, 100).unwrap_err();
    assert!(e.contains("only its latest request"), "{e}");
    b.add(Message::user("second"), false);
    let plan = plan_compaction(&b.conv, 100).unwrap();
    assert_eq!((plan.through_seq, plan.new_messages), (2, 2));
    assert!(plan.transcript.contains("[message 1, user]\nfirst"));
    b.compact(2, "summary");
    let e = plan_compaction(&b.conv, 100).unwrap_err();
    assert!(e.contains("already compact"), "{e}");
    assert!(!can_compact(&b.conv));
}
