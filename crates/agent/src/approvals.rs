//! The approval broker: a core service that turns a policy `ask` into a question any surface can answer.
//! The first answer wins; later answers are refused; no answer before the timeout yields the policy default.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, oneshot};
use tokio_util::sync::CancellationToken;

/// The question, the answer and how an approval ended are wire types: every surface shares them.
pub use pryx_protocol::api::{
    ApprovalAnswer, ApprovalDecision, ApprovalOutcome, ApprovalScope, PendingApproval,
};

/// Broadcast to every subscribed surface.
#[derive(Debug, Clone, PartialEq)]
pub enum BrokerEvent {
    Needed(Box<PendingApproval>),
    Resolved {
        id: String,
        session_id: String,
        outcome: ApprovalOutcome,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BrokerError {
    #[error("no pending approval with id {0}; it may have been answered elsewhere or timed out")]
    NotFound(String),
}

/// An open approval, returned by [`ApprovalBroker::open`] and consumed by [`ApprovalBroker::wait`].
pub struct Waiter {
    id: String,
    session_id: String,
    timeout: Duration,
    rx: oneshot::Receiver<ApprovalAnswer>,
}

struct Pending {
    request: PendingApproval,
    reply: oneshot::Sender<ApprovalAnswer>,
}

/// Cheap to clone; all clones share the same pending set.
#[derive(Clone)]
pub struct ApprovalBroker {
    pending: Arc<Mutex<HashMap<String, Pending>>>,
    events: broadcast::Sender<BrokerEvent>,
}

impl Default for ApprovalBroker {
    fn default() -> Self {
        Self::new()
    }
}

impl ApprovalBroker {
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(256);
        ApprovalBroker {
            pending: Arc::new(Mutex::new(HashMap::new())),
            events,
        }
    }

    /// Surfaces subscribe to learn about new and resolved approvals.
    pub fn subscribe(&self) -> broadcast::Receiver<BrokerEvent> {
        self.events.subscribe()
    }

    /// Approvals still waiting for an answer, oldest first.
    pub fn pending(&self) -> Vec<PendingApproval> {
        let mut list: Vec<PendingApproval> =
            self.lock().values().map(|p| p.request.clone()).collect();
        list.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        list
    }

    /// Asks every surface and waits; only this call blocks.
    pub async fn request(
        &self,
        request: PendingApproval,
        default: ApprovalDecision,
        cancel: &CancellationToken,
    ) -> ApprovalOutcome {
        let waiter = self.open(request);
        self.wait(waiter, default, cancel).await
    }

    /// Registers the request (answers are accepted from now on) and tells subscribers. Callers
    /// that announce the request elsewhere too do it between `open` and [`Self::wait`], so no
    /// surface can see it before it is answerable.
    pub fn open(&self, request: PendingApproval) -> Waiter {
        let (tx, rx) = oneshot::channel();
        let waiter = Waiter {
            id: request.id.clone(),
            session_id: request.session_id.clone(),
            timeout: Duration::from_secs(request.timeout_secs),
            rx,
        };
        self.lock().insert(
            request.id.clone(),
            Pending {
                request: request.clone(),
                reply: tx,
            },
        );
        // A send error only means nobody listens yet; the request stays pending for `pending()`.
        let _ = self.events.send(BrokerEvent::Needed(Box::new(request)));
        waiter
    }

    /// Waits for the first answer, the timeout (the policy default) or cancellation.
    pub async fn wait(
        &self,
        waiter: Waiter,
        default: ApprovalDecision,
        cancel: &CancellationToken,
    ) -> ApprovalOutcome {
        let Waiter {
            id,
            session_id,
            timeout,
            rx,
        } = waiter;
        let outcome = tokio::select! {
            answer = rx => match answer {
                Ok(a) => ApprovalOutcome::Answered(a),
                Err(_) => ApprovalOutcome::Cancelled,
            },
            _ = tokio::time::sleep(timeout) => ApprovalOutcome::TimedOut { default },
            _ = cancel.cancelled() => ApprovalOutcome::Cancelled,
        };
        // Answered requests were removed by `answer`; the others are removed here.
        self.lock().remove(&id);
        let _ = self.events.send(BrokerEvent::Resolved {
            id,
            session_id,
            outcome,
        });
        outcome
    }

    /// The first answer wins; a second one gets `NotFound`.
    pub fn answer(&self, id: &str, answer: ApprovalAnswer) -> Result<(), BrokerError> {
        let pending = self
            .lock()
            .remove(id)
            .ok_or_else(|| BrokerError::NotFound(id.to_string()))?;
        pending
            .reply
            .send(answer)
            .map_err(|_| BrokerError::NotFound(id.to_string()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        // A poisoned lock only means another thread panicked mid-insert; the map is still usable.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The identity of a policy: SHA-256 over its canonical JSON. Standing grants are bound to it,
/// so another policy, or the same one edited (stricter or not), asks again.
pub fn policy_hash(policy: &pryx_policy::Policy) -> String {
    let text = match serde_json::to_value(policy) {
        Ok(v) => canonical_json(&v),
        // Not expected (the policy is plain data); its debug form still identifies it.
        Err(_) => format!("{policy:?}"),
    };
    let mut h = Sha256::new();
    h.update(b"pryx-policy-v1\0");
    h.update(text.as_bytes());
    hex::encode(h.finalize())
}

/// SHA-256 over the tool name, its pin ([`pryx_tools::Tool::pin`]: for an MCP tool, the server's
/// identity and the definition's hash) and the canonical (key-sorted) JSON of the arguments.
pub fn fingerprint(tool: &str, pin: Option<&str>, args: &serde_json::Value) -> String {
    let mut h = Sha256::new();
    h.update(tool.as_bytes());
    h.update([0u8]);
    if let Some(pin) = pin {
        h.update(pin.as_bytes());
        h.update([0u8]);
    }
    h.update(canonical_json(args).as_bytes());
    hex::encode(h.finalize())
}

/// JSON with object keys sorted recursively, so equal values hash equally.
pub fn canonical_json(v: &serde_json::Value) -> String {
    fn sort(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sort(&m[k]));
                }
                serde_json::Value::Object(out)
            }
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(v).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use pryx_protocol::Surface;

    fn req(id: &str, timeout_secs: u64) -> PendingApproval {
        PendingApproval {
            id: id.into(),
            session_id: "s".into(),
            tool_call_id: "c".into(),
            tool: "shell.exec".into(),
            arguments: serde_json::json!({"command": "ls"}),
            fingerprint: fingerprint("shell.exec", None, &serde_json::json!({"command": "ls"})),
            rule: "r".into(),
            reason: "why".into(),
            preview: "ls".into(),
            timeout_secs,
            created_at: "t".into(),
            looks_like_secret: Vec::new(),
            workspace: None,
            policy: None,
        }
    }

    const CLI_APPROVE: ApprovalAnswer = ApprovalAnswer {
        decision: ApprovalDecision::Approve,
        scope: ApprovalScope::Once,
        surface: Surface::Cli,
    };

    #[tokio::test]
    async fn first_answer_wins_and_second_is_refused() {
        let broker = ApprovalBroker::new();
        let mut events = broker.subscribe();
        let b2 = broker.clone();
        let cancel = CancellationToken::new();
        let waiter = tokio::spawn(async move {
            b2.request(req("a1", 60), ApprovalDecision::Deny, &cancel)
                .await
        });
        let needed = events.recv().await.unwrap();
        assert!(matches!(needed, BrokerEvent::Needed(ref r) if r.id == "a1"));
        assert_eq!(broker.pending().len(), 1);
        broker.answer("a1", CLI_APPROVE).unwrap();
        let web_deny = ApprovalAnswer {
            decision: ApprovalDecision::Deny,
            scope: ApprovalScope::Once,
            surface: Surface::Web,
        };
        assert_eq!(
            broker.answer("a1", web_deny),
            Err(BrokerError::NotFound("a1".into()))
        );
        let outcome = waiter.await.unwrap();
        assert_eq!(outcome, ApprovalOutcome::Answered(CLI_APPROVE));
        assert!(outcome.approved());
        let resolved = events.recv().await.unwrap();
        assert!(matches!(resolved, BrokerEvent::Resolved { ref id, .. } if id == "a1"));
        assert!(broker.pending().is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_applies_default() {
        let broker = ApprovalBroker::new();
        let outcome = broker
            .request(
                req("a2", 5),
                ApprovalDecision::Deny,
                &CancellationToken::new(),
            )
            .await;
        assert_eq!(
            outcome,
            ApprovalOutcome::TimedOut {
                default: ApprovalDecision::Deny
            }
        );
        assert!(!outcome.approved());
        assert!(broker.pending().is_empty());
    }

    #[tokio::test]
    async fn cancel_ends_the_wait() {
        let broker = ApprovalBroker::new();
        let cancel = CancellationToken::new();
        cancel.cancel();
        let outcome = broker
            .request(req("a3", 60), ApprovalDecision::Deny, &cancel)
            .await;
        assert_eq!(outcome, ApprovalOutcome::Cancelled);
    }

    #[test]
    fn policy_hash_tells_policies_and_edits_apart() {
        let ws = pryx_policy::builtin("workspace-only").unwrap();
        let ro = pryx_policy::builtin("read-only").unwrap();
        assert_eq!(policy_hash(&ws), policy_hash(&ws.clone()));
        assert_ne!(policy_hash(&ws), policy_hash(&ro));
        let mut stricter = ws.clone();
        stricter.defaults.exec = pryx_policy::Action::Deny;
        assert_ne!(policy_hash(&ws), policy_hash(&stricter));
        assert_eq!(policy_hash(&ws).len(), 64);
    }

    #[test]
    fn fingerprint_ignores_key_order() {
        let a = serde_json::json!({"a": 1, "b": {"x": 1, "y": 2}});
        let b = serde_json::json!({"b": {"y": 2, "x": 1}, "a": 1});
        assert_eq!(fingerprint("t", None, &a), fingerprint("t", None, &b));
        assert_ne!(fingerprint("t", None, &a), fingerprint("u", None, &a));
    }

    #[test]
    fn fingerprint_binds_the_pin() {
        let a = serde_json::json!({});
        let pinned = fingerprint("srv.t", Some("server-1:def-1"), &a);
        assert_ne!(pinned, fingerprint("srv.t", None, &a));
        assert_ne!(pinned, fingerprint("srv.t", Some("server-1:def-2"), &a));
        assert_ne!(pinned, fingerprint("srv.t", Some("server-2:def-1"), &a));
        assert_eq!(pinned, fingerprint("srv.t", Some("server-1:def-1"), &a));
    }
}
