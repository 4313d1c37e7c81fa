//! The sessions explorer's query over a large store: 100,000 sessions (4 messages each, words
//! from a 4,000-word vocabulary, 20 workspaces, 4 agents, 6 models), timed without and with each
//! filter, with its query plan. Goal (PRD FR4.3): ≤ 50 ms server time per query.
//!
//! Run: `cargo bench -p pryx-store --bench explore` (or `bench/web-search.sh`).
//! `PRYX_BENCH_SESSIONS=N` changes the number of sessions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pryx_store::{ExploreQuery, ExploreSort, MessageUsage, NewMessage, NewSession, Role, Store};
use std::time::{Duration, Instant};

const MESSAGES: usize = 4;
const WORDS: usize = 12;
const VOCAB: usize = 4000;
const RUNS: usize = 15;
const GOAL: Duration = Duration::from_millis(50);

/// A tiny deterministic generator (xorshift), so every run fills the same store.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Word `i` of the vocabulary; low indices are drawn far more often (a Zipf-like skew), so
/// `w0` is in most messages and `w3999` in few.
fn word(i: usize) -> String {
    format!("w{i}")
}

fn fill(path: &std::path::Path, sessions: usize) {
    drop(Store::open(path).unwrap());
    let mut c = rusqlite::Connection::open(path).unwrap();
    let tx = c.transaction().unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for w in 0..20 {
        tx.execute(
            "INSERT INTO workspaces (id, name, path, created_at) VALUES (?1, ?2, ?3, '2026-01-01T00:00:00.000000Z')",
            rusqlite::params![format!("ws{w}"), format!("p{w}"), format!("/home/u/p{w}")],
        )
        .unwrap();
    }
    let agents = ["main", "coder", "writer", "ops"];
    let models = [
        "openai/gpt-5",
        "anthropic/claude-sonnet-4-5",
        "ollama/llama3",
        "google/gemini-2.5",
        "mistral/large",
        "openai/gpt-5-mini",
    ];
    {
        let mut s = tx
            .prepare(
                "INSERT INTO sessions (id, workspace_id, title, status, model, created_at, updated_at,
                    total_tokens_in, total_tokens_out, total_cost_usd, agent)
                 VALUES (?1, ?2, ?3, 'idle', ?4, ?5, ?5, ?6, ?7, ?8, ?9)",
            )
            .unwrap();
        let mut m = tx
            .prepare(
                "INSERT INTO messages (id, session_id, seq, role, content, text, created_at)
                 VALUES (?1, ?2, ?3, ?4, '[]', ?5, ?6)",
            )
            .unwrap();
        for i in 0..sessions {
            let id = format!("s{i:08}");
            // One session every ~5 minutes over the last year.
            let day = 1 + (i * 365 / sessions.max(1));
            let ts = format!(
                "2026-{:02}-{:02}T{:02}:{:02}:00.000000Z",
                1 + (day / 31).min(11),
                1 + day % 28,
                rng.below(24),
                rng.below(60)
            );
            let agent = agents[rng.below(agents.len())];
            let tokens_in = rng.below(200_000) as i64;
            s.execute(rusqlite::params![
                id,
                format!("ws{}", rng.below(20)),
                format!("Session {i} about {}", word(rng.below(VOCAB))),
                models[rng.below(models.len())],
                ts,
                tokens_in,
                tokens_in / 10,
                tokens_in as f64 / 1e6,
                (agent != "main").then_some(agent),
            ])
            .unwrap();
            for seq in 0..MESSAGES {
                let text: Vec<String> = (0..WORDS)
                    .map(|_| {
                        // Square of a uniform draw: skewed toward common words.
                        let u = rng.below(VOCAB);
                        word(u * u / VOCAB)
                    })
                    .collect();
                m.execute(rusqlite::params![
                    format!("{id}-{seq}"),
                    id,
                    seq as i64,
                    if seq % 2 == 0 { "user" } else { "assistant" },
                    text.join(" "),
                    ts,
                ])
                .unwrap();
            }
        }
    }
    tx.commit().unwrap();
    c.execute_batch("ANALYZE; PRAGMA optimize;").unwrap();
}

fn time(store: &Store, name: &str, q: &ExploreQuery) -> Duration {
    let mut runs: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let page = store.explore_sessions(q).unwrap();
            std::hint::black_box(page);
            start.elapsed()
        })
        .collect();
    runs.sort();
    let median = runs[RUNS / 2];
    let rows = store.explore_sessions(q).unwrap().rows.len();
    let verdict = if median <= GOAL { "PASS" } else { "FAIL" };
    println!(
        "{verdict}  {name:<44} median {:>7.2} ms  max {:>7.2} ms  rows {rows}",
        ms(median),
        ms(runs[RUNS - 1])
    );
    for step in store.explore_plan(q).unwrap() {
        println!("        plan: {step}");
    }
    median
}

/// Mean cost of the store's own writes on the full store: creating a session, and appending
/// a message (which also maintains the full-text index and the sessions' indexes).
fn write_cost(store: &Store) -> (Duration, Duration) {
    const WRITES: usize = 200;
    let mut create = Duration::ZERO;
    let mut append = Duration::ZERO;
    for i in 0..WRITES {
        let start = Instant::now();
        let session = store
            .create_session(&NewSession {
                workspace_id: None,
                title: format!("write {i}"),
                model: Some("openai/gpt-5".into()),
                agent: Some("coder".into()),
                policy: None,
            })
            .unwrap();
        create += start.elapsed();
        let text = (0..WORDS)
            .map(|w| word(w * 97 + i))
            .collect::<Vec<_>>()
            .join(" ");
        let start = Instant::now();
        store
            .append_message(&NewMessage {
                session_id: session.id,
                role: Role::User,
                content: serde_json::json!([{"type": "text", "text": text}]),
                text,
                tool_call_id: None,
                model: None,
                usage: MessageUsage::default(),
            })
            .unwrap();
        append += start.elapsed();
    }
    (create / WRITES as u32, append / WRITES as u32)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let sessions: usize = std::env::var("PRYX_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bench.db");
    let start = Instant::now();
    fill(&path, sessions);
    println!(
        "filled {sessions} sessions, {} messages in {:.1} s ({} MB)",
        sessions * MESSAGES,
        start.elapsed().as_secs_f64(),
        std::fs::metadata(&path)
            .map(|m| m.len() / 1_000_000)
            .unwrap_or(0)
    );
    let store = Store::open(&path).unwrap();
    let base = ExploreQuery {
        limit: 50,
        ..Default::default()
    };
    let with = |f: &dyn Fn(&mut ExploreQuery)| {
        let mut q = base.clone();
        f(&mut q);
        q
    };
    let cases: Vec<(&str, ExploreQuery)> = vec![
        ("no filter, most recent", base.clone()),
        ("page 100 (offset 4950)", with(&|q| q.offset = 4950)),
        ("agent = coder", with(&|q| q.agent = Some("coder".into()))),
        (
            "agent = main (includes unset)",
            with(&|q| q.agent = Some("main".into())),
        ),
        ("workspace", with(&|q| q.workspace_id = Some("ws7".into()))),
        ("model", with(&|q| q.model = Some("ollama/llama3".into()))),
        (
            "active in March",
            with(&|q| {
                q.active_from = Some("2026-03-01".into());
                q.active_before = Some("2026-04-01".into());
            }),
        ),
        ("cost ≥ $0.19", with(&|q| q.min_cost_usd = Some(0.19))),
        ("tokens ≥ 210,000", with(&|q| q.min_tokens = Some(210_000))),
        ("messages ≥ 4", with(&|q| q.min_messages = Some(4))),
        ("sorted by cost", with(&|q| q.sort = ExploreSort::Cost)),
        (
            "sorted by messages",
            with(&|q| q.sort = ExploreSort::Messages),
        ),
        ("text: rare word", with(&|q| q.text = Some(word(3990)))),
        (
            "text: two mid words",
            with(&|q| q.text = Some(format!("{} {}", word(900), word(1500)))),
        ),
        (
            "text: prefix w399*",
            with(&|q| q.text = Some("w399*".into())),
        ),
        (
            "text: common word (most messages)",
            with(&|q| q.text = Some(word(0))),
        ),
        (
            "text + agent + workspace",
            with(&|q| {
                q.text = Some(word(1200));
                q.agent = Some("coder".into());
                q.workspace_id = Some("ws3".into());
            }),
        ),
        (
            "common word + agent + workspace",
            with(&|q| {
                q.text = Some(word(0));
                q.agent = Some("coder".into());
                q.workspace_id = Some("ws3".into());
            }),
        ),
        (
            "common word, sorted by cost",
            with(&|q| {
                q.text = Some(word(0));
                q.sort = ExploreSort::Cost;
            }),
        ),
    ];
    let mut worst = Duration::ZERO;
    for (name, q) in &cases {
        worst = worst.max(time(&store, name, q));
    }
    let start = Instant::now();
    for _ in 0..RUNS {
        std::hint::black_box(store.explore_facets().unwrap());
    }
    let facets = start.elapsed() / RUNS as u32;
    println!(
        "      filter choices (agents, models, workspaces): mean {:.2} ms",
        ms(facets)
    );
    let (create, append) = write_cost(&store);
    println!(
        "      writes on the full store: new session mean {:.3} ms, new message mean {:.3} ms",
        ms(create),
        ms(append)
    );
    println!(
        "worst median: {:.2} ms (goal ≤ {} ms)",
        ms(worst),
        GOAL.as_millis()
    );
}
