//! The wire contract of Pryx: error codes and bodies, bus events. Pure data (serde), no I/O, so the
//! core, the server and every client share one definition.

mod error;
mod event;

pub use error::{ErrorBody, ErrorCode, ErrorEnvelope};
pub use event::{EnvelopeType, Event, EventKind, Surface};
mod tool;
pub use tool::ToolKind;
pub mod api;
pub mod ws;
