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
}
