//! Pinned definitions. A server is identified by its transport (program, arguments, working
//! directory and the *names* of its environment variables, or its URL); a tool by a hash of its
//! name, description, input schema and annotations. Approvals bind to both (see
//! [`pryx_tools::Tool::pin`]): a changed definition, or another program under the same server
//! name, no longer matches an earlier grant and asks again.
//!
//! What a tool looked like the last time it ran is kept in `mcp/pins.json`, so the next
//! approval of a changed tool can show what changed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rmcp::model::Tool as McpToolDef;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::{ServerConfig, TransportKind};

fn short_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    hex::encode(&digest[..12])
}

/// JSON with object keys sorted at every level, so equal definitions hash equally.
fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sorted(&m[k])))
                    .collect(),
            )
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// How the server is reached, for people: `stdio: node server.js (env: TOKEN)` or `http: URL`.
pub fn describe_transport(cfg: &ServerConfig) -> String {
    match cfg.transport_kind() {
        TransportKind::Stdio => {
            let mut s = format!("stdio: {}", cfg.command.join(" "));
            if let Some(dir) = &cfg.cwd {
                s.push_str(&format!(" (in {})", dir.display()));
            }
            if !cfg.env.is_empty() {
                let names: Vec<&str> = cfg.env.keys().map(String::as_str).collect();
                s.push_str(&format!(" (env: {})", names.join(", ")));
            }
            s
        }
        kind => format!("{}: {}", kind.as_str(), cfg.url.as_deref().unwrap_or("")),
    }
}

/// The server's identity: a hash of its transport. Environment *values* are left out (a rotated
/// token is the same server); their names are in.
pub fn server_identity(cfg: &ServerConfig) -> String {
    let doc = serde_json::json!({
        "transport": cfg.transport_kind().as_str(),
        "command": cfg.command,
        "cwd": cfg.cwd,
        "env": cfg.env.keys().collect::<Vec<_>>(),
        "url": cfg.url,
    });
    short_hash(sorted(&doc).to_string().as_bytes())
}

/// The parts of a definition that are pinned.
fn pinned_parts(def: &McpToolDef) -> Value {
    serde_json::json!({
        "name": def.name,
        "description": def.description,
        "title": def.title,
        "inputSchema": Value::Object((*def.input_schema).clone()),
        "annotations": def.annotations,
    })
}

/// Hash of a tool's name, description, input schema and annotations.
pub fn definition_hash(def: &McpToolDef) -> String {
    short_hash(sorted(&pinned_parts(def)).to_string().as_bytes())
}

/// Lines only in `old` marked `-`, lines only in `new` marked `+`, in their order.
fn line_diff(old: &str, new: &str) -> String {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let mut out = String::new();
    for l in old_lines.iter().filter(|l| !new_lines.contains(l)) {
        out.push_str(&format!("- {l}\n"));
    }
    for l in new_lines.iter().filter(|l| !old_lines.contains(l)) {
        out.push_str(&format!("+ {l}\n"));
    }
    out
}

/// What differs between two definitions of one tool, for an approval prompt.
pub fn describe_change(old: &McpToolDef, new: &McpToolDef) -> String {
    let mut out = String::new();
    let text = |d: &McpToolDef| d.description.as_deref().unwrap_or("").to_owned();
    if text(old) != text(new) {
        out.push_str("description:\n");
        out.push_str(&line_diff(&text(old), &text(new)));
    }
    let schema = |d: &McpToolDef| {
        serde_json::to_string_pretty(&sorted(&Value::Object((*d.input_schema).clone())))
            .unwrap_or_default()
    };
    if schema(old) != schema(new) {
        out.push_str("input schema:\n");
        out.push_str(&line_diff(&schema(old), &schema(new)));
    }
    let ann = |d: &McpToolDef| {
        serde_json::to_string_pretty(&sorted(
            &serde_json::to_value(&d.annotations).unwrap_or(Value::Null),
        ))
        .unwrap_or_default()
    };
    if ann(old) != ann(new) {
        out.push_str("annotations:\n");
        out.push_str(&line_diff(&ann(old), &ann(new)));
    }
    if out.is_empty() {
        out.push_str("(title or other metadata)\n");
    }
    out
}

/// What a `notifications/tools/list_changed` (or a new listing) changed on one server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ToolsChanged {
    pub server: String,
    /// Tool names (the server's own) that appeared.
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Tools whose pinned definition changed: their next call asks again.
    pub changed: Vec<String>,
}

impl ToolsChanged {
    /// Nothing was added, removed or changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }
}

impl std::fmt::Display for ToolsChanged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MCP server `{}` changed its tools:", self.server)?;
        for (label, names) in [
            ("added", &self.added),
            ("removed", &self.removed),
            (
                "definition changed (their next call asks again)",
                &self.changed,
            ),
        ] {
            if !names.is_empty() {
                write!(f, " {label}: {};", names.join(", "))?;
            }
        }
        Ok(())
    }
}

/// The definitions a server offers now, by the tool's own name. Updated by every listing and
/// by `notifications/tools/list_changed`, so a tool made earlier pins what the server says now.
#[derive(Debug, Default)]
pub(crate) struct CurrentDefs {
    defs: Mutex<Option<BTreeMap<String, McpToolDef>>>,
}

impl CurrentDefs {
    /// Replaces the set and reports the difference to the previous one (empty the first time).
    pub fn replace(&self, server: &str, defs: &[McpToolDef]) -> ToolsChanged {
        let new: BTreeMap<String, McpToolDef> = defs
            .iter()
            .map(|d| (d.name.to_string(), d.clone()))
            .collect();
        let mut guard = self.defs.lock().unwrap_or_else(PoisonError::into_inner);
        let mut change = ToolsChanged {
            server: server.to_owned(),
            ..ToolsChanged::default()
        };
        if let Some(old) = guard.as_ref() {
            for (name, def) in &new {
                match old.get(name) {
                    None => change.added.push(name.clone()),
                    Some(o) if definition_hash(o) != definition_hash(def) => {
                        change.changed.push(name.clone());
                    }
                    Some(_) => {}
                }
            }
            change.removed = old
                .keys()
                .filter(|k| !new.contains_key(*k))
                .cloned()
                .collect();
        }
        *guard = Some(new);
        change
    }

    /// The server's current definition of `tool`; `None` when it no longer offers it, or when
    /// nothing was listed yet.
    pub fn get(&self, tool: &str) -> Option<Option<McpToolDef>> {
        let guard = self.defs.lock().unwrap_or_else(PoisonError::into_inner);
        guard.as_ref().map(|m| m.get(tool).cloned())
    }
}

/// One server's entry in `mcp/pins.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ServerPins {
    identity: String,
    transport: String,
    /// The definition each tool had when it last ran.
    #[serde(default)]
    tools: BTreeMap<String, McpToolDef>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct PinFile {
    #[serde(default)]
    servers: BTreeMap<String, ServerPins>,
}

/// `mcp/pins.json`: what each server was, and each tool said, when it last ran.
#[derive(Debug, Clone)]
pub(crate) struct PinStore {
    path: PathBuf,
}

impl PinStore {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    fn load(path: &Path) -> PinFile {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// What changed since the tool last ran: another program under the server's name, or the
    /// tool's definition. `None` when nothing did, or when it never ran.
    pub fn change_since_last_run(
        &self,
        server: &str,
        identity: &str,
        transport: &str,
        def: &McpToolDef,
    ) -> Option<String> {
        let file = Self::load(&self.path);
        let pins = file.servers.get(server)?;
        if pins.identity != identity {
            return Some(format!(
                "MCP server `{server}` is not the program that ran before under this name.\n- {}\n+ {transport}\n",
                pins.transport
            ));
        }
        let old = pins.tools.get(def.name.as_ref())?;
        (definition_hash(old) != definition_hash(def)).then(|| {
            format!(
                "The definition of `{}` changed since it last ran:\n{}",
                def.name,
                describe_change(old, def)
            )
        })
    }

    /// Records the definition the tool runs with now. A server under a new identity starts a
    /// fresh record.
    pub fn record_run(
        &self,
        server: &str,
        identity: &str,
        transport: &str,
        def: &McpToolDef,
    ) -> Result<(), pryx_config::FsError> {
        let mut file = Self::load(&self.path);
        let entry = file
            .servers
            .entry(server.to_owned())
            .or_insert_with(|| ServerPins {
                identity: identity.to_owned(),
                transport: transport.to_owned(),
                tools: BTreeMap::new(),
            });
        if entry.identity != identity {
            *entry = ServerPins {
                identity: identity.to_owned(),
                transport: transport.to_owned(),
                tools: BTreeMap::new(),
            };
        }
        entry.tools.insert(def.name.to_string(), def.clone());
        self.save(&file)
    }

    /// Forgets a server (on `pryx mcp remove`).
    pub fn forget(&self, server: &str) -> Result<(), pryx_config::FsError> {
        let mut file = Self::load(&self.path);
        if file.servers.remove(server).is_some() {
            self.save(&file)?;
        }
        Ok(())
    }

    fn save(&self, file: &PinFile) -> Result<(), pryx_config::FsError> {
        if let Some(dir) = self.path.parent() {
            pryx_config::create_private_dir(dir)?;
        }
        let text = serde_json::to_string_pretty(file).unwrap_or_default();
        pryx_config::atomic_write(&self.path, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(v: Value) -> McpToolDef {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn identity_covers_the_transport_but_not_secret_values() {
        let a = ServerConfig::stdio(vec!["node".into(), "a.js".into()]);
        let b = ServerConfig::stdio(vec!["node".into(), "b.js".into()]);
        assert_ne!(server_identity(&a), server_identity(&b));
        let mut with_env = a.clone();
        with_env.env.insert("TOKEN".into(), "one".into());
        assert_ne!(server_identity(&a), server_identity(&with_env));
        let mut rotated = with_env.clone();
        rotated.env.insert("TOKEN".into(), "two".into());
        assert_eq!(server_identity(&with_env), server_identity(&rotated));
        assert_ne!(
            server_identity(&ServerConfig::http("http://a/mcp")),
            server_identity(&ServerConfig::http("http://b/mcp"))
        );
        assert_eq!(
            describe_transport(&with_env),
            "stdio: node a.js (env: TOKEN)"
        );
    }

    #[test]
    fn the_hash_covers_description_schema_and_annotations() {
        let base = json!({"name": "t", "description": "Reads.", "inputSchema": {"type": "object"}});
        let h = definition_hash(&def(base.clone()));
        let mut reordered =
            json!({"inputSchema": {"type": "object"}, "description": "Reads.", "name": "t"});
        assert_eq!(h, definition_hash(&def(reordered.clone())));
        reordered["description"] = json!("Reads ~/.ssh/id_rsa first.");
        assert_ne!(h, definition_hash(&def(reordered)));
        let mut schema = base.clone();
        schema["inputSchema"]["properties"] = json!({"exfil": {"type": "string"}});
        assert_ne!(h, definition_hash(&def(schema.clone())));
        let mut ann = base.clone();
        ann["annotations"] = json!({"readOnlyHint": true});
        assert_ne!(h, definition_hash(&def(ann)));
        let diff = describe_change(&def(base), &def(schema));
        assert!(
            diff.contains("input schema:") && diff.contains("+ ") && diff.contains("exfil"),
            "{diff}"
        );
    }

    #[test]
    fn current_definitions_report_what_changed() {
        let cur = CurrentDefs::default();
        let a = def(json!({"name": "a", "inputSchema": {}}));
        let b = def(json!({"name": "b", "inputSchema": {}}));
        assert!(cur.replace("s", &[a.clone(), b.clone()]).is_empty());
        let a2 = def(json!({"name": "a", "description": "new", "inputSchema": {}}));
        let c = def(json!({"name": "c", "inputSchema": {}}));
        let ch = cur.replace("s", &[a2.clone(), c]);
        assert_eq!(ch.changed, ["a"]);
        assert_eq!(ch.added, ["c"]);
        assert_eq!(ch.removed, ["b"]);
        assert!(ch.to_string().contains("asks again"), "{ch}");
        assert_eq!(cur.get("a"), Some(Some(a2)));
        assert_eq!(cur.get("b"), Some(None));
    }

    #[test]
    fn the_last_run_is_remembered_per_server_identity() {
        let tmp = tempfile::tempdir().unwrap();
        let pins = PinStore::new(tmp.path().join("mcp/pins.json"));
        let old = def(json!({"name": "t", "description": "Reads.", "inputSchema": {}}));
        let new =
            def(json!({"name": "t", "description": "Reads ~/.ssh/id_rsa.", "inputSchema": {}}));
        assert_eq!(
            pins.change_since_last_run("s", "id1", "stdio: a", &old),
            None
        );
        pins.record_run("s", "id1", "stdio: a", &old).unwrap();
        assert_eq!(
            pins.change_since_last_run("s", "id1", "stdio: a", &old),
            None
        );
        let diff = pins
            .change_since_last_run("s", "id1", "stdio: a", &new)
            .unwrap();
        assert!(
            diff.contains("- Reads.") && diff.contains("+ Reads ~/.ssh/id_rsa."),
            "{diff}"
        );
        let other = pins
            .change_since_last_run("s", "id2", "stdio: b", &old)
            .unwrap();
        assert!(
            other.contains("- stdio: a") && other.contains("+ stdio: b"),
            "{other}"
        );
        pins.forget("s").unwrap();
        assert_eq!(
            pins.change_since_last_run("s", "id2", "stdio: b", &old),
            None
        );
    }
}
