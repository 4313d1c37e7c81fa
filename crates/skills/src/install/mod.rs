//! Installing a skill's dependencies: choosing an installer, turning it into exact steps the
//! user can read and approve, and running them.
//!
//! Whatever an installer writes lands in `tools/<skillKey>/` of the data directory and nowhere
//! else: downloads and archives are unpacked in a fresh, empty staging folder (links, hard links
//! and special files refused) and moved into place in one rename; package managers run in the
//! shell sandbox with a cleared environment, writing only under that folder. An existing folder
//! is replaced only when the caller says so.

pub(crate) mod download;
mod sandboxed;
pub(crate) mod stage;

pub use sandboxed::Runner;

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
    /// The skill's key cannot name a folder.
    #[error(
        "skill `{skill}` has the key `{key}`, which cannot name a folder; fix its `skillKey` (letters, digits, `-`, `_`, `.`)"
    )]
    BadKey { skill: String, key: String },
    /// An archive holds something that is not a plain file or folder.
    #[error("refusing the archive from {url}: {what}; only plain files and folders are unpacked")]
    Archive { url: String, what: String },
    /// The skill's tools folder exists and replacing it was not confirmed.
    #[error(
        "{} already exists; re-run with --replace to replace it (nothing was changed)",
        .0.display()
    )]
    Exists(PathBuf),
}

/// One thing an installation does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A package manager (resolved on PATH when planned), run in the shell sandbox with a
    /// cleared environment plus `env`, writing only under `prefix`.
    Package {
        program: PathBuf,
        args: Vec<String>,
        env: Vec<(String, String)>,
        prefix: PathBuf,
        /// What code of the package runs while it installs, said in the plan.
        scripts: &'static str,
    },
    /// Fetches `url` into the staging folder as `file`, checking `sha256` when given.
    Download {
        url: String,
        file: String,
        sha256: Option<String>,
        /// Kept as the tool itself (marked executable) rather than unpacked.
        executable: bool,
    },
    /// Unpacks the downloaded `file` into the staging folder with `program` (tar or unzip);
    /// links, hard links and special files are refused.
    Unpack {
        program: PathBuf,
        archive: String,
        file: String,
    },
    /// Moves the staging folder to `dest` in one rename.
    Place { dest: PathBuf },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Package {
                program,
                args,
                env,
                prefix,
                scripts,
            } => {
                write!(f, "in the sandbox, writing only to {}: ", prefix.display())?;
                for (k, v) in env {
                    write!(f, "{k}={} ", quote(v))?;
                }
                write!(f, "{}", quote(&program.display().to_string()))?;
                for a in args {
                    write!(f, " {}", quote(a))?;
                }
                write!(f, " ({scripts})")
            }
            Step::Download {
                url,
                file,
                sha256,
                executable,
            } => {
                write!(f, "download {url} as {file}")?;
                match sha256 {
                    Some(h) => write!(f, ", verify sha256 {h}")?,
                    None => write!(f, " (no checksum declared)")?,
                }
                if *executable {
                    write!(f, ", mark it executable")?;
                }
                Ok(())
            }
            Step::Unpack {
                program,
                archive,
                file,
            } => write!(
                f,
                "unpack {file} ({archive}) with {} into an empty folder; links and special files are refused",
                program.display()
            ),
            Step::Place { dest } => write!(f, "move the result to {}", dest.display()),
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
    /// Where the installed programs land (add it to PATH).
    pub tools_dir: Option<PathBuf>,
    /// `tools/<skillKey>`: the only folder the installation writes.
    pub dest: PathBuf,
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
    let key = skill.config_key();
    if !safe_name(key) {
        return Err(InstallError::BadKey {
            skill: skill.name().to_string(),
            key: key.to_string(),
        });
    }
    let dest = data_dir.root().join("tools").join(key);
    let tool = |name: &'static str, fix: &'static str| {
        host.find_bin(name).ok_or(InstallError::ToolMissing {
            kind: spec.kind.as_str(),
            tool: name,
            fix,
        })
    };
    let (tool_name, fix) = required_tool(spec).unwrap_or(("", ""));
    let t = spec.target.clone();
    let at = |sub: &str| dest.join(sub).display().to_string();
    let package = |args: Vec<String>, env: Vec<(&str, String)>, scripts: &'static str| {
        let mut env: Vec<(String, String)> =
            env.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        env.insert(0, ("HOME".into(), at(".home")));
        Ok::<_, InstallError>(vec![Step::Package {
            program: tool(tool_name, fix)?,
            args,
            env,
            prefix: dest.clone(),
            scripts,
        }])
    };
    const BREW: &str = "Homebrew runs the formula's install code; on Linux it cannot write its own prefix from the sandbox";
    let (steps, tools_dir) = match spec.kind {
        InstallKind::Brew => {
            let mut args = vec!["install".to_string()];
            if spec.cask {
                args.push("--cask".into());
            }
            args.push(t);
            let env = vec![("HOMEBREW_NO_AUTO_UPDATE", "1".to_string())];
            (package(args, env, BREW)?, None)
        }
        InstallKind::Node => {
            let args = vec![
                "install".into(),
                "-g".into(),
                "--prefix".into(),
                dest.display().to_string(),
                t,
            ];
            let env = vec![("npm_config_cache", at(".cache/npm"))];
            let scripts = "install scripts of the package and its dependencies (preinstall, install, postinstall) will run, inside the sandbox";
            (package(args, env, scripts)?, Some(dest.join("bin")))
        }
        InstallKind::Go => {
            let module = if t.contains('@') {
                t
            } else {
                format!("{t}@latest")
            };
            let env = vec![
                ("GOBIN", at("bin")),
                ("GOPATH", at("go")),
                ("GOCACHE", at(".cache/go")),
            ];
            let scripts = "builds the module from source; no install scripts run, but cgo may run the C compiler";
            let steps = package(vec!["install".into(), module], env, scripts)?;
            (steps, Some(dest.join("bin")))
        }
        InstallKind::Uv => {
            let env = vec![
                ("UV_TOOL_DIR", at("uv")),
                ("UV_TOOL_BIN_DIR", at("bin")),
                ("UV_CACHE_DIR", at(".cache/uv")),
                ("UV_PYTHON_INSTALL_DIR", at("python")),
            ];
            let scripts = "a package without a prebuilt wheel runs its build scripts (setup.py), inside the sandbox";
            let args = vec!["tool".into(), "install".into(), t];
            (package(args, env, scripts)?, Some(dest.join("bin")))
        }
        InstallKind::Download => {
            if !(t.starts_with("https://") || t.starts_with("http://")) {
                return Err(InstallError::BadUrl(t));
            }
            let archive = archive_of(spec);
            let file = match (&archive, spec.bins.as_slice()) {
                (None, [only]) if safe_name(only) => only.clone(),
                _ => file_name(&t),
            };
            let mut steps = vec![Step::Download {
                url: t,
                file: file.clone(),
                sha256: spec.sha256.clone(),
                executable: archive.is_none(),
            }];
            if let Some(a) = archive {
                steps.push(Step::Unpack {
                    program: tool(tool_name, fix)?,
                    archive: a,
                    file,
                });
            }
            steps.push(Step::Place { dest: dest.clone() });
            (steps, Some(dest.clone()))
        }
    };
    Ok(Plan {
        skill: skill.name().to_string(),
        spec: spec.clone(),
        steps,
        tools_dir,
        dest,
    })
}

impl Plan {
    /// Whether install code of the package itself runs (not only the package manager).
    pub fn runs_package_code(&self) -> bool {
        matches!(
            self.spec.kind,
            InstallKind::Node | InstallKind::Uv | InstallKind::Brew
        )
    }
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

/// Runs every step in order and returns what package managers printed. `tools/<skillKey>` is
/// replaced only when `replace` is set; package managers run through `runner` (the sandbox).
pub async fn execute(plan: &Plan, runner: &Runner, replace: bool) -> Result<String, InstallError> {
    let exists = std::fs::symlink_metadata(&plan.dest).is_ok();
    if exists && !replace {
        return Err(InstallError::Exists(plan.dest.clone()));
    }
    let mut staging: Option<stage::Staging> = None;
    let mut output = String::new();
    for step in &plan.steps {
        match step {
            Step::Package { .. } => output.push_str(&runner.run(step, &plan.dest, replace).await?),
            Step::Download {
                url,
                file,
                sha256,
                executable,
            } => {
                let st = match &mut staging {
                    Some(st) => st,
                    None => staging.insert(stage::Staging::new(&plan.dest)?),
                };
                let dest = st.download_path(file, *executable);
                download::fetch(url, &dest, sha256.as_deref(), *executable).await?;
            }
            Step::Unpack {
                program,
                archive,
                file,
            } => {
                let st = staging.as_ref().ok_or_else(|| InstallError::Io {
                    path: file.clone(),
                    message: "nothing was downloaded to unpack".into(),
                })?;
                st.unpack(program, archive, file, &plan.spec.target).await?;
            }
            Step::Place { dest } => {
                let st = staging.take().ok_or_else(|| InstallError::Io {
                    path: dest.display().to_string(),
                    message: "nothing was downloaded to place".into(),
                })?;
                st.place(dest, replace, &plan.spec.target)?;
            }
        }
    }
    Ok(output)
}

#[cfg(test)]
mod tests;
