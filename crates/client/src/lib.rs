//! Typed client of the Pryx gateway API (PRD §13): one method per REST endpoint of `/api/v1`,
//! errors carrying the API's error code, discovery of the running core through the data dir,
//! and an event subscription over the WebSocket that reconnects and replays without loss or
//! duplicates. The CLI and the TUI talk to the core through it.

mod discover;
mod error;
mod rest;
mod subscribe;

pub use discover::{Discovered, TOKEN_FILE, connect_host, pid_alive, read_metadata, read_token};
pub use error::ClientError;
pub use rest::Client;
pub use subscribe::{Backoff, Connection, Filter, Notice, Seen, Subscription};
