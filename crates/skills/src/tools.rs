//! `skills.load` (a skill's instructions) and `skills.read` (a file in a skill's folder, and
//! nowhere else). Both return text inside an untrusted boundary, and both tell the policy the
//! real files they read ([`Tool::resolved_reads`]) so it judges them as `fs.read` would.

use crate::discover::confined_dir;
use crate::index::{Catalog, SkillIndex};
use crate::load::{self, MAX_SKILL_FILE_BYTES};
use crate::prompt::wrap;
use crate::skill::{Location, Skill};
use async_trait::async_trait;
use pryx_protocol::ToolKind;
use pryx_tools::{Tool, ToolContext, ToolError, ToolOutput};
use serde_json::{Value, json};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// The skill tools for the agent's registry.
pub fn tools(index: Arc<SkillIndex>) -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(SkillsLoad {
            index: index.clone(),
        }),
        Arc::new(SkillsRead { index }),
    ]
}

/// Loads a skill's instructions on demand.
pub struct SkillsLoad {
    index: Arc<SkillIndex>,
}

/// Reads a file inside a skill's folder.
pub struct SkillsRead {
    index: Arc<SkillIndex>,
}

fn invalid(tool: &str, message: impl Into<String>) -> ToolError {
    ToolError::InvalidArguments {
        tool: tool.to_string(),
        message: message.into(),
    }
}

fn str_arg<'a>(tool: &str, args: &'a Value, key: &str) -> Result<&'a str, ToolError> {
    args.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid(tool, format!("`{key}` (string) is required")))
}

/// The winning, enabled skill called `name`.
fn find(index: &SkillIndex, tool: &str, name: &str) -> Result<(Arc<Catalog>, usize), ToolError> {
    let catalog = index.catalog();
    let pos = catalog
        .skills
        .iter()
        .position(|s| s.name() == name && s.shadowed_by.is_none())
        .ok_or_else(|| {
            invalid(
                tool,
                format!("no skill named `{name}`; use a name from the skill list"),
            )
        })?;
    if !catalog.skills[pos].eligibility.is_enabled() {
        return Err(ToolError::Refused(format!(
            "skill `{name}` is disabled by the user"
        )));
    }
    Ok((catalog, pos))
}

#[async_trait]
impl Tool for SkillsLoad {
    fn name(&self) -> &str {
        "skills.load"
    }

    fn description(&self) -> &str {
        "Load the full instructions of a skill from the skill list before using it."
    }

    fn schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {"name": {"type": "string", "description": "Skill name from the list"}},
            "required": ["name"],
            "additionalProperties": false
        })
    }

    /// Confined to skill folders and read-only, so read policies allow it without asking.
    fn read_only_hint(&self) -> bool {
        true
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Read
    }

    fn resolved_reads(&self, args: &Value) -> Option<Result<Vec<PathBuf>, String>> {
        Some(self.skill_file(args).map_err(|e| e.to_string()))
    }

    async fn execute(&self, args: Value, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let name = str_arg(self.name(), &args, "name")?;
        let (catalog, pos) = find(&self.index, self.name(), name)?;
        let skill = &catalog.skills[pos];
        let root = match &skill.location {
            Location::Dir(_) => Some(folder(&catalog, skill)?),
            Location::Bundled(_) => None,
        };
        Ok(
            ToolOutput::text(render_skill(skill, root.as_deref())).with_metadata(json!({
                "skill": skill.name(),
                "origin": skill.origin.as_str(),
                "location": skill.location.to_string(),
            })),
        )
    }
}

impl SkillsLoad {
    /// The real `SKILL.md` a call loads (none for a compiled-in skill).
    fn skill_file(&self, args: &Value) -> Result<Vec<PathBuf>, ToolError> {
        let name = str_arg(self.name(), args, "name")?;
        let (catalog, pos) = find(&self.index, self.name(), name)?;
        let skill = &catalog.skills[pos];
        match &skill.location {
            Location::Dir(_) => {
                let root = folder(&catalog, skill)?;
                inside(&root, Path::new("SKILL.md"), name, "SKILL.md").map(|f| vec![f])
            }
            Location::Bundled(_) => Ok(Vec::new()),
        }
    }
}

/// The skill's folder on disk, symlinks followed, refused unless it lies inside the skills
/// location it was found in.
fn folder(catalog: &Catalog, skill: &Skill) -> Result<PathBuf, ToolError> {
    let dir = skill.location.dir().ok_or_else(|| ToolError::NotFound {
        path: skill.location.to_string(),
    })?;
    confined_dir(dir, skill.origin, &catalog.roots).map_err(ToolError::Refused)
}

/// The real path of `rel` under the real folder `root`, refused if it leaves the folder.
fn inside(root: &Path, rel: &Path, name: &str, shown: &str) -> Result<PathBuf, ToolError> {
    let target = std::fs::canonicalize(root.join(rel)).map_err(|_| ToolError::NotFound {
        path: format!("{name}/{shown}"),
    })?;
    if !target.starts_with(root) {
        return Err(ToolError::Refused(format!(
            "`{shown}` resolves outside the skill folder"
        )));
    }
    Ok(target)
}

fn render_skill(skill: &Skill, root: Option<&Path>) -> String {
    let base = skill.location.to_string();
    let body = skill.body.replace("{baseDir}", &base);
    let mut text = String::new();
    if !skill.eligibility.is_eligible() {
        let why: Vec<String> = skill
            .eligibility
            .reasons
            .iter()
            .map(ToString::to_string)
            .collect();
        text.push_str(&format!(
            "Note: this skill's requirements are not met: {}.\n\n",
            why.join("; ")
        ));
    }
    text.push_str(body.trim_end());
    let files = list_files(skill, root);
    if !files.is_empty() {
        text.push_str("\n\nFiles in this skill (read with skills.read):\n");
        for f in files {
            text.push_str(&format!("- {f}\n"));
        }
    }
    wrap(
        "skill",
        &[("name", skill.name()), ("source", skill.origin.as_str())],
        &text,
    )
}

/// Relative paths of the files in a skill folder (bounded), `SKILL.md` excluded. Links are
/// listed only when they stay inside the folder, and never descended into.
fn list_files(skill: &Skill, root: Option<&Path>) -> Vec<String> {
    let (Location::Dir(_), Some(root)) = (&skill.location, root) else {
        return match &skill.location {
            Location::Bundled(b) => b
                .files
                .iter()
                .map(|(p, _)| (*p).to_string())
                .filter(|p| p != "SKILL.md")
                .collect(),
            Location::Dir(_) => Vec::new(),
        };
    };
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let hidden = e.file_name().to_string_lossy().starts_with('.');
            let Ok(ft) = e.file_type() else { continue };
            if hidden || out.len() >= 200 {
                continue;
            }
            let file = if ft.is_symlink() {
                std::fs::canonicalize(&p).is_ok_and(|t| t.starts_with(root) && t.is_file())
            } else {
                ft.is_file()
            };
            if ft.is_dir() && depth < 4 {
                stack.push((p, depth + 1));
            } else if file {
                let rel = p.strip_prefix(root).unwrap_or(&p).to_string_lossy();
                if rel != "SKILL.md" {
                    out.push(rel.into_owned());
                }
            }
        }
    }
    out.sort();
    out
}

/// What a `skills.read` call reads.
enum Target {
    Bundled(String),
    /// The real file, inside the skill's real folder.
    Disk(PathBuf),
}

impl SkillsRead {
    fn target(&self, args: &Value) -> Result<Target, ToolError> {
        let tool = self.name();
        let name = str_arg(tool, args, "name")?;
        let rel = str_arg(tool, args, "path")?;
        let (catalog, pos) = find(&self.index, tool, name)?;
        let skill = &catalog.skills[pos];
        let rel_path = Path::new(rel);
        if rel_path.is_absolute()
            || rel_path
                .components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            return Err(ToolError::Refused(format!(
                "`{rel}` is not inside the skill folder; give a relative path without `..`"
            )));
        }
        match &skill.location {
            Location::Bundled(b) => {
                let clean = rel.trim_start_matches("./");
                b.file(clean)
                    .map(|t| Target::Bundled(t.to_string()))
                    .ok_or_else(|| ToolError::NotFound {
                        path: format!("{name}/{rel}"),
                    })
            }
            Location::Dir(_) => {
                let root = folder(&catalog, skill)?;
                let target = inside(&root, rel_path, name, rel)?;
                if !target.is_file() {
                    return Err(invalid(tool, format!("`{rel}` is not a file")));
                }
                Ok(Target::Disk(target))
            }
        }
    }
}

#[async_trait]
impl Tool for SkillsRead {
    fn name(&self) -> &str {
        "skills.read"
    }

    fn description(&self) -> &str {
        "Read a file (e.g. references/*.md, scripts/*) from inside a skill's folder."
    }

    fn schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "Skill name"},
                "path": {"type": "string", "description": "Path relative to the skill folder"}
            },
            "required": ["name", "path"],
            "additionalProperties": false
        })
    }

    /// Confined to skill folders and read-only, so read policies allow it without asking.
    fn read_only_hint(&self) -> bool {
        true
    }

    fn kind(&self) -> ToolKind {
        ToolKind::Read
    }

    fn resolved_reads(&self, args: &Value) -> Option<Result<Vec<PathBuf>, String>> {
        Some(match self.target(args) {
            Ok(Target::Disk(path)) => Ok(vec![path]),
            Ok(Target::Bundled(_)) => Ok(Vec::new()),
            Err(e) => Err(e.to_string()),
        })
    }

    async fn execute(&self, args: Value, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let name = str_arg(self.name(), &args, "name")?;
        let rel = str_arg(self.name(), &args, "path")?;
        let text = match self.target(&args)? {
            Target::Bundled(text) => text,
            Target::Disk(target) => read_text(&target, &format!("{name}/{rel}"))?,
        };
        Ok(ToolOutput::text(wrap(
            "skill-file",
            &[("skill", name), ("path", rel)],
            &text,
        )))
    }
}

fn read_text(target: &Path, shown: &str) -> Result<String, ToolError> {
    load::read_capped(target).map_err(|e| {
        if e.reason.contains("not UTF-8") {
            ToolError::BinaryFile {
                path: shown.to_string(),
            }
        } else if e.reason.contains("limit") {
            ToolError::TooLarge {
                path: shown.to_string(),
                size: std::fs::metadata(target).map(|m| m.len()).unwrap_or(0),
                limit: MAX_SKILL_FILE_BYTES,
            }
        } else {
            ToolError::Io {
                path: shown.to_string(),
                message: e.reason,
            }
        }
    })
}

#[cfg(test)]
mod tests;
