//! What the agent can use besides its built-in tools, as the welcome wizard, the Skills page and
//! the MCP page list it: the MCP servers of `servers.json` and the skills of the workspace.

use crate::Web;
use pryx_mcp::ServersFile;
use pryx_skills::{Reason, Skill, SkillIndex};
use std::path::Path;

/// An MCP server as configured.
pub struct Server {
    pub name: String,
    pub transport: &'static str,
    /// What it runs or where it is.
    pub target: String,
    pub enabled: bool,
}

/// A skill as listed.
pub struct SkillRow {
    pub name: String,
    pub description: String,
    pub origin: &'static str,
    pub enabled: bool,
    /// Why it cannot be used though enabled (a missing binary, variable…).
    pub blocked: Vec<String>,
    /// Its folder (none for a bundled skill).
    pub path: String,
}

/// The servers of `servers.json`, and why the file (or some entries) could not be used.
pub fn servers(web: &Web) -> (Vec<Server>, Vec<String>) {
    let mut problems = Vec::new();
    let servers = match ServersFile::load(&web.core.dir().mcp_servers_file()) {
        Ok(file) => {
            problems.extend(file.problems().iter().map(ToString::to_string));
            file.servers()
                .iter()
                .map(|(name, s)| Server {
                    name: name.clone(),
                    transport: s.transport_kind().as_str(),
                    target: s
                        .url
                        .clone()
                        .or_else(|| (!s.command.is_empty()).then(|| s.command.join(" ")))
                        .unwrap_or_default(),
                    enabled: s.enabled,
                })
                .collect()
        }
        Err(e) => {
            problems.push(e.to_string());
            Vec::new()
        }
    };
    (servers, problems)
}

/// The skills that apply in `workspace` (shadowed ones left out).
pub fn skills(web: &Web, workspace: &Path) -> Vec<SkillRow> {
    SkillIndex::open(workspace, web.core.dir().clone())
        .catalog()
        .active()
        .map(row)
        .collect()
}

pub fn row(s: &Skill) -> SkillRow {
    SkillRow {
        name: s.name().to_string(),
        description: s.manifest.description.clone(),
        origin: s.origin.as_str(),
        enabled: s.eligibility.is_enabled(),
        blocked: s
            .eligibility
            .reasons
            .iter()
            .filter(|r| !matches!(r, Reason::SkillsOff | Reason::Disabled { .. }))
            .map(ToString::to_string)
            .collect(),
        path: s
            .location
            .dir()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| "bundled with Pryx".into()),
    }
}
