//! Skills: folders with a `SKILL.md` (YAML frontmatter + Markdown instructions), found in the
//! workspace, the data directory, the binary and configured extra directories.
//!
//! The format follows Agent Skills; requirements and installers written for OpenClaw
//! (`metadata.openclaw`, `metadata.clawdbot`) are read unchanged next to `metadata.pryx`.
//! Only names and descriptions reach the system prompt ([`prompt_block`]); bodies and files are
//! loaded on demand through the [`tools`].

pub mod add;
mod bundled;
mod discover;
mod eligibility;
mod frontmatter;
#[cfg(test)]
mod fuzz;
mod index;
pub mod install;
mod json5_text;
mod load;
mod manifest;
mod prompt;
mod skill;
mod tools;

pub use bundled::{BUNDLED, BundledSkill};
pub use eligibility::{Checker, Eligibility, EnvSource, Host, Reason, current_os, truthy};
pub use index::{Catalog, IndexSettings, SkillIndex};
pub use load::MAX_SKILL_FILE_BYTES;
pub use manifest::{InstallKind, InstallSpec, Manifest, NAMESPACES, Requirements};
pub use prompt::{PROMPT_BUDGET_CHARS, prompt_block, prompt_block_with_budget};
pub use skill::{InvalidSkill, Location, Origin, Shadow, Skill};
pub use tools::{SkillsLoad, SkillsRead, tools};
