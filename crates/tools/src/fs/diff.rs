//! Unified diffs for write/edit previews.

use similar::TextDiff;

/// A unified diff (3 lines of context) from `old` to `new` with `a/`/`b/` headers; empty when
/// the texts are equal.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let old_header = if old.is_empty() {
        "/dev/null".to_owned()
    } else {
        format!("a/{path}")
    };
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&old_header, &format!("b/{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_changed_lines() {
        let d = unified_diff("a.txt", "one\ntwo\nthree\n", "one\n2\nthree\n");
        assert!(d.starts_with("--- a/a.txt\n+++ b/a.txt\n"));
        assert!(d.contains("-two\n"));
        assert!(d.contains("+2\n"));
    }

    #[test]
    fn new_file_diff_is_from_dev_null_and_equal_is_empty() {
        assert!(unified_diff("n", "", "x\n").starts_with("--- /dev/null\n+++ b/n\n"));
        assert_eq!(unified_diff("n", "same", "same"), "");
    }
}
