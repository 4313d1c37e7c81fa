//! Settling a policy `ask`: a standing grant for this exact call here, the user's answer, or the
//! policy's default. What the user is asked about is the exact call: its arguments and a full
//! preview, with only known secret values replaced by a marker naming them.

use crate::agent::Agent;
use crate::approvals::{ApprovalDecision, ApprovalOutcome, ApprovalScope, PendingApproval};
use crate::error::AgentError;
use crate::tool_call::CallCtx;
use pryx_policy::{Action, Decision};
use pryx_protocol::ApprovalResolved;
use pryx_store::{ApprovalGrant, GrantQuery, GrantScope, NewGrant, SpanKind, SpanStatus};
use serde_json::{Value, json};
use std::sync::Arc;

/// How long an `always` approval lasts.
pub(crate) const ALWAYS_GRANT_DAYS: i64 = 30;

/// Why an `ask` let a call run; recorded as the call's `approval_scope`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Approved {
    /// A standing grant from an earlier answer matched.
    Grant(GrantScope),
    /// The user approved it now.
    Answer(ApprovalScope),
    /// Nobody answered and the policy's default is to allow.
    TimeoutDefault,
}

impl Approved {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Approved::Grant(scope) => scope.as_str(),
            Approved::Answer(scope) => scope.as_str(),
            Approved::TimeoutDefault => "timeout-default",
        }
    }
}

/// How an `ask` was settled.
pub(crate) enum Asked {
    Approved(Approved),
    /// The call must not run; the message goes to the model.
    Refused(String),
    /// The user cancelled the turn while it waited.
    Cancelled,
}

/// The standing grant an approval scope creates: none for `once`, the session for `session`,
/// [`ALWAYS_GRANT_DAYS`] across sessions for `always` (both only in this workspace under this
/// policy). Exhaustive on purpose: a new scope must decide here what it grants.
fn grant_for(
    scope: ApprovalScope,
    session_id: &str,
) -> Option<(GrantScope, Option<String>, Option<time::OffsetDateTime>)> {
    match scope {
        ApprovalScope::Once => None,
        ApprovalScope::Session => Some((GrantScope::Session, Some(session_id.to_string()), None)),
        ApprovalScope::Always => Some((
            GrantScope::Always,
            None,
            Some(time::OffsetDateTime::now_utc() + time::Duration::days(ALWAYS_GRANT_DAYS)),
        )),
    }
}

/// What a grant is bound to, for audit rows.
fn grant_details(g: &ApprovalGrant) -> Value {
    json!({
        "id": g.id,
        "scope": g.scope,
        "workspace": g.workspace,
        "policy": g.policy,
        "policy_hash": g.policy_hash,
        "expires_at": g.expires_at,
        "uses": g.uses,
    })
}

impl Agent {
    /// The workspace as grants record it.
    fn grant_workspace(&self) -> String {
        self.workspace().display().to_string()
    }

    /// Settles an `ask`: an existing grant, the user's answer, or the policy default.
    pub(crate) async fn ask(
        &self,
        cx: &CallCtx<'_>,
        args: &Value,
        fp: &str,
        tool: &Arc<dyn pryx_tools::Tool>,
        decision: &Decision,
    ) -> Result<Asked, AgentError> {
        let call = cx.call;
        let workspace = self.grant_workspace();
        let (name, fp_q, ws_q, policy_q, sid) = (
            call.name.clone(),
            fp.to_string(),
            workspace.clone(),
            self.policy_hash.clone(),
            cx.session().to_string(),
        );
        let grant = self
            .db(move |s| {
                s.use_grant(&GrantQuery {
                    tool_name: &name,
                    fingerprint: &fp_q,
                    workspace: &ws_q,
                    policy_hash: &policy_q,
                    session_id: Some(&sid),
                })
            })
            .await?;
        if let Some(grant) = grant {
            self.audit(
                cx.session(),
                "approval.reused",
                &cx.row,
                json!({"tool": call.name, "fingerprint": fp, "grant": grant_details(&grant)}),
                "approved",
            )
            .await?;
            return Ok(Asked::Approved(Approved::Grant(grant.scope)));
        }
        if !self.parts.settings.interactive {
            self.audit(
                cx.session(),
                "approval.unavailable",
                &cx.row,
                json!({"rule": decision.rule}),
                "denied",
            )
            .await?;
            return Ok(Asked::Refused(format!(
                "{} needs approval ({}: {}) but no one can answer here (non-interactive run). To allow it \
                 without asking, put `{}` under tools.allowed in a policy file in the data dir's policies/ \
                 folder and select it with --policy or `pryx config set defaults.policy NAME`.",
                call.name, decision.rule, decision.reason, call.name
            )));
        }
        let request = self.approval_request(cx, args, fp, tool, decision).await;
        let span = self
            .start_span(
                cx.session(),
                Some(cx.turn.span),
                SpanKind::ApprovalWait,
                &call.name,
                json!({}),
            )
            .await?;
        // Register first, then announce: whoever sees the event can answer it at once.
        let waiter = self.parts.broker.open(request.clone());
        self.emit(cx.session(), request.clone()).await?;
        let default = match self.parts.policy.approval_default() {
            Action::Allow => ApprovalDecision::Approve,
            Action::Ask | Action::Deny => ApprovalDecision::Deny,
        };
        let outcome = self
            .parts
            .broker
            .wait(waiter, default, cx.turn.cancel)
            .await;
        let span_status = match outcome {
            ApprovalOutcome::Cancelled => SpanStatus::Cancelled,
            ApprovalOutcome::Answered(_) | ApprovalOutcome::TimedOut { .. } => SpanStatus::Ok,
        };
        self.end_span_status(&span.id, span_status).await?;
        self.emit(
            cx.session(),
            ApprovalResolved {
                id: request.id.clone(),
                tool_call_id: cx.row.clone(),
                outcome,
            },
        )
        .await?;
        let mut granted = None;
        let (action, asked) = match outcome {
            ApprovalOutcome::Answered(a) => match a.decision {
                ApprovalDecision::Approve => {
                    if let Some((scope, session_id, expires_at)) = grant_for(a.scope, cx.session())
                    {
                        let grant = NewGrant {
                            tool_name: call.name.clone(),
                            fingerprint: fp.to_string(),
                            scope,
                            session_id,
                            workspace,
                            policy: self.parts.policy.name.clone(),
                            policy_hash: self.policy_hash.clone(),
                            arguments: args.clone(),
                            expires_at,
                        };
                        granted = Some(self.db(move |s| s.add_grant(&grant)).await?);
                    }
                    (
                        "approval.granted",
                        Asked::Approved(Approved::Answer(a.scope)),
                    )
                }
                ApprovalDecision::Deny => (
                    "approval.denied",
                    Asked::Refused(format!(
                        "the user denied {}. Do not retry it unchanged; ask or adapt.",
                        call.name
                    )),
                ),
            },
            ApprovalOutcome::TimedOut { default } => match default {
                ApprovalDecision::Approve => (
                    "approval.timeout",
                    Asked::Approved(Approved::TimeoutDefault),
                ),
                ApprovalDecision::Deny => (
                    "approval.timeout",
                    Asked::Refused(format!(
                        "no answer within {} s; the policy default (deny) applied to {}",
                        request.timeout_secs, call.name
                    )),
                ),
            },
            ApprovalOutcome::Cancelled => ("approval.cancelled", Asked::Cancelled),
        };
        let verdict = match asked {
            Asked::Approved(_) => "approved",
            Asked::Refused(_) | Asked::Cancelled => "denied",
        };
        self.audit(
            cx.session(),
            action,
            &cx.row,
            json!({
                "approval_id": request.id,
                "tool": call.name,
                "fingerprint": fp,
                "outcome": outcome,
                "grant": granted.as_ref().map(grant_details),
            }),
            verdict,
        )
        .await?;
        Ok(asked)
    }

    /// The question: the exact arguments and the tool's full preview, known secret values
    /// marked, with what looks like a secret named (and left visible).
    async fn approval_request(
        &self,
        cx: &CallCtx<'_>,
        args: &Value,
        fp: &str,
        tool: &Arc<dyn pryx_tools::Tool>,
        decision: &Decision,
    ) -> PendingApproval {
        let call = cx.call;
        // Previewed as it would run once approved: with the network a fetching command gets
        // and code-bearing files writable.
        let mut ctx = self.call_ctx(cx.turn.cancel, cx.session());
        ctx.network = crate::tool_call::granted_network(decision);
        ctx.code_files_writable = true;
        let preview = crate::preview::approval_preview(&call.name, args, tool, ctx).await;
        let redactor = self.redactor();
        let preview = redactor.mark_known(&preview).into_owned();
        let arguments = redactor.mark_known_json(args);
        PendingApproval {
            id: uuid::Uuid::now_v7().to_string(),
            session_id: cx.session().to_string(),
            tool_call_id: cx.row.clone(),
            tool: call.name.clone(),
            looks_like_secret: crate::preview::secret_lookalikes(&preview, &arguments),
            arguments,
            fingerprint: fp.to_string(),
            rule: decision.rule.clone(),
            reason: redactor.mark_known(&decision.reason).into_owned(),
            preview,
            timeout_secs: self.parts.policy.approval_timeout_secs(),
            created_at: pryx_store::now_ts(),
            workspace: Some(self.grant_workspace()),
            policy: Some(self.parts.policy.name.clone()),
        }
    }
}
