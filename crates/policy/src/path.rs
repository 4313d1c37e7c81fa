//! Resolving a path the way the kernel will, before it is judged: `~`, relative to a base,
//! `..`, symlinks (also dangling ones and symlinked parents), and files that do not exist yet.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// Why a path could not be resolved to one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathProblem {
    /// Contains a NUL byte (the kernel would cut it there).
    Nul,
    /// Empty string.
    Empty,
    /// `~user` or `~` without a known home.
    Tilde,
    /// `..` after a component that does not exist, so its meaning depends on what gets created.
    DotDotAfterMissing,
    /// More than 40 symlinks followed.
    SymlinkLoop,
    /// Touches `/proc`, `/dev` or `/sys`, whose entries are magic links or devices.
    Special(PathBuf),
    /// The filesystem refused to tell us (e.g. permission denied).
    Io(String),
}

impl std::fmt::Display for PathProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathProblem::Nul => f.write_str("path contains a NUL byte"),
            PathProblem::Empty => f.write_str("path is empty"),
            PathProblem::Tilde => f.write_str("`~` cannot be expanded (unknown home or `~user`)"),
            PathProblem::DotDotAfterMissing => {
                f.write_str("path has `..` after a part that does not exist")
            }
            PathProblem::SymlinkLoop => f.write_str("too many symbolic links"),
            PathProblem::Special(p) => write!(f, "path reaches {} (proc, dev or sys)", p.display()),
            PathProblem::Io(e) => write!(f, "path cannot be inspected: {e}"),
        }
    }
}

const SPECIAL_ROOTS: &[&str] = &["/proc", "/dev", "/sys"];
const MAX_LINKS: usize = 40;

fn special(p: &Path) -> bool {
    SPECIAL_ROOTS.iter().any(|r| p.starts_with(r))
}

/// Resolves `raw` (relative to `base`, `~` against `home`) to an absolute path with every
/// existing symlink followed. Parts that do not exist are appended as written.
pub fn resolve_path(raw: &str, base: &Path, home: Option<&Path>) -> Result<PathBuf, PathProblem> {
    if raw.contains('\0') {
        return Err(PathProblem::Nul);
    }
    if raw.is_empty() {
        return Err(PathProblem::Empty);
    }
    let expanded = if raw.starts_with('~') {
        crate::document::expand_tilde(raw, home).ok_or(PathProblem::Tilde)?
    } else {
        PathBuf::from(raw)
    };
    let absolute = if expanded.is_absolute() {
        expanded
    } else {
        base.join(expanded)
    };
    if special(&lexical(&absolute)) {
        return Err(PathProblem::Special(absolute));
    }
    resolve_absolute(&absolute)
}

/// Lexical normalisation (no filesystem), used only to spot `/proc`-style prefixes early.
fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

fn resolve_absolute(path: &Path) -> Result<PathBuf, PathProblem> {
    let mut queue: VecDeque<OsString> = VecDeque::new();
    push_front(&mut queue, path);
    let mut cur = PathBuf::from("/");
    let mut missing = false;
    let mut links = 0usize;
    while let Some(part) = queue.pop_front() {
        if part == "/" {
            cur = PathBuf::from("/");
            continue;
        }
        if part == "." {
            continue;
        }
        if part == ".." {
            if missing {
                return Err(PathProblem::DotDotAfterMissing);
            }
            cur.pop();
            continue;
        }
        let candidate = cur.join(&part);
        if missing {
            cur = candidate;
            continue;
        }
        match std::fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_symlink() => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(PathProblem::SymlinkLoop);
                }
                let target =
                    std::fs::read_link(&candidate).map_err(|e| PathProblem::Io(e.to_string()))?;
                if target.is_absolute() {
                    cur = PathBuf::from("/");
                }
                push_front(&mut queue, &target);
            }
            Ok(_) => cur = candidate,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                missing = true;
                cur = candidate;
            }
            Err(e) => return Err(PathProblem::Io(format!("{}: {e}", candidate.display()))),
        }
        if special(&cur) {
            return Err(PathProblem::Special(cur));
        }
    }
    if special(&cur) {
        return Err(PathProblem::Special(cur));
    }
    Ok(cur)
}

/// Puts the components of `p` in front of the queue, in order (a leading `/` as "/").
fn push_front(queue: &mut VecDeque<OsString>, p: &Path) {
    let parts: Vec<OsString> = p
        .components()
        .filter_map(|c| match c {
            Component::RootDir => Some(OsString::from("/")),
            Component::CurDir => Some(OsString::from(".")),
            Component::ParentDir => Some(OsString::from("..")),
            Component::Normal(n) => Some(n.to_os_string()),
            Component::Prefix(_) => None,
        })
        .collect();
    for part in parts.into_iter().rev() {
        queue.push_front(part);
    }
}

/// Whether an existing regular file has more than one hard link (it may alias a file elsewhere).
pub(crate) fn has_other_links(p: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file() && m.nlink() > 1)
}
