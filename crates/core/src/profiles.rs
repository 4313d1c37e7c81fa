//! Agent profiles: a name standing for a workspace, a model (with fallbacks), a policy and
//! limits. `main` always exists (config `defaults`, command-line overrides on top); others come
//! from config `agents`. A session records what its profile resolved to when it was created.

use crate::live::Overrides;
use crate::setup::SetupError;
use pryx_config::{AgentProfile, Config, DataDir, MAIN_AGENT};
use std::path::{Path, PathBuf};

/// A profile with every default filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub id: String,
    /// Canonical workspace root.
    pub workspace: PathBuf,
    /// `provider/model`; `None` until a model is chosen (the turn then says how to set one up).
    pub model: Option<String>,
    pub fallbacks: Vec<String>,
    pub policy: String,
    pub instructions: Option<String>,
    pub skills: Option<Vec<String>>,
    pub tools: Option<Vec<String>>,
    pub max_steps: u32,
    pub session_budget_usd: Option<f64>,
    /// This profile's spend cap per UTC day.
    pub daily_budget_usd: Option<f64>,
}

/// The ids of every profile, `main` first.
pub fn ids(config: &Config) -> Vec<String> {
    let mut ids = vec![MAIN_AGENT.to_string()];
    ids.extend(config.agents.keys().filter(|k| *k != MAIN_AGENT).cloned());
    ids
}

/// Resolves profile `id`; an unknown id is [`SetupError::Unknown`] listing the known ones.
pub fn resolve(
    dir: &DataDir,
    config: &Config,
    overrides: &Overrides,
    id: &str,
) -> Result<Profile, SetupError> {
    let main = id == MAIN_AGENT;
    let empty = AgentProfile::default();
    let entry = match config.agents.get(id) {
        Some(e) => e,
        None if main => &empty,
        None => {
            return Err(SetupError::Unknown(format!(
                "unknown agent {id:?}; known agents: {} (add one with `pryx agents add`)",
                ids(config).join(", ")
            )));
        }
    };
    let cli = |v: &Option<String>| if main { v.clone() } else { None };
    let workspace = match (
        main.then(|| overrides.workspace.clone()).flatten(),
        &entry.workspace,
    ) {
        (Some(p), _) => p,
        (None, Some(w)) => expand(w),
        (None, None) => match &config.defaults.workspace {
            Some(w) => expand(w),
            None => match &overrides.workspace {
                Some(p) => p.clone(),
                None => std::env::current_dir().map_err(|e| {
                    SetupError::Invalid(format!("cannot read the current directory: {e}"))
                })?,
            },
        },
    };
    let workspace = check_workspace(dir, &workspace, &config.agent.broad_workspaces)?;
    Ok(Profile {
        id: id.to_string(),
        workspace,
        model: cli(&overrides.model)
            .or_else(|| entry.model.clone())
            .or_else(|| config.defaults.model.clone()),
        fallbacks: entry.fallbacks.clone(),
        policy: cli(&overrides.policy)
            .or_else(|| entry.policy.clone())
            .unwrap_or_else(|| config.defaults.policy.clone()),
        instructions: entry.instructions.clone(),
        skills: entry.skills.clone(),
        tools: entry.tools.clone(),
        max_steps: main
            .then_some(overrides.max_steps)
            .flatten()
            .or(entry.max_steps)
            .unwrap_or(config.agent.max_steps),
        session_budget_usd: entry.session_budget_usd.or(config.agent.session_budget_usd),
        daily_budget_usd: entry
            .daily_budget_usd
            .or(config.agent.agent_daily_budget_usd),
    })
}

/// `~` and `~/…` against the user's home.
fn expand(path: &str) -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    match (path, home) {
        ("~", Some(h)) => h,
        (p, Some(h)) if p.starts_with("~/") => h.join(&p[2..]),
        (p, _) => PathBuf::from(p),
    }
}

/// A workspace must be an existing directory, given absolute, and never inside the data dir.
/// The root directory, the home directory or one holding the data dir is refused unless it is
/// among `confirmed` (config `agent.broad_workspaces`): every tool would reach all of it. The
/// answer is canonical.
pub fn check_workspace(
    dir: &DataDir,
    path: &Path,
    confirmed: &[String],
) -> Result<PathBuf, SetupError> {
    if !path.is_absolute() {
        return Err(SetupError::Invalid(format!(
            "workspace {} is not an absolute path",
            path.display()
        )));
    }
    let canonical = std::fs::canonicalize(path).map_err(|e| {
        SetupError::Invalid(format!("workspace {} does not exist: {e}", path.display()))
    })?;
    if !canonical.is_dir() {
        return Err(SetupError::Invalid(format!(
            "workspace {} is not a directory",
            path.display()
        )));
    }
    let data = std::fs::canonicalize(dir.root()).unwrap_or_else(|_| dir.root().to_path_buf());
    if canonical == data || canonical.starts_with(&data) {
        return Err(SetupError::Invalid(format!(
            "workspace {} is the data dir (or inside it); tools must not reach Pryx's own data — pick a project directory",
            path.display()
        )));
    }
    if let Some(reason) = broad_reason(dir, &canonical)
        && !is_confirmed(confirmed, &canonical)
    {
        return Err(SetupError::Invalid(format!(
            "workspace {} is {reason}: every tool would reach all of it. Run Pryx from a project directory, or confirm this workspace with `pryx run --allow-broad-workspace` (saved in config as agent.broad_workspaces)",
            canonical.display()
        )));
    }
    Ok(canonical)
}

/// Whether the user confirmed this (canonical) broad workspace: it is among `confirmed`
/// (config `agent.broad_workspaces`, `~` allowed).
pub fn is_confirmed(confirmed: &[String], canonical: &Path) -> bool {
    confirmed
        .iter()
        .any(|c| std::fs::canonicalize(expand(c)).is_ok_and(|c| c == canonical))
}

/// Why a (canonical) workspace is broader than a project, if it is: the root directory, the
/// user's home, or a directory holding the data dir. Tools still never reach the data dir.
pub fn broad_reason(dir: &DataDir, canonical: &Path) -> Option<&'static str> {
    if canonical.parent().is_none() {
        return Some("the root directory");
    }
    let home = std::env::var_os("HOME").and_then(|h| std::fs::canonicalize(h).ok());
    if home.as_deref() == Some(canonical) {
        return Some("your home directory");
    }
    let data = std::fs::canonicalize(dir.root()).unwrap_or_else(|_| dir.root().to_path_buf());
    data.starts_with(canonical)
        .then_some("a directory that holds Pryx's data dir")
}

#[cfg(test)]
mod tests {
    use super::*;
    use pryx_config::AgentProfile;

    fn setup() -> (tempfile::TempDir, DataDir, PathBuf) {
        let t = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let dir = DataDir::at(t.path().join("home"));
        dir.ensure().unwrap_or_else(|e| panic!("{e}"));
        let ws = t.path().join("ws");
        std::fs::create_dir(&ws).unwrap_or_else(|e| panic!("{e}"));
        (t, dir, ws)
    }

    #[test]
    fn main_takes_overrides_then_its_entry_then_defaults() {
        let (_t, dir, ws) = setup();
        let mut config = Config::default();
        config.defaults.model = Some("a/default".into());
        config.agents.insert(
            "research".into(),
            AgentProfile {
                workspace: Some(ws.display().to_string()),
                model: Some("b/research".into()),
                policy: Some("read-only".into()),
                max_steps: Some(7),
                ..AgentProfile::default()
            },
        );
        let overrides = Overrides {
            workspace: Some(ws.clone()),
            model: Some("c/cli".into()),
            ..Overrides::default()
        };
        let main = resolve(&dir, &config, &overrides, "main").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(main.model.as_deref(), Some("c/cli"));
        assert_eq!(main.policy, "workspace-only");
        assert_eq!(main.max_steps, 50);
        let r = resolve(&dir, &config, &overrides, "research").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.model.as_deref(), Some("b/research"));
        assert_eq!(r.policy, "read-only");
        assert_eq!(r.max_steps, 7);
        let e = resolve(&dir, &config, &overrides, "nope").unwrap_err();
        assert!(
            matches!(&e, SetupError::Unknown(m) if m.contains("main, research")),
            "{e}"
        );
    }

    #[test]
    fn a_workspace_must_be_a_directory_and_not_the_data_dir() {
        let (t, dir, ws) = setup();
        assert!(check_workspace(&dir, &ws, &[]).is_ok());
        let file = t.path().join("f");
        std::fs::write(&file, "x").unwrap_or_else(|e| panic!("{e}"));
        for (bad, says) in [
            (file.clone(), "not a directory"),
            (t.path().join("missing"), "does not exist"),
            (dir.root().to_path_buf(), "data dir"),
            (PathBuf::from("relative/x"), "absolute"),
        ] {
            let e = check_workspace(&dir, &bad, &[]).unwrap_err();
            assert!(
                matches!(&e, SetupError::Invalid(m) if m.contains(says)),
                "{bad:?}: {e}"
            );
        }
    }

    #[test]
    fn broad_workspaces_need_a_confirmation() {
        let (t, dir, _ws) = setup();
        // The temp dir holds the data dir; `/` is the root.
        let holder = std::fs::canonicalize(t.path()).unwrap_or_else(|e| panic!("{e}"));
        for (broad, says) in [
            (holder.clone(), "holds Pryx's data dir"),
            (PathBuf::from("/"), "root directory"),
        ] {
            let e = check_workspace(&dir, &broad, &[]).unwrap_err();
            assert!(
                matches!(&e, SetupError::Invalid(m) if m.contains(says) && m.contains("--allow-broad-workspace")),
                "{broad:?}: {e}"
            );
            let confirmed = [broad.display().to_string()];
            assert_eq!(
                check_workspace(&dir, &broad, &confirmed).unwrap_or_else(|e| panic!("{e}")),
                broad
            );
        }
        // Confirming one broad workspace does not confirm another.
        let e = check_workspace(&dir, Path::new("/"), &[holder.display().to_string()]);
        assert!(e.is_err());
    }
}
