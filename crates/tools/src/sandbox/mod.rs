//! Containment for `shell.exec` (Linux). Confinement has to be applied by the process that
//! then runs the command, and without `unsafe` there is no `pre_exec` hook, so commands go
//! through a helper: the `pryx` binary re-executed with a hidden argument, whose handler calls
//! [`sandbox_exec_main`].
//!
//! With user namespaces the helper builds a private view of the filesystem (see `view`), a
//! PID namespace (nothing outlives the call), an empty network namespace unless the call was
//! granted network, and then adds Landlock, a seccomp filter, an empty capability bounding
//! set and `no_new_privs`. Without them it falls back to Landlock alone (reads and writes
//! deny-by-default), the same seccomp filter, and a subreaper that kills what the command
//! left behind.

#[cfg(target_os = "linux")]
mod holes;
#[cfg(target_os = "linux")]
mod rules;
#[cfg(target_os = "linux")]
mod seccomp;
mod spec;
#[cfg(target_os = "linux")]
mod stages;
#[cfg(target_os = "linux")]
mod view;

pub use spec::{Assume, Network, Spec, Stage, code_bearing, read_roots};

/// How well the running kernel supports the Landlock rule set the sandbox uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LandlockSupport {
    Supported,
    /// Older Landlock ABI: files are confined but some rights (TCP, signal scoping, truncate)
    /// are not.
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
/// caches the answer. `PRYX_SANDBOX_ASSUME=landlock-abi=N` caps the ABI it reports.
pub fn landlock_status() -> LandlockStatus {
    static STATUS: std::sync::OnceLock<LandlockStatus> = std::sync::OnceLock::new();
    STATUS
        .get_or_init(|| imp::probe(Assume::from_env().landlock_abi))
        .clone()
}

/// Whether the helper can create user, mount, PID and network namespaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceStatus {
    pub available: bool,
    pub detail: String,
}

/// Asks the helper (`program args…`) once whether it can create namespaces, and caches the
/// answer. The launcher's `assume.no_userns` makes the answer no.
pub fn namespace_status(launcher: &crate::SandboxLauncher) -> NamespaceStatus {
    static STATUS: std::sync::OnceLock<NamespaceStatus> = std::sync::OnceLock::new();
    if launcher.assume.no_userns {
        return NamespaceStatus {
            available: false,
            detail: "user namespaces assumed unavailable (PRYX_SANDBOX_ASSUME)".into(),
        };
    }
    STATUS.get_or_init(|| probe_namespaces(launcher)).clone()
}

/// Why shell commands run through `launcher` cannot be fully contained on this machine, if
/// they cannot (no user namespaces: no private filesystem view, PID or network namespace).
/// Callers make every such command ask. Without a launcher the embedder chose to run
/// commands unconfined, and there is nothing to say.
pub fn containment_gap(launcher: Option<&crate::SandboxLauncher>) -> Option<String> {
    let status = namespace_status(launcher?);
    (!status.available).then_some(status.detail)
}

fn probe_namespaces(launcher: &crate::SandboxLauncher) -> NamespaceStatus {
    let spec = Spec {
        workspace: "/".into(),
        cwd: "/".into(),
        command: String::new(),
        protected: Vec::new(),
        read_only: Vec::new(),
        read_roots: Vec::new(),
        network: Network::None,
        assume: Assume::default(),
        stage: Stage::Probe,
        ids: None,
    };
    let out = serde_json::to_string(&spec)
        .map_err(|e| e.to_string())
        .and_then(|arg| {
            std::process::Command::new(&launcher.program)
                .args(&launcher.args)
                .arg(arg)
                .env_clear()
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(|e| e.to_string())
        });
    match out {
        Ok(o) if o.status.success() => NamespaceStatus {
            available: true,
            detail: "user, mount, PID and network namespaces available".into(),
        },
        Ok(o) => NamespaceStatus {
            available: false,
            detail: format!(
                "cannot create user namespaces ({}); commands get Landlock alone: no private filesystem view, PID or network namespace",
                String::from_utf8_lossy(&o.stderr).trim()
            ),
        },
        Err(e) => NamespaceStatus {
            available: false,
            detail: format!("cannot run the sandbox helper: {e}"),
        },
    }
}

/// Entry point of the sandbox helper. `args` are what follows the hidden argument: one JSON
/// [`Spec`]. Never returns; exits 2 on bad arguments, 126 when the sandbox cannot be set up,
/// 127 when `sh` cannot be executed, and the command's status otherwise.
pub fn sandbox_exec_main<I>(args: I) -> !
where
    I: IntoIterator<Item = std::ffi::OsString>,
{
    let mut args = args.into_iter();
    let spec = match (args.next(), args.next()) {
        (Some(arg), None) => arg
            .to_str()
            .ok_or_else(|| "the argument is not UTF-8".to_owned())
            .and_then(|s| serde_json::from_str::<Spec>(s).map_err(|e| e.to_string())),
        _ => Err("expected exactly one argument".to_owned()),
    };
    let spec = match spec.and_then(|s| s.check().map(|()| s)) {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!("sandbox: {e}");
            std::process::exit(2);
        }
    };
    std::process::exit(imp::run(spec))
}

#[cfg(target_os = "linux")]
mod imp {
    use landlock::{
        ABI, Access, AccessFs, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus,
        path_beneath_rules,
    };

    use super::rules::abi_at_most;
    use super::{LandlockStatus, LandlockSupport};

    pub(super) use super::stages::run;

    pub(super) fn probe(assumed: Option<u8>) -> LandlockStatus {
        let target: ABI = abi_at_most(assumed);
        // Landlock applies to the calling thread; a throwaway thread keeps this process free.
        // The rule set grants everything, so even that thread is not restricted in effect.
        let outcome = std::thread::spawn(move || {
            Ruleset::default()
                .handle_access(AccessFs::from_all(target))?
                .create()?
                .add_rules(path_beneath_rules(["/"], AccessFs::from_all(target)))?
                .restrict_self()
        })
        .join();
        let capped = if assumed.is_some() {
            format!(", capped at ABI {}", target as i32)
        } else {
            String::new()
        };
        match outcome {
            Ok(Ok(status)) => support(status.landlock, status.ruleset, target, &capped),
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

    /// What the kernel did with a rule set for ABI `target`: enforcing all of it is full
    /// support only when `target` is the ABI the sandbox is written for.
    pub(super) fn support(
        landlock: landlock::LandlockStatus,
        ruleset: RulesetStatus,
        target: ABI,
        capped: &str,
    ) -> LandlockStatus {
        let kernel = match landlock {
            landlock::LandlockStatus::Available { effective_abi, .. } => {
                format!("kernel ABI {effective_abi}{capped}")
            }
            landlock::LandlockStatus::NotEnabled => "disabled at boot".to_owned(),
            landlock::LandlockStatus::NotImplemented => "not built into the kernel".to_owned(),
        };
        match ruleset {
            RulesetStatus::FullyEnforced if target == super::rules::TARGET_ABI => LandlockStatus {
                support: LandlockSupport::Supported,
                detail: format!("Landlock enforced ({kernel})"),
            },
            RulesetStatus::FullyEnforced | RulesetStatus::PartiallyEnforced => LandlockStatus {
                support: LandlockSupport::Partial,
                detail: format!(
                    "Landlock partially enforced: older ABI ({kernel}); files are confined, but TCP (ABI 4) and signal scoping (ABI 6) may not be"
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
}

// Not built where the tests run (Linux): .cargo/mutants.toml leaves it out.
#[cfg(not(target_os = "linux"))]
#[path = "unsupported.rs"]
mod imp;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn launcher(program: &str) -> crate::SandboxLauncher {
        crate::SandboxLauncher {
            program: program.into(),
            args: Vec::new(),
            assume: Assume::default(),
        }
    }

    #[test]
    fn the_namespace_probe_reports_what_the_helper_answered() {
        assert!(probe_namespaces(&launcher("/bin/true")).available);
        let refused = probe_namespaces(&launcher("/bin/false"));
        assert!(!refused.available);
        assert!(
            refused.detail.starts_with("cannot create user namespaces"),
            "{}",
            refused.detail
        );
        let missing = probe_namespaces(&launcher("/nonexistent/pryx-helper"));
        assert!(!missing.available);
        assert!(
            missing.detail.starts_with("cannot run the sandbox helper"),
            "{}",
            missing.detail
        );
    }

    #[test]
    fn commands_without_namespaces_have_a_containment_gap_to_ask_about() {
        // No launcher: the embedder runs commands unconfined on purpose.
        assert_eq!(containment_gap(None), None);
        let mut no_userns = launcher("/bin/true");
        no_userns.assume.no_userns = true;
        let gap = containment_gap(Some(&no_userns)).unwrap();
        assert!(gap.contains("user namespaces assumed unavailable"), "{gap}");
    }

    #[test]
    fn support_labels_are_the_ones_tool_metadata_shows() {
        let labels = [
            LandlockSupport::Supported,
            LandlockSupport::Partial,
            LandlockSupport::Unsupported,
        ]
        .map(LandlockSupport::as_str);
        assert_eq!(labels, ["landlock", "landlock-partial", "none"]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn only_the_whole_rule_set_enforced_is_full_landlock_support() {
        use landlock::{ABI, RulesetStatus};
        let kernel = landlock::LandlockStatus::Available {
            effective_abi: ABI::V6,
            kernel_abi: None,
        };
        let support = |ruleset, target| imp::support(kernel, ruleset, target, "").support;
        let target = rules::TARGET_ABI;
        assert_eq!(
            support(RulesetStatus::FullyEnforced, target),
            LandlockSupport::Supported
        );
        // Capped below the ABI the sandbox is written for: TCP or signal scoping is missing.
        assert_eq!(
            support(RulesetStatus::FullyEnforced, ABI::V3),
            LandlockSupport::Partial
        );
        assert_eq!(
            support(RulesetStatus::PartiallyEnforced, target),
            LandlockSupport::Partial
        );
        assert_eq!(
            support(RulesetStatus::NotEnforced, target),
            LandlockSupport::Unsupported
        );
        let off = imp::support(
            landlock::LandlockStatus::NotEnabled,
            RulesetStatus::NotEnforced,
            target,
            "",
        );
        assert!(off.detail.contains("disabled at boot"), "{}", off.detail);
    }
}
