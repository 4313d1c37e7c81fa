//! Whether a skill can be used here: binaries on PATH, environment, OS, config, and the
//! user's on/off switch. Every reason it cannot is kept so the user can act on it.

use crate::manifest::Manifest;
use pryx_config::{Config, DataDir, SecretStore};
use serde::{Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Why a skill cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// `skills.enabled` is false.
    SkillsOff,
    /// `skills.entries.<name>.enabled` is false.
    Disabled { key: String },
    /// The platform is not listed in `os`.
    Os {
        allowed: Vec<String>,
        current: String,
    },
    /// A required binary is not on PATH.
    Bin(String),
    /// None of the alternatives is on PATH.
    AnyBin(Vec<String>),
    /// A required variable is unset and not provided by the skill's config entry.
    Env {
        name: String,
        detail: Option<String>,
    },
    /// A config path is not truthy.
    Config {
        path: String,
        detail: Option<String>,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::SkillsOff => write!(f, "skills are switched off (skills.enabled is false)"),
            Reason::Disabled { key } => {
                write!(f, "disabled in config (run `pryx skills enable {key}`)")
            }
            Reason::Os { allowed, current } => {
                write!(f, "runs only on {} (this is {current})", allowed.join(", "))
            }
            Reason::Bin(b) => write!(f, "binary `{b}` is not on PATH"),
            Reason::AnyBin(bs) => write!(f, "none of {} is on PATH", bs.join(", ")),
            Reason::Env { name, detail } => {
                write!(f, "environment variable `{name}` is not set")?;
                match detail {
                    Some(d) => write!(f, " ({d})"),
                    None => Ok(()),
                }
            }
            Reason::Config { path, detail } => {
                write!(f, "config `{path}` is not set to a true value")?;
                match detail {
                    Some(d) => write!(f, " ({d})"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// The verdict for one skill.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Eligibility {
    pub reasons: Vec<Reason>,
}

impl Eligibility {
    /// True when nothing stands in the way.
    pub fn is_eligible(&self) -> bool {
        self.reasons.is_empty()
    }

    /// False when switched off by the user (individually or all skills).
    pub fn is_enabled(&self) -> bool {
        !self
            .reasons
            .iter()
            .any(|r| matches!(r, Reason::SkillsOff | Reason::Disabled { .. }))
    }
}

impl Serialize for Eligibility {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View {
            eligible: bool,
            enabled: bool,
            reasons: Vec<String>,
        }
        View {
            eligible: self.is_eligible(),
            enabled: self.is_enabled(),
            reasons: self.reasons.iter().map(ToString::to_string).collect(),
        }
        .serialize(s)
    }
}

/// Where environment variables come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvSource {
    /// The process environment.
    Process,
    /// A fixed set (tests, embedding).
    Fixed(BTreeMap<String, String>),
}

/// The machine a skill is judged against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The PATH searched for binaries.
    pub path: Option<OsString>,
    /// `linux`, `darwin` or `win32` (the names skills use).
    pub os: String,
    pub env: EnvSource,
}

impl Host {
    /// This process: its PATH, OS and environment.
    pub fn current() -> Self {
        Self {
            path: std::env::var_os("PATH"),
            os: current_os().to_string(),
            env: EnvSource::Process,
        }
    }

    /// A non-empty variable's value.
    pub fn var(&self, name: &str) -> Option<String> {
        let v = match &self.env {
            EnvSource::Process => std::env::var(name).ok(),
            EnvSource::Fixed(m) => m.get(name).cloned(),
        };
        v.filter(|v| !v.is_empty())
    }

    /// The executable `name` on PATH, if any.
    pub fn find_bin(&self, name: &str) -> Option<PathBuf> {
        if name.is_empty() {
            return None;
        }
        if name.contains(std::path::MAIN_SEPARATOR) {
            let p = PathBuf::from(name);
            return is_executable(&p).then_some(p);
        }
        let path = self.path.as_ref()?;
        std::env::split_paths(path).find_map(|dir| {
            let candidate = dir.join(name);
            if is_executable(&candidate) {
                return Some(candidate);
            }
            let exe = dir.join(format!("{name}.exe"));
            (cfg!(windows) && is_executable(&exe)).then_some(exe)
        })
    }
}

/// The platform name skills use for this build (`linux`, `darwin`, `win32`).
pub fn current_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        "windows" => "win32",
        other => other,
    }
}

fn os_matches(wanted: &str, current: &str) -> bool {
    let norm = |s: &str| match s.to_ascii_lowercase().as_str() {
        "macos" | "mac" | "osx" | "darwin" => "darwin".to_string(),
        "windows" | "win" | "win32" => "win32".to_string(),
        other => other.to_string(),
    };
    norm(wanted) == norm(current)
}

fn is_executable(p: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(p) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// Judges skills against one host and config. The secret store is opened only when a skill's
/// `apiKey` has to be resolved.
pub struct Checker<'a> {
    host: &'a Host,
    config: &'a Config,
    data_dir: Option<&'a DataDir>,
    secrets: OnceLock<Result<SecretStore, String>>,
}

impl<'a> Checker<'a> {
    pub fn new(host: &'a Host, config: &'a Config, data_dir: Option<&'a DataDir>) -> Self {
        Self {
            host,
            config,
            data_dir,
            secrets: OnceLock::new(),
        }
    }

    /// Every reason `manifest` cannot be used; `config_key` names its `skills.entries` entry.
    pub fn check(&self, manifest: &Manifest, config_key: &str) -> Eligibility {
        let mut reasons = Vec::new();
        let entry = self.config.skills.entries.get(config_key);
        if !self.config.skills.enabled {
            reasons.push(Reason::SkillsOff);
        }
        if entry.is_some_and(|e| !e.enabled) {
            reasons.push(Reason::Disabled {
                key: config_key.to_string(),
            });
        }
        let req = &manifest.requirements;
        if !req.os.is_empty() && !req.os.iter().any(|o| os_matches(o, &self.host.os)) {
            reasons.push(Reason::Os {
                allowed: req.os.clone(),
                current: self.host.os.clone(),
            });
        }
        if req.always {
            return Eligibility { reasons };
        }
        for bin in &req.bins {
            if self.host.find_bin(bin).is_none() {
                reasons.push(Reason::Bin(bin.clone()));
            }
        }
        if !req.any_bins.is_empty() && !req.any_bins.iter().any(|b| self.host.find_bin(b).is_some())
        {
            reasons.push(Reason::AnyBin(req.any_bins.clone()));
        }
        for name in &req.env {
            if self.host.var(name).is_some() {
                continue;
            }
            // `skills.entries.<key>.env` holds secret references only: a literal value would
            // sit in plaintext in config.json.
            match entry
                .and_then(|e| e.env.get(name))
                .filter(|v| !v.is_empty())
            {
                Some(v) if v.starts_with("secret:") || v.starts_with("env:") => {
                    match self.resolve(v) {
                        Ok(()) => continue,
                        Err(e) => {
                            reasons.push(Reason::Env {
                                name: name.clone(),
                                detail: Some(format!(
                                    "skills.entries.{config_key}.env.{name} = {v}: {e}"
                                )),
                            });
                            continue;
                        }
                    }
                }
                Some(_) => {
                    reasons.push(Reason::Env {
                        name: name.clone(),
                        detail: Some(format!(
                            "skills.entries.{config_key}.env.{name} holds a literal value, which would sit in plaintext in config.json; store it with `pryx secrets set {name}` and set the entry to `secret:{name}`"
                        )),
                    });
                    continue;
                }
                None => {}
            }
            let api_key = entry.and_then(|e| e.api_key.as_deref());
            let detail = match api_key {
                Some(reference) if req.primary_env.as_deref() == Some(name.as_str()) => {
                    match self.resolve(reference) {
                        Ok(()) => continue,
                        Err(e) => Some(format!("apiKey {reference}: {e}")),
                    }
                }
                _ => Some(format!(
                    "set it, or add it under skills.entries.{config_key}.env"
                )),
            };
            reasons.push(Reason::Env {
                name: name.clone(),
                detail,
            });
        }
        for path in &req.config {
            match self.config.get_path(path) {
                Ok(v) if truthy(&v) => {}
                Ok(_) => reasons.push(Reason::Config {
                    path: path.clone(),
                    detail: None,
                }),
                Err(_) => reasons.push(Reason::Config {
                    path: path.clone(),
                    detail: Some("not a known config key".into()),
                }),
            }
        }
        Eligibility { reasons }
    }

    fn resolve(&self, reference: &str) -> Result<(), String> {
        if let Some(var) = reference.strip_prefix("env:") {
            return match self.host.var(var) {
                Some(_) => Ok(()),
                None => Err(format!("environment variable `{var}` is not set")),
            };
        }
        let store = self.secrets.get_or_init(|| match self.data_dir {
            Some(dir) => SecretStore::open(dir).map_err(|e| e.to_string()),
            None => Err("no data directory to read secrets from".into()),
        });
        match store {
            Ok(store) => store
                .resolve(reference)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        }
    }
}

/// JavaScript-style truthiness, as config gates in skills expect.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

#[cfg(test)]
mod tests;
