//! OAuth sign-in to an HTTP MCP server started from the dashboard or the API: the same flow as
//! `pryx mcp auth`, run in the background. The caller gets the authorization URL to open; the
//! redirect comes back to a listener on this machine, and the outcome is kept per server while
//! the core runs (shown by `GET /mcp-servers` and the MCP page).

use crate::{Core, CoreError};
use pryx_protocol::api::McpSignIn;
use std::time::Duration;

/// How long the start waits for the authorization URL before answering.
const URL_WAIT: Duration = Duration::from_secs(15);

impl Core {
    /// Starts a sign-in to server `name` and answers once the authorization URL is known (or
    /// the flow ended first, or [`URL_WAIT`] passed: then with what is known so far).
    pub async fn start_mcp_sign_in(&self, name: &str, actor: &str) -> Result<McpSignIn, CoreError> {
        let configured = self
            .mcp_servers_configured()
            .servers
            .into_iter()
            .find(|s| s.name == name)
            .ok_or_else(|| {
                CoreError::NotFound(format!(
                    "no MCP server named {name}; GET /api/v1/mcp-servers lists them"
                ))
            })?;
        if configured.transport == pryx_protocol::api::McpTransport::Stdio {
            return Err(CoreError::Unusable(format!(
                "{name} runs as a local program (stdio); only HTTP servers sign in with OAuth"
            )));
        }
        if let Ok(mut m) = self.inner.mcp.sign_ins.lock() {
            m.remove(name);
        }
        let (tx, rx) = tokio::sync::oneshot::channel::<String>();
        let tx = std::sync::Mutex::new(Some(tx));
        let dir = self.dir().clone();
        let sign_ins = self.inner.mcp.sign_ins.clone();
        let server = name.to_string();
        tokio::spawn(async move {
            let show = move |url: &str| {
                if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
                    let _ = tx.send(url.to_string());
                }
            };
            let outcome = pryx_mcp::sign_in(
                &dir,
                &server,
                pryx_mcp::oauth::UserAgent::Browser { open: false },
                &show,
            )
            .await;
            let state = match outcome {
                Ok(token_ref) => {
                    tracing::info!(server = %server, "signed in to an MCP server");
                    McpSignIn::Done { token_ref }
                }
                Err(e) => McpSignIn::Failed {
                    error: e.to_string(),
                },
            };
            if let Ok(mut m) = sign_ins.lock() {
                m.insert(server, state);
            }
        });
        if let Ok(Ok(url)) = tokio::time::timeout(URL_WAIT, rx).await
            && let Ok(mut m) = self.inner.mcp.sign_ins.lock()
        {
            // The flow may have finished already (a refused registration): keep its outcome.
            if !matches!(
                m.get(name),
                Some(McpSignIn::Done { .. } | McpSignIn::Failed { .. })
            ) {
                m.insert(
                    name.to_string(),
                    McpSignIn::Waiting {
                        authorization_url: url,
                    },
                );
            }
        }
        self.audit_change(
            actor,
            "mcp.sign_in_started",
            "mcp_server",
            name,
            serde_json::Value::Null,
            true,
        );
        Ok(self.mcp_sign_in(name).unwrap_or(McpSignIn::Failed {
            error: format!(
                "the sign-in gave no authorization URL within {} s",
                URL_WAIT.as_secs()
            ),
        }))
    }

    /// Where the last sign-in to `name` started while this core runs stands.
    pub fn mcp_sign_in(&self, name: &str) -> Option<McpSignIn> {
        self.inner
            .mcp
            .sign_ins
            .lock()
            .ok()
            .and_then(|m| m.get(name).cloned())
    }
}
