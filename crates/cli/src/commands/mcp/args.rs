//! Command-line shape of `pryx mcp` and parsing of its `K=V` and command-line arguments.

use anyhow::bail;
use pryx_mcp::{ServerConfig, TransportKind};
use serde_json::{Map, Value};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub(super) command: Sub,
}

#[derive(Debug, clap::Subcommand)]
pub(super) enum Sub {
    /// Connect to every server and show status, transport, tool count and last error.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add a server: `--url URL` for HTTP, `--cmd "program args…"` for stdio.
    Add(AddArgs),
    /// Remove a server from servers.json.
    #[command(alias = "rm")]
    Remove { name: String },
    /// Connect, list tools and report timings.
    Test {
        name: String,
        /// Print one JSON object: whether it worked, the wire, timings, tool count or the error.
        #[arg(long)]
        json: bool,
    },
    /// List a server's tools (as the agent sees them: `<server>.<tool>`).
    Tools {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Sign in to an HTTP server with OAuth; opens the browser when there is one.
    Auth {
        name: String,
        /// Only print the URL.
        #[arg(long)]
        no_browser: bool,
    },
    /// List a server's resources, or read one with --read URI.
    Resources {
        name: String,
        #[arg(long, value_name = "URI")]
        read: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List a server's prompts, or render one with --get NAME [--arg K=V]…
    Prompts {
        name: String,
        #[arg(long, value_name = "PROMPT")]
        get: Option<String>,
        #[arg(long, value_name = "K=V")]
        arg: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Serve Pryx to an MCP client on stdin/stdout (e.g. Claude Desktop, Codex): relayed to the
    /// running core's `/mcp`, or to a core started for as long as this runs.
    Serve,
}

#[derive(Debug, clap::Args)]
pub(super) struct AddArgs {
    /// Server name (letters, digits, `_`, `-`); tools appear as `<name>.<tool>`.
    pub name: String,
    /// Endpoint of an HTTP server.
    #[arg(long, conflicts_with_all = ["cmd", "env"], required_unless_present = "cmd")]
    pub url: Option<String>,
    /// Use the older HTTP+SSE transport only.
    #[arg(long, requires = "url")]
    pub sse: bool,
    /// HTTP header `K=V` (repeatable); V may be `secret:NAME` or `env:VAR`.
    #[arg(long, value_name = "K=V", requires = "url")]
    pub header: Vec<String>,
    /// Command line of a stdio server, e.g. "node server.js --flag".
    #[arg(long, value_name = "COMMAND")]
    pub cmd: Option<String>,
    /// Environment variable `K=V` for a stdio server (repeatable); V may be `secret:NAME`.
    #[arg(long, value_name = "K=V", requires = "cmd")]
    pub env: Vec<String>,
    /// Working directory of a stdio server.
    #[arg(long, requires = "cmd")]
    pub cwd: Option<std::path::PathBuf>,
    /// Request timeout in seconds.
    #[arg(long)]
    pub timeout: Option<u64>,
    /// Trust the server's tool annotations: a tool it marks read-only is then judged like a
    /// read (which most policies allow without asking). Only for servers you control; without
    /// it the annotations are shown but decide nothing.
    #[arg(long)]
    pub trusted: bool,
    /// Replace an existing entry of the same name.
    #[arg(long)]
    pub force: bool,
}

impl AddArgs {
    pub fn to_config(&self) -> anyhow::Result<ServerConfig> {
        let mut cfg = match (&self.url, &self.cmd) {
            (Some(url), None) => {
                let mut c = ServerConfig::http(url.clone());
                if self.sse {
                    c.transport = Some(TransportKind::Sse);
                }
                for h in &self.header {
                    let (k, v) = pair(h)?;
                    c.headers.insert(k, v);
                }
                c
            }
            (None, Some(cmd)) => {
                let mut c = ServerConfig::stdio(split_command(cmd)?);
                for e in &self.env {
                    let (k, v) = pair(e)?;
                    c.env.insert(k, v);
                }
                c.cwd = self.cwd.clone();
                c
            }
            _ => bail!("give either --url or --cmd"),
        };
        cfg.timeout = self.timeout;
        cfg.trusted = self.trusted;
        Ok(cfg)
    }
}

fn pair(s: &str) -> anyhow::Result<(String, String)> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => bail!("expected K=V, got `{s}`"),
    }
}

/// `K=V` arguments as a JSON object of strings.
pub fn pairs_to_map(pairs: &[String]) -> anyhow::Result<Map<String, Value>> {
    let mut m = Map::new();
    for p in pairs {
        let (k, v) = pair(p)?;
        m.insert(k, Value::String(v));
    }
    Ok(m)
}

/// A `--cmd` as words (see [`pryx_mcp::split_command`]).
pub fn split_command(s: &str) -> anyhow::Result<Vec<String>> {
    pryx_mcp::split_command(s).map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_need_a_key() {
        assert_eq!(pair("A=b=c").unwrap(), ("A".into(), "b=c".into()));
        assert!(pair("=x").is_err());
        assert!(pair("nokv").is_err());
    }
}
