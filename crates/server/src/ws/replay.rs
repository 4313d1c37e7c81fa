//! Replaying stored events on a subscribe: after the versions of `since`, and for every session
//! with events stored after a cursor.

use super::{Subscription, Tx, error_body, send_json};
use crate::error::{ApiError, blocking};
use crate::state::AppState;
use pryx_protocol::ws::WsControl;
use pryx_protocol::{ErrorBody, ErrorCode, EventKind};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Stored events read per query while replaying.
const REPLAY_PAGE: u32 = 500;

/// Sends the stored events of `session` after version `after` and before `upto` that this
/// connection owes; false when the socket is gone. A store failure is logged and leaves the
/// gap (the client sees the version jump and can subscribe again with `since`).
pub(super) async fn fill(
    st: &Arc<AppState>,
    tx: &mut Tx,
    sub: &mut Subscription,
    session: &str,
    after: u64,
    upto: u64,
) -> bool {
    let core = st.core.clone();
    let sid = session.to_string();
    let limit = u32::try_from(upto.saturating_sub(after + 1)).unwrap_or(u32::MAX);
    let page = match blocking(move || Ok(core.store().events_since(&sid, after, limit)?)).await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(session, after, upto, error = %e.message, "cannot fill a gap in a session's live events");
            return true;
        }
    };
    tracing::debug!(
        session,
        after,
        upto,
        found = page.len(),
        "filling versions the bus never carried"
    );
    for e in page {
        let Some(v) = e.version.filter(|v| *v < upto) else {
            continue;
        };
        let last = sub.last.entry(session.to_string()).or_insert(0);
        if v <= *last {
            continue;
        }
        *last = v;
        if sub.wants_kind(&e) && !send_json(tx, &e).await {
            return false;
        }
    }
    true
}

/// The sessions with events stored after bus-wide position `cursor`, each with the version to
/// replay after. A cursor past what is stored (a restored data dir, a bogus value) counts as 0:
/// the client cannot hold positions the store never handed out.
pub(super) async fn sessions_after(
    st: &Arc<AppState>,
    cursor: u64,
) -> Result<Vec<(String, u64)>, ApiError> {
    let core = st.core.clone();
    blocking(move || {
        let store = core.store();
        if i64::try_from(cursor).is_err() {
            return Ok(store.stored_after_position(0)?.sessions);
        }
        let found = store.stored_after_position(cursor)?;
        if cursor > found.last_position {
            return Ok(store.stored_after_position(0)?.sessions);
        }
        Ok(found.sessions)
    })
    .await
}

/// What the store says of a session a `since` names.
struct Stored {
    last_version: u64,
    exists: bool,
}

/// Replays the stored events after each given version: `None` when the socket is gone, else how
/// many were sent and the sessions that could not be replayed. A `since` past what is stored gets
/// a `reset` and this connection continues after the stored version.
pub(super) async fn replay(
    st: &Arc<AppState>,
    tx: &mut Tx,
    sub: &mut Subscription,
    since: impl IntoIterator<Item = (String, u64)>,
    published: &HashMap<String, Option<u64>>,
) -> Option<(u64, BTreeMap<String, ErrorBody>)> {
    let mut sent = 0u64;
    let mut errors = BTreeMap::new();
    for (session, asked) in since {
        // Checked before anything is read, for every entry.
        if i64::try_from(asked).is_err() {
            let message = format!(
                "`since` {asked} for session {session} is out of range: versions go up to {}",
                i64::MAX
            );
            errors.insert(session, error_body(ErrorCode::ValidationFailed, message));
            continue;
        }
        // A session the `sessions` filter leaves out is not replayed.
        if !sub.wants_session(&session) {
            continue;
        }
        let core = st.core.clone();
        let sid = session.clone();
        let stored = blocking(move || {
            let store = core.store();
            let last_version = store.last_event_version(&sid)?;
            let exists = last_version > 0 || store.get_session(&sid)?.is_some();
            Ok(Stored {
                last_version,
                exists,
            })
        })
        .await;
        let stored = match stored {
            Ok(s) => s,
            Err(e) => {
                let message = format!("cannot replay session {session}: {}", e.message);
                errors.insert(session, error_body(e.code, message));
                continue;
            }
        };
        let covered = sub.last.get(&session).copied().unwrap_or(0);
        if asked > stored.last_version {
            if !stored.exists {
                let message = format!("no session {session}");
                errors.insert(session, error_body(ErrorCode::NotFound, message));
                continue;
            }
            // The client holds versions the core never stored: it must start over from what is
            // stored, and this connection continues after it (never silence).
            let last_version = stored.last_version.max(covered);
            sub.last.insert(session.clone(), last_version);
            // The client refetches up to `last_version`: deltas the live feed carries before
            // it are in what the client fetches (or belong to a finished turn).
            let before = published.get(&session).copied().flatten().unwrap_or(0);
            if last_version > before {
                let f = sub.fence.entry(session.clone()).or_insert(0);
                *f = (*f).max(last_version);
            }
            let reset = WsControl::Reset {
                session_id: session,
                last_version,
            };
            if !send_json(tx, &reset).await {
                return None;
            }
            continue;
        }
        // Never back before what this connection already covered.
        let mut after = asked.max(covered);
        let mut completed = None;
        loop {
            let core = st.core.clone();
            let sid = session.clone();
            let page =
                match blocking(move || Ok(core.store().events_since(&sid, after, REPLAY_PAGE)?))
                    .await
                {
                    Ok(p) => p,
                    Err(e) => {
                        let message = format!("cannot replay session {session}: {}", e.message);
                        errors.insert(session.clone(), error_body(e.code, message));
                        break;
                    }
                };
            let full = page.len() == REPLAY_PAGE as usize;
            for e in page {
                let v = e.version.unwrap_or(after);
                after = after.max(v);
                if matches!(e.kind(), Some(EventKind::TurnCompleted)) {
                    completed = Some(v);
                }
                if sub.wants_kind(&e) {
                    if !send_json(tx, &e).await {
                        return None;
                    }
                    sent += 1;
                }
            }
            if !full {
                break;
            }
        }
        let before = published.get(&session).copied().flatten().unwrap_or(0);
        if let Some(c) = completed.filter(|c| *c > before) {
            // That turn's end is still ahead on the live feed, with its deltas before it.
            let f = sub.fence.entry(session.clone()).or_insert(0);
            *f = (*f).max(c);
        }
        let last = sub.last.entry(session).or_insert(0);
        *last = (*last).max(after);
    }
    Some((sent, errors))
}
