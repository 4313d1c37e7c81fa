//! One tool call: judged by the policy engine, approved if it must be, run, recorded and audited.

use crate::agent::Agent;
use crate::approvals::fingerprint;
use crate::ask::{Approved, Asked};
use crate::error::AgentError;
use crate::prompt::untrusted;
use crate::turn::TurnCtx;
use pryx_policy::{Action, CallContext, Decision, RateState, ToolHints, evaluate};
use pryx_protocol::{NotRun, ToolCompleted, ToolExecuting, ToolRequested};
use pryx_store::{
    NewSpan, NewToolCall, SpanEnd, SpanKind, SpanStatus, ToolCallStatus, ToolCallUpdate,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Instant;

/// What the model is told when the user cancels a call while it runs or waits for approval.
const CANCELLED_RESULT: &str = "cancelled by the user";

/// What a call is judged against: the policy, where it runs, and the machine's containment.
pub struct Judged<'a> {
    pub policy: &'a pryx_policy::Policy,
    pub workspace: &'a std::path::Path,
    pub home: Option<&'a std::path::Path>,
    pub sandbox: Option<&'a pryx_tools::SandboxLauncher>,
}

/// How the policy judges `name(args)`, the one way every call is judged: the tool's kind and
/// hints (a tool that is not there is judged as an unannotated one that may write), the
/// containment for commands, the files a tool reads, the rate limits so far.
pub fn judge(
    at: &Judged<'_>,
    name: &str,
    tool: Option<&dyn pryx_tools::Tool>,
    args: &Value,
    rate: Option<RateState<'_>>,
) -> Decision {
    let kind = tool.map_or(pryx_protocol::ToolKind::Write, |t| t.kind());
    let mut ctx = CallContext::new(name, kind, args, at.workspace, at.home);
    if let Some(tool) = tool {
        ctx.hints = ToolHints {
            read_only: tool.read_only_hint(),
            destructive: tool.destructive_hint(),
        };
    }
    // Only commands need the machine's containment (probed once, on the first one).
    let gap = (kind == pryx_protocol::ToolKind::Exec)
        .then(|| pryx_tools::containment_gap(at.sandbox))
        .flatten();
    ctx.uncontained_shell = gap.as_deref();
    // Tools that read files of their own (skills) say which; they are judged by those.
    let reads = tool.and_then(|t| t.resolved_reads(args));
    ctx.reads = reads.as_ref().map(|r| r.as_deref().map_err(String::as_str));
    ctx.rate = rate;
    evaluate(at.policy, &ctx)
}

/// How a call ended for the turn: go on, stop as cancelled, or fail.
pub(crate) enum CallEnd {
    Continue,
    /// The user cancelled the turn during this call.
    Cancelled,
    /// A broken invariant (not the model's fault): the turn ends as failed.
    Fatal(String),
}

/// What goes back to the model, and whether the turn goes on.
pub(crate) struct CallResult {
    pub content: String,
    pub is_error: bool,
    pub end: CallEnd,
}

impl CallResult {
    fn error(content: impl Into<String>) -> Self {
        CallResult {
            content: content.into(),
            is_error: true,
            end: CallEnd::Continue,
        }
    }
}

/// One tool call of a turn: the turn's context, the stored call's id and the model's request.
pub(crate) struct CallCtx<'a> {
    pub turn: &'a TurnCtx<'a>,
    /// The stored call's id (`tool_call_id` on events).
    pub row: String,
    pub call: &'a pryx_llm::ToolCall,
}

impl CallCtx<'_> {
    pub fn session(&self) -> &str {
        self.turn.session_id
    }
}

impl Agent {
    /// How the policy judges `name(args)` now, exactly as a turn would (the tool's kind and
    /// hints, the workspace, the containment, the files it reads, the rate limits so far) but
    /// without running, asking or recording anything: the "would this be allowed?" tester.
    /// A tool this agent does not have is judged as an unannotated tool of an MCP server would
    /// be (it may write), so a policy can be tried before the server is added.
    pub fn judge(&self, name: &str, args: &Value) -> Result<Decision, String> {
        if !args.is_object() {
            return Err(format!("the arguments of {name} must be a JSON object"));
        }
        let tool = self.parts.tools.get(name);
        let ledger = self.rate.lock().unwrap_or_else(|e| e.into_inner());
        Ok(self.judge_call(
            name,
            tool.as_deref(),
            args,
            Some(RateState {
                ledger: &ledger,
                now_ms: now_millis(),
            }),
        ))
    }

    fn judge_call(
        &self,
        name: &str,
        tool: Option<&dyn pryx_tools::Tool>,
        args: &Value,
        rate: Option<RateState<'_>>,
    ) -> Decision {
        judge(
            &Judged {
                policy: &self.parts.policy,
                workspace: self.workspace(),
                home: self.parts.settings.home.as_deref(),
                sandbox: self.parts.tool_ctx.sandbox.as_ref(),
            },
            name,
            tool,
            args,
            rate,
        )
    }

    pub(crate) async fn handle_tool_call(
        &self,
        turn: &TurnCtx<'_>,
        message_id: Option<&str>,
        call: &pryx_llm::ToolCall,
    ) -> Result<CallResult, AgentError> {
        let parsed = call.arguments_json();
        let args = parsed
            .as_ref()
            .cloned()
            .unwrap_or_else(|_| Value::String(call.arguments.clone()));
        // Stored and shown exactly, known secret values replaced by a marker naming them.
        let redacted = self.redactor().mark_known_json(&args);
        let new = NewToolCall {
            session_id: turn.session_id.to_string(),
            id: uuid::Uuid::now_v7().to_string(),
            message_id: message_id.map(str::to_string),
            tool_name: call.name.clone(),
            arguments: redacted.clone(),
        };
        let (call_id, tool_name) = (call.id.clone(), call.name.clone());
        let row = self
            .batch(turn.session_id, move |b| {
                let row = b.store.insert_tool_call(&new)?;
                b.emit(ToolRequested {
                    tool_call_id: row.id.clone(),
                    call_id,
                    tool: tool_name,
                    arguments: redacted,
                })?;
                Ok(row.id)
            })
            .await?;
        let cx = CallCtx { turn, row, call };

        let args = match parsed {
            Ok(v) if v.is_object() => v,
            Ok(_) => {
                let msg = format!(
                    "invalid arguments for {}: expected a JSON object",
                    call.name
                );
                return self
                    .finish_without_run(&cx, NotRun::Failed, None, msg)
                    .await;
            }
            Err(e) => {
                let msg = format!(
                    "invalid arguments for {}: {e}. Send one JSON object with each key once.",
                    call.name
                );
                return self
                    .finish_without_run(&cx, NotRun::Failed, None, msg)
                    .await;
            }
        };
        let Some(tool) = self.parts.tools.get(&call.name) else {
            let mut names: Vec<&str> = self.parts.tools.names().collect();
            names.sort_unstable();
            let msg = format!(
                "unknown tool {}; available tools: {}",
                call.name,
                names.join(", ")
            );
            return self
                .finish_without_run(&cx, NotRun::Failed, None, msg)
                .await;
        };

        let now_ms = now_millis();
        let decision = {
            let mut ledger = self.rate.lock().unwrap_or_else(|e| e.into_inner());
            ledger.prune(now_ms);
            self.judge_call(
                &call.name,
                Some(tool.as_ref()),
                &args,
                Some(RateState {
                    ledger: &ledger,
                    now_ms,
                }),
            )
        };
        // The exact call and its fingerprint: the audit proves what was judged and what ran.
        let fp = fingerprint(&call.name, tool.pin().as_deref(), &args);
        let decision_audit = json!({"tool": call.name, "arguments": args, "fingerprint": fp, "decision": decision.action, "rule": decision.rule, "reason": decision.reason});
        // An allowed call records its decision with its start (one store hop less).
        if decision.action != Action::Allow {
            self.audit(
                cx.session(),
                "tool.decision",
                &cx.row,
                decision_audit.clone(),
                decision.action.as_str(),
            )
            .await?;
        }
        let approved = match decision.action {
            Action::Allow => None,
            Action::Deny => {
                let msg = format!(
                    "denied by policy ({}): {}. Do not retry this call unchanged.",
                    decision.rule, decision.reason
                );
                return self
                    .finish_without_run(&cx, NotRun::Denied, Some(&decision), msg)
                    .await;
            }
            Action::Ask => match self.ask(&cx, &args, &fp, &tool, &decision).await? {
                Asked::Approved(how) => Some(how),
                Asked::Refused(msg) => {
                    return self
                        .finish_without_run(&cx, NotRun::Denied, Some(&decision), msg)
                        .await;
                }
                Asked::Cancelled => {
                    let mut result = self
                        .finish_without_run(
                            &cx,
                            NotRun::Denied,
                            Some(&decision),
                            CANCELLED_RESULT.to_string(),
                        )
                        .await?;
                    result.end = CallEnd::Cancelled;
                    return Ok(result);
                }
            },
        };
        let allowed = (decision.action == Action::Allow).then_some(decision_audit);
        self.run_tool(&cx, args, &tool, &decision, approved, allowed)
            .await
    }

    async fn run_tool(
        &self,
        cx: &CallCtx<'_>,
        args: Value,
        tool: &Arc<dyn pryx_tools::Tool>,
        decision: &Decision,
        approved: Option<Approved>,
        decision_audit: Option<Value>,
    ) -> Result<CallResult, AgentError> {
        let call = cx.call;
        let was_approved = approved.is_some();
        self.rate
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(&call.name, now_millis());
        let running = ToolCallUpdate {
            status: Some(ToolCallStatus::Running),
            decision: Some(decision.action.as_str().to_string()),
            rule: Some(decision.rule.clone()),
            approval_scope: approved.map(|a| a.as_str().to_string()),
            ..Default::default()
        };
        let span = NewSpan {
            trace_id: Some(cx.turn.span.trace_id.clone()),
            parent_id: Some(cx.turn.span.id.clone()),
            session_id: Some(cx.session().to_string()),
            kind: SpanKind::ToolCall,
            name: call.name.clone(),
            // Ids and the policy's answer only: arguments stay in the tool call's row.
            attributes: json!({"tool_call_id": cx.row, "decision": decision.action.as_str()}),
        };
        let (row, tool_name, action) = (cx.row.clone(), call.name.clone(), decision.action);
        let span = self
            .batch(cx.session(), move |b| {
                if let Some(details) = &decision_audit {
                    b.audit("tool.decision", &row, details, action.as_str())?;
                }
                b.store.update_tool_call(b.session(), &row, &running)?;
                b.emit(ToolExecuting {
                    tool_call_id: row.clone(),
                    tool: tool_name,
                })?;
                let span = b.store.start_span(&span)?;
                b.span(&span);
                Ok(span)
            })
            .await?;
        // The audit row of the call names exactly what ran.
        let fp = fingerprint(&call.name, tool.pin().as_deref(), &args);
        let started = Instant::now();
        let mut tool_ctx = self.call_ctx(cx.turn.cancel, cx.session());
        tool_ctx.network = granted_network(decision);
        tool_ctx.code_files_writable = was_approved || decision.writes_code_files;
        let outcome = tool.execute(args, tool_ctx).await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (content, is_error, end) = match outcome {
            Ok(out) => (out.content, out.is_error, CallEnd::Continue),
            Err(e) if e.is_cancelled() => (CANCELLED_RESULT.to_string(), true, CallEnd::Cancelled),
            Err(e) if e.is_fatal() => (e.to_string(), true, CallEnd::Fatal(e.to_string())),
            Err(e) => (e.to_string(), true, CallEnd::Continue),
        };
        let content = self.redactor().text(&content).into_owned();
        let status = if is_error {
            ToolCallStatus::Failed
        } else {
            ToolCallStatus::Completed
        };
        let finished = ToolCallUpdate {
            status: Some(status),
            result: Some(content.clone()),
            is_error: Some(is_error),
            ..Default::default()
        };
        let span_status = match (&end, is_error) {
            (CallEnd::Cancelled, _) => SpanStatus::Cancelled,
            (CallEnd::Fatal(_), _) | (CallEnd::Continue, true) => SpanStatus::Error,
            (CallEnd::Continue, false) => SpanStatus::Ok,
        };
        let audit_outcome = match (&end, is_error) {
            (CallEnd::Cancelled, _) => "cancelled",
            (_, true) => "failure",
            (_, false) => "success",
        };
        let audit = json!({"tool": call.name, "fingerprint": fp, "duration_ms": duration_ms, "is_error": is_error, "result_sha256": sha256_hex(&content)});
        let completed = ToolCompleted {
            tool_call_id: cx.row.clone(),
            tool: call.name.clone(),
            is_error,
            duration_ms: Some(duration_ms),
            status: None,
            message: None,
            cancelled: matches!(end, CallEnd::Cancelled),
        };
        let row = cx.row.clone();
        self.batch(cx.session(), move |b| {
            b.store.update_tool_call(b.session(), &row, &finished)?;
            let ended = b.store.end_span(&span.id, &SpanEnd::status(span_status))?;
            b.span(&ended);
            b.audit("tool.call", &row, &audit, audit_outcome)?;
            b.emit(completed)
        })
        .await?;
        // Errors carry the tool's (or server's) words too; a cancel is Pryx's own.
        let content = match end {
            CallEnd::Cancelled => content,
            CallEnd::Continue | CallEnd::Fatal(_) if cx.turn.for_model => {
                untrusted(&call.name, &content)
            }
            CallEnd::Continue | CallEnd::Fatal(_) => content,
        };
        Ok(CallResult {
            content,
            is_error,
            end,
        })
    }

    /// Records a call that never ran (bad arguments, unknown tool, denied) and its message.
    async fn finish_without_run(
        &self,
        cx: &CallCtx<'_>,
        why: NotRun,
        decision: Option<&Decision>,
        message: String,
    ) -> Result<CallResult, AgentError> {
        let status = match why {
            NotRun::Failed => ToolCallStatus::Failed,
            NotRun::Denied => ToolCallStatus::Denied,
        };
        // Denial texts quote the arguments; the model gets them back masked like any result.
        let message = self.redactor().text(&message).into_owned();
        self.update_call(
            cx,
            ToolCallUpdate {
                status: Some(status),
                decision: decision.map(|d| d.action.as_str().to_string()),
                rule: decision.map(|d| d.rule.clone()),
                result: Some(message.clone()),
                is_error: Some(true),
                ..Default::default()
            },
        )
        .await?;
        if decision.is_none() {
            self.audit(
                cx.session(),
                "tool.rejected",
                &cx.row,
                json!({"tool": cx.call.name, "reason": message}),
                "failure",
            )
            .await?;
        }
        self.emit(
            cx.session(),
            ToolCompleted {
                tool_call_id: cx.row.clone(),
                tool: cx.call.name.clone(),
                is_error: true,
                duration_ms: None,
                status: Some(why),
                message: Some(message.clone()),
                cancelled: false,
            },
        )
        .await?;
        Ok(CallResult::error(message))
    }

    async fn update_call(
        &self,
        cx: &CallCtx<'_>,
        update: ToolCallUpdate,
    ) -> Result<(), AgentError> {
        let (sid, row) = (cx.session().to_string(), cx.row.clone());
        self.db(move |s| s.update_tool_call(&sid, &row, &update).map(|_| ()))
            .await
    }

    pub(crate) fn call_ctx(
        &self,
        cancel: &tokio_util::sync::CancellationToken,
        session_id: &str,
    ) -> pryx_tools::ToolContext {
        let mut ctx = self.parts.tool_ctx.clone();
        ctx.cancel = cancel.child_token();
        ctx.session_id = Some(session_id.to_string());
        ctx
    }
}

/// The network a call gets once it runs: what the policy found its commands need (a fetching
/// command, granted or approved), else none.
pub(crate) fn granted_network(decision: &Decision) -> pryx_tools::Network {
    match &decision.network_ports {
        Some(ports) => pryx_tools::Network::Ports {
            ports: ports.clone(),
        },
        None => pryx_tools::Network::None,
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
