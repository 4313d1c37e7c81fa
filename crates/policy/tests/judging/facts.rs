//! Reading shell-analysis facts in tests: the paths and roles found, the doubts raised, the
//! capabilities shown.

use pryx_policy::shell::{Capability, PathRole, ShellFacts};

/// Every path use, in order, as (text, role).
pub fn paths(f: &ShellFacts) -> Vec<(&str, PathRole)> {
    f.paths.iter().map(|p| (p.raw.as_str(), p.role)).collect()
}

/// Whether one of the doubts says `needle`.
pub fn asks_with(f: &ShellFacts, needle: &str) -> bool {
    f.asks.iter().any(|a| a.contains(needle))
}

/// Whether any command shows `capability`.
pub fn can(f: &ShellFacts, capability: Capability) -> bool {
    f.commands
        .iter()
        .flat_map(|c| &c.powers)
        .any(|p| p.capability == capability)
}

/// Why an awk program or sed script was not understood (it may then run anything), if it was not.
pub fn not_understood(f: &ShellFacts) -> Option<&str> {
    f.commands
        .iter()
        .flat_map(|c| &c.powers)
        .find(|p| p.capability == Capability::Exec && p.what.contains("not understood"))
        .map(|p| p.what.as_str())
}
