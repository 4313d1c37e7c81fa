//! The outcome of judging one tool call.

use serde::{Deserialize, Serialize};

/// What to do with a tool call. Ordered by severity so that combining judgements is `max`:
/// deny beats ask beats allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Allow,
    Ask,
    Deny,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "allow",
            Action::Ask => "ask",
            Action::Deny => "deny",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A judgement with the rule that decided it, so approvals, audit and errors can say why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub action: Action,
    /// Human-readable name of the deciding rule, e.g. `workspace-only: tools.ask[shell.exec]`.
    pub rule: String,
    /// One sentence for the user.
    pub reason: String,
    /// Structured facts (e.g. `attempted_path`, `resolved_path`, `command`).
    pub details: serde_json::Value,
    /// The call is allowed to write code-bearing files (`.git/config`, `Makefile`…): the
    /// allowing rule names each one it writes. Otherwise the shell sandbox keeps them read-only
    /// unless a person approved the call.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub writes_code_files: bool,
    /// For a shell call that reaches the network (a command in it shows `fetch`): the TCP
    /// ports it may connect to once it runs, allowed or approved. `None`: no network at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_ports: Option<Vec<u16>>,
}

impl Decision {
    pub fn new(action: Action, rule: impl Into<String>, reason: impl Into<String>) -> Self {
        Decision {
            action,
            rule: rule.into(),
            reason: reason.into(),
            details: serde_json::Value::Object(serde_json::Map::new()),
            writes_code_files: false,
            network_ports: None,
        }
    }

    /// Adds one structured detail (overwrites an earlier value under the same key).
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        if let serde_json::Value::Object(map) = &mut self.details {
            map.insert(key.to_string(), value.into());
        }
        self
    }

    /// Keeps the stricter of two decisions; on a tie the earlier one stays (it is the first cause).
    pub fn stricter(self, other: Decision) -> Decision {
        if other.action > self.action {
            other
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_named_the_way_policy_files_write_them() {
        for (action, name) in [
            (Action::Allow, "allow"),
            (Action::Ask, "ask"),
            (Action::Deny, "deny"),
        ] {
            assert_eq!(action.as_str(), name);
            assert_eq!(action.to_string(), name);
        }
    }
}
