//! The Pryx gateway: the one owner of a data dir's live state. It hosts many agents (named
//! profiles: workspace, model, policy, limits), runs their turns in the background, fans events
//! out on the session bus, puts approvals to every surface, and is configured while it runs
//! (providers, defaults, profiles) — starting with nothing configured at all. Surfaces (the
//! HTTP/WebSocket server, `pryx run` in-process) are thin layers over [`Core`].

mod agents;
mod bus;
mod channels;
mod context;
mod core;
pub mod costs;
mod direct_calls;
mod doctor;
mod error;
pub mod export;
mod grants;
mod live;
mod mcp_admin;
mod mcp_host;
mod mcp_preview;
mod mcp_sign_in;
mod policies_admin;
mod policy_check;
mod processes;
pub mod profiles;
mod providers;
mod session_settings;
pub mod setup;
mod skills_admin;
mod tasks;
pub mod telemetry;
mod turn_end;
mod turn_run;
mod turns;

pub use bus::{Attached, BUS_CAPACITY, BusEvent, SessionBus};
pub use channels::webhook;
pub use core::{Core, CoreParts, StartedTurn};
pub use error::CoreError;
pub use live::{Overrides, Snapshot};
pub use profiles::Profile;
pub use pryx_agent::{ClientResult, ToolSpec, TurnInput};
pub use session_settings::{SessionChange, SessionRequest};
pub use tasks::{MAX_TASK_HOOK_BODY, TaskHookError, TaskHookRequest};
