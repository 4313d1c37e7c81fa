//! Variable assignments: those that change what commands load or run ask.

use super::{PathRole, ShellFacts, looks_like_path};

/// Environment variables that change what a command loads or runs.
const DANGEROUS_ENV: &[&str] = &[
    "PATH",
    "BASH_ENV",
    "ENV",
    "IFS",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "PROMPT_COMMAND",
    "CDPATH",
    "HOME",
    "SHELL",
    "ZDOTDIR",
    "EDITOR",
    "VISUAL",
    "PAGER",
    "MANPAGER",
    "MANOPT",
    "BROWSER",
    "LESSOPEN",
    "LESSCLOSE",
    "LESSKEY",
    "LESSKEYIN",
    "LESSKEY_CONTENT",
    "LESSEDIT",
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_EXEC_PATH",
    "GIT_PAGER",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_EXTERNAL_DIFF",
    "GIT_PROXY_COMMAND",
    "GIT_ASKPASS",
    "GIT_TEMPLATE_DIR",
    "SSH_ASKPASS",
    "TAR_OPTIONS",
    "AWKPATH",
    "AWKLIBPATH",
    "MAKEFLAGS",
    "MAKEFILES",
    "RUSTC_WRAPPER",
];
const DANGEROUS_ENV_PREFIXES: &[&str] = &[
    "LD_",
    "DYLD_",
    "PYTHON",
    "NODE_",
    "PERL5",
    "PERL_",
    "RUBY",
    "JAVA_TOOL",
    "_JAVA",
    // GIT_CONFIG, GIT_CONFIG_GLOBAL, GIT_CONFIG_PARAMETERS, GIT_CONFIG_COUNT, GIT_CONFIG_KEY_<n>…
    "GIT_CONFIG",
    // Exported bash functions.
    "BASH_FUNC_",
];

/// Judges `NAME=value`, before a command (`prefix`) or on its own. A variable that is already
/// exported (`PATH`, `HOME`, …) keeps its new value for the commands that follow, so a
/// dangerous name asks either way.
pub(super) fn assignment(text: &str, facts: &mut ShellFacts, prefix: bool) {
    let (name, value) = text.split_once('=').unwrap_or((text, ""));
    if DANGEROUS_ENV.contains(&name) || DANGEROUS_ENV_PREFIXES.iter().any(|p| name.starts_with(p)) {
        let what = if prefix {
            "the command loads or runs"
        } else {
            "later commands load or run"
        };
        facts.ask(format!("environment variable `{name}` changes what {what}"));
    }
    if looks_like_path(value) {
        facts.path(value, PathRole::Read, &format!("{name}="), false, false);
    }
}
