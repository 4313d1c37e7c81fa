#![allow(clippy::unwrap_used, clippy::expect_used)]
//! SQLite never blocks the async runtime: while another process holds the database's write lock,
//! turns wait for it on the blocking pool and the runtime's workers stay free for everything
//! else (streams, the API, other timers). Once the lock is released every turn completes.

use pryx_agent::AgentSettings;
use pryx_core::{Core, CoreParts, Overrides, SessionRequest};
use pryx_protocol::{EventPayload, Surface, TurnEnd};
use pryx_testkit::{ScriptedLlm, Turn};
use std::collections::HashSet;
use std::sync::mpsc;
use std::time::Duration;

const TURNS: usize = 4;
/// Ticks of a 5 ms timer the runtime must deliver while the lock is held.
const TICKS: usize = 20;

#[test]
fn a_held_write_lock_does_not_stall_the_runtime_and_every_turn_completes() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let db = home.path().join("pryx.db");
    let llm = rt.block_on(ScriptedLlm::start());
    llm.push_all((0..TURNS).map(|i| Turn::text(format!("answer {i}"))));
    let core = {
        let _rt = rt.enter();
        let dir = pryx_config::DataDir::at(home.path());
        dir.ensure().unwrap();
        let config = serde_json::json!({
            "providers": {"mock": {"kind": "openai-compatible", "base_url": llm.base_url(), "catalog_id": "openai"}},
            "defaults": {"model": "mock/gpt-4o"},
            "skills": {"enabled": false},
        });
        std::fs::write(dir.config_file(), config.to_string()).unwrap();
        let config = pryx_config::Config::load(&dir).unwrap();
        Core::new(CoreParts {
            dir,
            config,
            store: pryx_store::Store::open(&db).unwrap(),
            settings: AgentSettings {
                surface: Surface::Core,
                ..AgentSettings::default()
            },
            overrides: Overrides {
                workspace: Some(std::fs::canonicalize(ws.path()).unwrap()),
                ..Overrides::default()
            },
            sandbox: None,
        })
        .unwrap()
    };
    let sessions: Vec<String> = (0..TURNS)
        .map(|_| core.create_session(&SessionRequest::default()).unwrap().id)
        .collect();
    let mut events = core.bus().subscribe();

    // Another process takes the write lock and keeps it.
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();

    // Start every turn (starting one reads the store, off the runtime's workers).
    for sid in &sessions {
        let (core, sid) = (core.clone(), sid.clone());
        rt.spawn(async move { core.start_turn(&sid, "hello").await.unwrap() });
    }
    // The runtime keeps serving a timer while the turns wait for the lock.
    let (tick_tx, ticks) = mpsc::channel();
    rt.spawn(async move {
        let mut every = tokio::time::interval(Duration::from_millis(5));
        loop {
            every.tick().await;
            if tick_tx.send(()).is_err() {
                return;
            }
        }
    });
    for n in 0..TICKS {
        ticks
            .recv_timeout(Duration::from_secs(3))
            .unwrap_or_else(|_| {
                panic!("the runtime stalled after {n} ticks while SQLite was locked")
            });
    }
    assert!(
        llm.requests().is_empty(),
        "a turn got past its first write while the database was locked"
    );

    holder.execute_batch("COMMIT").unwrap();
    let ended: Vec<(String, TurnEnd)> = rt.block_on(async {
        let mut ended = Vec::new();
        while ended.len() < TURNS {
            let ev = tokio::time::timeout(Duration::from_secs(20), events.recv())
                .await
                .expect("every turn ends once the lock is released")
                .unwrap();
            if let EventPayload::TurnCompleted(end) = &ev.event.payload {
                ended.push((ev.event.session_id.clone(), end.clone()));
            }
        }
        ended
    });
    let done: HashSet<&str> = ended.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(done.len(), TURNS, "{ended:?}");
    for (sid, end) in &ended {
        assert!(matches!(end, TurnEnd::Completed { .. }), "{sid}: {end:?}");
    }
    assert_eq!(llm.requests().len(), TURNS);
}
