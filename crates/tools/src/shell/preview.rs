//! The approval preview of `shell.exec`: the command exactly as `sh -c` gets it, and every
//! other thing that changes its effect — where it runs, with what environment, for how long,
//! with what network.

use std::time::Duration;

use crate::{Network, ToolContext, path};

/// What a person approves before a command runs.
pub(super) fn describe(
    command: &str,
    cwd: Option<&str>,
    timeout_ms: Option<u64>,
    background: Option<&[String]>,
    ctx: &ToolContext,
) -> String {
    let mut out = format!("$ {command}\n");
    let root = ctx.workspace.display();
    let place = match cwd {
        None | Some(".") | Some("") => format!("the workspace root ({root})"),
        Some(given) => match path::resolve(&ctx.workspace, given) {
            Ok(wp) if wp.rel == "." => format!("{given} = the workspace root ({root})"),
            Ok(wp) => format!("{given} ({})", wp.abs.display()),
            Err(e) => format!("{given} (cannot be used, the call will fail: {e})"),
        },
    };
    out.push_str(&format!("working directory: {place}\n"));
    match background {
        // Nothing times it out: it runs until stopped.
        Some(watch) => {
            out.push_str(
                "runs in the background: no timeout; it stops when it ends, is stopped (process.kill), its session is deleted or Pryx stops\n",
            );
            if !watch.is_empty() {
                out.push_str(&format!(
                    "watch: lines matching {} start a turn for the agent\n",
                    watch
                        .iter()
                        .map(|w| format!("`{w}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        None => out.push_str(&format!(
            "timeout: {}\n",
            timeout(
                timeout_ms,
                ctx.limits.default_timeout,
                ctx.limits.max_timeout
            )
        )),
    }
    out.push_str(&format!(
        "environment: cleared; passed through from Pryx's own: {}\n",
        if ctx.allowed_env.is_empty() {
            "nothing".to_string()
        } else {
            ctx.allowed_env.join(", ")
        }
    ));
    let network = match &ctx.network {
        Network::None => "none".to_string(),
        Network::Ports { ports } => format!(
            "TCP connections to port{} {}",
            if ports.len() == 1 { "" } else { "s" },
            ports
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    out.push_str(&format!("network: {network}\n"));
    out.push_str(if ctx.code_files_writable {
        "code-bearing files (.git/config and hooks, Makefile, package.json, CI files…): writable"
    } else {
        "code-bearing files (.git/config and hooks, Makefile, package.json, CI files…): read-only"
    });
    out
}

fn timeout(asked_ms: Option<u64>, default: Duration, max: Duration) -> String {
    match asked_ms {
        None => format!("{} (the default)", secs(default)),
        Some(0) => "0 ms (refused: the call will fail)".to_string(),
        Some(ms) if Duration::from_millis(ms) > max => {
            format!("{} (asked for {ms} ms, capped)", secs(max))
        }
        Some(ms) => format!("{} ({ms} ms)", secs(Duration::from_millis(ms))),
    }
}

fn secs(d: Duration) -> String {
    let ms = d.as_millis();
    if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{:.3} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> (tempfile::TempDir, ToolContext) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        std::fs::create_dir(dir.path().join("sub")).unwrap_or_else(|e| panic!("mkdir: {e}"));
        let ctx = ToolContext::new(dir.path()).unwrap_or_else(|e| panic!("ctx: {e}"));
        (dir, ctx)
    }

    #[test]
    fn a_working_directory_changes_the_preview() {
        let (_d, ctx) = ctx();
        let root = describe("rm -rf build", None, None, None, &ctx);
        let sub = describe("rm -rf build", Some("sub"), None, None, &ctx);
        assert_ne!(root, sub);
        assert!(root.starts_with("$ rm -rf build\nworking directory: the workspace root ("));
        let abs = ctx.workspace.join("sub");
        assert!(
            sub.contains(&format!("working directory: sub ({})", abs.display())),
            "{sub}"
        );
        let outside = describe("ls", Some("../.."), None, None, &ctx);
        assert!(outside.contains("cannot be used"), "{outside}");
    }

    #[test]
    fn timeout_environment_and_network_are_shown() {
        let (_d, mut ctx) = ctx();
        let shown = describe("sleep 1", None, Some(1500), None, &ctx);
        assert!(shown.contains("timeout: 1.500 s (1500 ms)"), "{shown}");
        assert!(
            shown.contains("environment: cleared; passed through from Pryx's own: PATH, HOME"),
            "{shown}"
        );
        assert!(shown.contains("\nnetwork: none\n"), "{shown}");
        assert!(shown.ends_with("CI files…): read-only"), "{shown}");
        let capped = describe("x", None, Some(10_000_000), None, &ctx);
        assert!(
            capped.contains("timeout: 600 s (asked for 10000000 ms, capped)"),
            "{capped}"
        );
        assert!(describe("x", None, None, None, &ctx).contains("timeout: 120 s (the default)"));
        let watch = ["^ERROR".to_string()];
        let bg = describe("npm run dev", None, None, Some(&watch), &ctx);
        assert!(bg.contains("runs in the background: no timeout"), "{bg}");
        assert!(
            bg.contains("watch: lines matching `^ERROR` start a turn"),
            "{bg}"
        );
        assert!(!bg.contains("timeout: 120"), "{bg}");
        ctx.network = Network::Ports { ports: vec![443] };
        ctx.code_files_writable = true;
        let granted = describe("x", None, None, None, &ctx);
        assert!(
            granted.contains("\nnetwork: TCP connections to port 443\n"),
            "{granted}"
        );
        assert!(granted.ends_with("CI files…): writable"), "{granted}");
    }
}
