//! Checks of the machine rather than the data: free disk space and the shell sandbox.

use super::report::Check;
use pryx_tools::LandlockSupport;
use std::path::Path;

const MB: u64 = 1024 * 1024;
/// Below this, writes (database, logs) are about to fail.
const FAIL_BELOW: u64 = 100 * MB;
/// Below this, the user should make room soon.
const WARN_BELOW: u64 = 1024 * MB;

/// Free space, for an unprivileged user, on the file system holding the data directory.
pub fn disk(root: &Path) -> Check {
    const NAME: &str = "disk_space";
    match rustix::fs::statvfs(root) {
        Ok(st) => classify(st.f_bavail.saturating_mul(st.f_frsize), root),
        Err(e) => Check::warn(
            NAME,
            format!("cannot measure free space at {}: {e}", root.display()),
            "check with `df -h` that the file system has at least 1 GB free",
        ),
    }
}

fn classify(free: u64, root: &Path) -> Check {
    const NAME: &str = "disk_space";
    let message = format!("{} free at {}", human(free), root.display());
    let hint = "free some space on that file system, or move the data dir with PRYX_HOME";
    if free < FAIL_BELOW {
        Check::fail(NAME, format!("{message} (below 100 MB)"), hint)
    } else if free < WARN_BELOW {
        Check::warn(NAME, format!("{message} (below 1 GB)"), hint)
    } else {
        Check::ok(NAME, message)
    }
}

fn human(bytes: u64) -> String {
    if bytes >= 1024 * MB {
        // One decimal is plenty for a disk-space line.
        let tenths = bytes / (1024 * MB / 10);
        format!("{}.{} GB", tenths / 10, tenths % 10)
    } else {
        format!("{} MB", bytes / MB)
    }
}

/// How shell commands are contained: namespaces (private filesystem view, PID and network
/// namespaces) and Landlock. A warning naming what is missing, not a failure, when degraded.
pub fn sandbox() -> Check {
    const NAME: &str = "sandbox";
    let status = pryx_tools::landlock_status();
    let namespaces = pryx_tools::SandboxLauncher::current_exe(crate::SANDBOX_ARG)
        .map(|l| pryx_tools::namespace_status(&l))
        .unwrap_or_else(|e| pryx_tools::NamespaceStatus {
            available: false,
            detail: format!("cannot find the pryx binary to probe namespaces: {e}"),
        });
    let detail = format!("{}; {}", namespaces.detail, status.detail);
    match (namespaces.available, status.support) {
        (true, LandlockSupport::Supported) => Check::ok(NAME, detail),
        (true, LandlockSupport::Partial | LandlockSupport::Unsupported) => Check::warn(
            NAME,
            detail,
            "files, processes and network are contained by namespaces; a kernel with Landlock ABI 6 (Linux 6.7 or later) adds signal and socket scoping",
        ),
        (false, LandlockSupport::Supported | LandlockSupport::Partial) => Check::warn(
            NAME,
            detail,
            "enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 or user.max_user_namespaces > 0) so commands get a private filesystem view; until then chmod/utime outside the workspace and, below Landlock ABI 4/6, network and signals are not contained, so shell commands always ask",
        ),
        (false, LandlockSupport::Unsupported) => Check::warn(
            NAME,
            detail,
            "use a Linux kernel 5.13 or later with Landlock enabled and user namespaces allowed; until then shell commands are guarded by approvals only and always ask",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::report::Status;
    use super::*;

    #[test]
    fn thresholds() {
        let root = Path::new("/data");
        assert_eq!(classify(50 * MB, root).status, Status::Fail);
        assert_eq!(classify(FAIL_BELOW, root).status, Status::Warn);
        assert_eq!(classify(900 * MB, root).status, Status::Warn);
        assert_eq!(classify(WARN_BELOW, root).status, Status::Ok);
        assert_eq!(
            classify(50 * MB, root).message,
            "50 MB free at /data (below 100 MB)"
        );
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human(512 * MB), "512 MB");
        assert_eq!(human(1536 * MB), "1.5 GB");
        assert_eq!(human(10 * 1024 * MB), "10.0 GB");
    }
}
