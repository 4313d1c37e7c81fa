//! The policy a run is judged by: a built-in mode or a YAML file in the data dir's `policies/`.

use super::SetupError;
use pryx_config::DataDir;
use pryx_policy::{BUILTIN_NAMES, Policy, builtin, load_file};

/// `name` is a built-in mode (`workspace-only`, `read-only`, `network-allowlist`) or the stem of
/// `policies/NAME.yaml` (or `.yml`); a path to a YAML file also works.
pub fn load_policy(dir: &DataDir, name: &str) -> Result<Policy, SetupError> {
    let as_path = std::path::Path::new(name);
    if name.ends_with(".yaml") || name.ends_with(".yml") || as_path.is_absolute() {
        return load_file(as_path)
            .map_err(|e| SetupError::Failed(format!("cannot load policy file {name}: {e}")));
    }
    for ext in ["yaml", "yml"] {
        let file = dir.policies_dir().join(format!("{name}.{ext}"));
        if file.exists() {
            return load_file(&file).map_err(|e| {
                SetupError::Failed(format!("cannot load policy {}: {e}", file.display()))
            });
        }
    }
    if let Some(p) = builtin(name) {
        return Ok(p);
    }
    Err(SetupError::Unknown(format!(
        "unknown policy {name:?}: use one of {} or put {name}.yaml in {}",
        BUILTIN_NAMES.join(", "),
        dir.policies_dir().display()
    )))
}
