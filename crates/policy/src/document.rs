//! The policy document (`~/.pryx/policies/*.yaml`) as typed data.

use std::path::{Path, PathBuf};

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::decision::Action;
use crate::network::LocalAddress;
use crate::pattern::tool_matches;

/// A complete policy. Parse with [`crate::parse_policy`] (which also validates) or take a
/// built-in from [`crate::builtin`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub workspace: WorkspaceRules,
    /// What happens when no tool rule matches a call.
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default)]
    pub tools: ToolRules,
    #[serde(default)]
    pub network: NetworkRules,
    #[serde(default)]
    pub rate_limits: RateLimits,
    #[serde(default)]
    pub approval: ApprovalRules,
}

/// Where file access may go.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceRules {
    /// If set, the session's workspace must be this directory or inside it (`~` allowed).
    #[serde(default)]
    pub root: Option<String>,
    /// Extra places outside the workspace. `false` (or absent) means none.
    #[serde(default, deserialize_with = "outside_list")]
    pub allow_outside: Vec<OutsidePath>,
}

/// One extra directory outside the workspace; read-only unless `write` is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutsidePath {
    pub path: String,
    #[serde(default)]
    pub write: bool,
}

/// Baseline actions by kind of access, used when no `tools` rule decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Reading inside the workspace.
    #[serde(default = "allow")]
    pub read: Action,
    /// Writing inside the workspace.
    #[serde(default = "ask")]
    pub write: Action,
    /// Running shell commands.
    #[serde(default = "ask")]
    pub exec: Action,
    /// Network access to domains not on an allow-list.
    #[serde(default = "ask")]
    pub network: Action,
    /// Tools that are not built in and do not declare themselves read-only.
    #[serde(default = "ask")]
    pub unknown: Action,
}

fn allow() -> Action {
    Action::Allow
}
fn ask() -> Action {
    Action::Ask
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            read: Action::Allow,
            write: Action::Ask,
            exec: Action::Ask,
            network: Action::Ask,
            unknown: Action::Ask,
        }
    }
}

/// Explicit rules by tool pattern. A matching `denied` rule beats `ask`, which beats `allowed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolRules {
    #[serde(default)]
    pub allowed: Vec<ToolRule>,
    #[serde(default)]
    pub ask: Vec<ToolRule>,
    #[serde(default)]
    pub denied: Vec<ToolRule>,
}

/// A tool pattern (`fs.*`, `shell.exec`, `github.*`, `*`) with optional constraints.
/// In YAML either a plain string or a one-key map `pattern: {commands: [...], ...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolRule {
    pub pattern: String,
    pub constraints: Constraints,
}

impl ToolRule {
    pub fn new(pattern: &str) -> Self {
        ToolRule {
            pattern: pattern.to_string(),
            constraints: Constraints::default(),
        }
    }
}

/// Narrows a rule. For `allowed`, a call must satisfy every constraint given (every command,
/// host and path); for `ask`/`denied`, any command, host or path that matches triggers it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraints {
    /// Command names or word prefixes (`python`, `git status`), or a command name with one
    /// capability it may show: `awk:exec` (runs code), `sed:write` (writes files the path rules
    /// cannot see), `curl:fetch` (reaches the network). In an `allowed` rule, a command that
    /// shows a capability passes only if an entry naming it grants that capability: its
    /// `name:capability`, or a word prefix that spells the word showing it (`python3 -c`).
    /// `name:capability` also allows the plain command. In `ask`/`denied`, `awk:exec` matches
    /// only an `awk` that shows `exec`. The commands and options behind each capability are in
    /// `docs/security.md`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<String>,
    /// Host names; `*.example.com` matches subdomains only. A local address matches only
    /// when written exactly, with its port (`127.0.0.1:11434`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<String>,
    /// Globs over workspace-relative paths (or absolute paths for those outside).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
}

/// Written as it is read: the plain pattern, or `pattern: {constraints}` when it has some.
impl Serialize for ToolRule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if self.constraints == Constraints::default() {
            return s.serialize_str(&self.pattern);
        }
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(&self.pattern, &self.constraints)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for ToolRule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct RuleVisitor;
        impl<'de> Visitor<'de> for RuleVisitor {
            type Value = ToolRule;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a tool pattern like `fs.*`, or `pattern: {commands|domains|paths: [...]}`",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ToolRule, E> {
                Ok(ToolRule::new(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ToolRule, A::Error> {
                let Some(pattern) = map.next_key::<String>()? else {
                    return Err(de::Error::custom("empty tool rule: write a tool pattern"));
                };
                let constraints: Option<Constraints> = map.next_value()?;
                if map.next_key::<String>()?.is_some() {
                    return Err(de::Error::custom(format!(
                        "tool rule `{pattern}` has more than one key: write one list item per tool pattern"
                    )));
                }
                Ok(ToolRule {
                    pattern,
                    constraints: constraints.unwrap_or_default(),
                })
            }
        }
        d.deserialize_any(RuleVisitor)
    }
}

/// Domains every network tool may reach without asking. Wildcards never cover this machine or
/// the local network: such an address is listed exactly, host and port (`127.0.0.1:11434`,
/// `localhost:3000`; without a port, the scheme's default port).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkRules {
    #[serde(default)]
    pub domains: Vec<String>,
}

/// Calls per minute; exceeding a limit denies the call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// Inbound requests per minute; enforced by the channel layer, carried here for it.
    #[serde(default)]
    pub requests_per_minute: Option<u32>,
    /// All tool calls together.
    #[serde(default)]
    pub tool_calls_per_minute: Option<u32>,
    /// Per tool pattern, e.g. `shell.exec: 5`.
    #[serde(default)]
    pub tools: std::collections::BTreeMap<String, u32>,
}

/// How approvals behave under this policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRules {
    /// Seconds to wait for an answer. In YAML `timeout_secs: 300` or `timeout: 5m`.
    #[serde(
        default = "default_timeout",
        alias = "timeout",
        deserialize_with = "duration_secs"
    )]
    pub timeout_secs: u64,
    /// What an unanswered approval becomes; only `deny` is accepted.
    #[serde(default = "deny")]
    pub default: Action,
}

/// Default approval timeout: five minutes.
pub const DEFAULT_APPROVAL_TIMEOUT_SECS: u64 = 300;

fn default_timeout() -> u64 {
    DEFAULT_APPROVAL_TIMEOUT_SECS
}
fn deny() -> Action {
    Action::Deny
}

impl Default for ApprovalRules {
    fn default() -> Self {
        ApprovalRules {
            timeout_secs: DEFAULT_APPROVAL_TIMEOUT_SECS,
            default: Action::Deny,
        }
    }
}

impl Policy {
    /// Seconds an approval may wait before [`Policy::approval_default`] applies.
    pub fn approval_timeout_secs(&self) -> u64 {
        self.approval.timeout_secs
    }

    /// What an unanswered approval becomes (always deny today).
    pub fn approval_default(&self) -> Action {
        self.approval.default
    }

    /// The exact local addresses `tool` may reach without asking: those in `network.domains` and
    /// in the domains of `tools.allowed` rules for the tool. `http.request` is handed these so
    /// it connects to a local address only when the policy named that very address.
    pub fn local_addresses(&self, tool: &str) -> Vec<LocalAddress> {
        let ruled = self
            .tools
            .allowed
            .iter()
            .filter(|r| tool_matches(&r.pattern, tool))
            .flat_map(|r| &r.constraints.domains);
        let mut out: Vec<LocalAddress> = Vec::new();
        for entry in self.network.domains.iter().chain(ruled) {
            if let Ok(Some(a)) = LocalAddress::parse(entry)
                && !out.contains(&a)
            {
                out.push(a);
            }
        }
        out
    }

    /// The policy's workspace root with `~` expanded, if it names one.
    pub fn workspace_root(&self, home: Option<&Path>) -> Option<PathBuf> {
        let root = self.workspace.root.as_deref()?;
        expand_tilde(root, home)
    }
}

/// `~` and `~/x` against `home`; other strings unchanged. `None` if `~` cannot be expanded.
pub(crate) fn expand_tilde(raw: &str, home: Option<&Path>) -> Option<PathBuf> {
    if raw == "~" {
        return home.map(Path::to_path_buf);
    }
    if let Some(rest) = raw.strip_prefix("~/") {
        return home.map(|h| h.join(rest));
    }
    if raw.starts_with('~') {
        return None;
    }
    Some(PathBuf::from(raw))
}

fn outside_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<OutsidePath>, D::Error> {
    struct OutsideVisitor;
    impl<'de> Visitor<'de> for OutsideVisitor {
        type Value = Vec<OutsidePath>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("`false` or a list of paths / `{path, write}` entries")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            if v {
                Err(de::Error::custom(
                    "`allow_outside: true` is not supported: list the directories to allow instead",
                ))
            } else {
                Ok(Vec::new())
            }
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(entry) = seq.next_element::<OutsideEntry>()? {
                out.push(match entry {
                    OutsideEntry::Path(path) => OutsidePath { path, write: false },
                    OutsideEntry::Full(p) => p,
                });
            }
            Ok(out)
        }
    }
    d.deserialize_any(OutsideVisitor)
}

enum OutsideEntry {
    Path(String),
    Full(OutsidePath),
}

impl<'de> Deserialize<'de> for OutsideEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntryVisitor;
        impl<'de> Visitor<'de> for EntryVisitor {
            type Value = OutsideEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a path or `{path: ..., write: true|false}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OutsideEntry, E> {
                Ok(OutsideEntry::Path(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<OutsideEntry, A::Error> {
                OutsidePath::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(OutsideEntry::Full)
            }
        }
        d.deserialize_any(EntryVisitor)
    }
}

fn duration_secs<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct DurVisitor;
    impl Visitor<'_> for DurVisitor {
        type Value = u64;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("seconds as a number, or a duration like `90s`, `5m`, `1h`")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| de::Error::custom("timeout must not be negative"))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            parse_duration(v).ok_or_else(|| {
                de::Error::custom(format!(
                    "`{v}` is not a duration: write e.g. `90s`, `5m` or `1h`"
                ))
            })
        }
    }
    d.deserialize_any(DurVisitor)
}

/// `90`, `90s`, `5m`, `1h` → seconds.
pub(crate) fn parse_duration(v: &str) -> Option<u64> {
    let v = v.trim();
    let (num, mult) = match v.char_indices().last()? {
        (i, 's') => (&v[..i], 1),
        (i, 'm') => (&v[..i], 60),
        (i, 'h') => (&v[..i], 3600),
        _ => (v, 1),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult)
}
