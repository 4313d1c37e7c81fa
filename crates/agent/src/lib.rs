//! The Pryx turn loop: model ⇄ tools through the policy engine and approvals, recorded as it happens.

mod agent;
pub mod approvals;
mod ask;
pub mod context;
mod direct_call;
mod error;
pub mod history;
mod model_call;
mod preview;
pub mod prompt;
mod recorder;
mod store_worker;
mod tool_call;
mod turn;

pub use agent::{Agent, AgentParts, AgentSettings, Budgets, EventSink, ModelChoice, PromptSource};
pub use context::{ContextSettings, PINNED_CAP};
pub use direct_call::ToolOutcome;
pub use error::AgentError;
pub use pryx_llm::ToolSpec;
pub use pryx_protocol::TurnStop;
pub use tool_call::{Judged, judge};
pub use turn::{BegunTurn, ClientResult, ClientTools, TurnInput, TurnReport};
