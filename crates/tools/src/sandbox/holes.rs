//! Landlock rules can only grant. To keep a directory (a "hole") out of a granted tree, the
//! tree is granted piece by piece around it: for a root R and holes inside it, every entry of
//! each directory on the way from R to a hole is granted, except the entry leading to the hole,
//! which is split the same way in turn.
//!
//! The directories on the way themselves get no rule (a rule on one would reach the hole
//! below it), so a sandboxed command can use what is in them but not list them or add and
//! remove entries directly in them. Entries are opened without following links, and links get
//! no rule: access through a link is checked on its target, and a rule on a link would grant
//! the target, which may be the hole.

use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, Mode, OFlags};

/// One rule to add: a handle on what it grants.
#[derive(Debug)]
pub(crate) struct Grant {
    pub(crate) fd: OwnedFd,
    pub(crate) is_dir: bool,
}

/// A grant: a handle that names a file for Landlock without opening it for reading (a FIFO
/// would block, an unreadable file would fail).
const HANDLE: OFlags = OFlags::PATH.union(OFlags::CLOEXEC);
/// A directory read for its entries.
const READ_DIR: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::CLOEXEC);

/// The grants that cover everything beneath `root` except what is beneath any of `holes`
/// (canonical paths). A root inside a hole gets nothing; a root with no hole inside it is one
/// grant; a root that does not exist is none.
pub(crate) fn grants_around_holes(root: &Path, holes: &[PathBuf]) -> Vec<Grant> {
    if holes.iter().any(|h| root.starts_with(h)) {
        return Vec::new();
    }
    let Ok(fd) = rustix::fs::open(root, HANDLE, Mode::empty()) else {
        return Vec::new();
    };
    let inside: Vec<&Path> = holes
        .iter()
        .map(PathBuf::as_path)
        .filter(|h| h.starts_with(root))
        .collect();
    let is_dir = kind(&fd) == Some(FileType::Directory);
    if inside.is_empty() || !is_dir {
        return vec![Grant { fd, is_dir }];
    }
    let mut out = Vec::new();
    split(&fd, root, &inside, &mut out);
    out
}

/// Grants every entry of the directory `dir` (at `dir_path`) but the holes, splitting the
/// entries that lead to one.
fn split(dir: &OwnedFd, dir_path: &Path, holes: &[&Path], out: &mut Vec<Grant>) {
    let Ok(readable) = rustix::fs::openat(dir, ".", READ_DIR, Mode::empty()) else {
        return;
    };
    let Ok(entries) = rustix::fs::Dir::new(readable) else {
        return;
    };
    for entry in entries.flatten() {
        let name = std::ffi::OsStr::from_bytes(entry.file_name().to_bytes());
        if name == "." || name == ".." {
            continue;
        }
        let child = dir_path.join(name);
        if holes.iter().any(|h| *h == child) {
            continue;
        }
        let Ok(fd) = rustix::fs::openat(dir, name, HANDLE.union(OFlags::NOFOLLOW), Mode::empty())
        else {
            continue;
        };
        let is_dir = match kind(&fd) {
            Some(FileType::Symlink) | None => continue,
            Some(ft) => ft == FileType::Directory,
        };
        let below: Vec<&Path> = holes
            .iter()
            .copied()
            .filter(|h| h.starts_with(&child))
            .collect();
        if below.is_empty() {
            out.push(Grant { fd, is_dir });
        } else if is_dir {
            split(&fd, &child, &below, out);
        }
    }
}

fn kind(fd: &OwnedFd) -> Option<FileType> {
    rustix::fs::fstat(fd)
        .ok()
        .map(|st| FileType::from_raw_mode(st.st_mode))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// Where each grant's handle points, from `/proc`.
    fn paths(grants: &[Grant]) -> Vec<String> {
        use std::os::fd::AsRawFd as _;
        let mut v: Vec<String> = grants
            .iter()
            .map(|g| {
                let link = format!("/proc/self/fd/{}", g.fd.as_raw_fd());
                std::fs::read_link(link).unwrap().display().to_string()
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_root_without_holes_is_one_grant_and_a_root_inside_a_hole_none() {
        let d = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(d.path()).unwrap();
        let g = grants_around_holes(&root, &[PathBuf::from("/somewhere/else")]);
        assert_eq!(paths(&g), vec![root.display().to_string()]);
        assert!(g[0].is_dir);
        assert!(grants_around_holes(&root.join("x"), std::slice::from_ref(&root)).is_empty());
        assert!(grants_around_holes(&root, std::slice::from_ref(&root)).is_empty());
        assert!(grants_around_holes(&root.join("missing"), &[]).is_empty());
    }

    #[test]
    fn everything_but_the_hole_is_granted_and_links_are_not() {
        let d = tempfile::tempdir().unwrap();
        let r = std::fs::canonicalize(d.path()).unwrap();
        for dir in ["a/keep", "a/hole/inner", "a/sibling", "b"] {
            std::fs::create_dir_all(r.join(dir)).unwrap();
        }
        std::fs::write(r.join("top.txt"), "").unwrap();
        std::fs::write(r.join("a/file"), "").unwrap();
        std::fs::write(r.join("a/hole/secret"), "").unwrap();
        std::os::unix::fs::symlink(r.join("a/hole"), r.join("link-to-hole")).unwrap();
        std::os::unix::fs::symlink(r.join("a/hole"), r.join("a/link-to-hole")).unwrap();
        let hole = r.join("a/hole");
        let g = grants_around_holes(&r, std::slice::from_ref(&hole));
        let s = |p: &str| r.join(p).display().to_string();
        assert_eq!(
            paths(&g),
            vec![
                s("a/file"),
                s("a/keep"),
                s("a/sibling"),
                s("b"),
                s("top.txt")
            ]
        );
        assert_eq!(
            g.iter().filter(|x| !x.is_dir).count(),
            2,
            "top.txt and a/file"
        );
    }

    #[test]
    fn grants_are_path_handles_that_never_open_what_they_name() {
        let d = tempfile::tempdir().unwrap();
        let r = std::fs::canonicalize(d.path()).unwrap();
        std::fs::create_dir_all(r.join("a/hole")).unwrap();
        std::fs::write(r.join("a/f"), "").unwrap();
        let whole = grants_around_holes(&r, &[]);
        let split = grants_around_holes(&r, &[r.join("a/hole")]);
        assert_eq!(paths(&split), vec![r.join("a/f").display().to_string()]);
        for g in whole.iter().chain(&split) {
            let flags = rustix::fs::fcntl_getfl(&g.fd).unwrap();
            assert!(flags.contains(OFlags::PATH), "{flags:?}");
            let fd_flags = rustix::io::fcntl_getfd(&g.fd).unwrap();
            assert!(fd_flags.contains(rustix::io::FdFlags::CLOEXEC));
        }
    }

    #[test]
    fn two_holes_in_one_tree_are_both_left_out() {
        let d = tempfile::tempdir().unwrap();
        let r = std::fs::canonicalize(d.path()).unwrap();
        for dir in ["x/h1", "x/y/h2", "x/y/z"] {
            std::fs::create_dir_all(r.join(dir)).unwrap();
        }
        let g = grants_around_holes(&r, &[r.join("x/h1"), r.join("x/y/h2")]);
        assert_eq!(paths(&g), vec![r.join("x/y/z").display().to_string()]);
    }
}
