use super::*;
use crate::messages::{MessageUsage, NewMessage, Role};
use crate::sessions::NewSession;
use crate::spend::CallCost;
use std::path::Path;

fn say(store: &Store, session: &str, text: &str) {
    store
        .append_message(&NewMessage {
            session_id: session.into(),
            role: Role::User,
            content: serde_json::json!([{"type": "text", "text": text}]),
            text: text.into(),
            tool_call_id: None,
            model: None,
            usage: MessageUsage::default(),
        })
        .unwrap();
}

fn session(store: &Store, ws: Option<&str>, agent: Option<&str>, model: &str) -> String {
    store
        .create_session(&NewSession {
            workspace_id: ws.map(String::from),
            title: format!("{agent:?} {model}"),
            model: Some(model.into()),
            agent: agent.map(String::from),
            policy: None,
        })
        .unwrap()
        .id
}

fn q() -> ExploreQuery {
    ExploreQuery {
        limit: 10,
        ..Default::default()
    }
}

fn ids(page: &ExplorePage) -> Vec<String> {
    page.rows.iter().map(|r| r.session.id.clone()).collect()
}

#[test]
fn filters_combine_and_rows_carry_counts_and_paths() {
    let store = Store::open_in_memory().unwrap();
    let ws = store.upsert_workspace(Path::new("/proj")).unwrap();
    let a = session(&store, Some(&ws.id), None, "m1");
    let b = session(&store, None, Some("coder"), "m2");
    let c = session(&store, Some(&ws.id), Some("main"), "m2");
    say(&store, &a, "the parser is slow");
    say(&store, &a, "fix the parser");
    say(&store, &b, "deploy the parser");
    say(&store, &c, "unrelated");
    store
        .record_call_cost(&CallCost {
            session_id: b.clone(),
            agent: "coder".into(),
            model: "m2".into(),
            tokens_in: 1000,
            tokens_out: 500,
            cost_usd: 0.5,
        })
        .unwrap();

    // Recording b's cost made it the most recently active.
    let all = store.explore_sessions(&q()).unwrap();
    assert_eq!(ids(&all), [b.clone(), c.clone(), a.clone()]);
    assert!(!all.more);
    let row_a = all.rows.iter().find(|r| r.session.id == a).unwrap();
    assert_eq!(
        (row_a.messages, row_a.workspace.as_deref()),
        (2, Some("/proj"))
    );
    assert!(row_a.snippet.is_none());

    let main = store
        .explore_sessions(&ExploreQuery {
            agent: Some("main".into()),
            ..q()
        })
        .unwrap();
    assert_eq!(
        ids(&main),
        [c.clone(), a.clone()],
        "no agent counts as main"
    );
    let m2_ws = store
        .explore_sessions(&ExploreQuery {
            model: Some("m2".into()),
            workspace_id: Some(ws.id.clone()),
            ..q()
        })
        .unwrap();
    assert_eq!(ids(&m2_ws), [c.as_str()]);
    let costly = store
        .explore_sessions(&ExploreQuery {
            min_cost_usd: Some(0.1),
            min_tokens: Some(1500),
            ..q()
        })
        .unwrap();
    assert_eq!(ids(&costly), [b.as_str()]);
    let chatty = store
        .explore_sessions(&ExploreQuery {
            min_messages: Some(2),
            ..q()
        })
        .unwrap();
    assert_eq!(ids(&chatty), [a.as_str()]);
    let by_messages = store
        .explore_sessions(&ExploreQuery {
            sort: ExploreSort::Messages,
            ..q()
        })
        .unwrap();
    assert_eq!(by_messages.rows[0].session.id, a);
    let by_cost = store
        .explore_sessions(&ExploreQuery {
            sort: ExploreSort::Cost,
            ..q()
        })
        .unwrap();
    assert_eq!(by_cost.rows[0].session.id, b);
    let future = store
        .explore_sessions(&ExploreQuery {
            active_from: Some("9999-01-01".into()),
            ..q()
        })
        .unwrap();
    assert!(future.rows.is_empty());
    let past = store
        .explore_sessions(&ExploreQuery {
            active_before: Some("9999-01-01".into()),
            sort: ExploreSort::Oldest,
            ..q()
        })
        .unwrap();
    assert_eq!(ids(&past), [a.clone(), c.clone(), b.clone()]);

    let facets = store.explore_facets().unwrap();
    assert_eq!(facets.agents, ["coder", "main"]);
    assert_eq!(facets.models, ["m1", "m2"]);
    assert_eq!(facets.workspaces, [(ws.id.clone(), "/proj".to_string())]);
}

#[test]
fn search_gives_one_row_per_session_with_its_snippet_and_pages() {
    let store = Store::open_in_memory().unwrap();
    let a = session(&store, None, None, "m1");
    let b = session(&store, None, Some("coder"), "m1");
    say(&store, &a, "the parser is slow");
    say(&store, &a, "the parser parser parser again");
    say(&store, &b, "deploy the parser <script>");
    let hits = store
        .explore_sessions(&ExploreQuery {
            text: Some("parser".into()),
            ..q()
        })
        .unwrap();
    assert_eq!(hits.rows.len(), 2);
    for r in &hits.rows {
        let s = r.snippet.as_deref().unwrap();
        assert!(s.contains("\u{ab}parser\u{bb}"), "{s}");
    }
    let coder = store
        .explore_sessions(&ExploreQuery {
            text: Some("parser".into()),
            agent: Some("coder".into()),
            ..q()
        })
        .unwrap();
    assert_eq!(ids(&coder), [b.as_str()]);
    let first = store
        .explore_sessions(&ExploreQuery {
            text: Some("parser".into()),
            limit: 1,
            ..q()
        })
        .unwrap();
    assert_eq!((first.rows.len(), first.more), (1, true));
    let second = store
        .explore_sessions(&ExploreQuery {
            text: Some("parser".into()),
            limit: 1,
            offset: 1,
            ..q()
        })
        .unwrap();
    assert_eq!((second.rows.len(), second.more), (1, false));
    assert_ne!(first.rows[0].session.id, second.rows[0].session.id);
    for nothing in ["\"", "*", "  "] {
        let r = store
            .explore_sessions(&ExploreQuery {
                text: Some(nothing.into()),
                ..q()
            })
            .unwrap();
        assert!(
            nothing.trim().is_empty() || r.rows.is_empty(),
            "{nothing:?}"
        );
    }
    assert!(
        !store
            .explore_plan(&ExploreQuery {
                text: Some("parser".into()),
                ..q()
            })
            .unwrap()
            .is_empty()
    );
}
