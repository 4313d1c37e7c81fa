//! Getting updates the way the real Bot API hands them out: a queue per bot, confirmed by the
//! next `offset`, long-polled with `timeout`, one poller at a time (an overlapping `getUpdates`
//! ends the earlier one with a 409), or pushed to a webhook with its secret header.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::params::Params;
use super::shim::{Answer, outage_answer};
use super::state::{
    ActivePoll, Shared, State, Termination, Webhook, WebhookDelivery, WebhookSecret,
};

const OVERLAP: &str = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running";
const WEBHOOK_ACTIVE: &str = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";
const SECRET_HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

pub(crate) fn overlap_conflict() -> Answer {
    Answer::error(409, OVERLAP)
}

/// Ends the pending `getUpdates`, if there is one, with a 409; true if there was.
pub(crate) fn terminate_active_poll(state: &mut State, why: Termination) -> bool {
    state.journal.poll_waiting = false;
    match state.active_poll.take() {
        Some(poll) => {
            state.terminated.insert(poll.id, why);
            true
        }
        None => false,
    }
}

/// Forgets the poll when its request ends, answered or abandoned by the client.
struct PollGuard<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        self.shared.update(|s| {
            if s.active_poll.as_ref().is_some_and(|p| p.id == self.id) {
                s.active_poll = None;
                s.journal.poll_waiting = false;
            }
            s.terminated.remove(&self.id);
        });
    }
}

pub(crate) async fn get_updates(shared: &Arc<Shared>, params: &Params) -> Answer {
    let (offset, limit, timeout) = match (
        params.int("offset"),
        params.int("limit"),
        params.int("timeout"),
    ) {
        (Ok(o), Ok(l), Ok(t)) => (o.unwrap_or(0), l.unwrap_or(100), t.unwrap_or(0)),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return Answer::bad_request(&e),
    };
    let limit = usize::try_from(limit.clamp(1, 100)).unwrap_or(100);
    let deadline = Instant::now() + Duration::from_secs(timeout.clamp(0, 3600).unsigned_abs());
    // Subscribed before looking at the queue, so no arrival between the two is missed.
    let mut changes = shared.subscribe();
    let id = shared.update(|s| {
        if s.webhook.is_some() {
            return None;
        }
        if offset > 0 {
            s.confirm_below(offset);
        } else if offset < 0 {
            let keep = usize::try_from(offset.unsigned_abs()).unwrap_or(usize::MAX);
            let skip = s.queue.len().saturating_sub(keep);
            if let Some((first, _)) = s.queue.get(skip) {
                let first = *first;
                s.confirm_below(first);
            }
        }
        if terminate_active_poll(s, Termination::Overlap) {
            s.journal.overlap_conflicts += 1;
        }
        s.next_poll_id += 1;
        let id = s.next_poll_id;
        s.active_poll = Some(ActivePoll { id });
        s.journal.poll_waiting = true;
        Some(id)
    });
    let Some(id) = id else {
        return Answer::error(409, WEBHOOK_ACTIVE);
    };
    let _guard = PollGuard { shared, id };
    loop {
        if let Some(outage) = shared.outage_now() {
            // A reset connection never sees this; a 5xx outage does.
            return outage_answer(match outage {
                super::Outage::ServerError(code) => code,
                super::Outage::DropConnections => 502,
            });
        }
        // Only a change wakes the poll: the check itself must not look like one.
        let answer = {
            let mut guard = shared.lock();
            let s = &mut *guard;
            match s.terminated.remove(&id) {
                Some(Termination::Overlap | Termination::Injected) => {
                    return overlap_conflict();
                }
                None => {}
            }
            if s.webhook.is_some() {
                return Answer::error(409, WEBHOOK_ACTIVE);
            }
            let batch: Vec<(i64, Value)> = s.queue.iter().take(limit).cloned().collect();
            if batch.is_empty() && Instant::now() < deadline {
                None
            } else {
                let below = s.journal.confirmed_below;
                for (update_id, _) in &batch {
                    *s.journal.deliveries.entry(*update_id).or_default() += 1;
                    if *update_id < below {
                        *s.journal
                            .delivered_after_confirmed
                            .entry(*update_id)
                            .or_default() += 1;
                    }
                }
                Some(Answer::ok(Value::Array(
                    batch.into_iter().map(|(_, u)| u).collect(),
                )))
            }
        };
        if let Some(answer) = answer {
            shared.notify();
            return answer;
        }
        tokio::select! {
            _ = changes.changed() => {}
            _ = tokio::time::sleep_until(deadline.into()) => {}
        }
    }
}

pub(crate) fn set_webhook(shared: &Shared, params: &Params) -> Answer {
    let url = params.str("url").unwrap_or_default();
    if url.is_empty() {
        return delete_webhook(shared, params);
    }
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Answer::bad_request(
            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
        );
    }
    let secret = params.str("secret_token").filter(|s| !s.is_empty());
    if let Some(secret) = &secret
        && (secret.len() > 256
            || !secret
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'))
    {
        return Answer::bad_request("Bad Request: secret token contains unallowed characters");
    }
    let drop_pending = params.bool("drop_pending_updates");
    shared.update(|s| {
        if drop_pending {
            drop_pending_updates(s);
        }
        s.webhook_generation += 1;
        s.webhook = Some(Webhook {
            url,
            secret,
            generation: s.webhook_generation,
        });
        s.webhook_last_error = None;
    });
    Answer::ok_described(Value::Bool(true), "Webhook was set")
}

fn drop_pending_updates(s: &mut State) {
    if let Some((last, _)) = s.queue.back() {
        let next = last + 1;
        s.confirm_below(next);
    }
}

pub(crate) fn delete_webhook(shared: &Shared, params: &Params) -> Answer {
    let drop_pending = params.bool("drop_pending_updates");
    let had = shared.update(|s| {
        if drop_pending {
            drop_pending_updates(s);
        }
        s.webhook_last_error = None;
        s.webhook.take().is_some()
    });
    let description = if had {
        "Webhook was deleted"
    } else {
        "Webhook is already deleted"
    };
    Answer::ok_described(Value::Bool(true), description)
}

pub(crate) fn webhook_info(shared: &Shared) -> Answer {
    let s = shared.lock();
    let mut info = json!({
        "url": s.webhook.as_ref().map(|w| w.url.clone()).unwrap_or_default(),
        "has_custom_certificate": false,
        "pending_update_count": s.queue.len(),
    });
    if s.webhook.is_some() {
        info["max_connections"] = json!(1);
    }
    if let Some((date, message)) = &s.webhook_last_error {
        info["last_error_date"] = json!(date);
        info["last_error_message"] = json!(message);
    }
    Answer::ok(info)
}

/// Pushes the queue's head to the webhook while one is set, one update at a time (as with
/// `max_connections` 1), retrying a refused update with a backoff up to a second until the
/// bot takes it or the webhook changes.
pub(crate) async fn webhook_loop(shared: Arc<Shared>) {
    let mut changes = shared.subscribe();
    let mut backoff = Duration::from_millis(50);
    loop {
        let job = {
            let s = shared.lock();
            match (&s.webhook, s.queue.front()) {
                (Some(hook), Some((id, update))) => {
                    let secret = match &s.webhook_secret {
                        WebhookSecret::AsSet => hook.secret.clone(),
                        WebhookSecret::Wrong(wrong) => Some(wrong.clone()),
                        WebhookSecret::Missing => None,
                    };
                    Some((hook.clone(), secret, *id, update.clone()))
                }
                _ => None,
            }
        };
        let Some((hook, secret, update_id, update)) = job else {
            if changes.changed().await.is_err() {
                return;
            }
            continue;
        };
        let mut request = shared
            .http
            .post(&hook.url)
            .timeout(Duration::from_secs(10))
            .json(&update);
        if let Some(secret) = &secret {
            request = request.header(SECRET_HEADER, secret);
        }
        let (status, error) = match request.send().await {
            Ok(r) => (Some(r.status().as_u16()), None),
            Err(e) => (None, Some(e.to_string())),
        };
        let accepted = status.is_some_and(|s| (200..300).contains(&s));
        shared.update(|s| {
            s.journal.webhook_deliveries.push(WebhookDelivery {
                update_id,
                status,
                error: error.clone(),
                secret_sent: secret.clone(),
                at: Instant::now(),
            });
            let current = s.webhook.as_ref().map(|w| w.generation) == Some(hook.generation);
            if accepted && current {
                *s.journal.deliveries.entry(update_id).or_default() += 1;
                s.confirm_below(update_id + 1);
            } else if !accepted {
                let date = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default();
                let message = match (status, &error) {
                    (Some(code), _) => format!("Wrong response from the webhook: {code}"),
                    (None, Some(e)) => format!("Connection failed: {e}"),
                    (None, None) => "Connection failed".to_owned(),
                };
                s.webhook_last_error = Some((date, message));
            }
        });
        if accepted {
            backoff = Duration::from_millis(50);
        } else {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(1));
        }
    }
}
