//! OAuth sign-in to one HTTP server of `servers.json` (`pryx mcp auth`, the dashboard's MCP
//! page): the authorization flow through a loopback redirect, the tokens into the secret store,
//! the entry's `auth` written back. `show` gets the URL the person opens.

use crate::config::normalize_ref;
use crate::oauth::{self, AuthOptions, TokenStore, UserAgent};
use crate::{AuthConfig, McpError, ServersFile, TransportKind};
use pryx_config::{DataDir, SecretStore};

/// Signs in to server `name`; the answer is the secret reference holding its tokens.
pub async fn sign_in(
    dir: &DataDir,
    name: &str,
    agent: UserAgent,
    show: &(dyn Fn(&str) + Send + Sync),
) -> Result<String, McpError> {
    let failed = |message: String| McpError::Auth {
        server: name.to_owned(),
        message,
    };
    let mut file = ServersFile::load(&dir.mcp_servers_file())?;
    let Some(mut cfg) = file.servers().get(name).cloned() else {
        return Err(McpError::UnknownServer(name.to_owned()));
    };
    if cfg.transport_kind() == TransportKind::Stdio {
        return Err(failed(
            "it is a stdio server; OAuth applies to HTTP servers only".into(),
        ));
    }
    let url = cfg.url.clone().unwrap_or_default();
    let (client_id, client_secret, scopes) = match &cfg.auth {
        Some(AuthConfig::Oauth {
            client_id,
            client_secret_ref,
            scopes,
            ..
        }) => (client_id.clone(), client_secret_ref.clone(), scopes.clone()),
        Some(AuthConfig::Bearer { .. }) => {
            return Err(failed(
                "it uses a static bearer token; remove its \"auth\" to use OAuth instead".into(),
            ));
        }
        None => {
            cfg.auth = Some(AuthConfig::Oauth {
                token_ref: None,
                client_id: None,
                client_secret_ref: None,
                scopes: Vec::new(),
            });
            (None, None, Vec::new())
        }
    };
    let store = SecretStore::open(dir).map_err(|e| failed(e.to_string()))?;
    let client_secret = match client_secret {
        Some(r) => Some(
            store
                .resolve(&normalize_ref(&r))
                .map_err(|e| failed(e.to_string()))?
                .expose()
                .to_owned(),
        ),
        None => None,
    };
    let token_ref = cfg.oauth_token_ref(name).unwrap_or_default();
    let tokens = TokenStore::from_ref(store, &token_ref).ok_or_else(|| {
        failed(format!(
            "auth.token_ref must be `secret:NAME`, not {token_ref}"
        ))
    })?;
    let options = AuthOptions {
        client_id,
        client_secret,
        scopes,
        ..AuthOptions::default()
    };
    oauth::authorize(&url, tokens, &options, agent, show)
        .await
        .map_err(|e| failed(e.to_string()))?;
    file.upsert(name, &cfg)?;
    file.save()?;
    Ok(token_ref)
}
