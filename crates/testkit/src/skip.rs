//! Assertions a machine cannot make, reported instead of passed silently.

/// Set to `1` to turn a skipped sandbox assertion into a failure (CI on a kernel with Landlock).
pub const REQUIRE_SANDBOX_ENV: &str = "PRYX_REQUIRE_SANDBOX";

/// Reports that a sandbox assertion of `test` was not made, and why: prints `SKIPPED: ...` to
/// stderr, or panics when [`REQUIRE_SANDBOX_ENV`] is `1`. The caller skips the assertion after it.
pub fn skip_sandbox_assertion(test: &str, reason: &str) {
    if std::env::var_os(REQUIRE_SANDBOX_ENV).is_some_and(|v| v == "1") {
        panic!("{test}: sandbox assertion not made ({reason}) but {REQUIRE_SANDBOX_ENV}=1");
    }
    eprintln!("SKIPPED: {test}: {reason}");
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::process::{Command, Output};

    /// Runs only when asked (below), with the environment the caller chose.
    #[test]
    #[ignore = "run by the tests below in a child process"]
    fn skip_once() {
        skip_sandbox_assertion("skip_once", "no sandbox here");
    }

    fn run_skip_once(require: Option<&str>) -> Output {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args([
            "--exact",
            "skip::tests::skip_once",
            "--ignored",
            "--nocapture",
        ]);
        cmd.env_remove(REQUIRE_SANDBOX_ENV);
        if let Some(value) = require {
            cmd.env(REQUIRE_SANDBOX_ENV, value);
        }
        cmd.output().unwrap()
    }

    #[test]
    fn a_skip_is_reported_on_stderr() {
        let out = run_skip_once(None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains("SKIPPED: skip_once: no sandbox here"),
            "{stderr}"
        );
    }

    #[test]
    fn a_skip_fails_when_the_sandbox_is_required() {
        let out = run_skip_once(Some("1"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{stderr}");
        assert!(stderr.contains("PRYX_REQUIRE_SANDBOX=1"), "{stderr}");
        assert!(run_skip_once(Some("0")).status.success());
    }
}
