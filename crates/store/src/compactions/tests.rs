use super::*;
use crate::messages::{MessageUsage, NewMessage, Role};
use crate::sessions::NewSession;
use serde_json::json;

fn say(store: &Store, session: &str, role: Role, text: &str) -> crate::Message {
    store
        .append_message(&NewMessage {
            session_id: session.to_string(),
            role,
            content: json!([{"type": "text", "text": text}]),
            text: text.to_string(),
            tool_call_id: (role == Role::Tool).then(|| "c1".to_string()),
            model: None,
            usage: MessageUsage::default(),
        })
        .unwrap()
}

fn compaction(session: &str, through: u64) -> NewCompaction {
    NewCompaction {
        session_id: session.to_string(),
        through_seq: through,
        summary: format!("summary through {through}"),
        messages: through,
        tokens_before: 1000,
        tokens_after: 100,
        model: "p/m".into(),
        tokens_in: 900,
        tokens_out: 80,
        cost_usd: 0.01,
        trigger: CompactionTrigger::User,
    }
}

#[test]
fn the_newest_compaction_is_in_force_and_never_goes_back() {
    let store = Store::open_in_memory().unwrap();
    let s = store.create_session(&NewSession::default()).unwrap();
    for i in 0..6 {
        say(&store, &s.id, Role::User, &format!("m{i}"));
    }
    assert_eq!(store.latest_compaction(&s.id).unwrap(), None);
    let first = store.add_compaction(&compaction(&s.id, 2)).unwrap();
    assert_eq!(first.trigger, CompactionTrigger::User);
    assert_eq!(store.latest_compaction(&s.id).unwrap(), Some(first.clone()));
    for bad in [2, 1, 0, 7] {
        let e = store.add_compaction(&compaction(&s.id, bad)).unwrap_err();
        assert!(matches!(e, StoreError::Invalid { .. }), "{bad}: {e}");
    }
    let second = store.add_compaction(&compaction(&s.id, 4)).unwrap();
    assert_eq!(
        store.latest_compaction(&s.id).unwrap(),
        Some(second.clone())
    );
    assert_eq!(store.list_compactions(&s.id).unwrap(), vec![first, second]);
    assert_eq!(
        store.list_messages(&s.id).unwrap().len(),
        6,
        "nothing deleted"
    );
    assert!(matches!(
        store.add_compaction(&compaction("nope", 1)),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn pins_are_per_session_and_unknown_messages_are_named() {
    let store = Store::open_in_memory().unwrap();
    let a = store.create_session(&NewSession::default()).unwrap();
    let b = store.create_session(&NewSession::default()).unwrap();
    let m = say(&store, &a.id, Role::User, "always answer in French");
    assert!(!m.pinned);
    assert!(store.set_message_pinned(&a.id, &m.id, true).unwrap().pinned);
    assert!(store.list_messages(&a.id).unwrap()[0].pinned);
    let e = store.set_message_pinned(&b.id, &m.id, true).unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::NotFound {
                what: "message",
                ..
            }
        ),
        "{e}"
    );
    assert!(
        !store
            .set_message_pinned(&a.id, &m.id, false)
            .unwrap()
            .pinned
    );
}

#[test]
fn a_fork_copies_up_to_its_message_with_that_message_s_tool_results() {
    let store = Store::open_in_memory().unwrap();
    let parent = store
        .create_session(&NewSession {
            title: "work".into(),
            model: Some("p/m".into()),
            agent: Some("main".into()),
            ..Default::default()
        })
        .unwrap();
    say(&store, &parent.id, Role::User, "one");
    let call = say(&store, &parent.id, Role::Assistant, "calling");
    say(&store, &parent.id, Role::Tool, "result");
    let pinned = say(&store, &parent.id, Role::User, "two");
    store
        .set_message_pinned(&parent.id, &pinned.id, true)
        .unwrap();
    say(&store, &parent.id, Role::Assistant, "answer two");
    store.add_compaction(&compaction(&parent.id, 3)).unwrap();
    store.add_compaction(&compaction(&parent.id, 5)).unwrap();

    let child = store.fork_session(&parent.id, &call.id).unwrap();
    assert_eq!(child.parent_id.as_deref(), Some(parent.id.as_str()));
    assert_eq!(child.title, "work (fork)");
    assert_eq!(
        (child.model, child.agent),
        (parent.model.clone(), parent.agent.clone())
    );
    assert_eq!(child.total_cost_usd, 0.0);
    let texts: Vec<String> = store
        .list_messages(&child.id)
        .unwrap()
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(texts, ["one", "calling", "result"]);
    assert_eq!(store.list_compactions(&child.id).unwrap().len(), 1);

    let later = store.fork_session(&parent.id, &pinned.id).unwrap();
    let msgs = store.list_messages(&later.id).unwrap();
    assert_eq!(msgs.len(), 4);
    assert!(msgs[3].pinned, "pins come along");
    assert_ne!(msgs[3].id, pinned.id, "copies get ids of their own");

    let e = store.fork_session(&parent.id, "missing").unwrap_err();
    assert!(
        matches!(
            e,
            StoreError::NotFound {
                what: "message",
                ..
            }
        ),
        "{e}"
    );
    store.delete_session(&parent.id).unwrap();
    let orphan = store.get_session(&child.id).unwrap().unwrap();
    assert_eq!(orphan.parent_id, None);
    assert_eq!(store.list_messages(&child.id).unwrap().len(), 3);
}
