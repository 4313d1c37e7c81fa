//! `mcp/servers.json`: the servers the user configured, edited by hand or through `pryx mcp`.
//!
//! Each entry is validated on its own. A bad entry is reported with its path and skipped; the
//! others still load. Writes keep every entry (even invalid ones) and go through
//! [`pryx_config::atomic_write`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::McpError;
pub use crate::names::{RESERVED_SERVER_NAMES, is_server_name, normalized_name};

/// Seconds a request may take when the entry gives no `timeout`.
pub const DEFAULT_TIMEOUT_SECS: u64 = 60;

/// How Pryx talks to a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// A child process speaking JSON-RPC over stdin/stdout.
    Stdio,
    /// Streamable HTTP (falls back to the older HTTP+SSE transport when that is all the server
    /// offers).
    Http,
    /// The older HTTP+SSE transport only.
    Sse,
}

impl TransportKind {
    /// `stdio`, `http` or `sse`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Stdio => "stdio",
            TransportKind::Http => "http",
            TransportKind::Sse => "sse",
        }
    }
}

/// Credentials for an HTTP server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum AuthConfig {
    /// A static token sent as `Authorization: Bearer …`, read from a secret reference.
    Bearer {
        /// `secret:NAME` or `env:VAR`.
        token_ref: String,
    },
    /// OAuth 2.1 with discovery, PKCE and refresh; `pryx mcp auth NAME` signs in.
    Oauth {
        /// Where the token set is stored (`secret:NAME`); defaults to `secret:mcp-oauth-<server>`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token_ref: Option<String>,
        /// A pre-registered client id; without one, dynamic registration is used.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        /// Secret of a pre-registered confidential client (`secret:NAME` or `env:VAR`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_secret_ref: Option<String>,
        /// Scopes to ask for; by default taken from the server's challenge or metadata.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        scopes: Vec<String>,
    },
}

/// One entry of `servers.json` as written on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// `stdio`, `http` or `sse`; inferred from `command`/`url` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport: Option<TransportKind>,
    /// Endpoint of an HTTP server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Program and arguments of a stdio server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Working directory of a stdio server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<PathBuf>,
    /// Extra environment of a stdio server; values may be `secret:NAME` or `env:VAR`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Extra HTTP headers; values may be `secret:NAME` or `env:VAR`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthConfig>,
    #[serde(default = "enabled_default", skip_serializing_if = "is_true")]
    pub enabled: bool,
    /// Seconds one request may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// The user vouches for this server's tool annotations. The MCP specification calls them
    /// untrusted hints, so only then may a tool's `readOnlyHint` let a policy treat its calls
    /// as reads; from any other server the hint is shown but decides nothing.
    #[serde(default, skip_serializing_if = "is_false")]
    pub trusted: bool,
    /// Tools of this server the agent is not offered (their names without the server's prefix).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabled_tools: Vec<String>,
}

fn enabled_default() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl ServerConfig {
    /// A stdio entry.
    pub fn stdio(command: Vec<String>) -> Self {
        Self {
            transport: Some(TransportKind::Stdio),
            command,
            ..Self::empty()
        }
    }

    /// An HTTP entry.
    pub fn http(url: impl Into<String>) -> Self {
        Self {
            transport: Some(TransportKind::Http),
            url: Some(url.into()),
            ..Self::empty()
        }
    }

    fn empty() -> Self {
        Self {
            transport: None,
            url: None,
            command: Vec::new(),
            cwd: None,
            env: BTreeMap::new(),
            headers: BTreeMap::new(),
            auth: None,
            enabled: true,
            timeout: None,
            trusted: false,
            disabled_tools: Vec::new(),
        }
    }

    /// The transport, explicit or inferred.
    pub fn transport_kind(&self) -> TransportKind {
        match self.transport {
            Some(t) => t,
            None if !self.command.is_empty() => TransportKind::Stdio,
            None => TransportKind::Http,
        }
    }

    /// Request timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout.unwrap_or(DEFAULT_TIMEOUT_SECS))
    }

    /// Where the OAuth token set of `server` lives, when the entry uses OAuth.
    pub fn oauth_token_ref(&self, server: &str) -> Option<String> {
        match &self.auth {
            Some(AuthConfig::Oauth { token_ref, .. }) => Some(
                token_ref
                    .as_deref()
                    .map(normalize_ref)
                    .unwrap_or_else(|| format!("secret:mcp-oauth-{server}")),
            ),
            _ => None,
        }
    }

    /// Checks what serde cannot: the fields the transport needs, URLs, header names.
    /// Returns `(field, message)` of the first problem.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let bad = |field: &str, msg: &str| Err((field.to_owned(), msg.to_owned()));
        if self.timeout == Some(0) {
            return bad("timeout", "must be a positive number of seconds");
        }
        match self.transport_kind() {
            TransportKind::Stdio => {
                if self.command.first().is_none_or(|p| p.trim().is_empty()) {
                    return bad(
                        "command",
                        "a stdio server needs \"command\": [\"program\", \"arg\", …]",
                    );
                }
                if self.url.is_some() {
                    return bad(
                        "url",
                        "only HTTP servers have a url; remove it or set \"transport\": \"http\"",
                    );
                }
                if self.auth.is_some() {
                    return bad(
                        "auth",
                        "only HTTP servers take auth; pass credentials through \"env\"",
                    );
                }
            }
            TransportKind::Http | TransportKind::Sse => {
                let Some(url) = &self.url else {
                    return bad("url", "an HTTP server needs \"url\": \"https://…\"");
                };
                match url::Url::parse(url) {
                    Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
                    Ok(_) => return bad("url", "must start with http:// or https://"),
                    Err(e) => return Err(("url".into(), format!("not a URL: {e}"))),
                }
                if !self.command.is_empty() {
                    return bad("command", "only stdio servers have a command");
                }
                for name in self.headers.keys() {
                    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                        return Err((
                            format!("headers.{name}"),
                            "not a valid HTTP header name".into(),
                        ));
                    }
                }
                if let Some(AuthConfig::Bearer { token_ref }) = &self.auth
                    && !is_ref(token_ref)
                {
                    return bad(
                        "auth.token_ref",
                        "use `secret:NAME` (stored with `pryx secrets set NAME`) or `env:VAR`",
                    );
                }
            }
        }
        Ok(())
    }
}

/// `keychain:NAME` (the PRD spelling) is accepted as `secret:NAME`.
pub fn normalize_ref(r: &str) -> String {
    match r.strip_prefix("keychain:") {
        Some(name) => format!("secret:{name}"),
        None => r.to_owned(),
    }
}

fn is_ref(r: &str) -> bool {
    let r = normalize_ref(r);
    r.starts_with("secret:") || r.starts_with("env:")
}

/// An entry that was skipped, with the JSON path of the problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigProblem {
    /// Server name, when the problem belongs to one entry.
    pub server: Option<String>,
    /// e.g. `servers.github.url`.
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// The parsed file: valid entries, problems, and the raw document (kept for writing back).
#[derive(Debug, Clone)]
pub struct ServersFile {
    path: PathBuf,
    doc: Map<String, Value>,
    servers: BTreeMap<String, ServerConfig>,
    problems: Vec<ConfigProblem>,
}

impl ServersFile {
    /// Reads and validates the file; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<Self, McpError> {
        use pryx_protocol::regular_file::{SETTINGS_FILE_CAP, read_regular_file};
        let bytes = match read_regular_file(path, SETTINGS_FILE_CAP) {
            Ok(b) => b,
            Err(e) if e.is_not_found() => Vec::new(),
            Err(e) => {
                return Err(McpError::BadFile {
                    path: path.to_path_buf(),
                    message: format!("cannot read: {e}"),
                });
            }
        };
        Self::parse(path, &bytes)
    }

    /// Parses file content (empty content is an empty file).
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, McpError> {
        let bad = |message: String| McpError::BadFile {
            path: path.to_path_buf(),
            message,
        };
        let doc: Map<String, Value> = if bytes.iter().all(u8::is_ascii_whitespace) {
            Map::new()
        } else {
            match serde_json::from_slice::<Value>(bytes) {
                Ok(Value::Object(m)) => m,
                Ok(_) => return Err(bad("the top level must be an object".into())),
                Err(e) => return Err(bad(format!("invalid JSON: {e}"))),
            }
        };
        let mut file = Self {
            path: path.to_path_buf(),
            doc,
            servers: BTreeMap::new(),
            problems: Vec::new(),
        };
        file.revalidate()?;
        Ok(file)
    }

    fn revalidate(&mut self) -> Result<(), McpError> {
        self.servers.clear();
        self.problems.clear();
        for key in self.doc.keys() {
            if key != "servers" {
                self.problems.push(ConfigProblem {
                    server: None,
                    path: key.clone(),
                    message: "unknown key (only \"servers\" is read); ignored".into(),
                });
            }
        }
        let entries = match self.doc.get("servers") {
            None => return Ok(()),
            Some(Value::Object(m)) => m,
            Some(_) => {
                return Err(McpError::BadFile {
                    path: self.path.clone(),
                    message: "\"servers\" must be an object of name → server".into(),
                });
            }
        };
        let mut taken: BTreeMap<String, String> = BTreeMap::new();
        for (name, raw) in entries {
            let problem = |field: Option<&str>, message: String| ConfigProblem {
                server: Some(name.clone()),
                path: match field {
                    Some(f) => format!("servers.{name}.{f}"),
                    None => format!("servers.{name}"),
                },
                message,
            };
            if !is_server_name(name) {
                self.problems.push(problem(
                    None,
                    format!(
                        "invalid server name: use 1-64 letters, digits, `_` or `-`, other than {}",
                        RESERVED_SERVER_NAMES.join(", ")
                    ),
                ));
                continue;
            }
            if let Some(first) = taken.get(&normalized_name(name)) {
                self.problems.push(problem(
                    None,
                    format!(
                        "the name collides with server `{first}` (case, `-` and `_` do not tell servers apart); rename one of them"
                    ),
                ));
                continue;
            }
            let cfg: ServerConfig = match serde_json::from_value(raw.clone()) {
                Ok(c) => c,
                Err(e) => {
                    self.problems.push(problem(None, e.to_string()));
                    continue;
                }
            };
            if let Err((field, message)) = cfg.validate() {
                self.problems.push(problem(Some(&field), message));
                continue;
            }
            taken.insert(normalized_name(name), name.clone());
            self.servers.insert(name.clone(), cfg);
        }
        Ok(())
    }

    /// Location of the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The valid entries by name.
    pub fn servers(&self) -> &BTreeMap<String, ServerConfig> {
        &self.servers
    }

    /// Entries that were skipped, and why.
    pub fn problems(&self) -> &[ConfigProblem] {
        &self.problems
    }

    /// True if an entry of that name exists, valid or not.
    pub fn contains(&self, name: &str) -> bool {
        self.doc
            .get("servers")
            .and_then(Value::as_object)
            .is_some_and(|m| m.contains_key(name))
    }

    /// Adds or replaces an entry (validated first). Returns true if one was replaced.
    pub fn upsert(&mut self, name: &str, cfg: &ServerConfig) -> Result<bool, McpError> {
        if !is_server_name(name) {
            return Err(McpError::InvalidName(name.to_owned()));
        }
        let other = self
            .doc
            .get("servers")
            .and_then(Value::as_object)
            .and_then(|m| {
                m.keys()
                    .find(|k| *k != name && normalized_name(k) == normalized_name(name))
                    .cloned()
            });
        if let Some(other) = other {
            return Err(McpError::NameCollision {
                name: name.to_owned(),
                other,
            });
        }
        cfg.validate()
            .map_err(|(field, message)| McpError::InvalidEntry {
                name: format!("{name}.{field}"),
                message,
            })?;
        let value = serde_json::to_value(cfg).map_err(|e| McpError::InvalidEntry {
            name: name.to_owned(),
            message: e.to_string(),
        })?;
        let servers = self
            .doc
            .entry("servers")
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(map) = servers else {
            return Err(McpError::BadFile {
                path: self.path.clone(),
                message: "\"servers\" must be an object of name → server".into(),
            });
        };
        let replaced = map.insert(name.to_owned(), value).is_some();
        self.revalidate()?;
        Ok(replaced)
    }

    /// Removes an entry (valid or not). Returns false if there was none.
    pub fn remove(&mut self, name: &str) -> Result<bool, McpError> {
        let removed = match self.doc.get_mut("servers") {
            Some(Value::Object(map)) => map.remove(name).is_some(),
            _ => false,
        };
        self.revalidate()?;
        Ok(removed)
    }

    /// Writes the document back atomically (0600), invalid entries included.
    pub fn save(&self) -> Result<(), McpError> {
        if let Some(dir) = self.path.parent() {
            pryx_config::create_private_dir(dir)?;
        }
        let mut text =
            serde_json::to_string_pretty(&Value::Object(self.doc.clone())).map_err(|e| {
                McpError::BadFile {
                    path: self.path.clone(),
                    message: e.to_string(),
                }
            })?;
        text.push('\n');
        pryx_config::atomic_write(&self.path, text.as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ServersFile {
        ServersFile::parse(Path::new("servers.json"), text.as_bytes()).unwrap()
    }

    #[test]
    fn prd_example_parses() {
        let f = parse(
            r#"{"servers": {
              "linear": {"transport": "http", "url": "https://api.linear.app/mcp",
                         "auth": {"type": "oauth", "token_ref": "keychain:linear-token"}},
              "custom-tool": {"transport": "stdio", "command": ["node", "./my-mcp-server.js"],
                              "cwd": "/path/to/server"}
            }}"#,
        );
        assert!(f.problems().is_empty(), "{:?}", f.problems());
        assert_eq!(f.servers().len(), 2);
        let linear = &f.servers()["linear"];
        assert_eq!(linear.transport_kind(), TransportKind::Http);
        assert_eq!(
            linear.oauth_token_ref("linear").as_deref(),
            Some("secret:linear-token")
        );
        assert!(!linear.trusted, "servers are untrusted unless marked");
        let custom = &f.servers()["custom-tool"];
        assert_eq!(custom.command, ["node", "./my-mcp-server.js"]);
        assert_eq!(custom.timeout(), Duration::from_secs(DEFAULT_TIMEOUT_SECS));
    }

    #[test]
    fn invalid_entries_are_reported_and_skipped() {
        let f = parse(
            r#"{"servers": {
              "good": {"command": ["srv"]},
              "nourl": {"transport": "http"},
              "typo": {"command": ["x"], "comand": 1},
              "bad name": {"command": ["x"]},
              "ftp": {"url": "ftp://example.com"},
              "zero": {"command": ["x"], "timeout": 0},
              "notobj": 3
            }, "extra": true}"#,
        );
        assert_eq!(f.servers().keys().collect::<Vec<_>>(), ["good"]);
        let paths: Vec<_> = f.problems().iter().map(|p| p.path.as_str()).collect();
        assert!(paths.contains(&"servers.nourl.url"), "{paths:?}");
        assert!(paths.contains(&"servers.typo"), "{paths:?}");
        assert!(paths.contains(&"servers.bad name"), "{paths:?}");
        assert!(paths.contains(&"servers.ftp.url"), "{paths:?}");
        assert!(paths.contains(&"servers.zero.timeout"), "{paths:?}");
        assert!(paths.contains(&"servers.notobj"), "{paths:?}");
        assert!(paths.contains(&"extra"), "{paths:?}");
        let typo = f
            .problems()
            .iter()
            .find(|p| p.path == "servers.typo")
            .unwrap();
        assert!(typo.message.contains("comand"), "{}", typo.message);
    }

    #[test]
    fn broken_json_is_one_clear_error() {
        let err = ServersFile::parse(Path::new("s.json"), b"{\"servers\": ").unwrap_err();
        assert!(err.to_string().contains("invalid JSON"), "{err}");
        let err = ServersFile::parse(Path::new("s.json"), b"{\"servers\": []}").unwrap_err();
        assert!(err.to_string().contains("must be an object"), "{err}");
    }

    #[test]
    fn upsert_remove_and_save_keep_invalid_entries() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("mcp/servers.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, r#"{"servers": {"broken": {"transport": "http"}}}"#).unwrap();
        let mut f = ServersFile::load(&path).unwrap();
        let mut cfg = ServerConfig::http("http://127.0.0.1:1/mcp");
        cfg.headers.insert("X-Key".into(), "secret:k".into());
        assert!(!f.upsert("web", &cfg).unwrap());
        assert!(f.upsert("web", &cfg).unwrap());
        assert!(f.upsert("bad name", &cfg).is_err());
        let mut bad = ServerConfig::http("nope");
        bad.transport = Some(TransportKind::Http);
        assert!(f.upsert("x", &bad).is_err());
        f.save().unwrap();
        let again = ServersFile::load(&path).unwrap();
        assert_eq!(again.servers()["web"], cfg);
        assert!(again.contains("broken"));
        assert_eq!(again.problems().len(), 1);
        let mut again = again;
        assert!(again.remove("web").unwrap());
        assert!(!again.remove("web").unwrap());
        again.save().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("broken") && !text.contains("web"), "{text}");
    }

    #[test]
    fn trust_is_written_only_when_given() {
        let f = parse(r#"{"servers": {"mine": {"command": ["srv"], "trusted": true}}}"#);
        assert!(f.servers()["mine"].trusted);
        let plain = serde_json::to_value(ServerConfig::stdio(vec!["srv".into()])).unwrap();
        assert!(plain.get("trusted").is_none(), "{plain}");
        let mut trusted = ServerConfig::stdio(vec!["srv".into()]);
        trusted.trusted = true;
        assert_eq!(serde_json::to_value(trusted).unwrap()["trusted"], true);
    }

    #[test]
    fn missing_file_is_empty() {
        let tmp = tempfile::tempdir().unwrap();
        let f = ServersFile::load(&tmp.path().join("none.json")).unwrap();
        assert!(f.servers().is_empty() && f.problems().is_empty());
    }
}
