//! The result of one doctor check and how the list of results is printed.

use serde::Serialize;

/// Outcome of a check. Only `Fail` makes `pryx doctor` exit non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    fn symbol(self) -> char {
        match self {
            Status::Ok => '✓',
            Status::Warn => '!',
            Status::Fail => '✗',
        }
    }
}

/// One line of the report; serialised as-is for `--json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Stable identifier (`config`, `database`, ...).
    pub name: &'static str,
    pub status: Status,
    /// What was found.
    pub message: String,
    /// What to do about it; `None` when nothing needs doing.
    pub hint: Option<String>,
}

impl Check {
    pub fn ok(name: &'static str, message: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Ok,
            message: message.into(),
            hint: None,
        }
    }

    pub fn warn(name: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Warn,
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn fail(name: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            name,
            status: Status::Fail,
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
}

/// Human-readable report: one line per check, then a summary line.
pub fn render_text(checks: &[Check]) -> String {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in checks {
        out.push_str(&format!(
            "{} {:width$}  {}",
            c.status.symbol(),
            c.name,
            c.message
        ));
        if let Some(hint) = &c.hint {
            out.push_str(&format!(" (fix: {hint})"));
        }
        out.push('\n');
    }
    let failed = count(checks, Status::Fail);
    let warned = count(checks, Status::Warn);
    out.push_str(&match (failed, warned) {
        (0, 0) => "All checks passed.".to_string(),
        (0, w) => format!("No failures, {w} warning(s)."),
        (f, w) => format!("{f} check(s) failed, {w} warning(s)."),
    });
    out.push('\n');
    out
}

/// True if any check failed.
pub fn any_failed(checks: &[Check]) -> bool {
    count(checks, Status::Fail) > 0
}

fn count(checks: &[Check], status: Status) -> usize {
    checks.iter().filter(|c| c.status == status).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_symbols_hints_and_summary() {
        let checks = [
            Check::ok("config", "valid"),
            Check::warn("sandbox", "missing", "enable it"),
            Check::fail("database", "truncated", "restore a backup"),
        ];
        let text = render_text(&checks);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "✓ config    valid");
        assert_eq!(lines[1], "! sandbox   missing (fix: enable it)");
        assert_eq!(lines[2], "✗ database  truncated (fix: restore a backup)");
        assert_eq!(lines[3], "1 check(s) failed, 1 warning(s).");
        assert!(any_failed(&checks));
        assert!(!any_failed(&checks[..2]));
    }

    #[test]
    fn json_shape() {
        let v = serde_json::to_value([Check::ok("disk", "fine")]).unwrap();
        assert_eq!(
            v,
            serde_json::json!([{"name": "disk", "status": "ok", "message": "fine", "hint": null}])
        );
    }
}
