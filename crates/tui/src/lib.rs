//! The keyboard-first terminal UI of Pryx.
//!
//! Three layers: [`AppState`] is a pure model updated by core events, key presses and the answers
//! to [`Action`]s; [`ui::draw`] renders it; [`CoreApi`] is the boundary to the core, implemented
//! over the HTTP/WebSocket client (or by a fake in tests). [`run`] owns the terminal and the loop.

pub mod action;
pub mod api;
pub mod approval_keys;
pub mod model;
pub mod notify;
mod run;
pub mod screens;
pub mod secret;
pub mod state;
mod terminal;
pub mod theme;
pub mod ui;

/// The one sanitizer of untrusted text, shared by every surface.
pub use pryx_protocol::safe_text;

pub use action::{Action, Response, perform};
pub use api::{ApiError, ApiResult, ConnectionState, CoreApi, CoreUpdate};
pub use run::{FrameProbe, RunOptions, TuiError, drive, drive_probed, run};
pub use state::{AppState, Screen};
pub use theme::Theme;
