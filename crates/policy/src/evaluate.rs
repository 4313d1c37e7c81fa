//! Judging one call against a policy.

use crate::context::CallContext;
use crate::decision::{Action, Decision};
use crate::document::Policy;

/// Judges one tool call. Every path, command and host in the arguments is judged and the
/// strictest outcome wins (deny beats ask beats allow).
pub fn evaluate(policy: &Policy, ctx: &CallContext<'_>) -> Decision {
    let _ = ctx;
    Decision::new(
        Action::Ask,
        format!("{}: not yet judged", policy.name),
        "evaluation pending",
    )
}
