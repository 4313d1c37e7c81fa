//! Carries core events to the UI across core restarts. Each new [`Link`] gets a fresh
//! subscription that starts from the last version seen per session, so events published while
//! the core was away (or by its previous run) are replayed once and never duplicated.

use crate::supervisor::Link;
use pryx_client::{Backoff, Connection, Filter, Seen};
use pryx_tui::{ConnectionState, CoreUpdate};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// How often a subscription that could not be made is tried again on the same core.
const RESUBSCRIBE: Duration = Duration::from_millis(300);

/// Runs until the UI's receiver is gone.
pub async fn run(mut link: watch::Receiver<Option<Link>>, out: mpsc::UnboundedSender<CoreUpdate>) {
    let mut seen = Seen::default();
    loop {
        let current = link.borrow_and_update().clone();
        let Some(current) = current else {
            if link.changed().await.is_err() {
                return;
            }
            continue;
        };
        let filter = Filter {
            since: seen.since(),
            ..Filter::all()
        };
        let backoff = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            give_up_after: None,
        };
        let mut sub = tokio::select! {
            s = current.client.subscribe_with(filter, backoff) => match s {
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
        loop {
            tokio::select! {
                ev = sub.next() => match ev {
                    Some(e) => {
                        if seen.accept(&e) && out.send(CoreUpdate::Event(e)).is_err() {
                            return;
                        }
                    }
                    None => break,
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
    }
}
