//! The typed frontmatter of a skill and its requirements/installers.
//!
//! Requirements live under `metadata.pryx`; skills written for OpenClaw keep them under
//! `metadata.openclaw` (or the older `metadata.clawdbot`) and are read unchanged. The first
//! namespace present wins, in that order. Namespace values, or `metadata` itself, may be a
//! string holding JSON5.

use crate::json5_text;
use serde::Serialize;
use serde_json::{Map, Value};

/// Metadata namespaces that carry requirements, in order of preference.
pub const NAMESPACES: [&str; 3] = ["pryx", "openclaw", "clawdbot"];

/// Everything the frontmatter declares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    pub name: String,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compatibility: Option<String>,
    /// Tools the skill expects (space-separated or a list in the file).
    pub allowed_tools: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    /// The user may invoke it by name.
    pub user_invocable: bool,
    /// Kept out of the system prompt; only an explicit request loads it.
    pub disable_model_invocation: bool,
    /// Requirements and installers from the first metadata namespace present.
    pub requirements: Requirements,
    /// The namespace `requirements` came from, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<&'static str>,
    /// The whole `metadata` value (namespaces decoded from JSON5 strings).
    pub metadata: Value,
}

/// What a skill needs before it can be used (the OpenClaw gating fields).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Requirements {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    /// Allowed platforms (`darwin`, `linux`, `win32`); empty means any.
    pub os: Vec<String>,
    /// Eligible whenever `os` matches, whatever else is missing.
    pub always: bool,
    /// Every one must be on PATH.
    pub bins: Vec<String>,
    /// At least one must be on PATH.
    pub any_bins: Vec<String>,
    /// Every one must be set (or provided by the skill's config entry).
    pub env: Vec<String>,
    /// Config paths that must be truthy.
    pub config: Vec<String>,
    /// The variable `skills.entries.<name>.apiKey` provides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_env: Option<String>,
    /// Key under `skills.entries` when it differs from the name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skill_key: Option<String>,
    pub install: Vec<InstallSpec>,
}

/// How an installer gets its tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InstallKind {
    Brew,
    Node,
    Go,
    Uv,
    Download,
}

impl InstallKind {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "brew" => InstallKind::Brew,
            "node" | "npm" => InstallKind::Node,
            "go" => InstallKind::Go,
            "uv" => InstallKind::Uv,
            "download" => InstallKind::Download,
            _ => return None,
        })
    }

    /// Stable lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            InstallKind::Brew => "brew",
            InstallKind::Node => "node",
            InstallKind::Go => "go",
            InstallKind::Uv => "uv",
            InstallKind::Download => "download",
        }
    }
}

/// One installer entry (`install[]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstallSpec {
    pub id: String,
    pub kind: InstallKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// brew formula (or cask), npm/uv package, go module or download URL.
    pub target: String,
    /// `brew install --cask`.
    pub cask: bool,
    /// Binaries the installer provides.
    pub bins: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// `tar.gz`, `tar.bz2` or `zip` for downloads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive: Option<String>,
    /// Platforms this installer applies to; empty means any.
    pub os: Vec<String>,
}

/// A problem in the frontmatter: the key it concerns and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub key: &'static str,
    pub message: String,
}

fn fe(key: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        key,
        message: message.into(),
    }
}

/// Builds the manifest; `warnings` collects problems that do not make the skill unusable.
pub fn from_fields(
    fields: &Map<String, Value>,
    warnings: &mut Vec<String>,
) -> Result<Manifest, FieldError> {
    let name = match fields.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::String(_)) | Some(Value::Null) | None => {
            return Err(fe(
                "name",
                "`name` is missing; add `name: my-skill` to the frontmatter",
            ));
        }
        Some(_) => return Err(fe("name", "`name` must be a string")),
    };
    check_name(&name).map_err(|m| fe("name", m))?;
    let description = match fields.get("description") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(Value::String(_)) | Some(Value::Null) | None => {
            return Err(fe(
                "description",
                "`description` is missing; say what the skill does and when to use it",
            ));
        }
        Some(_) => return Err(fe("description", "`description` must be a string")),
    };
    if description.chars().count() > 1024 {
        warnings.push(
            "`description` is over 1024 characters; the prompt shows a trimmed version".into(),
        );
    }
    let metadata = decode_metadata(fields.get("metadata"))?;
    let (namespace, requirements) = match NAMESPACES
        .iter()
        .find_map(|ns| metadata.get(*ns).map(|v| (*ns, v)))
    {
        Some((ns, v)) => (Some(ns), requirements(v, warnings)?),
        None => (None, Requirements::default()),
    };
    let homepage = opt_str(fields, "homepage")?.or_else(|| {
        namespace
            .and_then(|ns| metadata.get(ns))
            .and_then(|m| m.get("homepage"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    Ok(Manifest {
        name,
        description,
        license: opt_str(fields, "license")?,
        compatibility: opt_str(fields, "compatibility")?,
        allowed_tools: words(fields.get("allowed-tools"), "allowed-tools")?,
        homepage,
        user_invocable: opt_bool(fields, "user-invocable")?.unwrap_or(true),
        disable_model_invocation: opt_bool(fields, "disable-model-invocation")?.unwrap_or(false),
        requirements,
        namespace,
        metadata,
    })
}

/// Names double as config keys (`skills.entries.<name>`), so they are limited to
/// `[A-Za-z0-9_.-]{1,64}`; the Agent Skills form is lowercase letters, digits and hyphens.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if name.len() > 64 || !ok_chars || name.starts_with('.') {
        return Err(format!(
            "`name` {name:?} is not a valid skill name: use up to 64 lowercase letters, digits and hyphens, e.g. `log-triage`"
        ));
    }
    Ok(())
}

/// `skillKey` names the skill's settings (`skills.entries.<key>`) and its download folder
/// (`tools/<key>`), so it is held to the rules of a name: no `/`, no `..`, not absolute, no
/// control characters.
fn skill_key(raw: Option<&Value>) -> Result<Option<String>, FieldError> {
    let key = match raw {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => return Err(fe("metadata", "`skillKey` must be a string")),
    };
    let ok_chars = key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if key.is_empty() || key.len() > 64 || !ok_chars || key.starts_with('.') {
        return Err(fe(
            "metadata",
            format!(
                "`skillKey` {} is not a valid key: use up to 64 letters, digits, `-`, `_` and `.` (not first), with no `/`, `..` or control characters, e.g. `log-triage`",
                key.escape_debug()
            ),
        ));
    }
    Ok(Some(key.clone()))
}

/// True for the Agent Skills form: lowercase letters, digits, single inner hyphens.
pub fn is_spec_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

fn decode_metadata(raw: Option<&Value>) -> Result<Value, FieldError> {
    let mut meta = match raw {
        None | Some(Value::Null) => return Ok(Value::Object(Map::new())),
        Some(Value::String(s)) => json5_text::parse(s).map_err(|e| {
            fe(
                "metadata",
                format!("`metadata` is a string but not JSON5 ({e})"),
            )
        })?,
        Some(v) => v.clone(),
    };
    let Value::Object(map) = &mut meta else {
        return Err(fe("metadata", "`metadata` must be a mapping"));
    };
    for ns in NAMESPACES {
        if let Some(Value::String(s)) = map.get(ns) {
            let decoded = json5_text::parse(s).map_err(|e| {
                fe(
                    "metadata",
                    format!("`metadata.{ns}` is a string but not JSON5 ({e})"),
                )
            })?;
            map.insert(ns.to_string(), decoded);
        }
    }
    Ok(meta)
}

fn requirements(v: &Value, warnings: &mut Vec<String>) -> Result<Requirements, FieldError> {
    let Value::Object(m) = v else {
        return Err(fe(
            "metadata",
            "the skill's metadata namespace must be a mapping",
        ));
    };
    let requires = match m.get("requires") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(r)) => r.clone(),
        Some(_) => return Err(fe("metadata", "`requires` must be a mapping")),
    };
    for key in requires.keys() {
        if !matches!(key.as_str(), "bins" | "anyBins" | "env" | "config") {
            warnings.push(format!("unknown requirement `requires.{key}` is ignored"));
        }
    }
    let mut install = Vec::new();
    match m.get("install") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(spec) = install_spec(i, item, warnings)? {
                    install.push(spec);
                }
            }
        }
        Some(_) => return Err(fe("metadata", "`install` must be a list")),
    }
    Ok(Requirements {
        emoji: m.get("emoji").and_then(Value::as_str).map(str::to_string),
        os: list(m.get("os"), "os")?,
        always: m.get("always").and_then(Value::as_bool).unwrap_or(false),
        bins: list(requires.get("bins"), "requires.bins")?,
        any_bins: list(requires.get("anyBins"), "requires.anyBins")?,
        env: list(requires.get("env"), "requires.env")?,
        config: list(requires.get("config"), "requires.config")?,
        primary_env: m
            .get("primaryEnv")
            .and_then(Value::as_str)
            .map(str::to_string),
        skill_key: skill_key(m.get("skillKey"))?,
        install,
    })
}

fn install_spec(
    i: usize,
    item: &Value,
    warnings: &mut Vec<String>,
) -> Result<Option<InstallSpec>, FieldError> {
    let Value::Object(m) = item else {
        return Err(fe("metadata", format!("`install[{i}]` must be a mapping")));
    };
    let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    let Some(kind_raw) = s("kind") else {
        return Err(fe("metadata", format!("`install[{i}]` has no `kind`")));
    };
    let Some(kind) = InstallKind::parse(&kind_raw) else {
        warnings.push(format!(
            "`install[{i}]` has unknown kind `{kind_raw}` (use brew, node, go, uv or download); it is ignored"
        ));
        return Ok(None);
    };
    let (target, cask) = match kind {
        InstallKind::Brew => match (s("formula"), s("cask")) {
            (Some(f), _) => (Some(f), false),
            (None, Some(c)) => (Some(c), true),
            _ => (None, false),
        },
        InstallKind::Node | InstallKind::Uv => (s("package"), false),
        InstallKind::Go => (s("module"), false),
        InstallKind::Download => (s("url"), false),
    };
    let field = match kind {
        InstallKind::Brew => "formula",
        InstallKind::Node | InstallKind::Uv => "package",
        InstallKind::Go => "module",
        InstallKind::Download => "url",
    };
    let Some(target) = target.filter(|t| !t.trim().is_empty()) else {
        return Err(fe(
            "metadata",
            format!("`install[{i}]` (kind {kind_raw}) needs `{field}`"),
        ));
    };
    let sha256 = s("sha256");
    if let Some(h) = &sha256
        && (h.len() != 64 || !h.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(fe(
            "metadata",
            format!("`install[{i}].sha256` must be 64 hexadecimal digits"),
        ));
    }
    Ok(Some(InstallSpec {
        id: s("id").unwrap_or_else(|| format!("{}-{i}", kind.as_str())),
        kind,
        label: s("label"),
        target,
        cask,
        bins: list(m.get("bins"), "install[].bins")?,
        sha256: sha256.map(|h| h.to_ascii_lowercase()),
        archive: s("archive"),
        os: list(m.get("os"), "install[].os")?,
    }))
}

/// A string or a list of strings.
fn list(v: Option<&Value>, what: &str) -> Result<Vec<String>, FieldError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                _ => Err(fe("metadata", format!("`{what}` must list strings"))),
            })
            .collect(),
        Some(_) => Err(fe(
            "metadata",
            format!("`{what}` must be a list of strings"),
        )),
    }
}

fn words(v: Option<&Value>, key: &'static str) -> Result<Vec<String>, FieldError> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s
            .split([' ', ','])
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()),
        Some(Value::Array(_)) => list(v, key).map_err(|e| fe(key, e.message)),
        Some(_) => Err(fe(key, format!("`{key}` must be a string or a list"))),
    }
}

fn opt_str(fields: &Map<String, Value>, key: &'static str) -> Result<Option<String>, FieldError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(fe(key, format!("`{key}` must be a string"))),
    }
}

fn opt_bool(fields: &Map<String, Value>, key: &'static str) -> Result<Option<bool>, FieldError> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
        Some(_) => Err(fe(key, format!("`{key}` must be true or false"))),
    }
}

#[cfg(test)]
mod tests;
