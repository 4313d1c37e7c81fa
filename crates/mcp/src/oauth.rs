//! OAuth 2.1 for HTTP servers (discovery, registration, PKCE, refresh) on top of rmcp's
//! authorization manager, with tokens kept in the secret store and a loopback redirect.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use pryx_config::{Secret, SecretStore};
use rmcp::transport::auth::{
    AuthorizationCallback, AuthorizationMetadata, AuthorizationRequest, AuthorizationSession,
    CredentialStore, OAuthState,
};
use rmcp::transport::{AuthError, AuthorizationManager, StoredCredentials};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::RwLock;

/// How long `pryx mcp auth` waits for the browser to come back.
pub const CALLBACK_TIMEOUT: Duration = Duration::from_secs(300);

/// Where a server's token set lives.
#[derive(Clone)]
pub enum TokenStore {
    /// In the secret store under this name (the JSON token set is the secret's value).
    Secret { store: SecretStore, name: String },
    /// In memory only (tests, one-shot clients).
    Memory(Arc<RwLock<Option<StoredCredentials>>>),
}

impl TokenStore {
    /// The secret store entry named by a `secret:NAME` reference.
    pub fn from_ref(store: SecretStore, reference: &str) -> Option<Self> {
        let name = reference.strip_prefix("secret:")?;
        pryx_config::is_secret_name(name).then(|| TokenStore::Secret {
            store,
            name: name.to_owned(),
        })
    }

    /// A fresh in-memory store.
    pub fn memory() -> Self {
        TokenStore::Memory(Arc::new(RwLock::new(None)))
    }
}

fn store_err(e: impl std::fmt::Display) -> AuthError {
    AuthError::InternalError(format!("secret store: {e}"))
}

#[async_trait]
impl CredentialStore for TokenStore {
    async fn load(&self) -> Result<Option<StoredCredentials>, AuthError> {
        match self {
            TokenStore::Memory(m) => Ok(m.read().await.clone()),
            TokenStore::Secret { store, name } => {
                let (store, name) = (store.clone(), name.clone());
                let got = tokio::task::spawn_blocking(move || store.get(&name))
                    .await
                    .map_err(store_err)?
                    .map_err(store_err)?;
                match got {
                    None => Ok(None),
                    // A token set that no longer parses is treated as absent: sign in again.
                    Some(s) => Ok(serde_json::from_str(s.expose()).ok()),
                }
            }
        }
    }

    async fn save(&self, credentials: StoredCredentials) -> Result<(), AuthError> {
        match self {
            TokenStore::Memory(m) => {
                *m.write().await = Some(credentials);
                Ok(())
            }
            TokenStore::Secret { store, name } => {
                let value = Secret::new(serde_json::to_string(&credentials).map_err(store_err)?);
                let (store, name) = (store.clone(), name.clone());
                tokio::task::spawn_blocking(move || store.set(&name, &value))
                    .await
                    .map_err(store_err)?
                    .map_err(store_err)?;
                Ok(())
            }
        }
    }

    async fn clear(&self) -> Result<(), AuthError> {
        match self {
            TokenStore::Memory(m) => {
                *m.write().await = None;
                Ok(())
            }
            TokenStore::Secret { store, name } => {
                let (store, name) = (store.clone(), name.clone());
                tokio::task::spawn_blocking(move || store.remove(&name))
                    .await
                    .map_err(store_err)?
                    .map_err(store_err)?;
                Ok(())
            }
        }
    }
}

/// Client identity and scope choices for one sign-in.
#[derive(Debug, Clone, Default)]
pub struct AuthOptions {
    /// Pre-registered client id (skips dynamic registration).
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Explicit scopes; empty means: from the `WWW-Authenticate` challenge or the metadata.
    pub scopes: Vec<String>,
    /// A Client ID Metadata Document URL, used when the server supports it.
    pub client_metadata_url: Option<String>,
    /// The `WWW-Authenticate` value of a 401/403, seeding discovery and scopes.
    pub challenge: Option<String>,
}

/// How the authorization page is visited.
#[derive(Debug, Clone)]
pub enum UserAgent {
    /// A person in a browser; the redirect comes back to a loopback listener.
    Browser {
        /// Try to open the system browser (the URL is always reported too).
        open: bool,
    },
    /// Fetch the page without following redirects and take the code from `Location`
    /// (for authorization servers that approve without a person, as in tests).
    Headless,
}

/// A manager restored from stored tokens; `None` when none are stored (or they belong to
/// another authorization server).
pub async fn manager_from_store(
    url: &str,
    store: TokenStore,
) -> Result<Option<AuthorizationManager>, AuthError> {
    pryx_http::install(); // rmcp builds its own clients
    let mut manager = AuthorizationManager::new(url).await?;
    manager.set_credential_store(store);
    if manager.initialize_from_store().await? {
        Ok(Some(manager))
    } else {
        Ok(None)
    }
}

/// Runs the authorization-code flow with PKCE and stores the tokens. `show_url` receives the
/// authorization URL before the browser is opened.
pub async fn authorize(
    url: &str,
    store: TokenStore,
    options: &AuthOptions,
    agent: UserAgent,
    show_url: &(dyn Fn(&str) + Send + Sync),
) -> Result<AuthorizationManager, AuthError> {
    let listener = match agent {
        UserAgent::Browser { .. } => Some(
            tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .map_err(|e| AuthError::InternalError(format!("cannot listen on loopback: {e}")))?,
        ),
        UserAgent::Headless => None,
    };
    let redirect_uri = match &listener {
        Some(l) => {
            let port = l
                .local_addr()
                .map_err(|e| AuthError::InternalError(e.to_string()))?
                .port();
            format!("http://127.0.0.1:{port}/callback")
        }
        None => "http://localhost:3000/callback".to_owned(),
    };
    pryx_http::install(); // rmcp builds its own clients
    let mut manager = AuthorizationManager::new(url).await?;
    manager.set_credential_store(store);
    let mut state = OAuthState::Unauthorized(manager);
    let mut request = AuthorizationRequest::new(redirect_uri).with_client_name("Pryx");
    if let Some(id) = &options.client_id {
        request = request.with_preregistered_client(id.clone());
        if let Some(secret) = &options.client_secret {
            request = request.with_client_secret(secret.clone());
        }
    }
    if !options.scopes.is_empty() {
        request = request.with_scopes(options.scopes.clone());
    }
    if let Some(cimd) = &options.client_metadata_url {
        request = request.with_client_metadata_url(cimd.clone());
    }
    let challenge = match &options.challenge {
        Some(ch) => Some(ch.clone()),
        None => probe_challenge(url).await,
    };
    if let Some(ch) = challenge {
        request = request.with_challenge(ch);
    }
    if let Err(e) = state.start_authorization(request.clone()).await {
        state = legacy_issuer_fallback(url, state, request, e).await?;
    }
    let auth_url = state.get_authorization_url().await?;
    show_url(&auth_url);
    let callback_url = match (agent, listener) {
        (UserAgent::Browser { open }, Some(listener)) => {
            if open {
                open_browser(&auth_url);
            }
            tokio::time::timeout(CALLBACK_TIMEOUT, wait_for_callback(&listener))
                .await
                .map_err(|_| {
                    AuthError::AuthorizationFailed(
                        "no answer from the browser within 5 minutes".into(),
                    )
                })??
        }
        _ => headless_visit(&auth_url).await?,
    };
    let cb = AuthorizationCallback::from_redirect_url(&callback_url)?;
    state
        .handle_callback_with_issuer(&cb.code, &cb.csrf_token, cb.issuer.as_deref())
        .await?;
    state
        .into_authorization_manager()
        .ok_or_else(|| AuthError::InternalError("authorization did not complete".into()))
}

/// Servers of the 2025-03-26 revision publish authorization-server metadata at their origin
/// whose `issuer` may carry a path. When the only problem is such an issuer on the server's own
/// origin, the metadata is used as published; anything else keeps the original error.
async fn legacy_issuer_fallback(
    url: &str,
    state: OAuthState,
    request: AuthorizationRequest,
    err: AuthError,
) -> Result<OAuthState, AuthError> {
    let AuthError::AuthorizationServerMismatch {
        received_issuer, ..
    } = &err
    else {
        return Err(err);
    };
    let (Ok(server), Ok(issuer)) = (url::Url::parse(url), url::Url::parse(received_issuer)) else {
        return Err(err);
    };
    if server.origin() != issuer.origin() {
        return Err(err);
    }
    let OAuthState::Unauthorized(mut manager) = state else {
        return Err(err);
    };
    let Ok(meta_url) = server.join("/.well-known/oauth-authorization-server") else {
        return Err(err);
    };
    let Ok(http) = pryx_http::client() else {
        return Err(err);
    };
    let metadata: AuthorizationMetadata = match http.get(meta_url).send().await {
        Ok(r) if r.status().is_success() => match r.json().await {
            Ok(m) => m,
            Err(_) => return Err(err),
        },
        _ => return Err(err),
    };
    tracing::warn!(
        issuer = %received_issuer,
        "authorization server metadata of a 2025-03-26 server names another issuer; using it as published"
    );
    manager.set_metadata(metadata);
    AuthorizationSession::new(manager, request)
        .await
        .map(OAuthState::Session)
        .map_err(|(_, e)| e)
}

/// The `WWW-Authenticate` challenge a server answers an unauthenticated `initialize` with, if
/// any; it names the resource metadata and the scopes to ask for.
pub async fn probe_challenge(url: &str) -> Option<String> {
    let body = serde_json::json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {
            "protocolVersion": rmcp::model::ProtocolVersion::LATEST_WITH_INITIALIZE,
            "capabilities": {},
            "clientInfo": {"name": "pryx", "version": env!("CARGO_PKG_VERSION")}
        }
    });
    let resp = pryx_http::client()
        .ok()?
        .post(url)
        .header(
            reqwest::header::ACCEPT,
            "application/json, text/event-stream",
        )
        .json(&body)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .ok()?;
    if resp.status() != reqwest::StatusCode::UNAUTHORIZED
        && resp.status() != reqwest::StatusCode::FORBIDDEN
    {
        return None;
    }
    resp.headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Visits the authorization URL without a person and returns the redirect target.
pub async fn headless_visit(auth_url: &str) -> Result<String, AuthError> {
    let http = pryx_http::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| AuthError::InternalError(e.to_string()))?;
    let resp = http
        .get(auth_url)
        .send()
        .await
        .map_err(|e| AuthError::AuthorizationFailed(e.to_string()))?;
    resp.headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| {
            AuthError::AuthorizationFailed(format!(
                "the authorization page answered {} without a redirect",
                resp.status()
            ))
        })
}

/// Serves loopback requests until one arrives at `/callback`; returns its full URL.
async fn wait_for_callback(listener: &tokio::net::TcpListener) -> Result<String, AuthError> {
    let port = listener
        .local_addr()
        .map_err(|e| AuthError::InternalError(e.to_string()))?
        .port();
    loop {
        let (mut sock, _) = listener
            .accept()
            .await
            .map_err(|e| AuthError::InternalError(e.to_string()))?;
        // Read the whole request head (a browser may send it in several packets) before answering,
        // so the response never races the rest of the request.
        let mut buf = Vec::with_capacity(1024);
        let complete = tokio::time::timeout(Duration::from_secs(10), async {
            let mut chunk = [0u8; 1024];
            while buf.len() < 8192 && !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match sock.read(&mut chunk).await {
                    Ok(0) | Err(_) => return false,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            true
        })
        .await;
        if !matches!(complete, Ok(true)) {
            continue;
        }
        let head = String::from_utf8_lossy(&buf);
        let target = head
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("GET "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or("");
        if !target.starts_with("/callback") {
            let _ = sock
                .write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                )
                .await;
            continue;
        }
        let body = "<html><body><h1>Pryx is signed in.</h1><p>You can close this window.</p></body></html>";
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = sock.write_all(resp.as_bytes()).await;
        return Ok(format!("http://127.0.0.1:{port}{target}"));
    }
}

/// Opens `url` in the desktop browser when there is a display; failures are ignored (the URL
/// was already printed).
fn open_browser(url: &str) {
    let has_display = cfg!(target_os = "macos")
        || std::env::var_os("DISPLAY").is_some()
        || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if !has_display {
        return;
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let _ = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_store_round_trips() {
        let store = TokenStore::memory();
        assert!(store.load().await.unwrap().is_none());
        store
            .save(StoredCredentials::new(
                "cid".into(),
                None,
                vec!["a".into()],
                Some(1),
            ))
            .await
            .unwrap();
        assert_eq!(store.load().await.unwrap().unwrap().client_id, "cid");
        store.clear().await.unwrap();
        assert!(store.load().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn secret_store_keeps_token_set() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = pryx_config::DataDir::at(tmp.path());
        let secrets = SecretStore::open_backend(&dir, pryx_config::Backend::File).unwrap();
        let store = TokenStore::from_ref(secrets.clone(), "secret:mcp-oauth-x").unwrap();
        store
            .save(StoredCredentials::new(
                "client-1".into(),
                None,
                vec![],
                None,
            ))
            .await
            .unwrap();
        assert_eq!(store.load().await.unwrap().unwrap().client_id, "client-1");
        assert!(secrets.get("mcp-oauth-x").unwrap().is_some());
        store.clear().await.unwrap();
        assert!(secrets.get("mcp-oauth-x").unwrap().is_none());
        assert!(TokenStore::from_ref(secrets, "env:X").is_none());
    }

    #[tokio::test]
    async fn loopback_callback_returns_full_url() {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let client = tokio::spawn(async move {
            let http = pryx_http::client().expect("an HTTP client");
            let _ = http
                .get(format!("http://127.0.0.1:{port}/favicon.ico"))
                .send()
                .await;
            http.get(format!("http://127.0.0.1:{port}/callback?code=c1&state=s1"))
                .send()
                .await
                .unwrap()
                .status()
        });
        let url = wait_for_callback(&listener).await.unwrap();
        assert_eq!(client.await.unwrap(), 200);
        let cb = AuthorizationCallback::from_redirect_url(&url).unwrap();
        assert_eq!((cb.code.as_str(), cb.csrf_token.as_str()), ("c1", "s1"));
    }
}
