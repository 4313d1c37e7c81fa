//! Landlock confinement for `shell.exec` (Linux). Applying a rule set needs to happen in the
//! process that then runs the command, and without `unsafe` there is no `pre_exec` hook, so
//! commands go through a helper: the `pryx` binary re-executed with a hidden argument, whose
//! handler calls [`sandbox_exec_main`] to restrict itself and `exec` `sh -c`.

#[cfg(target_os = "linux")]
mod holes;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// How well the running kernel supports the Landlock rule set the sandbox uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LandlockSupport {
    Supported,
    /// Older Landlock ABI: writes are confined but some rights (e.g. truncate) are not.
    Partial,
    Unsupported,
}

/// Landlock support with a sentence for `pryx doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandlockStatus {
    pub support: LandlockSupport,
    pub detail: String,
}

impl LandlockSupport {
    /// Short label used in tool metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            LandlockSupport::Supported => "landlock",
            LandlockSupport::Partial => "landlock-partial",
            LandlockSupport::Unsupported => "none",
        }
    }
}

/// Probes Landlock once (in a short-lived thread, so this process is not restricted) and
/// caches the answer.
pub fn landlock_status() -> LandlockStatus {
    static STATUS: std::sync::OnceLock<LandlockStatus> = std::sync::OnceLock::new();
    STATUS.get_or_init(imp::probe).clone()
}

/// What the sandbox helper is told to do.
#[derive(Debug, PartialEq, Eq)]
struct HelperArgs {
    workspace: PathBuf,
    command: OsString,
    /// Directories the command may neither read nor write (Pryx's data directory).
    protected: Vec<PathBuf>,
}

const HELPER_USAGE: &str = "sandbox: expected <workspace> <command> [<protected dir>...], every directory an absolute path";

/// Parses `<workspace> <command> [<protected dir>...]`.
fn parse_helper_args(args: impl IntoIterator<Item = OsString>) -> Option<HelperArgs> {
    let mut args = args.into_iter();
    let workspace = PathBuf::from(args.next()?);
    let command = args.next()?;
    let protected: Vec<PathBuf> = args.map(PathBuf::from).collect();
    if !workspace.is_absolute() || protected.iter().any(|p| !p.is_absolute()) {
        return None;
    }
    Some(HelperArgs {
        workspace,
        command,
        protected,
    })
}

/// Entry point of the sandbox helper. `args` are what follows the hidden argument:
/// `<workspace> <command> [<protected dir>...]`. Restricts writes to the workspace and temp
/// directories and keeps the protected directories out of reach entirely, then runs
/// `/bin/sh -c <command>` as a supervised child and exits with its status. Never returns;
/// exits 2 on bad arguments, 126 when the rule set cannot be applied and 127 when `sh` cannot
/// be executed.
pub fn sandbox_exec_main<I>(args: I) -> !
where
    I: IntoIterator<Item = OsString>,
{
    let Some(HelperArgs {
        workspace,
        command,
        protected,
    }) = parse_helper_args(args)
    else {
        eprintln!("{HELPER_USAGE}");
        std::process::exit(2);
    };
    // Canonical like the writable roots, so each is found inside the root that holds it.
    let protected: Vec<PathBuf> = protected
        .into_iter()
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
        .collect();
    if let Err(e) = imp::restrict(&writable_paths(&workspace), &protected) {
        eprintln!("sandbox: cannot apply the Landlock rule set: {e}");
        std::process::exit(126);
    }
    std::process::exit(supervise(&command))
}

/// Runs `sh -c command` as a child (it inherits the rule set and this process group) and waits.
/// If the process that launched us dies (even by SIGKILL), the whole group is killed, so no
/// command outlives the agent that started it.
fn supervise(command: &std::ffi::OsStr) -> i32 {
    let parent = rustix::process::getppid();
    let mut child = match std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sandbox: cannot run /bin/sh: {e}");
            return 127;
        }
    };
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                use std::os::unix::process::ExitStatusExt as _;
                return status
                    .code()
                    .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
            }
            Ok(None) => {}
            Err(_) => return 1,
        }
        if rustix::process::getppid() != parent {
            // Orphaned: take the whole group (the command, its children and this helper) down.
            let _ = rustix::process::kill_current_process_group(rustix::process::Signal::KILL);
            return 137;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Directories (and device files) the sandboxed command may write to.
fn writable_paths(workspace: &Path) -> Vec<PathBuf> {
    let paths = vec![
        workspace.to_path_buf(),
        std::env::temp_dir(),
        PathBuf::from("/tmp"),
        PathBuf::from("/var/tmp"),
        PathBuf::from("/dev/shm"),
        PathBuf::from("/dev/null"),
        PathBuf::from("/dev/zero"),
        PathBuf::from("/dev/full"),
        PathBuf::from("/dev/tty"),
    ];
    // Canonical, so the protected directories (canonical too) are found inside them.
    let mut paths: Vec<PathBuf> = paths
        .into_iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    paths.dedup();
    paths
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn args(list: &[&str]) -> Option<HelperArgs> {
        parse_helper_args(list.iter().map(OsString::from))
    }

    #[test]
    fn helper_arguments_are_workspace_command_and_absolute_protected_dirs() {
        let parsed = args(&["/ws", "ls", "/home/u/.pryx", "/data"]).unwrap();
        assert_eq!(parsed.workspace, PathBuf::from("/ws"));
        assert_eq!(parsed.command, OsString::from("ls"));
        assert_eq!(
            parsed.protected,
            vec![PathBuf::from("/home/u/.pryx"), PathBuf::from("/data")]
        );
        assert!(args(&["/ws", "ls"]).unwrap().protected.is_empty());
        for bad in [
            &["/ws"][..],
            &[],
            &["ws", "ls"],
            &["/ws", "ls", "relative"],
            &["/ws", "ls", "/ok", ""],
        ] {
            assert_eq!(args(bad), None, "{bad:?}");
        }
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use std::path::{Path, PathBuf};

    use landlock::{
        ABI, Access, AccessFs, BitFlags, PathBeneath, Ruleset, RulesetAttr, RulesetCreatedAttr,
        RulesetError, RulesetStatus, path_beneath_rules,
    };

    use super::holes::{Grant, grants_around_holes};
    use super::{LandlockStatus, LandlockSupport};

    const TARGET_ABI: ABI = ABI::V5;

    /// Reads everywhere, writes only beneath `writable`, and neither beneath `protected`.
    /// Best effort: on a kernel without Landlock this succeeds without restricting anything.
    pub(super) fn restrict(
        writable: &[PathBuf],
        protected: &[PathBuf],
    ) -> Result<RulesetStatus, RulesetError> {
        let rules = |root: &Path, access: BitFlags<AccessFs>| {
            grants_around_holes(root, protected)
                .into_iter()
                .map(move |g: Grant| {
                    let access = if g.is_dir {
                        access
                    } else {
                        access & AccessFs::from_file(TARGET_ABI)
                    };
                    Ok::<_, RulesetError>(PathBeneath::new(g.fd, access))
                })
        };
        let mut ruleset = Ruleset::default()
            .handle_access(AccessFs::from_all(TARGET_ABI))?
            .create()?
            .add_rules(rules(Path::new("/"), AccessFs::from_read(TARGET_ABI)))?
            .add_rules(path_beneath_rules(
                ["/dev"],
                AccessFs::from_read(TARGET_ABI) | AccessFs::IoctlDev,
            ))?;
        for root in writable {
            ruleset = ruleset.add_rules(rules(root, AccessFs::from_all(TARGET_ABI)))?;
        }
        Ok(ruleset.restrict_self()?.ruleset)
    }

    pub(super) fn probe() -> LandlockStatus {
        // Landlock applies to the calling thread; a throwaway thread keeps this process free.
        // The rule set grants everything, so even that thread is not restricted in effect.
        let outcome = std::thread::spawn(|| {
            Ruleset::default()
                .handle_access(AccessFs::from_all(TARGET_ABI))?
                .create()?
                .add_rules(path_beneath_rules(["/"], AccessFs::from_all(TARGET_ABI)))?
                .restrict_self()
        })
        .join();
        match outcome {
            Ok(Ok(status)) => {
                let kernel = match status.landlock {
                    landlock::LandlockStatus::Available { effective_abi, .. } => {
                        format!("kernel ABI {effective_abi}")
                    }
                    landlock::LandlockStatus::NotEnabled => "disabled at boot".to_owned(),
                    landlock::LandlockStatus::NotImplemented => {
                        "not built into the kernel".to_owned()
                    }
                };
                match status.ruleset {
                    RulesetStatus::FullyEnforced => LandlockStatus {
                        support: LandlockSupport::Supported,
                        detail: format!("Landlock enforced ({kernel})"),
                    },
                    RulesetStatus::PartiallyEnforced => LandlockStatus {
                        support: LandlockSupport::Partial,
                        detail: format!(
                            "Landlock partially enforced: older kernel ABI ({kernel}); writes are still confined"
                        ),
                    },
                    RulesetStatus::NotEnforced => LandlockStatus {
                        support: LandlockSupport::Unsupported,
                        detail: format!(
                            "Landlock not available ({kernel}); shell commands run without filesystem confinement. Enable the landlock LSM (Linux 5.13+) to confine them"
                        ),
                    },
                }
            }
            Ok(Err(e)) => LandlockStatus {
                support: LandlockSupport::Unsupported,
                detail: format!("Landlock rule set could not be applied: {e}"),
            },
            Err(_) => LandlockStatus {
                support: LandlockSupport::Unsupported,
                detail: "Landlock probe failed".into(),
            },
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::path::PathBuf;

    use super::{LandlockStatus, LandlockSupport};

    pub(super) fn restrict(
        _writable: &[PathBuf],
        _protected: &[PathBuf],
    ) -> Result<(), std::convert::Infallible> {
        Ok(())
    }

    pub(super) fn probe() -> LandlockStatus {
        LandlockStatus {
            support: LandlockSupport::Unsupported,
            detail: "Landlock is Linux-only; shell commands run without filesystem confinement"
                .into(),
        }
    }
}
