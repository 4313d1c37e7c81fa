//! Printing of `pryx mcp` results as text or JSON.

pub(crate) use crate::term::say;

use std::sync::Arc;

use pryx_mcp::rmcp::model::{GetPromptResult, Prompt, ReadResourceResult, Resource};
use pryx_mcp::{ConfigProblem, McpTool, ServerStatus};
use pryx_tools::Tool;
use serde_json::{Value, json};

pub fn list(status: &[ServerStatus], problems: &[ConfigProblem], json: bool) -> anyhow::Result<()> {
    if json {
        let invalid: Vec<Value> = problems
            .iter()
            .map(|p| json!({"name": p.server, "status": "invalid", "last_error": p.to_string()}))
            .collect();
        let mut all: Vec<Value> = status
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?;
        all.extend(invalid);
        crate::term::out_raw(&serde_json::to_string_pretty(&all)?);
        return Ok(());
    }
    if status.is_empty() && problems.is_empty() {
        eprintln!(
            "No MCP servers configured. Add one with `pryx mcp add NAME --url URL` or `--cmd \"…\"`."
        );
        return Ok(());
    }
    say!(
        "{:<20} {:<6} {:<10} {:>5}  {:<7}  LAST ERROR",
        "NAME",
        "TRANS",
        "STATUS",
        "TOOLS",
        "TRUSTED"
    );
    for s in status {
        let tools = s
            .tool_count
            .map(|n| n.to_string())
            .unwrap_or_else(|| "-".into());
        let err = s.last_error.as_deref().map(first_line).unwrap_or("");
        say!(
            "{:<20} {:<6} {:<10} {:>5}  {:<7}  {err}",
            s.name,
            s.transport.as_str(),
            s.status,
            tools,
            if s.trusted { "yes" } else { "no" }
        );
    }
    for p in problems {
        say!(
            "{:<20} {:<6} {:<10} {:>5}  {:<7}  {p}",
            p.server.as_deref().unwrap_or("-"),
            "-",
            "invalid",
            "-",
            "-"
        );
    }
    Ok(())
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

pub fn tools(tools: &[Arc<McpTool>], json: bool) -> anyhow::Result<()> {
    if json {
        let v: Vec<Value> = tools
            .iter()
            .map(|t| {
                let (read_only, destructive) = t.hints();
                json!({
                    "name": t.name(),
                    "description": t.description(),
                    "read_only": read_only,
                    "destructive": destructive,
                    "trusted": t.trusted(),
                    "input_schema": t.schema(),
                })
            })
            .collect();
        crate::term::out_raw(&serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    for t in tools {
        let (read_only, _) = t.hints();
        // The claim is shown either way; only a trusted server's claim changes a decision.
        let tag = match (read_only, t.trusted()) {
            (false, _) => "",
            (true, true) => " [read-only]",
            (true, false) => " [claims read-only; server not trusted]",
        };
        say!("{}{tag}\n    {}", t.name(), first_line(t.description()));
    }
    Ok(())
}

pub enum Listing {
    Resources(Vec<Resource>),
    Read(ReadResourceResult),
    Prompts(Vec<Prompt>),
    Prompt(GetPromptResult),
}

pub fn listing(l: Listing, json: bool) -> anyhow::Result<()> {
    let v = match &l {
        Listing::Resources(r) => serde_json::to_value(r)?,
        Listing::Read(r) => serde_json::to_value(r)?,
        Listing::Prompts(p) => serde_json::to_value(p)?,
        Listing::Prompt(p) => serde_json::to_value(p)?,
    };
    if json {
        crate::term::out_raw(&serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    match l {
        Listing::Resources(_) | Listing::Prompts(_) => {
            for item in v.as_array().into_iter().flatten() {
                let s = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("");
                let id = if s("uri").is_empty() {
                    s("name")
                } else {
                    s("uri")
                };
                let desc = first_line(s("description"));
                if desc.is_empty() {
                    say!("{id}");
                } else {
                    say!("{id}\n    {desc}");
                }
            }
        }
        Listing::Read(_) => {
            for c in v["contents"].as_array().into_iter().flatten() {
                match c.get("text").and_then(Value::as_str) {
                    Some(t) => say!("{t}"),
                    None => say!(
                        "[{} binary, {} bytes base64]",
                        c.get("mimeType").and_then(Value::as_str).unwrap_or("?"),
                        c.get("blob").and_then(Value::as_str).map_or(0, str::len)
                    ),
                }
            }
        }
        Listing::Prompt(_) => {
            for m in v["messages"].as_array().into_iter().flatten() {
                let role = m.get("role").and_then(Value::as_str).unwrap_or("?");
                let text = m["content"]
                    .get("text")
                    .and_then(Value::as_str)
                    .unwrap_or("[non-text]");
                say!("{role}: {text}");
            }
        }
    }
    Ok(())
}

/// What `pryx mcp test` found: the same facts as text or, with `--json`, as one object.
#[derive(Debug, serde::Serialize)]
pub struct TestReport {
    pub name: String,
    /// Whether it connected, initialized and listed its tools.
    pub ok: bool,
    /// The wire it answered over (as the text shows it).
    pub wire: Option<String>,
    /// Time to connect and initialize (until the failure when `ok` is false).
    pub connect_ms: u64,
    pub list_tools_ms: Option<u64>,
    pub tools: Option<usize>,
    /// Why it failed.
    pub error: Option<String>,
}

pub fn test(r: &TestReport, json: bool) -> anyhow::Result<()> {
    if json {
        crate::term::out_raw(&serde_json::to_string_pretty(r)?);
        return Ok(());
    }
    match &r.error {
        Some(e) => crate::term::say_err!("error: {e}"),
        None => {
            say!("`{}` OK over {}", r.name, r.wire.as_deref().unwrap_or("?"));
            say!("  connect + initialize: {} ms", r.connect_ms);
            say!(
                "  tools/list:           {} ms ({} tools)",
                r.list_tools_ms.unwrap_or(0),
                r.tools.unwrap_or(0)
            );
        }
    }
    Ok(())
}
