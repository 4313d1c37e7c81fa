//! The Pryx gateway: the one owner of a data dir's live state. It runs agent turns in the
//! background, fans their events out on the session bus and puts approvals to every surface.
//! Surfaces (the HTTP/WebSocket server, `pryx run` in-process) are thin layers over [`Core`].

mod bus;
mod core;
mod error;
mod turns;

pub use bus::{BUS_CAPACITY, BusEvent, SessionBus};
pub use core::{Core, CoreParts, ModelLoader, PolicyLoader, StartedTurn};
pub use error::CoreError;
