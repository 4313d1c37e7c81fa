//! Checks of the files in the data directory that are not the database: the directory itself,
//! permissions, `config.json` and the secret store. Reading only; the one write is creating a
//! missing data directory (first use), never in one that cannot be written.

use super::report::Check;
use pryx_config::{Config, ConfigError, DataDir, PermissionProblem, SecretStore};
use pryx_store::WriteBlock;

/// Confirms the data directory exists (creating it, mode 0700, on first use) and can be written.
pub fn data_dir(dir: &DataDir) -> Check {
    const NAME: &str = "data_dir";
    let root = dir.root();
    let existed = match std::fs::metadata(root) {
        Ok(meta) if meta.is_dir() => true,
        Ok(_) => {
            return Check::fail(
                NAME,
                format!("{} exists but is not a directory", root.display()),
                "move it aside, or point PRYX_HOME at a directory",
            );
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => {
            return Check::fail(
                NAME,
                format!("cannot read {}: {e}", root.display()),
                "make it accessible to your user, or point PRYX_HOME elsewhere",
            );
        }
    };
    // A directory Pryx cannot write (a read-only mount, another owner) is reported, not created in.
    if existed && let Some(cause) = WriteBlock::of(root) {
        return Check::fail(
            NAME,
            format!("{} cannot be written: {cause}", root.display()),
            cause.fix(),
        );
    }
    // Creates only what is missing; never changes the mode of what exists.
    if let Err(e) = dir.ensure() {
        return Check::fail(
            NAME,
            e.to_string(),
            "point PRYX_HOME at a writable location",
        );
    }
    if existed {
        Check::ok(NAME, root.display().to_string())
    } else {
        Check::ok(NAME, format!("{} (created, mode 0700)", root.display()))
    }
}

/// Directories must be 0700 and files unreadable by group and others.
pub fn permissions(dir: &DataDir) -> Check {
    const NAME: &str = "permissions";
    let problems = pryx_config::check_permissions(dir);
    let Some(first) = problems.first() else {
        return Check::ok(NAME, "directories 0700, files private");
    };
    let more = match problems.len() - 1 {
        0 => String::new(),
        n => format!(" (and {n} more)"),
    };
    let message = format!(
        "{} has mode {:04o}, expected {:04o}{more}",
        first.path.display(),
        first.mode,
        first.expected
    );
    Check::fail(NAME, message, chmod_hint(&problems))
}

fn chmod_hint(problems: &[PermissionProblem]) -> String {
    let shown: Vec<String> = problems
        .iter()
        .take(3)
        .map(|p| format!("chmod {:o} {}", p.expected, p.path.display()))
        .collect();
    let mut hint = shown.join("; ");
    if problems.len() > 3 {
        hint.push_str(&format!("; and {} more like these", problems.len() - 3));
    }
    hint
}

/// Parses and validates `config.json`; returns the config for the checks that use it.
pub fn config(dir: &DataDir) -> (Check, Option<Config>) {
    const NAME: &str = "config";
    let file = dir.config_file();
    match Config::load(dir) {
        Ok(cfg) if file.exists() => (
            Check::ok(NAME, format!("{} is valid", file.display())),
            Some(cfg),
        ),
        Ok(cfg) => (
            Check::ok(
                NAME,
                format!("{} not present; defaults apply", file.display()),
            ),
            Some(cfg),
        ),
        Err(ConfigError::Syntax {
            file,
            line,
            column,
            message,
        }) => (
            Check::fail(
                NAME,
                format!(
                    "{} is not valid JSON at line {line}, column {column}: {message}",
                    file.display()
                ),
                format!(
                    "edit {} at line {line}, column {column} to fix the JSON (doctor leaves the file as it is)",
                    file.display()
                ),
            ),
            None,
        ),
        Err(ConfigError::Invalid { file, problems }) => {
            let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
            (
                Check::fail(
                    NAME,
                    format!("{} is invalid: {}", file.display(), list.join("; ")),
                    "change each key with `pryx config set KEY VALUE` or `pryx config unset KEY`, or edit the file",
                ),
                None,
            )
        }
        Err(e) => (
            Check::fail(
                NAME,
                e.to_string(),
                format!("make {} readable by your user (mode 0600)", file.display()),
            ),
            None,
        ),
    }
}

/// The secret store opens and decrypts, and every `secret:`/`env:` reference in the config resolves.
pub fn secrets(dir: &DataDir, config: Option<&Config>) -> Check {
    const NAME: &str = "secret_store";
    let health = pryx_config::health_check(dir);
    let backend = health.backend.unwrap_or("none");
    if !health.problems.is_empty() {
        let hint = match health.backend {
            None => {
                "unlock the OS keychain, or set PRYX_SECRET_BACKEND=file to use the encrypted file"
            }
            Some("keychain") => "unlock or start the OS keychain",
            Some(_) => {
                "restore secrets.enc and secrets.key from a backup, or remove both and set the secrets again with `pryx secrets set NAME`"
            }
        };
        return Check::fail(NAME, health.problems.join("; "), hint);
    }
    let unresolved = config.map(|c| unresolved_refs(dir, c)).unwrap_or_default();
    if unresolved.is_empty() {
        return Check::ok(NAME, format!("backend `{backend}` works"));
    }
    let (keys, fixes): (Vec<String>, Vec<String>) = unresolved.into_iter().unzip();
    Check::warn(
        NAME,
        format!(
            "backend `{backend}` works, but these config references do not resolve: {}",
            keys.join(", ")
        ),
        fixes.join("; "),
    )
}

/// `(key = reference, fix)` for every reference in the config that does not resolve.
fn unresolved_refs(dir: &DataDir, config: &Config) -> Vec<(String, String)> {
    let mut refs: Vec<(String, &str)> = Vec::new();
    for (id, p) in &config.providers {
        if let Some(r) = &p.api_key {
            refs.push((format!("providers.{id}.api_key"), r));
        }
    }
    for (name, s) in &config.skills.entries {
        if let Some(r) = &s.api_key {
            refs.push((format!("skills.entries.{name}.apiKey"), r));
        }
    }
    if refs.is_empty() {
        return Vec::new();
    }
    let Ok(store) = SecretStore::open(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, reference) in refs {
        if store.resolve(reference).is_ok() {
            continue;
        }
        let fix = if let Some(name) = reference.strip_prefix("secret:") {
            format!("`pryx secrets set {name}`")
        } else if let Some(var) = reference.strip_prefix("env:") {
            format!("export {var} before starting Pryx")
        } else {
            format!("use `secret:NAME` or `env:VAR` for {key}")
        };
        out.push((format!("{key} = {reference}"), fix));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn chmod_hint_lists_at_most_three() {
        let p = |i: u32| PermissionProblem {
            path: PathBuf::from(format!("/d/{i}")),
            mode: 0o644,
            expected: 0o600,
        };
        assert_eq!(chmod_hint(&[p(1)]), "chmod 600 /d/1");
        let hint = chmod_hint(&[p(1), p(2), p(3), p(4), p(5)]);
        assert!(hint.starts_with("chmod 600 /d/1; chmod 600 /d/2; chmod 600 /d/3"));
        assert!(hint.ends_with("and 2 more like these"), "{hint}");
    }
}
