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

#[test]
fn filter_choices_follow_new_and_deleted_sessions() {
    let store = Store::open_in_memory().unwrap();
    assert_eq!(store.explore_facets().unwrap(), ExploreFacets::default());
    let a = session(&store, None, None, "m1");
    let facets = store.explore_facets().unwrap();
    assert_eq!(
        (facets.agents, facets.models),
        (vec!["main".to_string()], vec!["m1".to_string()])
    );

    // A new agent and model show up at once, in order, and only once.
    let b = session(&store, None, Some("reviewer"), "a-model");
    session(&store, None, Some("reviewer"), "a-model");
    session(&store, None, Some("coder"), "");
    let facets = store.explore_facets().unwrap();
    assert_eq!(facets.agents, ["coder", "main", "reviewer"]);
    assert_eq!(
        facets.models,
        ["a-model", "m1"],
        "an empty model is no choice"
    );

    // A model change is seen too; the last session of a value takes it away.
    store.set_session_model(&a, "m3").unwrap();
    assert_eq!(store.explore_facets().unwrap().models, ["a-model", "m3"]);
    store.delete_session(&a).unwrap();
    store.delete_session(&b).unwrap();
    let facets = store.explore_facets().unwrap();
    assert_eq!(facets.agents, ["coder", "reviewer"]);
    assert_eq!(facets.models, ["a-model"]);
}

#[test]
fn message_counts_follow_every_write() {
    let store = Store::open_in_memory().unwrap();
    let a = session(&store, None, None, "m1");
    let count = |id: &str| {
        store
            .explore_sessions(&q())
            .unwrap()
            .rows
            .into_iter()
            .find(|r| r.session.id == id)
            .map(|r| r.messages)
    };
    assert_eq!(count(&a), Some(0));
    say(&store, &a, "one");
    say(&store, &a, "two");
    let last = store
        .append_message(&NewMessage {
            session_id: a.clone(),
            role: Role::User,
            content: serde_json::json!([]),
            text: "three".into(),
            tool_call_id: None,
            model: None,
            usage: MessageUsage::default(),
        })
        .unwrap();
    assert_eq!(count(&a), Some(3));
    store.remove_last_user_message(&a, &last.id).unwrap();
    assert_eq!(count(&a), Some(2));
    let by_count = store
        .explore_sessions(&ExploreQuery {
            min_messages: Some(2),
            sort: ExploreSort::Messages,
            ..q()
        })
        .unwrap();
    assert_eq!(ids(&by_count), [a.as_str()]);
}

/// A database as schema 6 left it: sessions and messages without stored counts.
#[test]
fn schema_7_fills_counts_and_indexes_for_existing_sessions() {
    use crate::migrate::{MIGRATIONS, SCHEMA_VERSION, migrate_with};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let mut c = rusqlite::Connection::open(&path).unwrap();
        migrate_with(&mut c, &MIGRATIONS[..6]).unwrap();
        for (id, agent, model, messages) in [
            ("s1", None, "m1", 3),
            ("s2", Some("coder"), "m2", 1),
            ("s3", Some("ops"), "m1", 0),
        ] {
            c.execute(
                "INSERT INTO sessions (id, title, model, agent, created_at, updated_at)
                 VALUES (?1, '', ?2, ?3, '2026-01-01T00:00:00.000000Z', ?4)",
                params![
                    id,
                    model,
                    agent,
                    format!("2026-01-0{}T00:00:00.000000Z", messages + 1)
                ],
            )
            .unwrap();
            for seq in 0..messages {
                c.execute(
                    "INSERT INTO messages (id, session_id, seq, role, content, text, created_at)
                     VALUES (?1, ?2, ?3, 'user', '[]', 'old words', '2026-01-01T00:00:00.000000Z')",
                    params![format!("{id}-{seq}"), id, seq],
                )
                .unwrap();
            }
        }
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let page = store
        .explore_sessions(&ExploreQuery {
            sort: ExploreSort::Messages,
            ..q()
        })
        .unwrap();
    let counts: Vec<(String, u64)> = page
        .rows
        .iter()
        .map(|r| (r.session.id.clone(), r.messages))
        .collect();
    assert_eq!(
        counts,
        [("s1".into(), 3), ("s2".into(), 1), ("s3".into(), 0)]
    );
    let facets = store.explore_facets().unwrap();
    assert_eq!(facets.agents, ["coder", "main", "ops"]);
    assert_eq!(facets.models, ["m1", "m2"]);
    // Messages written after the upgrade are counted on top of the filled ones.
    say(&store, "s3", "new words");
    let s3 = store
        .explore_sessions(&ExploreQuery {
            text: Some("new".into()),
            ..q()
        })
        .unwrap();
    assert_eq!(
        s3.rows
            .iter()
            .map(|r| (r.session.id.as_str(), r.messages))
            .collect::<Vec<_>>(),
        [("s3", 1)]
    );
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

#[test]
fn filters_and_sorts_use_indexes() {
    let store = Store::open_in_memory().unwrap();
    let plan = |q: ExploreQuery| store.explore_plan(&q).unwrap().join("\n");
    for (q, index) in [
        (
            ExploreQuery {
                agent: Some("main".into()),
                ..q()
            },
            "sessions_by_agent",
        ),
        (
            ExploreQuery {
                agent: Some("coder".into()),
                ..q()
            },
            "sessions_by_agent",
        ),
        (
            ExploreQuery {
                model: Some("m".into()),
                ..q()
            },
            "sessions_by_model",
        ),
        (
            ExploreQuery {
                sort: ExploreSort::Messages,
                ..q()
            },
            "sessions_by_messages",
        ),
        (
            ExploreQuery {
                sort: ExploreSort::Cost,
                ..q()
            },
            "sessions_by_cost",
        ),
        (
            ExploreQuery {
                sort: ExploreSort::Tokens,
                ..q()
            },
            "sessions_by_tokens",
        ),
    ] {
        let p = plan(q.clone());
        assert!(p.contains(index), "{q:?}:\n{p}");
        assert!(
            !p.contains("TEMP B-TREE"),
            "{q:?} sorts every session:\n{p}"
        );
    }
}
