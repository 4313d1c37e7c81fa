//! One tool call: judged by the policy engine, approved if it must be, run, recorded and audited.

use crate::agent::Agent;
use crate::approvals::{ApprovalRequest, Decision as Answer, Outcome, Scope, fingerprint};
use crate::error::AgentError;
use crate::prompt::untrusted;
use crate::redact::{redact_json, redact_text};
use pryx_policy::{Action, CallContext, Decision, RateState, ToolHints, evaluate};
use pryx_protocol::EventKind;
use pryx_store::{
    GrantScope, NewGrant, NewToolCall, SpanKind, SpanStatus, ToolCallStatus, ToolCallUpdate,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long an `always` approval lasts.
const ALWAYS_GRANT_DAYS: i64 = 30;

/// What goes back to the model, and whether the turn must end.
pub(crate) struct CallResult {
    pub content: String,
    pub is_error: bool,
    pub fatal: Option<String>,
}

impl CallResult {
    fn error(content: impl Into<String>) -> Self {
        CallResult {
            content: content.into(),
            is_error: true,
            fatal: None,
        }
    }
}

/// Ids that tie one call's records together.
struct Ids<'a> {
    session: &'a str,
    row: String,
    trace: &'a str,
    parent: &'a str,
}

impl Agent {
    pub(crate) async fn handle_tool_call(
        &self,
        session_id: &str,
        turn_span: &pryx_store::Span,
        message_id: &str,
        call: &pryx_llm::ToolCall,
        cancel: &CancellationToken,
    ) -> Result<CallResult, AgentError> {
        let parsed = call.arguments_json();
        let args = parsed
            .as_ref()
            .cloned()
            .unwrap_or_else(|_| Value::String(call.arguments.clone()));
        let redacted = redact_json(&args, &self.settings.known_secrets);
        let row = self.store.insert_tool_call(&NewToolCall {
            session_id: session_id.to_string(),
            id: uuid::Uuid::now_v7().to_string(),
            message_id: Some(message_id.to_string()),
            tool_name: call.name.clone(),
            arguments: redacted.clone(),
        })?;
        let ids = Ids {
            session: session_id,
            row: row.id.clone(),
            trace: &turn_span.trace_id,
            parent: &turn_span.id,
        };
        self.emit(
            session_id,
            EventKind::ToolRequest,
            json!({"tool_call_id": ids.row, "call_id": call.id, "tool": call.name, "arguments": redacted}),
        )?;

        let args = match parsed {
            Ok(v) if v.is_object() => v,
            Ok(_) | Err(_) => {
                let msg = format!(
                    "invalid arguments for {}: expected a JSON object",
                    call.name
                );
                return self.finish_without_run(
                    &ids,
                    &call.name,
                    ToolCallStatus::Failed,
                    None,
                    msg,
                );
            }
        };
        let Some(tool) = self.tools.get(&call.name) else {
            let mut names: Vec<&str> = self.tools.names().collect();
            names.sort_unstable();
            let msg = format!(
                "unknown tool {}; available tools: {}",
                call.name,
                names.join(", ")
            );
            return self.finish_without_run(&ids, &call.name, ToolCallStatus::Failed, None, msg);
        };

        let mut ctx = CallContext::new(
            &call.name,
            tool.kind(),
            &args,
            self.workspace(),
            self.settings.home.as_deref(),
        );
        ctx.hints = ToolHints {
            read_only: tool.read_only_hint(),
            destructive: tool.destructive_hint(),
        };
        let now_ms = now_millis();
        let decision = {
            let mut ledger = self.rate.lock().unwrap_or_else(|e| e.into_inner());
            ledger.prune(now_ms);
            ctx.rate = Some(RateState {
                ledger: &ledger,
                now_ms,
            });
            evaluate(&self.policy, &ctx)
        };
        self.audit(
            session_id,
            "tool.decision",
            &ids.row,
            json!({"tool": call.name, "arguments": args, "decision": decision.action, "rule": decision.rule, "reason": decision.reason}),
            decision.action.as_str(),
        )?;
        let mut scope = None;
        match decision.action {
            Action::Deny => {
                let msg = format!(
                    "denied by policy ({}): {}. Do not retry this call unchanged.",
                    decision.rule, decision.reason
                );
                return self.finish_without_run(
                    &ids,
                    &call.name,
                    ToolCallStatus::Denied,
                    Some(&decision),
                    msg,
                );
            }
            Action::Ask => match self
                .ask(&ids, call, &args, &tool, &decision, cancel)
                .await?
            {
                Ok(s) => scope = Some(s),
                Err(msg) => {
                    return self.finish_without_run(
                        &ids,
                        &call.name,
                        ToolCallStatus::Denied,
                        Some(&decision),
                        msg,
                    );
                }
            },
            Action::Allow => {}
        }
        self.run_tool(&ids, call, args, &tool, &decision, scope, cancel)
            .await
    }

    /// Settles an `ask`: an existing grant, the user's answer, or the policy default.
    /// `Ok(Err(message))` means the call must not run.
    async fn ask(
        &self,
        ids: &Ids<'_>,
        call: &pryx_llm::ToolCall,
        args: &Value,
        tool: &std::sync::Arc<dyn pryx_tools::Tool>,
        decision: &Decision,
        cancel: &CancellationToken,
    ) -> Result<Result<&'static str, String>, AgentError> {
        let fp = fingerprint(&call.name, args);
        if let Some(grant) = self
            .store
            .find_active_grant(&call.name, &fp, Some(ids.session))?
        {
            self.audit(
                ids.session,
                "approval.reused",
                &ids.row,
                json!({"grant": grant.id}),
                "approved",
            )?;
            return Ok(Ok(grant.scope.as_str()));
        }
        if !self.settings.interactive {
            self.audit(
                ids.session,
                "approval.unavailable",
                &ids.row,
                json!({"rule": decision.rule}),
                "denied",
            )?;
            return Ok(Err(format!(
                "{} needs approval ({}: {}) but no one can answer here (non-interactive run). To allow it \
                 without asking, put `{}` under tools.allowed in a policy file in the data dir's policies/ \
                 folder and select it with --policy or `pryx config set defaults.policy NAME`.",
                call.name, decision.rule, decision.reason, call.name
            )));
        }
        let preview = match tool.preview(args.clone(), self.call_ctx(cancel)).await {
            Ok(Some(p)) => p,
            _ => preview_of(&call.name, args),
        };
        let request = ApprovalRequest {
            id: uuid::Uuid::now_v7().to_string(),
            session_id: ids.session.to_string(),
            tool_call_id: ids.row.clone(),
            tool: call.name.clone(),
            arguments: redact_json(args, &self.settings.known_secrets),
            fingerprint: fp.clone(),
            rule: decision.rule.clone(),
            reason: decision.reason.clone(),
            preview: redact_text(&preview, &self.settings.known_secrets),
            timeout_secs: self.policy.approval_timeout_secs(),
            created_at: pryx_store::now_ts(),
        };
        let span = self.start_span(
            ids.session,
            Some(ids.trace),
            Some(ids.parent),
            SpanKind::ApprovalWait,
            &call.name,
            json!({}),
        )?;
        // Register first, then announce: whoever sees the event can answer it at once.
        let waiter = self.broker.open(request.clone());
        self.emit(
            ids.session,
            EventKind::ApprovalNeeded,
            serde_json::to_value(&request).unwrap_or_default(),
        )?;
        let default = if self.policy.approval_default() == Action::Allow {
            Answer::Approve
        } else {
            Answer::Deny
        };
        let outcome = self.broker.wait(waiter, default, cancel).await;
        self.end_span(
            &span.id,
            if outcome == Outcome::Cancelled {
                SpanStatus::Cancelled
            } else {
                SpanStatus::Ok
            },
        )?;
        self.emit(
            ids.session,
            EventKind::ApprovalResolved,
            json!({"id": request.id, "tool_call_id": ids.row, "outcome": outcome}),
        )?;
        let (action, result) = match outcome {
            Outcome::Answered(a) if a.decision == Answer::Approve => {
                if a.scope != Scope::Once {
                    let (scope, session_id, expires_at) = match a.scope {
                        Scope::Session => {
                            (GrantScope::Session, Some(ids.session.to_string()), None)
                        }
                        _ => (
                            GrantScope::Always,
                            None,
                            Some(
                                time::OffsetDateTime::now_utc()
                                    + time::Duration::days(ALWAYS_GRANT_DAYS),
                            ),
                        ),
                    };
                    self.store.add_grant(&NewGrant {
                        tool_name: call.name.clone(),
                        fingerprint: fp,
                        scope,
                        session_id,
                        expires_at,
                    })?;
                }
                ("approval.granted", Ok(a.scope.as_str()))
            }
            Outcome::Answered(_) => (
                "approval.denied",
                Err(format!(
                    "the user denied {}. Do not retry it unchanged; ask or adapt.",
                    call.name
                )),
            ),
            Outcome::TimedOut {
                default: Answer::Approve,
            } => ("approval.timeout", Ok("timeout-default")),
            Outcome::TimedOut { .. } => (
                "approval.timeout",
                Err(format!(
                    "no answer within {} s; the policy default (deny) applied to {}",
                    request.timeout_secs, call.name
                )),
            ),
            Outcome::Cancelled => (
                "approval.cancelled",
                Err("cancelled by the user".to_string()),
            ),
        };
        self.audit(
            ids.session,
            action,
            &ids.row,
            json!({"approval_id": request.id, "outcome": outcome}),
            if result.is_ok() { "approved" } else { "denied" },
        )?;
        Ok(result)
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_tool(
        &self,
        ids: &Ids<'_>,
        call: &pryx_llm::ToolCall,
        args: Value,
        tool: &std::sync::Arc<dyn pryx_tools::Tool>,
        decision: &Decision,
        scope: Option<&str>,
        cancel: &CancellationToken,
    ) -> Result<CallResult, AgentError> {
        self.store.update_tool_call(
            ids.session,
            &ids.row,
            &ToolCallUpdate {
                status: Some(ToolCallStatus::Running),
                decision: Some(decision.action.as_str().to_string()),
                rule: Some(decision.rule.clone()),
                approval_scope: scope.map(str::to_string),
                ..Default::default()
            },
        )?;
        self.rate
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(&call.name, now_millis());
        self.emit(
            ids.session,
            EventKind::ToolExecuting,
            json!({"tool_call_id": ids.row, "tool": call.name}),
        )?;
        let span = self.start_span(
            ids.session,
            Some(ids.trace),
            Some(ids.parent),
            SpanKind::ToolCall,
            &call.name,
            json!({}),
        )?;
        let started = Instant::now();
        let outcome = tool.execute(args, self.call_ctx(cancel)).await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (content, is_error, fatal) = match outcome {
            Ok(out) => (out.content, out.is_error, None),
            Err(e) if e.is_fatal() => (e.to_string(), true, Some(e.to_string())),
            Err(e) => (e.to_string(), true, None),
        };
        let content = redact_text(&content, &self.settings.known_secrets);
        let status = if is_error {
            ToolCallStatus::Failed
        } else {
            ToolCallStatus::Completed
        };
        self.store.update_tool_call(
            ids.session,
            &ids.row,
            &ToolCallUpdate {
                status: Some(status),
                result: Some(content.clone()),
                is_error: Some(is_error),
                ..Default::default()
            },
        )?;
        let span_status = if fatal.is_some() && cancel.is_cancelled() {
            SpanStatus::Cancelled
        } else if is_error {
            SpanStatus::Error
        } else {
            SpanStatus::Ok
        };
        self.end_span(&span.id, span_status)?;
        self.audit(
            ids.session,
            "tool.call",
            &ids.row,
            json!({"tool": call.name, "duration_ms": duration_ms, "is_error": is_error, "result_sha256": sha256_hex(&content)}),
            if is_error { "failure" } else { "success" },
        )?;
        self.emit(
            ids.session,
            EventKind::ToolComplete,
            json!({"tool_call_id": ids.row, "tool": call.name, "is_error": is_error, "duration_ms": duration_ms}),
        )?;
        let content = if is_error {
            content
        } else {
            untrusted(&call.name, &content)
        };
        Ok(CallResult {
            content,
            is_error,
            fatal,
        })
    }

    /// Records a call that never ran (bad arguments, unknown tool, denied) and its message.
    fn finish_without_run(
        &self,
        ids: &Ids<'_>,
        tool: &str,
        status: ToolCallStatus,
        decision: Option<&Decision>,
        message: String,
    ) -> Result<CallResult, AgentError> {
        self.store.update_tool_call(
            ids.session,
            &ids.row,
            &ToolCallUpdate {
                status: Some(status),
                decision: decision.map(|d| d.action.as_str().to_string()),
                rule: decision.map(|d| d.rule.clone()),
                result: Some(message.clone()),
                is_error: Some(true),
                ..Default::default()
            },
        )?;
        if decision.is_none() {
            self.audit(
                ids.session,
                "tool.rejected",
                &ids.row,
                json!({"tool": tool, "reason": message}),
                "failure",
            )?;
        }
        self.emit(
            ids.session,
            EventKind::ToolComplete,
            json!({"tool_call_id": ids.row, "tool": tool, "is_error": true, "status": status.as_str(), "message": message}),
        )?;
        Ok(CallResult::error(message))
    }

    fn call_ctx(&self, cancel: &CancellationToken) -> pryx_tools::ToolContext {
        let mut ctx = self.tool_ctx.clone();
        ctx.cancel = cancel.child_token();
        ctx
    }
}

/// What the user is asked about when the tool has no preview of its own.
fn preview_of(tool: &str, args: &Value) -> String {
    match (
        tool,
        args.get("command").and_then(Value::as_str),
        args.get("url").and_then(Value::as_str),
    ) {
        (_, Some(cmd), _) => format!("$ {cmd}"),
        (_, _, Some(url)) => {
            let method = args.get("method").and_then(Value::as_str).unwrap_or("GET");
            format!("{method} {url}")
        }
        _ => serde_json::to_string_pretty(args).unwrap_or_default(),
    }
}

fn now_millis() -> u64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}
