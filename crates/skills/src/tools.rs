//! `skills.load` (a skill's instructions) and `skills.read` (a file in a skill's folder, and
//! nowhere else). Both return text inside an untrusted boundary.

use crate::index::{SkillIndex, canonical_dir};
use crate::load::{self, MAX_SKILL_FILE_BYTES};
use crate::prompt::wrap;
use crate::skill::{Location, Skill};
use async_trait::async_trait;
use pryx_protocol::ToolKind;
use pryx_tools::{Tool, ToolContext, ToolError, ToolOutput};
use serde_json::{Value, json};
use std::path::{Component, Path};
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
fn find(
    index: &SkillIndex,
    tool: &str,
    name: &str,
) -> Result<(Arc<crate::Catalog>, usize), ToolError> {
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

    async fn execute(&self, args: Value, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let name = str_arg(self.name(), &args, "name")?;
        let (catalog, pos) = find(&self.index, self.name(), name)?;
        let skill = &catalog.skills[pos];
        Ok(ToolOutput::text(render_skill(skill)).with_metadata(json!({
            "skill": skill.name(),
            "origin": skill.origin.as_str(),
            "location": skill.location.to_string(),
        })))
    }
}

fn render_skill(skill: &Skill) -> String {
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
    let files = list_files(skill);
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

/// Relative paths of the files in a skill folder (bounded), `SKILL.md` excluded.
fn list_files(skill: &Skill) -> Vec<String> {
    match &skill.location {
        Location::Bundled(b) => b
            .files
            .iter()
            .map(|(p, _)| (*p).to_string())
            .filter(|p| p != "SKILL.md")
            .collect(),
        Location::Dir(dir) => {
            let mut out = Vec::new();
            let mut stack = vec![(dir.clone(), 0usize)];
            while let Some((d, depth)) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&d) else {
                    continue;
                };
                for e in entries.flatten() {
                    let p = e.path();
                    let hidden = e.file_name().to_string_lossy().starts_with('.');
                    if hidden || out.len() >= 200 {
                        continue;
                    }
                    if p.is_dir() && depth < 4 {
                        stack.push((p, depth + 1));
                    } else if p.is_file() {
                        let rel = p
                            .strip_prefix(dir)
                            .unwrap_or(&p)
                            .to_string_lossy()
                            .into_owned();
                        if rel != "SKILL.md" {
                            out.push(rel);
                        }
                    }
                }
            }
            out.sort();
            out
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

    async fn execute(&self, args: Value, _ctx: ToolContext) -> Result<ToolOutput, ToolError> {
        let tool = self.name();
        let name = str_arg(tool, &args, "name")?;
        let rel = str_arg(tool, &args, "path")?;
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
        let text = match &skill.location {
            Location::Bundled(b) => {
                let clean = rel.trim_start_matches("./");
                b.file(clean)
                    .map(str::to_string)
                    .ok_or_else(|| ToolError::NotFound {
                        path: format!("{name}/{rel}"),
                    })?
            }
            Location::Dir(dir) => {
                let root = canonical_dir(skill).ok_or_else(|| ToolError::NotFound {
                    path: dir.display().to_string(),
                })?;
                let target = std::fs::canonicalize(root.join(rel_path)).map_err(|_| {
                    ToolError::NotFound {
                        path: format!("{name}/{rel}"),
                    }
                })?;
                if !target.starts_with(&root) {
                    return Err(ToolError::Refused(format!(
                        "`{rel}` resolves outside the skill folder"
                    )));
                }
                if !target.is_file() {
                    return Err(invalid(tool, format!("`{rel}` is not a file")));
                }
                load::read_capped(&target).map_err(|e| {
                    if e.reason.contains("not UTF-8") {
                        ToolError::BinaryFile {
                            path: format!("{name}/{rel}"),
                        }
                    } else if e.reason.contains("limit") {
                        ToolError::TooLarge {
                            path: format!("{name}/{rel}"),
                            size: std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0),
                            limit: MAX_SKILL_FILE_BYTES,
                        }
                    } else {
                        ToolError::Io {
                            path: format!("{name}/{rel}"),
                            message: e.reason,
                        }
                    }
                })?
            }
        };
        Ok(ToolOutput::text(wrap(
            "skill-file",
            &[("skill", name), ("path", rel)],
            &text,
        )))
    }
}

#[cfg(test)]
mod tests;
