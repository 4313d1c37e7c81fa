//! The streamable HTTP transport of [`McpServer`]: a tower service to mount at `/mcp`.

use super::{McpServer, Offer};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How the HTTP endpoint checks where requests come from.
#[derive(Debug, Clone, Default)]
pub struct HttpConfig {
    /// Host names (with or without port) a request's `Host` may name; empty leaves the check
    /// to whoever mounts the service (the gateway checks Host and Origin for every path).
    pub allowed_hosts: Vec<String>,
    /// Ends every session (the gateway's shutdown).
    pub cancel: CancellationToken,
}

/// Keep-alive comments on open SSE streams, so proxies and clients do not time them out while
/// a tool waits for an approval.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A service answering MCP over streamable HTTP, one [`McpServer`] on a fresh offer from
/// `offer` per client session.
pub fn http_service<O: Offer>(
    offer: impl Fn() -> O + Send + Sync + 'static,
    config: HttpConfig,
) -> StreamableHttpService<McpServer<O>, LocalSessionManager> {
    let mut http = StreamableHttpServerConfig::default();
    http.sse_keep_alive = Some(KEEP_ALIVE);
    http.cancellation_token = config.cancel;
    let http = if config.allowed_hosts.is_empty() {
        http.disable_allowed_hosts()
    } else {
        http.with_allowed_hosts(config.allowed_hosts)
    };
    StreamableHttpService::new(
        move || Ok(McpServer::new(offer())),
        Arc::new(LocalSessionManager::default()),
        http,
    )
}
