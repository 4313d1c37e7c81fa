//! Errors of the MCP client. Messages say what failed and what to do about it.

use std::path::PathBuf;

/// Why an MCP operation failed.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    /// `servers.json` could not be read or written.
    #[error(transparent)]
    Fs(#[from] pryx_config::FsError),
    /// `servers.json` is not a JSON object with a `servers` object.
    #[error("{}: {message}; fix the file or move it aside to start over", path.display())]
    BadFile { path: PathBuf, message: String },
    /// No server of that name is configured (or its entry is invalid).
    #[error("no MCP server named `{0}`; see `pryx mcp list`")]
    UnknownServer(String),
    /// A server name is outside `[A-Za-z0-9_-]{1,64}` or is one of Pryx's tool prefixes.
    #[error(
        "invalid server name `{0}`: use 1-64 letters, digits, `_` or `-`, other than fs, shell, http, skills, process, mcp and pryx (the namespaces of Pryx's own tools)"
    )]
    InvalidName(String),
    /// The name equals another server's once case and `-`/`_` are ignored.
    #[error(
        "server name `{name}` collides with server `{other}` (case, `-` and `_` do not tell servers apart); choose another name or remove `{other}` first"
    )]
    NameCollision { name: String, other: String },
    /// Two of a server's tools have the same name once made safe (`a.b` and `a_b`).
    #[error(
        "MCP server `{server}` offers tool `{tool}`, whose name collides with its tool `{first}` as `{canonical}`; `{tool}` is refused (ask the server's author to rename one)"
    )]
    ToolCollision {
        server: String,
        tool: String,
        first: String,
        canonical: String,
    },
    /// The entry exists but is disabled.
    #[error("MCP server `{0}` is disabled; set \"enabled\": true in servers.json to use it")]
    Disabled(String),
    /// The entry is malformed.
    #[error("servers.{name}: {message}")]
    InvalidEntry { name: String, message: String },
    /// Starting, connecting or initializing the server failed.
    #[error("cannot connect to MCP server `{server}`: {message}")]
    Connect { server: String, message: String },
    /// The server needs OAuth and no usable token is stored.
    #[error("MCP server `{0}` requires authorization; run `pryx mcp auth {0}` to sign in")]
    AuthRequired(String),
    /// The OAuth flow failed.
    #[error("authorization for MCP server `{server}` failed: {message}")]
    Auth { server: String, message: String },
    /// A request to a connected server failed.
    #[error("MCP server `{server}`: {message}")]
    Request { server: String, message: String },
    /// The server process or connection went away during a call.
    #[error(
        "MCP server `{server}` stopped during the call ({message}); it is restarted on the next call"
    )]
    Disconnected { server: String, message: String },
    /// The call took longer than the server's `timeout`.
    #[error(
        "MCP server `{server}` did not answer within {secs}s; raise \"timeout\" in servers.json if it is slow"
    )]
    Timeout { server: String, secs: u64 },
    /// The server failed repeatedly and is not retried until the backoff has passed.
    #[error(
        "MCP server `{server}` failed {failures} times in a row; next attempt in {secs}s (last error: {last})"
    )]
    Backoff {
        server: String,
        failures: u32,
        secs: u64,
        last: String,
    },
    /// The caller cancelled; the server was told.
    #[error("MCP call cancelled")]
    Cancelled,
    /// A secret referenced by the entry could not be read.
    #[error("MCP server `{server}`: {source}")]
    Secret {
        server: String,
        #[source]
        source: pryx_config::SecretError,
    },
}
