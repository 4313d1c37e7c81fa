//! Tool-name and domain patterns.

/// Whether `tool` matches `pattern`: `*` stands for any run of characters (dots included), so
/// `fs.*` matches `fs.read` and `*` matches everything. `filesystem.` is an alias of `fs.`.
pub fn tool_matches(pattern: &str, tool: &str) -> bool {
    let pattern = pattern
        .strip_prefix("filesystem.")
        .map_or_else(|| pattern.to_string(), |r| format!("fs.{r}"));
    wildcard(pattern.as_bytes(), tool.as_bytes())
}

fn wildcard(p: &[u8], s: &[u8]) -> bool {
    // Iterative glob with backtracking to the last `*`: `resume` is where matching goes on
    // after it (pattern and text positions) when what follows fails.
    let (mut pi, mut si) = (0, 0);
    let mut resume: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            pi += 1;
            resume = Some((pi, si));
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((rp, rs)) = resume {
            // The `*` takes one more character.
            let next = rs + 1;
            resume = Some((rp, next));
            (pi, si) = (rp, next);
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// Whether a tool pattern is well formed: letters, digits, `_`, `-`, `.`, `*`.
pub(crate) fn valid_tool_pattern(p: &str) -> bool {
    !p.is_empty()
        && p.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '*'))
}

/// Whether `host` matches a domain `pattern`. `*.example.com` matches strict subdomains only;
/// `example.com` matches exactly. Case-insensitive, a trailing dot ignored. A bare `*` matches
/// any host name but never an IP literal.
pub fn domain_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return false;
    }
    if pattern == "*" {
        return !crate::network::is_ip_literal(&host);
    }
    if let Some(suffix) = pattern.strip_prefix("*.") {
        return host.len() > suffix.len() + 1
            && host.ends_with(suffix)
            && host.as_bytes()[host.len() - suffix.len() - 1] == b'.';
    }
    host == pattern
}

/// Whether a domain pattern is well formed: a host name, `*.host`, `*`, or an IP literal.
pub(crate) fn valid_domain_pattern(p: &str) -> bool {
    let body = p.strip_prefix("*.").unwrap_or(p);
    p == "*"
        || (!body.is_empty()
            && !body.contains('*')
            && body
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_patterns() {
        assert!(tool_matches("fs.*", "fs.read"));
        assert!(tool_matches("fs.*", "fs.write"));
        assert!(!tool_matches("fs.*", "fsx.read"));
        assert!(!tool_matches("fs.*", "shell.exec"));
        assert!(tool_matches("*", "github.create_issue"));
        assert!(tool_matches("github.*", "github.create_issue"));
        assert!(!tool_matches("github.*", "githubx.create_issue"));
        assert!(tool_matches("shell.exec", "shell.exec"));
        assert!(!tool_matches("shell.exec", "shell.execute"));
        assert!(tool_matches("filesystem.read", "fs.read"));
        assert!(tool_matches("*.read", "fs.read"));
        assert!(tool_matches("a*b*c", "axxbyyc"));
        assert!(!tool_matches("a*b*c", "axxbyy"));
    }

    #[test]
    fn domain_patterns() {
        assert!(domain_matches("api.example.com", "API.example.com."));
        assert!(!domain_matches("example.com", "api.example.com"));
        assert!(domain_matches("*.example.com", "api.example.com"));
        assert!(domain_matches("*.example.com", "a.b.example.com"));
        assert!(!domain_matches("*.example.com", "example.com"));
        // A wildcard stands for at least one label, not an empty one.
        assert!(!domain_matches("*.example.com", ".example.com"));
        assert!(!domain_matches("*.example.com", "evilexample.com"));
        assert!(!domain_matches("*.example.com", "example.com.evil.net"));
        assert!(domain_matches("*", "example.com"));
        assert!(!domain_matches("*", "127.0.0.1"));
        assert!(!domain_matches("*", "[::1]"));
        assert!(domain_matches("127.0.0.1", "127.0.0.1"));
    }

    #[test]
    fn pattern_validation() {
        assert!(valid_tool_pattern("fs.*"));
        assert!(valid_tool_pattern("my-server.do_thing"));
        assert!(!valid_tool_pattern(""));
        assert!(!valid_tool_pattern("fs read"));
        assert!(valid_domain_pattern("*.example.com"));
        assert!(!valid_domain_pattern("ex*ample.com"));
        assert!(!valid_domain_pattern("*."));
        assert!(!valid_domain_pattern("http://x"));
    }
}
