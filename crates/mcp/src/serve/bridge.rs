//! `pryx mcp serve`: an MCP client on stdin/stdout talks to the running core's `/mcp`. The
//! messages pass unchanged both ways, so the client gets exactly the gateway's server — its
//! sessions, approvals on the user's surfaces, and the core's lifetime beyond this process.

use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, Transport};
use rmcp::{RoleClient, RoleServer};

/// Why the bridge stopped.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("cannot send to the MCP client on stdout: {0}")]
    Local(String),
    #[error("the Pryx core stopped answering at {url}: {message}")]
    Core { url: String, message: String },
}

/// Relays MCP messages between this process's stdio and the streamable HTTP endpoint `url`
/// (authenticated with `token`) until either side closes.
pub async fn bridge_stdio(url: &str, token: &str) -> Result<(), BridgeError> {
    let client = pryx_http::builder()
        .no_proxy()
        .build()
        .map_err(|e| BridgeError::Core {
            url: url.to_string(),
            message: e.to_string(),
        })?;
    let config = StreamableHttpClientTransportConfig::with_uri(url).auth_header(token);
    let mut core = StreamableHttpClientTransport::with_client(client, config);
    let (stdin, stdout) = rmcp::transport::stdio();
    let mut local =
        rmcp::transport::async_rw::AsyncRwTransport::<RoleServer, _, _>::new_server(stdin, stdout);
    let core_err = |message: String| BridgeError::Core {
        url: url.to_string(),
        message,
    };
    loop {
        tokio::select! {
            from_client = Transport::<RoleServer>::receive(&mut local) => {
                let Some(msg) = from_client else { break };
                Transport::<RoleClient>::send(&mut core, msg)
                    .await
                    .map_err(|e| core_err(e.to_string()))?;
            }
            from_core = Transport::<RoleClient>::receive(&mut core) => {
                let Some(msg) = from_core else {
                    return Err(core_err("the connection closed".into()));
                };
                Transport::<RoleServer>::send(&mut local, msg)
                    .await
                    .map_err(|e| BridgeError::Local(e.to_string()))?;
            }
        }
    }
    let _ = Transport::<RoleClient>::close(&mut core).await;
    Ok(())
}
