//! Is the workspace `pryx run` would use here (and each agent profile's) a project, or the
//! whole root or home directory? The latter is refused until confirmed, and worth a warning
//! once confirmed: every tool reaches all of it (except the data dir).

use std::path::PathBuf;

use pryx_config::{Config, DataDir};
use pryx_core::profiles::{broad_reason, is_confirmed};

use super::report::Check;

const NAME: &str = "workspace";

pub fn check(dir: &DataDir, config: Option<&Config>) -> Check {
    let confirmed: &[String] = config.map_or(&[], |c| &c.agent.broad_workspaces);
    let mut places: Vec<(String, PathBuf)> = Vec::new();
    if let Ok(cwd) = std::env::current_dir() {
        places.push(("the current directory".into(), cwd));
    }
    if let Some(c) = config {
        for (id, profile) in &c.agents {
            if let Some(w) = &profile.workspace {
                places.push((format!("agent {id}'s workspace"), PathBuf::from(w)));
            }
        }
    }
    let mut warnings = Vec::new();
    let mut refused = Vec::new();
    for (what, path) in places {
        let Ok(canonical) = std::fs::canonicalize(&path) else {
            continue;
        };
        let Some(reason) = broad_reason(dir, &canonical) else {
            continue;
        };
        if is_confirmed(confirmed, &canonical) {
            warnings.push(format!(
                "{what} {} is {reason} (confirmed)",
                canonical.display()
            ));
        } else {
            refused.push(format!("{what} {} is {reason}", canonical.display()));
        }
    }
    match (refused.is_empty(), warnings.is_empty()) {
        (true, true) => Check::ok(NAME, "the workspace is a project directory"),
        (false, _) => Check::warn(
            NAME,
            format!("{}; sessions there are refused", refused.join("; ")),
            "run Pryx from a project directory, or confirm with `pryx run --allow-broad-workspace`",
        ),
        (true, false) => Check::warn(
            NAME,
            format!(
                "{}: tools reach everything in it except Pryx's data dir",
                warnings.join("; ")
            ),
            "prefer a project directory; remove it from config agent.broad_workspaces to undo",
        ),
    }
}
