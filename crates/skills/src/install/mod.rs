//! Installing a skill's dependencies: choosing an installer, turning it into exact steps the
//! user can read and approve, and running them.

mod download;

use crate::eligibility::Host;
use crate::manifest::{InstallKind, InstallSpec};
use crate::skill::Skill;
use pryx_config::DataDir;
use std::fmt;
use std::path::PathBuf;

/// Largest download accepted.
pub const MAX_DOWNLOAD_BYTES: u64 = 256 * 1024 * 1024;

/// Why an installation could not be planned or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The skill declares no installer (for this platform).
    #[error(
        "skill `{0}` declares no installer for this platform; install its requirements by hand"
    )]
    NoInstaller(String),
    /// `--id` names no installer of the skill.
    #[error("skill `{skill}` has no installer `{id}`; choose one of: {known}")]
    UnknownId {
        skill: String,
        id: String,
        known: String,
    },
    /// The tool an installer runs is not on PATH.
    #[error("cannot use the {kind} installer: `{tool}` is not on PATH; {fix}")]
    ToolMissing {
        kind: &'static str,
        tool: &'static str,
        fix: &'static str,
    },
    /// No installer can run here; one line per installer.
    #[error("no installer of skill `{skill}` can run here:\n{details}")]
    NoneUsable { skill: String, details: String },
    /// The download URL is not http(s).
    #[error("refusing to download `{0}`: only http:// and https:// URLs are allowed")]
    BadUrl(String),
    /// The download failed.
    #[error("download of {url} failed: {message}")]
    Download { url: String, message: String },
    /// The checksum did not match; nothing was kept.
    #[error(
        "checksum mismatch for {url}: expected sha256 {expected}, got {actual}; the file was discarded"
    )]
    Checksum {
        url: String,
        expected: String,
        actual: String,
    },
    /// A command exited unsuccessfully or could not start.
    #[error("`{command}` failed: {message}")]
    Command { command: String, message: String },
    /// Writing the download failed.
    #[error("cannot write {path}: {message}")]
    Io { path: String, message: String },
}

/// One thing an installation does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Runs a program (resolved on PATH when planned).
    Run { program: PathBuf, args: Vec<String> },
    /// Fetches `url` into `dest`, checking `sha256` when given.
    Download {
        url: String,
        dest: PathBuf,
        sha256: Option<String>,
        executable: bool,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Run { program, args } => {
                let name = program.file_name().map_or_else(
                    || program.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                write!(f, "{}", quote(&name))?;
                for a in args {
                    write!(f, " {}", quote(a))?;
                }
                Ok(())
            }
            Step::Download {
                url,
                dest,
                sha256,
                executable,
            } => {
                write!(f, "download {url} to {}", dest.display())?;
                match sha256 {
                    Some(h) => write!(f, ", verify sha256 {h}")?,
                    None => write!(f, " (no checksum declared)")?,
                }
                if *executable {
                    write!(f, ", mark it executable")?;
                }
                Ok(())
            }
        }
    }
}

fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./@:=+,%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The exact steps for one installer of one skill.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub skill: String,
    pub spec: InstallSpec,
    pub steps: Vec<Step>,
    /// Where downloaded tools land (add it to PATH); `None` for package-manager installs.
    pub tools_dir: Option<PathBuf>,
}

/// The tool an installer kind needs, and how to get it.
fn required_tool(spec: &InstallSpec) -> Option<(&'static str, &'static str)> {
    match spec.kind {
        InstallKind::Brew => Some((
            "brew",
            "install Homebrew first, or choose another installer with --id",
        )),
        InstallKind::Node => Some((
            "npm",
            "install Node.js with npm (e.g. your system's nodejs and npm packages)",
        )),
        InstallKind::Go => Some((
            "go",
            "install Go 1.21 or newer (e.g. your system's golang package)",
        )),
        InstallKind::Uv => Some((
            "uv",
            "install uv (e.g. `pipx install uv`) and make sure it is on PATH",
        )),
        InstallKind::Download => match archive_of(spec).as_deref() {
            Some("zip") => Some(("unzip", "install unzip to unpack .zip downloads")),
            Some(_) => Some(("tar", "install tar to unpack .tar archives")),
            None => None,
        },
    }
}

fn archive_of(spec: &InstallSpec) -> Option<String> {
    if let Some(a) = &spec.archive {
        return Some(a.clone());
    }
    let path = spec.target.split(['?', '#']).next().unwrap_or("");
    [
        (".tar.gz", "tar.gz"),
        (".tgz", "tar.gz"),
        (".tar.bz2", "tar.bz2"),
        (".zip", "zip"),
    ]
    .iter()
    .find(|(suffix, _)| path.ends_with(suffix))
    .map(|(_, a)| (*a).to_string())
}

fn applies(spec: &InstallSpec, host: &Host) -> bool {
    spec.os.is_empty() || spec.os.iter().any(|o| o.eq_ignore_ascii_case(&host.os))
}

/// Picks the installer: `id` when given, else the first usable one in the order
/// brew, uv, node, go, download.
pub fn choose<'a>(
    skill: &'a Skill,
    id: Option<&str>,
    host: &Host,
) -> Result<&'a InstallSpec, InstallError> {
    let specs = &skill.manifest.requirements.install;
    if let Some(id) = id {
        return specs
            .iter()
            .find(|s| s.id == id)
            .ok_or_else(|| InstallError::UnknownId {
                skill: skill.name().to_string(),
                id: id.to_string(),
                known: specs
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
    }
    let mut candidates: Vec<&InstallSpec> = specs.iter().filter(|s| applies(s, host)).collect();
    if candidates.is_empty() {
        return Err(InstallError::NoInstaller(skill.name().to_string()));
    }
    let rank = |k: InstallKind| match k {
        InstallKind::Brew => 0,
        InstallKind::Uv => 1,
        InstallKind::Node => 2,
        InstallKind::Go => 3,
        InstallKind::Download => 4,
    };
    candidates.sort_by_key(|s| rank(s.kind));
    let usable = |s: &InstallSpec| required_tool(s).is_none_or(|(t, _)| host.find_bin(t).is_some());
    if let Some(s) = candidates.iter().find(|s| usable(s)) {
        return Ok(s);
    }
    let details = candidates
        .iter()
        .filter_map(|s| {
            required_tool(s).map(|(tool, fix)| {
                format!(
                    "  - {} ({}): `{tool}` is not on PATH; {fix}",
                    s.id,
                    s.kind.as_str()
                )
            })
        })
        .collect::<Vec<_>>()
        .join("\n");
    Err(InstallError::NoneUsable {
        skill: skill.name().to_string(),
        details,
    })
}

/// Turns an installer into steps, refusing when its tool is missing.
pub fn plan(
    skill: &Skill,
    spec: &InstallSpec,
    host: &Host,
    data_dir: &DataDir,
) -> Result<Plan, InstallError> {
    let tool = |name: &'static str, fix: &'static str| {
        host.find_bin(name).ok_or(InstallError::ToolMissing {
            kind: spec.kind.as_str(),
            tool: name,
            fix,
        })
    };
    let (tool_name, fix) = required_tool(spec).unwrap_or(("", ""));
    let run = |args: Vec<String>| -> Result<Vec<Step>, InstallError> {
        Ok(vec![Step::Run {
            program: tool(tool_name, fix)?,
            args,
        }])
    };
    let t = spec.target.clone();
    let mut tools_dir = None;
    let steps = match spec.kind {
        InstallKind::Brew if spec.cask => run(vec!["install".into(), "--cask".into(), t])?,
        InstallKind::Brew => run(vec!["install".into(), t])?,
        InstallKind::Node => run(vec!["install".into(), "-g".into(), t])?,
        InstallKind::Go => {
            let module = if t.contains('@') {
                t
            } else {
                format!("{t}@latest")
            };
            run(vec!["install".into(), module])?
        }
        InstallKind::Uv => run(vec!["tool".into(), "install".into(), t])?,
        InstallKind::Download => {
            if !(t.starts_with("https://") || t.starts_with("http://")) {
                return Err(InstallError::BadUrl(t));
            }
            let dir = data_dir.root().join("tools").join(skill.config_key());
            let archive = archive_of(spec);
            let file = match (&archive, spec.bins.as_slice()) {
                (None, [only]) if safe_name(only) => only.clone(),
                _ => file_name(&t),
            };
            let dest = dir.join(&file);
            let mut steps = vec![Step::Download {
                url: t,
                dest: dest.clone(),
                sha256: spec.sha256.clone(),
                executable: archive.is_none(),
            }];
            if let Some(a) = archive {
                let args = match a.as_str() {
                    "zip" => vec![
                        "-o".into(),
                        dest.display().to_string(),
                        "-d".into(),
                        dir.display().to_string(),
                    ],
                    "tar.bz2" => vec![
                        "-xjf".into(),
                        dest.display().to_string(),
                        "-C".into(),
                        dir.display().to_string(),
                    ],
                    _ => vec![
                        "-xzf".into(),
                        dest.display().to_string(),
                        "-C".into(),
                        dir.display().to_string(),
                    ],
                };
                steps.push(Step::Run {
                    program: tool(tool_name, fix)?,
                    args,
                });
            }
            tools_dir = Some(dir);
            steps
        }
    };
    Ok(Plan {
        skill: skill.name().to_string(),
        spec: spec.clone(),
        steps,
        tools_dir,
    })
}

fn safe_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let last = path.rsplit('/').next().unwrap_or("");
    if safe_name(last) {
        last.to_string()
    } else {
        "download".to_string()
    }
}

/// Runs every step in order; commands share this terminal's output.
pub async fn execute(plan: &Plan) -> Result<(), InstallError> {
    for step in &plan.steps {
        match step {
            Step::Run { program, args } => {
                let status = tokio::process::Command::new(program)
                    .args(args)
                    .stdin(std::process::Stdio::null())
                    .status()
                    .await
                    .map_err(|e| InstallError::Command {
                        command: step.to_string(),
                        message: e.to_string(),
                    })?;
                if !status.success() {
                    return Err(InstallError::Command {
                        command: step.to_string(),
                        message: format!("exited with {status}"),
                    });
                }
            }
            Step::Download {
                url,
                dest,
                sha256,
                executable,
            } => download::fetch(url, dest, sha256.as_deref(), *executable).await?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
