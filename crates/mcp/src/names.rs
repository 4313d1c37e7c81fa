//! Server names: the namespaces a server may not take, and when two names are the same.

/// True for names usable as the first part of a canonical tool name.
pub fn is_server_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !is_reserved_name(name)
}

/// Namespaces of Pryx's own tools (`fs.read`, `http.request`, `process.*`…) and Pryx itself: a
/// server under one of these names could offer a tool that passes for a built-in one.
pub const RESERVED_SERVER_NAMES: &[&str] =
    &["fs", "shell", "http", "skills", "process", "mcp", "pryx"];

/// The form two names are compared in: case and `-`/`_` do not tell servers apart.
pub fn normalized_name(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

fn is_reserved_name(name: &str) -> bool {
    let n = normalized_name(name);
    RESERVED_SERVER_NAMES
        .iter()
        .any(|r| normalized_name(r) == n)
        || pryx_tools::builtins().iter().any(|t| {
            t.name()
                .split_once('.')
                .is_some_and(|(ns, _)| normalized_name(ns) == n)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ServerConfig, ServersFile};
    use std::path::Path;

    fn parse(text: &str) -> ServersFile {
        ServersFile::parse(Path::new("servers.json"), text.as_bytes()).unwrap()
    }

    #[test]
    fn a_server_cannot_take_the_prefix_of_a_built_in_tool() {
        let f = parse(
            r#"{"servers": {
              "http": {"transport": "stdio", "command": ["x"]},
              "FS": {"transport": "stdio", "command": ["x"]},
              "https-proxy": {"transport": "stdio", "command": ["x"]}
            }}"#,
        );
        assert_eq!(f.servers().len(), 1, "{:?}", f.servers().keys());
        assert!(f.servers().contains_key("https-proxy"));
        assert_eq!(f.problems().len(), 2);
        assert!(
            f.problems()[0]
                .message
                .contains("other than fs, shell, http")
        );
    }

    #[test]
    fn built_in_namespaces_are_reserved_whatever_the_case() {
        for reserved in ["fs", "Shell", "PROCESS", "mcp", "skills", "pryx", "http"] {
            assert!(!is_server_name(reserved), "{reserved}");
        }
        assert!(is_server_name("https-proxy"));
        assert!(!is_server_name("bad name"));
    }

    #[test]
    fn names_that_differ_only_in_case_or_dashes_collide() {
        let f = parse(
            r#"{"servers": {
              "my-server": {"command": ["a"]},
              "My_Server": {"command": ["b"]}
            }}"#,
        );
        assert_eq!(f.servers().len(), 1, "{:?}", f.servers().keys());
        assert!(
            f.problems()[0].message.contains("collides with server"),
            "{:?}",
            f.problems()
        );
        let mut f = parse(r#"{"servers": {"my-server": {"command": ["a"]}}}"#);
        let err = f
            .upsert("MY_SERVER", &ServerConfig::stdio(vec!["b".into()]))
            .unwrap_err();
        assert!(err.to_string().contains("`my-server`"), "{err}");
        assert!(
            f.upsert("my-server", &ServerConfig::stdio(vec!["b".into()]))
                .unwrap()
        );
    }
}
