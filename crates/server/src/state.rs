//! What every handler shares.

use crate::guard::Guard;
use pryx_core::Core;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use tokio_util::sync::CancellationToken;

pub struct AppState {
    pub core: Core,
    pub guard: Guard,
    /// Cancelled when the server stops: open WebSockets and streams close.
    pub shutdown: CancellationToken,
    /// Open WebSocket connections.
    pub ws_clients: AtomicUsize,
    /// `ok`, `fallback` or what is wrong with the secret store, for diagnostics.
    pub keychain: String,
    /// The dashboard (its browser sign-ins are accepted on the API too).
    pub web: Arc<pryx_web::Web>,
}
