//! The policies a session can run under, as `/policies` of the API and the dashboard's Policies
//! page show them: the built-in modes and the files of `policies/`, with who uses each; files
//! are written only once the engine's parser accepts them, and removed only when nothing names
//! them.

use crate::{Core, CoreError};
use pryx_policy::{BUILTIN_NAMES, builtin, load_dir, parse_policy};
use pryx_protocol::api::{PolicyList, PolicyView};

/// Largest policy file written.
pub const MAX_POLICY_YAML: usize = 256 * 1024;

/// Only plain names, never paths: a file policy lives in the data dir's `policies/`.
fn check_name(name: &str) -> Result<(), CoreError> {
    if pryx_policy::is_plain_name(name) {
        Ok(())
    } else {
        Err(CoreError::Unusable(
            "a policy name uses letters, digits, - and _ (up to 128), starting with a letter or digit"
                .into(),
        ))
    }
}

impl Core {
    /// Built-in modes first, then the files of `policies/` by file name, each with whether new
    /// sessions use it and which agents name it.
    pub fn policies(&self) -> PolicyList {
        let snap = self.settings();
        let config = &snap.config;
        let view = |name: String, file: Option<String>, yaml: String| PolicyView {
            builtin: file.is_none(),
            default: config.defaults.policy == name,
            agents: config
                .agents
                .iter()
                .filter(|(_, a)| a.policy.as_deref() == Some(name.as_str()))
                .map(|(id, _)| id.clone())
                .collect(),
            name,
            file,
            yaml,
        };
        let mut policies: Vec<PolicyView> = BUILTIN_NAMES
            .iter()
            .filter_map(|n| builtin(n))
            .map(|p| {
                let yaml = serde_yaml_ng::to_string(&p).unwrap_or_default();
                view(p.name, None, yaml)
            })
            .collect();
        let report = load_dir(&self.dir().policies_dir());
        for (path, p) in report.policies {
            let yaml = std::fs::read_to_string(&path).unwrap_or_default();
            policies.push(view(p.name, Some(path.display().to_string()), yaml));
        }
        PolicyList {
            policies,
            problems: report.errors.iter().map(ToString::to_string).collect(),
        }
    }

    /// One policy by name.
    pub fn policy(&self, name: &str) -> Result<PolicyView, CoreError> {
        self.policies()
            .policies
            .into_iter()
            .find(|p| p.name == name)
            .ok_or_else(|| {
                CoreError::NotFound(format!(
                    "no policy named {name}; GET /api/v1/policies lists them"
                ))
            })
    }

    /// Writes `policies/NAME.yaml` once the engine's parser accepts `yaml` and it names itself
    /// `name`; built-in names are refused. Audited as `policy.saved`.
    pub fn save_policy(
        &self,
        name: &str,
        yaml: &str,
        actor: &str,
    ) -> Result<PolicyView, CoreError> {
        let name = name.trim();
        check_name(name)?;
        if BUILTIN_NAMES.contains(&name) {
            return Err(CoreError::Unusable(format!(
                "{name} is built in; save your version under another name"
            )));
        }
        if yaml.len() > MAX_POLICY_YAML {
            return Err(CoreError::Unusable(format!(
                "a policy file is at most {} KB",
                MAX_POLICY_YAML / 1024
            )));
        }
        let dir = self.dir().policies_dir();
        let path = dir.join(format!("{name}.yaml"));
        match parse_policy(yaml, &path) {
            Err(e) => return Err(CoreError::Unusable(e.to_string())),
            Ok(p) if p.name != name => {
                return Err(CoreError::Unusable(format!(
                    "the file says `name: {}`; it must be `name: {name}` to be saved as {name}.yaml",
                    p.name
                )));
            }
            Ok(_) => {}
        }
        let existed = path.exists();
        pryx_config::create_private_dir(&dir)
            .and_then(|()| pryx_config::atomic_write(&path, yaml.as_bytes()))
            .map_err(|e| CoreError::Internal(format!("cannot write {}: {e}", path.display())))?;
        let details =
            serde_json::json!({ "file": path.display().to_string(), "created": !existed });
        self.audit_change(actor, "policy.saved", "policy", name, details, true);
        self.policy(name)
    }

    /// Removes a policy file; refused for a built-in and while new sessions or an agent use it.
    /// Audited as `policy.removed`.
    pub fn remove_policy(&self, name: &str, actor: &str) -> Result<(), CoreError> {
        check_name(name)?;
        let p = self.policy(name)?;
        let Some(file) = p.file else {
            return Err(CoreError::Unusable(format!(
                "{name} is built in and cannot be removed"
            )));
        };
        if p.default {
            return Err(CoreError::Conflict(format!(
                "{name} is the default policy of new sessions; choose another (PUT /api/v1/policy) first"
            )));
        }
        if !p.agents.is_empty() {
            return Err(CoreError::Conflict(format!(
                "{name} is the policy of agent {}; give it another first",
                p.agents.join(", ")
            )));
        }
        std::fs::remove_file(&file)
            .map_err(|e| CoreError::Internal(format!("cannot remove {file}: {e}")))?;
        self.audit_change(
            actor,
            "policy.removed",
            "policy",
            name,
            serde_json::json!({ "file": file }),
            true,
        );
        Ok(())
    }
}
