//! Carries core events to the UI across core restarts. Each new [`Link`] gets a fresh
//! subscription that resumes where the previous one's read events left off (versions per
//! session and the core's cursor), so events published while the core was away (or by its
//! previous run) are replayed once and never duplicated, and sessions created meanwhile are
//! offered too. A session the core holds less of than was shown (a restored data dir) is
//! loaded again.

use crate::supervisor::Link;
use pryx_client::{Backoff, Connection, Filter, Notice};
use pryx_tui::{ConnectionState, CoreUpdate};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How often a subscription that could not be made is tried again on the same core.
const RESUBSCRIBE: Duration = Duration::from_millis(300);

/// Runs until the UI's receiver is gone.
pub async fn run(link: watch::Receiver<Option<Link>>, out: mpsc::UnboundedSender<CoreUpdate>) {
    // Live from the first subscription on; each later one resumes the previous.
    run_from(Filter::all(), link, out).await
}

/// [`run`], the first subscription made with `filter`.
async fn run_from(
    mut filter: Filter,
    mut link: watch::Receiver<Option<Link>>,
    out: mpsc::UnboundedSender<CoreUpdate>,
) {
    loop {
        let current = link.borrow_and_update().clone();
        let Some(current) = current else {
            if link.changed().await.is_err() {
                return;
            }
            continue;
        };
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            give_up_after: None,
        };
        let mut sub = tokio::select! {
            s = current.client.subscribe_with(filter.clone(), backoff) => match s {
                Ok(s) => s,
                Err(e) => {
                    tracing::debug!(error = %e, "cannot subscribe yet");
                    tokio::select! {
                        () = tokio::time::sleep(RESUBSCRIBE) => {}
                        r = link.changed() => if r.is_err() { return },
                    }
                    continue;
                }
            },
            r = link.changed() => {
                if r.is_err() { return }
                continue;
            }
        };
        tracing::debug!(
            generation = current.generation,
            "subscribed to the core's events"
        );
        if out
            .send(CoreUpdate::Connection(ConnectionState::Connected))
            .is_err()
        {
            return;
        }
        let mut state = sub.state();
        state.borrow_and_update();
        let mut notices = sub.take_notices();
        loop {
            tokio::select! {
                ev = sub.next() => match ev {
                    Some(e) => {
                        if out.send(CoreUpdate::Event(e)).is_err() {
                            return;
                        }
                    }
                    None => break,
                },
                Some(notice) = notices.recv() => match notice {
                    Notice::Reset { session_id, .. } => {
                        if out.send(CoreUpdate::Reset { session_id }).is_err() {
                            return;
                        }
                    }
                    Notice::Refused { session_id, error } => {
                        tracing::warn!(session = %session_id, error = %error.message, "the core could not replay a session's events");
                    }
                },
                r = state.changed() => {
                    if r.is_err() { break }
                    let s = match &*state.borrow_and_update() {
                        Connection::Connected { .. } => ConnectionState::Connected,
                        Connection::Reconnecting { .. } | Connection::Closed { .. } => ConnectionState::Connecting,
                    };
                    if out.send(CoreUpdate::Connection(s)).is_err() {
                        return;
                    }
                }
                r = link.changed() => {
                    if r.is_err() { return }
                    break;
                }
            }
        }
        filter = sub.resume(Filter::all());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pryx_client::Client;
    use pryx_protocol::{Event, EventKind};
    use pryx_server::ServerConfig;
    use pryx_testkit::Turn;
    use pryx_testkit::core_rig::{CoreRig, TOKEN, serve};

    fn link(server: &pryx_server::Server, generation: u64) -> Option<Link> {
        let url = format!("http://127.0.0.1:{}", server.local_addr().port());
        Some(Link {
            client: Client::new(&url, TOKEN).unwrap(),
            generation,
        })
    }

    /// Events of `session` until its `n`-th `turn.completed` (every update read is kept).
    async fn until_ended(
        rx: &mut mpsc::UnboundedReceiver<CoreUpdate>,
        got: &mut Vec<Event>,
        session: &str,
        n: usize,
    ) {
        let ended = |got: &Vec<Event>| {
            got.iter()
                .filter(|e| e.session_id == session && e.kind() == Some(EventKind::TurnCompleted))
                .count()
        };
        let read = async {
            while ended(got) < n {
                if let Some(CoreUpdate::Event(e)) = rx.recv().await {
                    got.push(e);
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), read)
            .await
            .unwrap();
    }

    fn versions(got: &[Event], session: &str) -> Vec<u64> {
        got.iter()
            .filter(|e| e.session_id == session)
            .filter_map(|e| e.version)
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_new_core_link_resumes_and_offers_sessions_created_in_between() {
        let rig = CoreRig::start().await;
        let first = rig.serve().await;
        let (link_tx, link_rx) = watch::channel(link(&first, 1));
        let (tx, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(run(link_rx, tx));
        let store = rig.core.store();
        let known = rig.core.create_session(&Default::default()).unwrap().id;
        // The pump is subscribed once it says so.
        while !matches!(
            rx.recv().await,
            Some(CoreUpdate::Connection(ConnectionState::Connected))
        ) {}
        let mut got = Vec::new();
        rig.llm.push(Turn::text("one"));
        rig.core.start_turn(&known, "first").await.unwrap();
        until_ended(&mut rx, &mut got, &known, 1).await;
        // The core's server goes away; meanwhile a session nobody has heard of gets a turn.
        first.shutdown(Duration::from_secs(2)).await;
        let new = rig.core.create_session(&Default::default()).unwrap().id;
        rig.llm.push_all([Turn::text("two"), Turn::text("three")]);
        rig.core.start_turn(&new, "hello").await.unwrap();
        rig.wait_turns(&new, 1).await;
        rig.core.start_turn(&known, "second").await.unwrap();
        rig.wait_turns(&known, 2).await;
        let second = serve(&rig.core, ServerConfig::new(TOKEN), 0).await;
        link_tx.send_replace(link(&second, 2));
        until_ended(&mut rx, &mut got, &new, 1).await;
        until_ended(&mut rx, &mut got, &known, 2).await;
        let stored = |s: &str| -> Vec<u64> {
            store
                .events_since(s, 0, u32::MAX)
                .unwrap()
                .iter()
                .filter_map(|e| e.version)
                .collect()
        };
        assert_eq!(versions(&got, &known), stored(&known));
        assert_eq!(versions(&got, &new), stored(&new));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn versions_past_what_the_core_stored_ask_the_ui_to_reload_that_session() {
        let rig = CoreRig::start().await;
        let server = rig.serve().await;
        let s = rig.core.create_session(&Default::default()).unwrap().id;
        rig.llm.push(Turn::text("one"));
        rig.core.start_turn(&s, "first").await.unwrap();
        rig.wait_turns(&s, 1).await;
        let stored = rig.core.store().events_since(&s, 0, u32::MAX).unwrap();
        let last = stored.iter().filter_map(|e| e.version).max().unwrap();
        // What a UI holds after the data dir was restored from an older copy.
        let (_link_tx, link_rx) = watch::channel(link(&server, 1));
        let (tx, mut rx) = mpsc::unbounded_channel();
        tokio::spawn(run_from(Filter::all().since(&s, last + 5), link_rx, tx));
        let reset = async {
            loop {
                match rx.recv().await {
                    Some(CoreUpdate::Reset { session_id }) => break session_id,
                    Some(_) => {}
                    None => panic!("the pump ended"),
                }
            }
        };
        let got = tokio::time::timeout(Duration::from_secs(20), reset)
            .await
            .unwrap();
        assert_eq!(got, s);
    }
}
