//! Reading policy files: strict YAML, then validation of patterns and values.

use std::path::{Path, PathBuf};

use crate::builtin::BUILTIN_NAMES;
use crate::decision::Action;
use crate::document::{Policy, ToolRule};
use crate::network::LocalAddress;
use crate::pattern::{valid_domain_pattern, valid_tool_pattern};

/// Why a policy file was rejected. Each names the file and, where known, the line.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("{path}:{line}:{column}: {message}; fix the policy file and reload")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: {message}; fix the policy file and reload")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: cannot read policy file: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl PolicyError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            PolicyError::Syntax { path, .. }
            | PolicyError::Invalid { path, .. }
            | PolicyError::Io { path, .. } => path,
        }
    }
}

/// Parses and validates one policy document; `source` is only used in error messages.
pub fn parse_policy(text: &str, source: &Path) -> Result<Policy, PolicyError> {
    let policy: Policy = serde_yaml_ng::from_str(text).map_err(|e| {
        let location = e.location();
        let (line, column) = location.as_ref().map_or((0, 0), |l| (l.line(), l.column()));
        // The library appends " at line X column Y"; we print the location in front instead.
        let message = e.to_string();
        let message = match (location, message.rfind(" at line ")) {
            (Some(_), Some(i)) => message[..i].to_string(),
            _ => message,
        };
        PolicyError::Syntax {
            path: source.to_path_buf(),
            line,
            column,
            message,
        }
    })?;
    validate(&policy).map_err(|message| PolicyError::Invalid {
        path: source.to_path_buf(),
        message,
    })?;
    Ok(policy)
}

/// Reads, parses and validates one file.
pub fn load_file(path: &Path) -> Result<Policy, PolicyError> {
    use pryx_protocol::regular_file::{FileReadError, SETTINGS_FILE_CAP, read_regular_file};
    let bytes = read_regular_file(path, SETTINGS_FILE_CAP).map_err(|e| PolicyError::Io {
        path: path.to_path_buf(),
        source: match e {
            FileReadError::Io { source, .. } => source,
            other => std::io::Error::other(other.to_string()),
        },
    })?;
    let text = String::from_utf8(bytes).map_err(|_| PolicyError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "the file is not UTF-8 text; save it as UTF-8",
        ),
    })?;
    parse_policy(&text, path)
}

/// The policies in a directory, and the files that were skipped with the reason.
#[derive(Debug, Default)]
pub struct LoadReport {
    pub policies: Vec<(PathBuf, Policy)>,
    pub errors: Vec<PolicyError>,
}

/// Loads every `*.yaml` / `*.yml` in `dir` (sorted by file name). A bad file is reported and
/// skipped; so is a second file with a name already taken or a built-in's name. A missing
/// directory is an empty report.
pub fn load_dir(dir: &Path) -> LoadReport {
    let mut report = LoadReport::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return report,
        Err(source) => {
            report.errors.push(PolicyError::Io {
                path: dir.to_path_buf(),
                source,
            });
            return report;
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml") && p.is_file())
        .collect();
    files.sort();
    for file in files {
        match load_file(&file) {
            Ok(policy) => {
                if BUILTIN_NAMES.contains(&policy.name.as_str()) {
                    report.errors.push(PolicyError::Invalid {
                        path: file,
                        message: format!(
                            "name `{}` is reserved for a built-in policy: choose another name",
                            policy.name
                        ),
                    });
                } else if let Some((first, _)) =
                    report.policies.iter().find(|(_, p)| p.name == policy.name)
                {
                    report.errors.push(PolicyError::Invalid {
                        message: format!(
                            "name `{}` is already used by {}: names must be unique",
                            policy.name,
                            first.display()
                        ),
                        path: file,
                    });
                } else {
                    report.policies.push((file, policy));
                }
            }
            Err(e) => report.errors.push(e),
        }
    }
    report
}

/// Whether `name` can stand for a policy on its own (a built-in mode or the stem of a file in
/// `policies/`): letters, digits, `-` and `_`, starting with a letter or digit, at most 128
/// characters; never a path.
pub fn is_plain_name(name: &str) -> bool {
    name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
}

fn validate(p: &Policy) -> Result<(), String> {
    if p.name.trim().is_empty()
        || !p
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "name `{}` must be non-empty and use letters, digits, `-`, `_` or `.`",
            p.name
        ));
    }
    if let Some(root) = &p.workspace.root
        && !(root.starts_with('/') || root == "~" || root.starts_with("~/"))
    {
        return Err(format!(
            "workspace.root `{root}` must be an absolute path or start with `~/`"
        ));
    }
    for o in &p.workspace.allow_outside {
        if !(o.path.starts_with('/') || o.path.starts_with("~/")) || o.path.contains('\0') {
            return Err(format!(
                "workspace.allow_outside `{}` must be an absolute path or start with `~/`",
                o.path
            ));
        }
        if o.path.split('/').any(|c| c == "..") {
            return Err(format!(
                "workspace.allow_outside `{}` must not contain `..`",
                o.path
            ));
        }
    }
    for (list, rules) in [
        ("allowed", &p.tools.allowed),
        ("ask", &p.tools.ask),
        ("denied", &p.tools.denied),
    ] {
        for rule in rules {
            validate_rule(list, rule)?;
        }
    }
    for d in &p.network.domains {
        check_domain(d).map_err(|e| format!("network.domains: {e}"))?;
    }
    for pat in p.rate_limits.tools.keys() {
        if !valid_tool_pattern(pat) {
            return Err(format!(
                "rate_limits.tools: `{pat}` is not a tool pattern (letters, digits, `._-*`)"
            ));
        }
    }
    if p.approval.default != Action::Deny {
        return Err(format!(
            "approval.default `{}` is not supported: an unanswered approval is always `deny`",
            p.approval.default
        ));
    }
    if p.approval.timeout_secs == 0 {
        return Err("approval.timeout must be greater than zero".to_string());
    }
    Ok(())
}

/// A domain entry: a host name, `*.domain`, `*`, or an address with an optional port.
fn check_domain(d: &str) -> Result<(), String> {
    if !valid_domain_pattern(d) {
        return Err(format!(
            "`{d}` is not a host name, `*.domain` pattern or `host:port` address"
        ));
    }
    LocalAddress::parse(d).map(|_| ())
}

fn validate_rule(list: &str, rule: &ToolRule) -> Result<(), String> {
    let at = format!("tools.{list}[{}]", rule.pattern);
    if !valid_tool_pattern(&rule.pattern) {
        return Err(format!(
            "{at}: `{}` is not a tool pattern (letters, digits, `._-*`)",
            rule.pattern
        ));
    }
    for d in &rule.constraints.domains {
        check_domain(d).map_err(|e| format!("{at}: {e}"))?;
    }
    for c in &rule.constraints.commands {
        crate::commands::CommandEntry::parse(c).map_err(|e| format!("{at}: {e}"))?;
    }
    for g in &rule.constraints.paths {
        if let Err(e) = globset::Glob::new(g) {
            return Err(format!("{at}: path glob `{g}` is invalid: {e}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy, PolicyError> {
        parse_policy(text, Path::new("p.yaml"))
    }

    #[test]
    fn parses_the_reference_example() {
        let text = r#"
name: trading-safe
description: Policy for trading via Telegram

workspace:
  root: ~/trading
  allow_outside: false

tools:
  allowed:
    - filesystem.read
    - http.request:
        domains: [api.binance.com, api.coinbase.com]
    - shell.exec:
        commands: [python, node]
  ask:
    - browser.*
    - clipboard.*
  denied:
    - shell.exec:
        commands: [rm, sudo, chmod]

rate_limits:
  requests_per_minute: 30
  tool_calls_per_minute: 10

approval:
  timeout: 5m
  default: deny
"#;
        let p = parse(text).unwrap();
        assert_eq!(p.name, "trading-safe");
        assert_eq!(p.workspace.root.as_deref(), Some("~/trading"));
        assert!(p.workspace.allow_outside.is_empty());
        assert_eq!(p.tools.allowed.len(), 3);
        assert_eq!(
            p.tools.allowed[1].constraints.domains,
            vec!["api.binance.com", "api.coinbase.com"]
        );
        assert_eq!(
            p.tools.denied[0].constraints.commands,
            vec!["rm", "sudo", "chmod"]
        );
        assert_eq!(p.rate_limits.tool_calls_per_minute, Some(10));
        assert_eq!(p.approval_timeout_secs(), 300);
        assert_eq!(p.approval_default(), Action::Deny);
        assert_eq!(
            p.workspace_root(Some(Path::new("/home/u"))),
            Some(PathBuf::from("/home/u/trading"))
        );
    }

    #[test]
    fn full_shape_with_outside_paths_and_defaults() {
        let text = "name: dev\nworkspace:\n  allow_outside:\n    - /opt/data\n    - {path: ~/cache, write: true}\n\
                    defaults: {write: allow, network: deny}\nnetwork: {domains: ['*.example.com']}\n\
                    rate_limits: {tools: {shell.exec: 5}}\napproval: {timeout_secs: 60}\n";
        let p = parse(text).unwrap();
        assert_eq!(p.workspace.allow_outside.len(), 2);
        assert!(!p.workspace.allow_outside[0].write);
        assert!(p.workspace.allow_outside[1].write);
        assert_eq!(p.defaults.write, Action::Allow);
        assert_eq!(p.defaults.exec, Action::Ask);
        assert_eq!(p.defaults.network, Action::Deny);
        assert_eq!(p.rate_limits.tools.get("shell.exec"), Some(&5));
        assert_eq!(p.approval_timeout_secs(), 60);
    }

    fn syntax_err(text: &str) -> (usize, String) {
        match parse(text) {
            Err(PolicyError::Syntax { line, message, .. }) => (line, message),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let (line, msg) = syntax_err("name: x\nworkspace:\n  roots: /x\n");
        assert_eq!(line, 3);
        assert!(msg.contains("roots"), "{msg}");
        let (line, msg) =
            syntax_err("name: x\ntools:\n  allowed:\n    - shell.exec:\n        command: [ls]\n");
        assert_eq!(line, 5);
        assert!(msg.contains("command"), "{msg}");
        let (line, msg) = syntax_err("name: x\nbogus: 1\n");
        assert_eq!(line, 2);
        assert!(msg.contains("bogus"), "{msg}");
        let err = parse("name: x\nbogus: 1\n").unwrap_err().to_string();
        assert!(err.starts_with("p.yaml:2:"), "{err}");
        // The location is said once, in front.
        assert!(!err.contains(" at line "), "{err}");
    }

    #[test]
    fn bad_values_are_rejected() {
        assert!(matches!(
            parse("name: x\nworkspace: {allow_outside: true}\n"),
            Err(PolicyError::Syntax { .. })
        ));
        assert!(matches!(
            parse("name: x\napproval: {default: allow}\n"),
            Err(PolicyError::Invalid { .. })
        ));
        assert!(matches!(
            parse("name: x\napproval: {timeout: soon}\n"),
            Err(PolicyError::Syntax { .. })
        ));
        assert!(matches!(
            parse("name: x\ntools: {allowed: ['fs read']}\n"),
            Err(PolicyError::Invalid { .. })
        ));
        assert!(matches!(
            parse("name: x\nnetwork: {domains: ['http://x']}\n"),
            Err(PolicyError::Invalid { .. })
        ));
        for bad in ["127.0.0.1:99999", "169.254.169.254", "'::1'", "'[::1'"] {
            let err = parse(&format!("name: x\nnetwork: {{domains: [{bad}]}}\n")).unwrap_err();
            assert!(err.to_string().contains("network.domains"), "{bad}: {err}");
            let err = parse(&format!(
                "name: x\ntools: {{ask: [{{http.request: {{domains: [{bad}]}}}}]}}\n"
            ))
            .unwrap_err();
            assert!(err.to_string().contains("tools.ask"), "{bad}: {err}");
        }
        let ok = parse(
            "name: x\nnetwork: {domains: ['127.0.0.1:11434', '[::1]:8080', 'localhost:3000', '*.example.com']}\n",
        )
        .unwrap();
        assert_eq!(ok.local_addresses("http.request").len(), 3);
        assert!(matches!(
            parse("name: x\nworkspace: {root: relative/dir}\n"),
            Err(PolicyError::Invalid { .. })
        ));
        assert!(matches!(
            parse("name: x\nworkspace: {allow_outside: [/a/../etc]}\n"),
            Err(PolicyError::Invalid { .. })
        ));
        assert!(matches!(
            parse("name: x\nworkspace: {allow_outside: [\"/tmp/a\\0b\"]}\n"),
            Err(PolicyError::Invalid { .. })
        ));
        assert!(matches!(
            parse("name: ''\n"),
            Err(PolicyError::Invalid { .. })
        ));
        assert!(matches!(
            parse("description: no name\n"),
            Err(PolicyError::Syntax { .. })
        ));
        assert!(matches!(
            parse("name: x\ndefaults: {read: maybe}\n"),
            Err(PolicyError::Syntax { .. })
        ));
        assert!(matches!(
            parse("name: x\ntools: {allowed: [{fs.read: {paths: ['a[']}}]}\n"),
            Err(PolicyError::Invalid { .. })
        ));
        for bad in ["awk:run", "':exec'", "'git:exec status'", "' '"] {
            let err = parse(&format!(
                "name: x\ntools: {{allowed: [{{shell.exec: {{commands: [{bad}]}}}}]}}\n"
            ))
            .unwrap_err();
            assert!(
                err.to_string().contains("tools.allowed[shell.exec]"),
                "{bad}: {err}"
            );
        }
        let ok = parse(
            "name: x\ntools: {allowed: [{shell.exec: {commands: [awk, 'awk:exec', 'curl:fetch', 'sed:write']}}]}\n",
        )
        .unwrap();
        assert_eq!(ok.tools.allowed[0].constraints.commands.len(), 4);
    }

    #[test]
    fn malformed_values_say_what_was_expected() {
        for (text, expected) in [
            (
                "name: x\ntools: {allowed: [42]}\n",
                "a tool pattern like `fs.*`",
            ),
            (
                "name: x\nworkspace: {allow_outside: 42}\n",
                "`false` or a list of paths",
            ),
            (
                "name: x\nworkspace: {allow_outside: [42]}\n",
                "a path or `{path: ..., write: true|false}`",
            ),
            (
                "name: x\napproval: {timeout: [1]}\n",
                "seconds as a number, or a duration",
            ),
            ("name: x\napproval: {timeout: -5}\n", "must not be negative"),
        ] {
            let err = parse(text).unwrap_err().to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn an_approval_section_without_a_timeout_waits_five_minutes() {
        let p = parse("name: x\napproval: {default: deny}\n").unwrap();
        assert_eq!(p.approval.timeout_secs, 300);
        let p = parse("name: x\napproval: {timeout: 45}\n").unwrap();
        assert_eq!(p.approval.timeout_secs, 45);
        let p = parse("name: x\nworkspace: {allow_outside: ~}\n").unwrap();
        assert!(p.workspace.allow_outside.is_empty());
    }

    #[test]
    fn durations() {
        assert_eq!(crate::document::parse_duration("90"), Some(90));
        assert_eq!(crate::document::parse_duration("90s"), Some(90));
        assert_eq!(crate::document::parse_duration("5m"), Some(300));
        assert_eq!(crate::document::parse_duration("1h"), Some(3600));
        assert_eq!(crate::document::parse_duration("m"), None);
        assert_eq!(crate::document::parse_duration("-5m"), None);
    }

    #[test]
    fn load_dir_skips_bad_files_with_reasons() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), "name: good\n").unwrap();
        std::fs::write(dir.path().join("b.yaml"), "name: bad\nextra: 1\n").unwrap();
        std::fs::write(dir.path().join("c.yml"), "name: good\n").unwrap();
        std::fs::write(dir.path().join("d.yaml"), "name: workspace-only\n").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a policy").unwrap();
        let report = load_dir(dir.path());
        assert_eq!(report.policies.len(), 1);
        assert_eq!(report.policies[0].1.name, "good");
        assert_eq!(report.errors.len(), 3);
        let paths: Vec<_> = report
            .errors
            .iter()
            .map(|e| e.path().file_name().unwrap().to_owned())
            .collect();
        assert_eq!(paths, vec!["b.yaml", "c.yml", "d.yaml"]);
        assert!(report.errors[0].to_string().contains("extra"));
        assert!(load_dir(&dir.path().join("missing")).errors.is_empty());
        // Anything but a missing directory is reported.
        let not_a_dir = load_dir(&dir.path().join("a.yaml"));
        assert!(matches!(not_a_dir.errors[..], [PolicyError::Io { .. }]));
    }
}
