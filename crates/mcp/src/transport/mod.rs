//! Opening a session over the configured transport.

pub(crate) mod capped;
pub mod sse;
pub mod stdio;

pub use capped::MAX_MESSAGE_BYTES;

use std::collections::{BTreeMap, HashMap};

use pryx_config::{DataDir, SecretStore};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{AuthClient, StreamableHttpClientTransport};
use rmcp::{RoleClient, ServiceExt};

use crate::McpError;
use crate::config::{AuthConfig, ServerConfig, TransportKind, normalize_ref};
use crate::handler::PryxClientHandler;
use crate::oauth::{self, TokenStore};

/// A running session.
pub(crate) struct Live {
    pub service: RunningService<RoleClient, PryxClientHandler>,
    /// Process id of a stdio server.
    pub pid: Option<u32>,
    /// `stdio`, `streamable-http` or `sse`.
    pub wire: &'static str,
}

/// Everything outside the entry that connecting needs.
pub(crate) struct ConnectEnv<'a> {
    pub data_dir: &'a DataDir,
    pub allowed_env: &'a [String],
}

impl ConnectEnv<'_> {
    fn secrets(&self, server: &str) -> Result<SecretStore, McpError> {
        SecretStore::open(self.data_dir).map_err(|source| McpError::Secret {
            server: server.to_owned(),
            source,
        })
    }

    /// A configured value: `secret:`/`keychain:`/`env:` references are resolved, anything
    /// else is taken literally.
    fn resolve(&self, server: &str, value: &str) -> Result<String, McpError> {
        let r = normalize_ref(value);
        if r.starts_with("secret:") || r.starts_with("env:") {
            let store = if r.starts_with("env:") {
                // env references need no store; avoid touching the keychain for them.
                None
            } else {
                Some(self.secrets(server)?)
            };
            let secret = match store {
                Some(s) => s.resolve(&r),
                None => {
                    let var = &r["env:".len()..];
                    match std::env::var(var) {
                        Ok(v) if !v.is_empty() => Ok(pryx_config::Secret::new(v)),
                        _ => Err(pryx_config::SecretError::EnvUnset(var.to_owned())),
                    }
                }
            }
            .map_err(|source| McpError::Secret {
                server: server.to_owned(),
                source,
            })?;
            Ok(secret.expose().to_owned())
        } else {
            Ok(value.to_owned())
        }
    }
}

fn connect_err(server: &str, message: impl std::fmt::Display) -> McpError {
    McpError::Connect {
        server: server.to_owned(),
        message: message.to_string(),
    }
}

/// Starts or contacts the server and runs the `initialize` handshake.
pub(crate) async fn connect(
    server: &str,
    cfg: &ServerConfig,
    env: &ConnectEnv<'_>,
    handler: PryxClientHandler,
) -> Result<Live, McpError> {
    let timeout = cfg.timeout();
    let fut = async {
        match cfg.transport_kind() {
            TransportKind::Stdio => connect_stdio(server, cfg, env, handler).await,
            TransportKind::Http => connect_http(server, cfg, env, handler).await,
            TransportKind::Sse => connect_sse(server, cfg, env, handler).await,
        }
    };
    tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| McpError::Timeout {
            server: server.to_owned(),
            secs: timeout.as_secs(),
        })?
}

async fn connect_stdio(
    server: &str,
    cfg: &ServerConfig,
    env: &ConnectEnv<'_>,
    handler: PryxClientHandler,
) -> Result<Live, McpError> {
    let mut configured = BTreeMap::new();
    for (k, v) in &cfg.env {
        configured.insert(k.clone(), env.resolve(server, v)?);
    }
    let child_env = stdio::child_env(env.allowed_env, &configured);
    let log_dir = env.data_dir.logs_dir();
    let log_dir = log_dir.is_dir().then_some(log_dir.as_path());
    let (proc, pid, tail) = stdio::spawn(
        server,
        &cfg.command,
        cfg.cwd.as_deref(),
        &child_env,
        log_dir,
    )
    .map_err(|e| {
        connect_err(
            server,
            format!("cannot start `{}`: {e}", cfg.command.join(" ")),
        )
    })?;
    match handler.serve(proc).await {
        Ok(service) => Ok(Live {
            service,
            pid,
            wire: "stdio",
        }),
        Err(e) => {
            // Give the stderr reader a moment to collect the server's last words.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            let tail = tail.text();
            let msg = if tail.is_empty() {
                e.to_string()
            } else {
                format!("{e}; server stderr:\n{tail}")
            };
            Err(connect_err(server, msg))
        }
    }
}

fn header_map(
    server: &str,
    cfg: &ServerConfig,
    env: &ConnectEnv<'_>,
) -> Result<HashMap<HeaderName, HeaderValue>, McpError> {
    let mut out = HashMap::new();
    for (k, v) in &cfg.headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| connect_err(server, format!("invalid header name `{k}`")))?;
        let value = HeaderValue::from_str(&env.resolve(server, v)?)
            .map_err(|_| connect_err(server, format!("invalid value for header `{k}`")))?;
        out.insert(name, value);
    }
    Ok(out)
}

fn http_client(server: &str) -> Result<reqwest::Client, McpError> {
    pryx_http::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| connect_err(server, e))
}

async fn connect_http(
    server: &str,
    cfg: &ServerConfig,
    env: &ConnectEnv<'_>,
    handler: PryxClientHandler,
) -> Result<Live, McpError> {
    let url = cfg.url.clone().unwrap_or_default();
    let headers = header_map(server, cfg, env)?;
    let mut config =
        StreamableHttpClientTransportConfig::with_uri(url.clone()).custom_headers(headers.clone());
    config.reinit_on_expired_session = true;
    let client = http_client(server)?;
    let result = match &cfg.auth {
        Some(AuthConfig::Oauth { .. }) => {
            let token_ref = cfg.oauth_token_ref(server).unwrap_or_default();
            let store =
                TokenStore::from_ref(env.secrets(server)?, &token_ref).ok_or_else(|| {
                    McpError::InvalidEntry {
                        name: format!("{server}.auth.token_ref"),
                        message: "must be `secret:NAME`".into(),
                    }
                })?;
            let manager = oauth::manager_from_store(&url, store)
                .await
                .map_err(|e| McpError::Auth {
                    server: server.to_owned(),
                    message: e.to_string(),
                })?
                .ok_or_else(|| McpError::AuthRequired(server.to_owned()))?;
            let transport = StreamableHttpClientTransport::with_client(
                AuthClient::new(client.clone(), manager),
                config,
            );
            handler.clone().serve(transport).await
        }
        Some(AuthConfig::Bearer { token_ref }) => {
            let token = env.resolve(server, token_ref)?;
            let transport = StreamableHttpClientTransport::with_client(
                client.clone(),
                config.auth_header(token),
            );
            handler.clone().serve(transport).await
        }
        None => {
            let transport = StreamableHttpClientTransport::with_client(client.clone(), config);
            handler.clone().serve(transport).await
        }
    };
    match result {
        Ok(service) => Ok(Live {
            service,
            pid: None,
            wire: "streamable-http",
        }),
        Err(e) if e.is_authorization_required() => Err(McpError::AuthRequired(server.to_owned())),
        Err(e) => {
            // Servers that predate streamable HTTP only offer the GET event stream.
            let mut hm = HeaderMap::new();
            for (k, v) in headers {
                hm.insert(k, v);
            }
            if let Some(AuthConfig::Bearer { token_ref }) = &cfg.auth {
                let token = env.resolve(server, token_ref)?;
                if let Ok(v) = HeaderValue::from_str(&format!("Bearer {token}")) {
                    hm.insert(reqwest::header::AUTHORIZATION, v);
                }
            }
            let short = std::time::Duration::from_secs(5).min(cfg.timeout());
            match sse::LegacySseTransport::connect(client, &url, hm, short).await {
                Ok(t) => handler
                    .serve(t)
                    .await
                    .map(|service| Live {
                        service,
                        pid: None,
                        wire: "sse",
                    })
                    .map_err(|_| connect_err(server, &e)),
                Err(_) => Err(connect_err(server, e)),
            }
        }
    }
}

async fn connect_sse(
    server: &str,
    cfg: &ServerConfig,
    env: &ConnectEnv<'_>,
    handler: PryxClientHandler,
) -> Result<Live, McpError> {
    let url = cfg.url.clone().unwrap_or_default();
    let mut hm = HeaderMap::new();
    for (k, v) in header_map(server, cfg, env)? {
        hm.insert(k, v);
    }
    if let Some(AuthConfig::Bearer { token_ref }) = &cfg.auth {
        let token = env.resolve(server, token_ref)?;
        let v = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| connect_err(server, "the bearer token is not a valid header value"))?;
        hm.insert(reqwest::header::AUTHORIZATION, v);
    }
    let t = sse::LegacySseTransport::connect(http_client(server)?, &url, hm, cfg.timeout())
        .await
        .map_err(|e| connect_err(server, e))?;
    let service = handler.serve(t).await.map_err(|e| connect_err(server, e))?;
    Ok(Live {
        service,
        pid: None,
        wire: "sse",
    })
}
