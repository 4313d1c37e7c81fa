#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The event socket exact under every subscribe pattern at once: concurrent turns on sessions
//! that keep being created, clients that subscribe to all sessions with a cursor or to some
//! with `since`, drop their socket or subscribe again on it, send out-of-range, past-the-store
//! and filtered `since` values and bogus cursors, read slowly enough to be told to resync, and
//! live through restarts of the server and its core. Every client must end up with each
//! session's stored versions exactly: no gap, duplicate or reorder, and no delta of a turn it
//! already saw end.

use crate::common;

use common::*;
use pryx_core::Core;
use pryx_protocol::EventKind;
use pryx_protocol::ws::{WsControl, WsServerMessage};
use pryx_server::{Server, ServerConfig};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use tokio::sync::{RwLock, watch};

/// A bus small enough that slow readers get `resync`.
const BUS: usize = 64;

/// A small deterministic generator (SplitMix64): the same seed, the same choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Whether the server is listening, and how many times it has been (re)started.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Up {
    generation: u64,
    serving: bool,
}

/// What every task of the test shares.
struct Bed {
    rig: Rig,
    /// The core of the server's current run (replaced at each restart) and its server.
    current: RwLock<(Core, Option<Server>)>,
    /// A connection of the test's own, for reading what is stored.
    store: pryx_store::Store,
    up: watch::Sender<Up>,
    /// Stored events so far (what the drivers counted).
    stored: watch::Sender<u64>,
    /// Every turn is over: clients catch up and stop.
    finish: watch::Sender<bool>,
}

impl Bed {
    /// A socket to the server's current run, waiting (on the restart signal, never a timer)
    /// while it is down.
    async fn connect(&self) -> Ws {
        let mut up = self.up.subscribe();
        loop {
            let now = *up.wait_for(|u| u.serving).await.unwrap();
            let auth = format!("Bearer {TOKEN}");
            if let Ok(ws) = Ws::connect(self.rig.port, &[("authorization", &auth)], "").await {
                return ws;
            }
            // It went down after we looked: wait for the next run.
            up.wait_for(|u| u.generation > now.generation)
                .await
                .unwrap();
        }
    }

    fn stored_versions(&self, session: &str) -> Vec<u64> {
        self.store
            .events_since(session, 0, u32::MAX)
            .unwrap()
            .iter()
            .filter_map(|e| e.version)
            .collect()
    }

    /// Stops the server and its core (running turns end as cancelled), then opens the data dir
    /// again and serves it on the same port, as a restart of `pryx serve` does.
    async fn restart(&self) {
        let mut current = self.current.write().await;
        let generation = self.up.borrow().generation;
        self.up.send_replace(Up {
            generation,
            serving: false,
        });
        if let Some(server) = current.1.take() {
            server.shutdown(std::time::Duration::from_secs(5)).await;
        }
        current.0.shutdown(std::time::Duration::from_secs(10)).await;
        let core = pryx_testkit::core_rig::open_core(self.rig.home(), self.rig.workspace(), BUS);
        core.recover_interrupted().unwrap();
        let server =
            pryx_testkit::core_rig::serve(&core, ServerConfig::new(TOKEN), self.rig.port).await;
        *current = (core, Some(server));
        self.up.send_replace(Up {
            generation: generation + 1,
            serving: true,
        });
    }
}

/// Runs turns on `session` until enough events are stored; returns how many turns began.
async fn drive(bed: Arc<Bed>, session: String, target: u64) -> u64 {
    let mut turns = 0;
    let mut counted = bed.store.last_event_version(&session).unwrap();
    while *bed.stored.borrow() < target {
        bed.rig.llm.push(
            Turn::text(format!("answer {turns} on {session}, in small pieces")).with_chunk_chars(4),
        );
        // Held while the turn starts, so a restart waits for it: a turn must not start in a core
        // that is shutting down (as in a process that exits, nothing of it outlives the
        // restart).
        let current = bed.current.read().await;
        let core = current.0.clone();
        // Subscribed before the turn starts: its end cannot pass unseen.
        let mut rx = core.bus().subscribe();
        let started = core
            .start_turn(&session, &format!("message {turns}"))
            .await
            .unwrap();
        drop(current);
        turns += 1;
        wait_end(&core, &mut rx, &session, started.after_version).await;
        let now = bed.store.last_event_version(&session).unwrap();
        bed.stored.send_modify(|n| *n += now - counted);
        counted = now;
    }
    turns
}

/// Waits for the end of the turn that followed `after` on `session`, and for the session to be
/// free (from the store when the bus dropped events for this slow receiver).
async fn wait_end(
    core: &Core,
    rx: &mut tokio::sync::broadcast::Receiver<Arc<pryx_core::BusEvent>>,
    session: &str,
    after: u64,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match rx.recv().await {
            Ok(e) if e.event.session_id == session => {
                if e.event.kind() == Some(EventKind::TurnCompleted) {
                    return;
                }
            }
            Ok(_) => {}
            Err(RecvError::Lagged(_)) => {
                let ended = core
                    .store()
                    .events_since(session, after, u32::MAX)
                    .unwrap()
                    .iter()
                    .any(|e| e.kind() == Some(EventKind::TurnCompleted));
                // Stored, then the session is freed as the end is published: until then the
                // next event on the bus (or the next lag) brings us back here.
                if ended && core.running_turn(session).is_none() {
                    return;
                }
            }
            Err(RecvError::Closed) => panic!("the bus closed under a running turn"),
        }
    }
}

/// What one randomized client holds of one session.
#[derive(Default)]
struct Held {
    versions: Vec<u64>,
    /// Whether the last turn boundary it got is a `turn.started`.
    open: bool,
}

/// A client: all sessions with a cursor, or some with `since`.
struct Client {
    name: String,
    /// `None`: every session (with a cursor); else only these.
    only: Option<Vec<String>>,
    cursor: u64,
    held: HashMap<String, Held>,
    stale_deltas: u64,
    foreign: u64,
    counts: HashMap<&'static str, u64>,
    /// Sessions whose `since` this client sent out of range, expected back as errors.
    expect_errors: BTreeSet<String>,
    resync_asked: bool,
}

impl Client {
    fn last(&self, session: &str) -> u64 {
        self.held
            .get(session)
            .and_then(|h| h.versions.last().copied())
            .unwrap_or(0)
    }

    fn count(&mut self, what: &'static str) {
        *self.counts.entry(what).or_default() += 1;
    }

    /// What it holds, as `since`: its sessions (from 0 for one it has nothing of yet).
    fn since(&self) -> serde_json::Map<String, Value> {
        let names: Vec<&String> = match &self.only {
            Some(only) => only.iter().collect(),
            None => self.held.keys().collect(),
        };
        names
            .into_iter()
            .map(|s| (s.clone(), json!(self.last(s))))
            .collect()
    }

    fn take(&mut self, e: pryx_protocol::Event) {
        if self
            .only
            .as_ref()
            .is_some_and(|o| !o.contains(&e.session_id))
        {
            self.foreign += 1;
            return;
        }
        let held = self.held.entry(e.session_id.clone()).or_default();
        match e.kind() {
            Some(EventKind::SessionDelta) if !held.open => self.stale_deltas += 1,
            Some(EventKind::TurnStarted) => held.open = true,
            Some(EventKind::TurnCompleted) => held.open = false,
            _ => {}
        }
        if let Some(v) = e.version {
            held.versions.push(v);
        }
    }

    /// A `reset`: what is held of the session is fetched again from the store, up to the
    /// version the socket continues after.
    fn refetch(&mut self, bed: &Bed, session: &str, upto: u64) {
        self.count("reset");
        let events = bed
            .store
            .events_since(session, self.last(session), u32::MAX)
            .unwrap();
        for e in events {
            if e.version.is_some_and(|v| v <= upto) {
                self.take(e);
            }
        }
    }

    /// True at `subscribed`.
    fn handle(&mut self, bed: &Bed, msg: WsServerMessage) -> bool {
        match msg {
            WsServerMessage::Event(e) => self.take(e),
            WsServerMessage::Control(WsControl::Reset {
                session_id,
                last_version,
            }) => self.refetch(bed, &session_id, last_version),
            WsServerMessage::Control(WsControl::Resync { .. }) => {
                self.count("resync");
                self.resync_asked = true;
            }
            WsServerMessage::Control(WsControl::Subscribed { errors, cursor, .. }) => {
                let got: BTreeSet<String> = errors.into_keys().collect();
                assert_eq!(got, self.expect_errors, "{}: per-session errors", self.name);
                self.cursor = cursor;
                return true;
            }
            other => panic!("{}: unexpected {other:?}", self.name),
        }
        false
    }

    /// Subscribes on `ws` and reads up to its `subscribed`; false when the socket was lost.
    async fn subscribe(
        &mut self,
        bed: &Bed,
        ws: &mut Ws,
        req: Value,
        errors: BTreeSet<String>,
    ) -> bool {
        let mut req = req;
        req["type"] = json!("subscribe");
        self.expect_errors = errors;
        ws.send(req).await;
        loop {
            match ws.try_next().await {
                Some(msg) => {
                    if self.handle(bed, msg) {
                        return true;
                    }
                }
                None => return false,
            }
        }
    }

    /// The regular subscribe: what it holds, and its cursor.
    fn regular(&self) -> Value {
        let mut req = json!({"since": self.since(), "cursor": self.cursor});
        if let Some(only) = &self.only {
            req["sessions"] = json!(only);
        }
        req
    }

    /// A new socket and the regular subscribe, until one subscribe goes through.
    async fn reconnect(&mut self, bed: &Bed) -> Ws {
        loop {
            let mut ws = bed.connect().await;
            self.resync_asked = false;
            if self
                .subscribe(bed, &mut ws, self.regular(), BTreeSet::new())
                .await
            {
                return ws;
            }
        }
    }

    /// One random action on `ws`; false when the socket was lost.
    async fn act(&mut self, bed: &Bed, ws: &mut Ws, rng: &mut Rng) -> bool {
        let mut req = self.regular();
        let mut errors = BTreeSet::new();
        match rng.below(12) {
            0 => self.count("resubscribe"),
            1 => {
                // Without `since` or cursor: the socket goes on from what it sent.
                self.count("bare resubscribe");
                req = match &self.only {
                    Some(only) => json!({"sessions": only}),
                    None => json!({}),
                };
            }
            2 | 3 => {
                self.count("new socket");
                *ws = self.reconnect(bed).await;
                return true;
            }
            4 => {
                self.count("out of range");
                let ghost = format!("ghost-{}", rng.below(1000));
                req["since"][&ghost] = json!((1u64 << 63) + rng.below(1 << 20));
                if let Some(only) = &self.only {
                    let mut names = only.clone();
                    names.push(ghost.clone());
                    req["sessions"] = json!(names);
                }
                errors.insert(ghost);
            }
            5 => {
                let names: Vec<String> = self.since().keys().cloned().collect();
                if names.is_empty() {
                    return true;
                }
                self.count("past the store");
                let s = &names[rng.below(names.len() as u64) as usize];
                req["since"][s] = json!(self.last(s) + 1_000_000);
            }
            6 => {
                // Sessions it does not follow, from 0: not replayed.
                self.count("filtered since");
                for s in bed.store.list_session_ids() {
                    if self.only.as_ref().is_some_and(|o| !o.contains(&s)) {
                        req["since"][&s] = json!(0);
                    }
                }
            }
            7 => {
                // A cursor the store never handed out: counts as 0.
                self.count("bogus cursor");
                req["cursor"] = json!(u64::MAX - rng.below(1 << 20));
            }
            _ => return true,
        }
        self.subscribe(bed, ws, req, errors).await
    }
}

/// Every session id, for the "filtered since" action.
trait SessionIds {
    fn list_session_ids(&self) -> Vec<String>;
}

impl SessionIds for pryx_store::Store {
    fn list_session_ids(&self) -> Vec<String> {
        let page = pryx_store::Page {
            limit: 1000,
            offset: 0,
        };
        self.list_sessions(None, page)
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect()
    }
}

async fn run_client(bed: Arc<Bed>, c: u64, seed: u64, initial: Vec<String>) -> Client {
    let mut rng = Rng(seed ^ (c + 1).wrapping_mul(0xA24B_AED4_963E_E407));
    // Even clients follow everything with a cursor; odd ones a random subset of the first
    // sessions with `since`.
    let only = (c % 2 == 1).then(|| {
        let mut some: Vec<String> = initial
            .iter()
            .filter(|_| rng.below(3) > 0)
            .cloned()
            .collect();
        if some.is_empty() {
            some.push(initial[c as usize % initial.len()].clone());
        }
        some
    });
    let mut me = Client {
        name: format!("client {c}"),
        only,
        cursor: 0,
        held: HashMap::new(),
        stale_deltas: 0,
        foreign: 0,
        counts: HashMap::new(),
        expect_errors: BTreeSet::new(),
        resync_asked: false,
    };
    let mut finish = bed.finish.subscribe();
    let mut ws = me.reconnect(&bed).await;
    loop {
        // A burst, read slowly: a few messages, then let others run.
        let burst = rng.below(40);
        let mut lost = false;
        for _ in 0..burst {
            tokio::select! {
                msg = ws.try_next() => match msg {
                    Some(msg) => { me.handle(&bed, msg); }
                    None => { lost = true; break; }
                },
                _ = finish.wait_for(|f| *f) => break,
            }
            if rng.below(8) == 0 {
                tokio::task::yield_now().await;
            }
        }
        if *finish.borrow() {
            break;
        }
        if lost {
            me.count("lost socket");
            ws = me.reconnect(&bed).await;
            continue;
        }
        if me.resync_asked {
            me.resync_asked = false;
            if !me
                .subscribe(&bed, &mut ws, me.regular(), BTreeSet::new())
                .await
            {
                ws = me.reconnect(&bed).await;
            }
            continue;
        }
        if !me.act(&bed, &mut ws, &mut rng).await {
            ws = me.reconnect(&bed).await;
        }
    }
    // Every turn is over: catch up on a new socket.
    drop(ws);
    let _ws = me.reconnect(&bed).await;
    me
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_gets_each_stored_version_once_in_order_across_restarts() {
    // The CI size; `bench/ws-random.sh` runs it larger.
    let target = env_u64("PRYX_WS_RANDOM_EVENTS", 4_000);
    let seed = env_u64("PRYX_WS_RANDOM_SEED", 0x5eed);
    const FIRST_SESSIONS: usize = 3;
    const LATER_SESSIONS: u64 = 4;
    const RESTARTS: u64 = 2;
    const CLIENTS: u64 = 6;
    let started = std::time::Instant::now();
    let mut rig = Rig::with(Options {
        bus_capacity: BUS,
        ..Options::default()
    })
    .await;
    let server = rig.server.take();
    let core = rig.core.clone();
    let store = pryx_store::Store::open(&rig.db).unwrap();
    let bed = Arc::new(Bed {
        current: RwLock::new((core, server)),
        store,
        up: watch::Sender::new(Up {
            generation: 0,
            serving: true,
        }),
        stored: watch::Sender::new(0),
        finish: watch::Sender::new(false),
        rig,
    });
    let mut first = Vec::new();
    for _ in 0..FIRST_SESSIONS {
        first.push(bed.rig.new_session().await);
    }

    let mut drivers = tokio::task::JoinSet::new();
    for s in first.clone() {
        drivers.spawn(drive(bed.clone(), s, target));
    }
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| tokio::spawn(run_client(bed.clone(), c, seed, first.clone())))
        .collect();

    // The conductor: new sessions and restarts at fixed fractions of the target, while turns
    // run and clients come and go.
    let steps = LATER_SESSIONS + RESTARTS;
    let mut stored = bed.stored.subscribe();
    let mut restarts = 0;
    for step in 1..=steps {
        let at = target * step / (steps + 1);
        stored.wait_for(|n| *n >= at).await.unwrap();
        if step % 3 == 0 && restarts < RESTARTS {
            bed.restart().await;
            restarts += 1;
        } else {
            let core = bed.current.read().await.0.clone();
            let s = core
                .create_session(&pryx_core::SessionRequest::default())
                .unwrap()
                .id;
            drivers.spawn(drive(bed.clone(), s, target));
        }
    }
    let mut turns = 0;
    while let Some(t) = drivers.join_next().await {
        turns += t.unwrap();
    }
    bed.finish.send_replace(true);

    let sessions = bed.store.list_session_ids();
    let all: u64 = sessions
        .iter()
        .map(|s| bed.stored_versions(s).len() as u64)
        .sum();
    let mut checked = 0u64;
    for c in clients {
        let me = c.await.unwrap();
        let theirs: Vec<String> = me.only.clone().unwrap_or_else(|| sessions.clone());
        for s in &theirs {
            let want = bed.stored_versions(s);
            let got = me
                .held
                .get(s)
                .map(|h| h.versions.clone())
                .unwrap_or_default();
            let dups = got.windows(2).filter(|w| w[1] == w[0]).count();
            let reorders = got.windows(2).filter(|w| w[1] < w[0]).count();
            assert_eq!((dups, reorders), (0, 0), "{}: session {s}", me.name);
            let have: BTreeSet<u64> = got.iter().copied().collect();
            let missing: Vec<&u64> = want.iter().filter(|v| !have.contains(v)).collect();
            assert!(
                missing.is_empty() && got.len() == want.len(),
                "{}: session {s}: {} of {} versions, missing {missing:?}",
                me.name,
                got.len(),
                want.len()
            );
            checked += got.len() as u64;
        }
        assert_eq!(me.stale_deltas, 0, "{}: stale deltas", me.name);
        assert_eq!(
            me.foreign, 0,
            "{}: events of sessions not asked for",
            me.name
        );
        let mut counts: Vec<_> = me.counts.iter().collect();
        counts.sort();
        eprintln!(
            "{}: {} sessions, {counts:?}",
            me.name,
            me.only.as_ref().map_or(sessions.len(), Vec::len)
        );
    }
    eprintln!(
        "{turns} turns on {} sessions, {restarts} restarts, {all} stored events, {checked} \
         checked by clients, in {:.1} s",
        sessions.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(all >= target);
    assert_eq!(restarts, RESTARTS);
}
