//! What `shell.exec` tells the sandbox helper: one JSON argument, so the helper needs no
//! environment (commands get a cleared one) and every field is typed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Everything the helper needs to build a command's view of the machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Canonical workspace: the only place the command may write (besides its private temp).
    pub workspace: PathBuf,
    /// Working directory of the command, inside the workspace.
    pub cwd: PathBuf,
    /// The `sh -c` line.
    pub command: String,
    /// Directories no command may see (Pryx's data directory), even inside a granted tree.
    #[serde(default)]
    pub protected: Vec<PathBuf>,
    /// Files and directories inside the workspace that stay read-only: they make other
    /// commands run code (`.git/config`, `.git/hooks`, `.envrc`, …).
    #[serde(default)]
    pub read_only: Vec<PathBuf>,
    /// Trees the command may read (system directories, toolchains on PATH).
    #[serde(default)]
    pub read_roots: Vec<PathBuf>,
    /// Network reach. None by default.
    #[serde(default)]
    pub network: Network,
    /// Kernel features to pretend are missing, to exercise the degraded modes.
    #[serde(default)]
    pub assume: Assume,
    /// Which step of the helper this is; set by the helper itself.
    #[serde(default)]
    pub stage: Stage,
    /// The user and group outside the namespaces, for the inner stage to map back to.
    #[serde(default)]
    pub ids: Option<Ids>,
}

/// A user and group id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
}

impl Spec {
    /// Every path absolute, the working directory inside the workspace.
    pub fn check(&self) -> Result<(), String> {
        let all = [&self.workspace, &self.cwd]
            .into_iter()
            .chain(&self.protected)
            .chain(&self.read_only)
            .chain(&self.read_roots);
        for p in all {
            if !p.is_absolute() {
                return Err(format!("`{}` is not an absolute path", p.display()));
            }
        }
        if !self.cwd.starts_with(&self.workspace) {
            return Err("the working directory is outside the workspace".into());
        }
        Ok(())
    }
}

/// What a command may reach over the network.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Network {
    /// No network at all: an empty network namespace, and no TCP under Landlock.
    #[default]
    None,
    /// TCP connections to these ports only (what the policy granted for this command).
    Ports { ports: Vec<u16> },
}

/// Kernel features to treat as absent (`PRYX_SANDBOX_ASSUME=no-userns,landlock-abi=3`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assume {
    /// Do not use user namespaces (no private mount, PID or network namespace).
    #[serde(default)]
    pub no_userns: bool,
    /// Use at most this Landlock ABI version.
    #[serde(default)]
    pub landlock_abi: Option<u8>,
}

impl Assume {
    /// Parses the value of `PRYX_SANDBOX_ASSUME`: comma-separated `no-userns`,
    /// `landlock-abi=N`. Unknown words are an error, so a typo does not go unnoticed.
    pub fn parse(raw: &str) -> Result<Assume, String> {
        let mut out = Assume::default();
        for word in raw.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            if word == "no-userns" {
                out.no_userns = true;
            } else if let Some(n) = word.strip_prefix("landlock-abi=") {
                let n: u8 = n
                    .parse()
                    .map_err(|_| format!("`{word}`: the ABI must be a number"))?;
                out.landlock_abi = Some(n);
            } else {
                return Err(format!(
                    "`{word}` is not a sandbox assumption (expected `no-userns` or `landlock-abi=N`)"
                ));
            }
        }
        Ok(out)
    }

    /// From the environment of the Pryx process; an invalid value is ignored with a warning.
    pub fn from_env() -> Assume {
        match std::env::var("PRYX_SANDBOX_ASSUME") {
            Ok(raw) => Assume::parse(&raw).unwrap_or_else(|e| {
                tracing::warn!("PRYX_SANDBOX_ASSUME ignored: {e}");
                Assume::default()
            }),
            Err(_) => Assume::default(),
        }
    }
}

/// The helper runs twice when namespaces are available: once outside them to create them,
/// once inside as their first process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    #[default]
    Outer,
    Inner,
    /// Only report whether namespaces can be created.
    Probe,
}

/// System trees every command may read.
const SYSTEM_ROOTS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt",
];

/// The trees a command may read: the system ones and the directories of `path_var` (with a
/// rustup toolchain's home when its proxies are on it), minus anything under `protected`
/// and minus a home directory itself (a toolchain below it is fine).
pub fn read_roots(
    path_var: Option<&std::ffi::OsStr>,
    home: Option<&Path>,
    protected: &[PathBuf],
) -> Vec<PathBuf> {
    let rustup_env = std::env::var_os("RUSTUP_HOME");
    roots_of(path_var, home, protected, rustup_env.as_deref())
}

/// [`read_roots`] with the value of `RUSTUP_HOME` given.
fn roots_of(
    path_var: Option<&std::ffi::OsStr>,
    home: Option<&Path>,
    protected: &[PathBuf],
    rustup_env: Option<&std::ffi::OsStr>,
) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = SYSTEM_ROOTS.iter().map(PathBuf::from).collect();
    let dirs: Vec<PathBuf> = path_var
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    for dir in dirs {
        if !dir.is_absolute() {
            continue;
        }
        let Ok(dir) = std::fs::canonicalize(&dir) else {
            continue;
        };
        if dir.join("rustup").is_file()
            && let Some(toolchains) = rustup_home(&dir, home, rustup_env)
        {
            push_root(&mut out, toolchains, home, protected);
        }
        // Version managers (pyenv, rbenv, nodenv) put shims on PATH that run from their root.
        if dir.file_name().is_some_and(|n| n == "shims")
            && let Some(root) = dir.parent()
        {
            push_root(&mut out, root.to_path_buf(), home, protected);
        }
        push_root(&mut out, dir, home, protected);
    }
    out
}

fn push_root(out: &mut Vec<PathBuf>, dir: PathBuf, home: Option<&Path>, protected: &[PathBuf]) {
    let too_wide = dir == Path::new("/")
        || home.is_some_and(|h| h.starts_with(&dir))
        || protected
            .iter()
            .any(|p| p.starts_with(&dir) || dir.starts_with(p));
    if !too_wide && !out.iter().any(|r| dir.starts_with(r)) {
        out.push(dir);
    }
}

/// `RUSTUP_HOME`, else `~/.rustup`, for a `…/.cargo/bin` full of rustup proxies.
fn rustup_home(
    bin: &Path,
    home: Option<&Path>,
    rustup_env: Option<&std::ffi::OsStr>,
) -> Option<PathBuf> {
    if let Some(h) = rustup_env {
        return std::fs::canonicalize(h).ok();
    }
    let guess = bin.parent()?.parent()?.join(".rustup");
    let from_home = home.map(|h| h.join(".rustup"));
    [Some(guess), from_home]
        .into_iter()
        .flatten()
        .find_map(|p| std::fs::canonicalize(p).ok())
}

/// Paths inside `workspace` that make other commands run code; existing ones are kept
/// read-only for commands.
pub fn code_bearing(workspace: &Path) -> Vec<PathBuf> {
    const NAMES: &[&str] = &[
        ".git/config",
        ".git/hooks",
        ".git/info",
        ".gitmodules",
        ".gitattributes",
        ".envrc",
        ".env.local",
        "Makefile",
        "makefile",
        "GNUmakefile",
        "package.json",
        ".npmrc",
        ".github/workflows",
        ".gitlab-ci.yml",
        ".pre-commit-config.yaml",
        "build.rs",
        ".cargo/config.toml",
        ".cargo/config",
        ".vscode/tasks.json",
    ];
    NAMES
        .iter()
        .map(|n| workspace.join(n))
        .filter(|p| std::fs::symlink_metadata(p).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn assumptions_parse_and_reject_typos() {
        assert_eq!(Assume::parse("").unwrap(), Assume::default());
        let a = Assume::parse("no-userns, landlock-abi=3").unwrap();
        assert!(a.no_userns);
        assert_eq!(a.landlock_abi, Some(3));
        assert!(Assume::parse("no-usern").is_err());
        assert!(Assume::parse("landlock-abi=x").is_err());
    }

    #[test]
    fn the_spec_round_trips_as_json() {
        let spec = Spec {
            workspace: "/ws".into(),
            cwd: "/ws/src".into(),
            command: "ls".into(),
            protected: vec!["/home/u/.pryx".into()],
            read_only: vec!["/ws/.git/config".into()],
            read_roots: vec!["/usr".into()],
            network: Network::Ports { ports: vec![443] },
            assume: Assume::default(),
            stage: Stage::Inner,
            ids: Some(Ids {
                uid: 1000,
                gid: 1000,
            }),
        };
        assert_eq!(spec.check(), Ok(()));
        let text = serde_json::to_string(&spec).unwrap();
        assert_eq!(serde_json::from_str::<Spec>(&text).unwrap(), spec);
        assert!(serde_json::from_str::<Spec>(r#"{"workspace":"/ws"}"#).is_err());
        let outside = Spec {
            cwd: "/elsewhere".into(),
            ..spec.clone()
        };
        assert!(outside.check().is_err());
        let relative = Spec {
            protected: vec!["data".into()],
            ..spec
        };
        assert!(relative.check().is_err());
    }

    #[test]
    fn read_roots_leave_out_home_and_the_data_dir() {
        let home = tempfile::tempdir().unwrap();
        let home = std::fs::canonicalize(home.path()).unwrap();
        let bin = home.join("tools/bin");
        std::fs::create_dir_all(&bin).unwrap();
        let data = home.join(".pryx");
        std::fs::create_dir_all(&data).unwrap();
        let path = std::env::join_paths([bin.clone(), home.clone(), data.clone()]).unwrap();
        let roots = read_roots(Some(&path), Some(&home), std::slice::from_ref(&data));
        assert!(roots.contains(&bin), "{roots:?}");
        assert!(!roots.contains(&home), "{roots:?}");
        assert!(!roots.contains(&data), "{roots:?}");
        assert!(roots.contains(&PathBuf::from("/usr")));
        // A directory inside the data dir, or holding it, is never a root.
        let data_bin = data.join("bin");
        std::fs::create_dir_all(&data_bin).unwrap();
        let path = std::env::join_paths([data_bin.clone(), bin.clone()]).unwrap();
        let roots = read_roots(Some(&path), None, std::slice::from_ref(&data));
        assert!(!roots.contains(&data_bin), "{roots:?}");
        let roots = read_roots(Some(&path), None, &[bin.join("private")]);
        assert!(!roots.contains(&bin), "{roots:?}");
        // `/` on PATH would grant everything: never a root, with or without a home.
        let path = std::env::join_paths(["/", "/opt/tools/bin"]).unwrap();
        for home in [None, Some(home.as_path())] {
            let roots = read_roots(Some(&path), home, &[]);
            assert!(!roots.contains(&PathBuf::from("/")), "{roots:?}");
        }
    }

    #[test]
    fn rustup_proxies_on_path_bring_their_toolchains() {
        let home = tempfile::tempdir().unwrap();
        let home = std::fs::canonicalize(home.path()).unwrap();
        let bin = home.join(".cargo/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("rustup"), "").unwrap();
        let guessed = home.join(".rustup");
        std::fs::create_dir_all(&guessed).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let elsewhere = std::fs::canonicalize(elsewhere.path()).unwrap();
        let path = std::env::join_paths([bin.clone()]).unwrap();
        let roots = roots_of(Some(&path), Some(&home), &[], None);
        assert!(roots.contains(&guessed), "{roots:?}");
        let roots = roots_of(Some(&path), Some(&home), &[], Some(elsewhere.as_os_str()));
        assert!(roots.contains(&elsewhere), "{roots:?}");
        assert!(!roots.contains(&guessed), "{roots:?}");
        // Without the proxy, no toolchain is added.
        std::fs::remove_file(bin.join("rustup")).unwrap();
        let roots = roots_of(Some(&path), Some(&home), &[], None);
        assert!(!roots.contains(&guessed), "{roots:?}");
    }

    /// Runs as a child of the test below, with `PRYX_SANDBOX_ASSUME` set.
    #[test]
    fn assumptions_child() {
        if let Ok(expected) = std::env::var("PRYX_TEST_EXPECT_ASSUME") {
            assert_eq!(format!("{:?}", Assume::from_env()), expected);
        }
    }

    #[test]
    fn the_assumptions_come_from_the_environment() {
        // The environment of this process is shared by its test threads: a child gets its own.
        let expected = Assume {
            no_userns: true,
            landlock_abi: Some(3),
        };
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "sandbox::spec::tests::assumptions_child"])
            .env("PRYX_SANDBOX_ASSUME", "no-userns,landlock-abi=3")
            .env("PRYX_TEST_EXPECT_ASSUME", format!("{expected:?}"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("1 passed"), "{stdout}");
    }
}
