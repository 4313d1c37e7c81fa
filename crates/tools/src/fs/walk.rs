//! Walking a directory tree through descriptors, for `fs.list` and `fs.search`.
//!
//! Each directory is read through the descriptor it was opened as, and each subdirectory is
//! opened from its parent's descriptor with `O_NOFOLLOW`, so a directory swapped for a link
//! while the walk runs is skipped rather than followed out of the workspace. Protected
//! directories are skipped without a trace. Ignore files are honoured the way `git` and
//! ripgrep do (`.ignore` over `.gitignore` over `.git/info/exclude`, deeper files first),
//! including those of the directories above the starting one.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::Read as _;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::overrides::Override;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use tokio_util::sync::CancellationToken;

use super::confined::Confined;
use crate::{ToolError, beneath};

/// Deepest level walked; bounds the descriptors held open at once.
const MAX_DEPTH: usize = 256;
/// Largest ignore file read.
const MAX_IGNORE_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Dir,
    File,
    Symlink,
    Other,
}

/// One entry met by the walk.
pub(crate) struct Entry<'a> {
    /// Canonical path (inside the workspace; nothing on the way was a link).
    pub(crate) abs: &'a Path,
    pub(crate) kind: Kind,
    /// The directory holding the entry, opened beneath the workspace handle.
    pub(crate) dir: BorrowedFd<'a>,
    pub(crate) name: &'a OsStr,
}

pub(crate) struct Options {
    /// `Some(1)`: only the entries of the starting directory.
    pub(crate) max_depth: Option<usize>,
    /// Show entries whose name starts with `.`.
    pub(crate) hidden: bool,
    /// Names never shown nor entered.
    pub(crate) skip_names: &'static [&'static str],
    /// Globs that override the ignore files (search's `glob`).
    pub(crate) overrides: Option<Override>,
}

/// The ignore rules found in one directory.
#[derive(Default)]
struct Rules {
    ignore: Option<Gitignore>,
    gitignore: Option<Gitignore>,
    exclude: Option<Gitignore>,
    /// The directory holds `.git`: git's own files above it do not apply below.
    has_git: bool,
}

/// Walks the directory `start` (canonical `start_abs`, opened by [`Confined`]) in name order,
/// depth first, calling `visit` for every entry that is not ignored, hidden (unless asked) or
/// protected.
pub(crate) fn walk(
    conf: &Confined,
    start: &File,
    start_abs: &Path,
    opts: &Options,
    cancel: &CancellationToken,
    visit: &mut dyn FnMut(&Entry<'_>) -> Result<(), ToolError>,
) -> Result<(), ToolError> {
    let mut levels = ancestor_rules(conf, start_abs);
    let walker = Walker { conf, opts, cancel };
    walker.dir(start, start_abs, 0, &mut levels, visit)
}

struct Walker<'a> {
    conf: &'a Confined,
    opts: &'a Options,
    cancel: &'a CancellationToken,
}

impl Walker<'_> {
    fn dir(
        &self,
        dir: &File,
        abs: &Path,
        depth: usize,
        levels: &mut Vec<Rules>,
        visit: &mut dyn FnMut(&Entry<'_>) -> Result<(), ToolError>,
    ) -> Result<(), ToolError> {
        let Ok(entries) = read_entries(dir.as_fd()) else {
            return Ok(());
        };
        levels.push(rules_in(dir.as_fd(), Path::new(""), abs));
        let result = self.entries(dir, abs, depth, &entries, levels, visit);
        levels.pop();
        result
    }

    fn entries(
        &self,
        dir: &File,
        abs: &Path,
        depth: usize,
        entries: &[(OsString, Kind)],
        levels: &mut Vec<Rules>,
        visit: &mut dyn FnMut(&Entry<'_>) -> Result<(), ToolError>,
    ) -> Result<(), ToolError> {
        for (name, kind) in entries {
            if self.cancel.is_cancelled() {
                return Err(ToolError::Cancelled);
            }
            let child = abs.join(name);
            if self.opts.skip_names.iter().any(|s| OsStr::new(s) == name)
                || self.conf.is_protected_path(&child)
                || self.skipped(levels, &child, name, *kind == Kind::Dir)
            {
                continue;
            }
            visit(&Entry {
                abs: &child,
                kind: *kind,
                dir: dir.as_fd(),
                name,
            })?;
            let deeper = depth + 1;
            if *kind != Kind::Dir
                || deeper >= self.opts.max_depth.unwrap_or(MAX_DEPTH).min(MAX_DEPTH)
            {
                continue;
            }
            // A directory swapped for a link since it was listed fails here and is skipped.
            let Ok(fd) = rustix::fs::openat(
                dir,
                name.as_os_str(),
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            ) else {
                continue;
            };
            let sub = File::from(fd);
            match sub.metadata() {
                Ok(meta) if !self.conf.is_protected_dir(&meta) => {}
                _ => continue,
            }
            self.dir(&sub, &child, deeper, levels, visit)?;
        }
        Ok(())
    }

    /// Whether an entry is left out: the search glob decides first, then the ignore files,
    /// then the leading dot.
    fn skipped(&self, levels: &[Rules], abs: &Path, name: &OsStr, is_dir: bool) -> bool {
        if let Some(ov) = &self.opts.overrides {
            match ov.matched(abs, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        if let Some(ignored) = ignore_decision(levels, abs, is_dir) {
            return ignored;
        }
        !self.opts.hidden && name.as_bytes().starts_with(b".")
    }
}

/// What the ignore files say of `abs`: `.ignore` files win over `.gitignore` ones, which win
/// over `.git/info/exclude`; within a kind the deepest file with a match decides. Git's files
/// stop applying above the directory that holds `.git`.
fn ignore_decision(levels: &[Rules], abs: &Path, is_dir: bool) -> Option<bool> {
    let kinds: [fn(&Rules) -> Option<&Gitignore>; 3] = [
        |r| r.ignore.as_ref(),
        |r| r.gitignore.as_ref(),
        |r| r.exclude.as_ref(),
    ];
    for (i, pick) in kinds.iter().enumerate() {
        let git_kind = i > 0;
        for rules in levels.iter().rev() {
            if let Some(gi) = pick(rules) {
                match gi.matched(abs, is_dir) {
                    Match::Ignore(_) => return Some(true),
                    Match::Whitelist(_) => return Some(false),
                    Match::None => {}
                }
            }
            if git_kind && rules.has_git {
                break;
            }
        }
    }
    None
}

/// The entries of a directory, sorted by name, `.` and `..` left out.
fn read_entries(dir: BorrowedFd<'_>) -> std::io::Result<Vec<(OsString, Kind)>> {
    let mut out = Vec::new();
    for entry in rustix::fs::Dir::read_from(dir)? {
        let entry = entry?;
        let name = OsStr::from_bytes(entry.file_name().to_bytes());
        if name == "." || name == ".." {
            continue;
        }
        let ft = match entry.file_type() {
            FileType::Unknown => rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)
                .map_or(FileType::Unknown, |st| FileType::from_raw_mode(st.st_mode)),
            ft => ft,
        };
        let kind = match ft {
            FileType::Directory => Kind::Dir,
            FileType::RegularFile => Kind::File,
            FileType::Symlink => Kind::Symlink,
            _ => Kind::Other,
        };
        out.push((name.to_owned(), kind));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Rules of the directories above `start_abs`: inside the workspace read beneath its handle,
/// above it by path (they only narrow what is shown).
fn ancestor_rules(conf: &Confined, start_abs: &Path) -> Vec<Rules> {
    let ws = conf.workspace();
    let mut chain: Vec<&Path> = start_abs.ancestors().skip(1).collect();
    chain.reverse();
    let mut levels = Vec::with_capacity(chain.len());
    for dir in chain {
        match dir.strip_prefix(ws) {
            Ok(rel) => levels.push(rules_in(conf.root(), rel, dir)),
            Err(_) => levels.push(rules_by_path(dir)),
        }
    }
    levels
}

/// Rules of the directory `sub` beneath `dir` (whose canonical path is `abs`).
fn rules_in(dir: BorrowedFd<'_>, sub: &Path, abs: &Path) -> Rules {
    let read = |name: &str| read_small_beneath(dir, &sub.join(name));
    let has_git = beneath::open_beneath(
        dir,
        &sub.join(".git"),
        OFlags::PATH | OFlags::DIRECTORY,
        Mode::empty(),
    )
    .is_ok();
    Rules {
        ignore: read(".ignore").and_then(|t| build(abs, &t)),
        gitignore: read(".gitignore").and_then(|t| build(abs, &t)),
        exclude: read(".git/info/exclude").and_then(|t| build(abs, &t)),
        has_git,
    }
}

fn rules_by_path(abs: &Path) -> Rules {
    let read = |name: &str| {
        let file = File::open(abs.join(name)).ok()?;
        read_small(file)
    };
    Rules {
        ignore: read(".ignore").and_then(|t| build(abs, &t)),
        gitignore: read(".gitignore").and_then(|t| build(abs, &t)),
        exclude: read(".git/info/exclude").and_then(|t| build(abs, &t)),
        has_git: abs.join(".git").is_dir(),
    }
}

fn read_small_beneath(dir: BorrowedFd<'_>, rel: &Path) -> Option<String> {
    let fd =
        beneath::open_beneath(dir, rel, OFlags::RDONLY | OFlags::NONBLOCK, Mode::empty()).ok()?;
    read_small(File::from(fd))
}

fn read_small(file: File) -> Option<String> {
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = String::new();
    file.take(MAX_IGNORE_FILE_BYTES)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}

fn build(root: &Path, text: &str) -> Option<Gitignore> {
    let mut builder = GitignoreBuilder::new(root);
    for line in text.lines() {
        // A bad line is skipped, as git does.
        let _ = builder.add_line(None::<PathBuf>, line);
    }
    builder.build().ok().filter(|gi| !gi.is_empty())
}
