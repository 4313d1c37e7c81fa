//! The built-in policies (the three modes users pick from).

use crate::decision::Action;
use crate::document::{Defaults, Policy};

/// The policy used when none is chosen.
pub const DEFAULT_POLICY: &str = "workspace-only";

/// Names of the built-in policies; user files may not reuse them.
pub const BUILTIN_NAMES: &[&str] = &["read-only", "workspace-only", "network-allowlist"];

/// A built-in policy by name.
pub fn builtin(name: &str) -> Option<Policy> {
    let (description, defaults) = match name {
        "workspace-only" => (
            "Read inside the workspace; writes, shell and unlisted network ask; nothing outside the workspace",
            Defaults::default(),
        ),
        "read-only" => (
            "Read inside the workspace; no writes, no shell; network asks",
            Defaults {
                write: Action::Deny,
                exec: Action::Deny,
                unknown: Action::Deny,
                ..Defaults::default()
            },
        ),
        "network-allowlist" => (
            "Like workspace-only, but network outside the allow-list is denied",
            Defaults {
                network: Action::Deny,
                ..Defaults::default()
            },
        ),
        _ => return None,
    };
    Some(Policy {
        name: name.to_string(),
        description: description.to_string(),
        workspace: Default::default(),
        defaults,
        tools: Default::default(),
        network: Default::default(),
        rate_limits: Default::default(),
        approval: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_name_resolves() {
        for name in BUILTIN_NAMES {
            let p = builtin(name).unwrap();
            assert_eq!(&p.name, name);
            assert_eq!(p.approval_default(), Action::Deny);
        }
        assert!(builtin(DEFAULT_POLICY).is_some());
        assert!(builtin("nope").is_none());
    }

    /// What the dashboard shows of a built-in is a file that loads as the same policy, so a copy
    /// under another name is a working start.
    #[test]
    fn every_builtin_written_as_yaml_reads_back_the_same() {
        for name in BUILTIN_NAMES {
            let p = builtin(name).unwrap();
            let yaml = serde_yaml_ng::to_string(&p).unwrap();
            let back = crate::parse_policy(&yaml, std::path::Path::new("copy.yaml"))
                .unwrap_or_else(|e| panic!("{name}: {e}\n{yaml}"));
            assert_eq!(back, p, "{yaml}");
        }
        let mut constrained = builtin("workspace-only").unwrap();
        constrained.tools.allowed.push(crate::ToolRule {
            pattern: "shell.exec".into(),
            constraints: crate::Constraints {
                commands: vec!["git status".into()],
                ..Default::default()
            },
        });
        let yaml = serde_yaml_ng::to_string(&constrained).unwrap();
        assert!(yaml.contains("shell.exec:"), "{yaml}");
        let back = crate::parse_policy(&yaml, std::path::Path::new("c.yaml")).unwrap();
        assert_eq!(back, constrained);
    }
}
