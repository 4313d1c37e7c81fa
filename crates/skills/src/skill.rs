//! What a discovered skill is: where it came from, what it declares, and whether it can be used.

use crate::bundled::BundledSkill;
use crate::eligibility::Eligibility;
use crate::manifest::Manifest;
use serde::{Serialize, Serializer};
use std::fmt;
use std::path::{Path, PathBuf};

/// Where a skill was found. The order is precedence: earlier wins a name conflict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// `<workspace>/.pryx/skills`.
    Workspace,
    /// `skills/` in the data directory.
    Managed,
    /// Compiled into the binary.
    Bundled,
    /// A directory from `skills.extraDirs`.
    Extra,
}

impl Origin {
    /// Lowercase name used in listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Workspace => "workspace",
            Origin::Managed => "managed",
            Origin::Bundled => "bundled",
            Origin::Extra => "extra",
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The folder of a skill: on disk, or compiled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Dir(PathBuf),
    Bundled(&'static BundledSkill),
}

impl Location {
    /// The folder on disk, if any.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Location::Dir(p) => Some(p),
            Location::Bundled(_) => None,
        }
    }

    /// The `SKILL.md` as shown to people (`bundled:NAME/SKILL.md` for compiled-in skills).
    pub fn skill_file(&self) -> String {
        match self {
            Location::Dir(p) => p.join("SKILL.md").display().to_string(),
            Location::Bundled(b) => format!("bundled:{}/SKILL.md", b.name),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Dir(p) => write!(f, "{}", p.display()),
            Location::Bundled(b) => write!(f, "bundled:{}", b.name),
        }
    }
}

impl Serialize for Location {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The skill that wins a name conflict over a shadowed one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shadow {
    pub origin: Origin,
    pub location: Location,
}

/// A skill whose `SKILL.md` parsed.
#[derive(Debug, Clone, Serialize)]
pub struct Skill {
    #[serde(flatten)]
    pub manifest: Manifest,
    pub origin: Origin,
    pub location: Location,
    /// Markdown instructions, loaded into the conversation on demand.
    #[serde(skip)]
    pub body: String,
    /// 1-based line of the body's first line in `SKILL.md`.
    #[serde(skip)]
    pub body_line: usize,
    /// Problems that do not stop the skill from loading.
    pub warnings: Vec<String>,
    pub eligibility: Eligibility,
    /// Set when a skill of the same name from a higher-precedence location wins.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadowed_by: Option<Shadow>,
}

impl Skill {
    /// The skill's name.
    pub fn name(&self) -> &str {
        &self.manifest.name
    }

    /// Not shadowed, enabled, and every requirement met.
    pub fn is_usable(&self) -> bool {
        self.shadowed_by.is_none() && self.eligibility.is_eligible()
    }

    /// Whether it belongs in the system prompt's skill list.
    pub fn in_prompt(&self) -> bool {
        self.is_usable() && !self.manifest.disable_model_invocation
    }

    /// Key of its settings under `skills.entries`.
    pub fn config_key(&self) -> &str {
        self.manifest
            .requirements
            .skill_key
            .as_deref()
            .unwrap_or(&self.manifest.name)
    }

    /// The config path of its switch, `skills.entries.<key>.enabled` (the key quoted when it
    /// holds dots).
    pub fn switch_path(&self) -> String {
        let key = self.config_key();
        if key.contains('.') {
            format!("skills.entries[\"{key}\"].enabled")
        } else {
            format!("skills.entries.{key}.enabled")
        }
    }
}

/// A skill folder whose `SKILL.md` could not be used, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvalidSkill {
    pub origin: Origin,
    /// The `SKILL.md` (or the folder when the file itself is the problem).
    pub file: String,
    /// 1-based line the problem is on.
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for InvalidSkill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}
