//! Opening paths beneath a directory handle without following a symbolic link at any step.
//!
//! A path can be checked and then changed before it is opened (a directory swapped for a link
//! to elsewhere), so checking is not enough: the open itself must refuse to leave the handle.
//! The paths given here are canonical already (links resolved while checking), so a link met
//! while opening can only be one that appeared since, and the open fails on it.
//!
//! Linux `openat2` with `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS` does this
//! in one call. Where it is missing (kernels before 5.6) or refused (seccomp filters answer
//! ENOSYS or EPERM) the same is done one component at a time with `openat(O_NOFOLLOW)`.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

/// How a path is resolved beneath the handle; [`Strategy::Walk`] is also forced by tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// `openat2` when the kernel has it, else [`Strategy::Walk`].
    Auto,
    /// One `openat(O_NOFOLLOW)` per component.
    #[cfg(test)]
    Walk,
}

/// Set once `openat2` answered ENOSYS, so later opens go straight to the walk.
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// How often `openat2` is retried when the kernel reports a concurrent rename (EAGAIN).
const RENAME_RETRIES: usize = 8;

/// Added to the flags of every open beneath a handle.
pub(crate) const EVERY_OPEN: OFlags = OFlags::NOFOLLOW.union(OFlags::CLOEXEC);
/// A handle to a directory that paths are opened beneath (never read itself).
const DIR_HANDLE: OFlags = OFlags::PATH.union(OFlags::DIRECTORY).union(OFlags::CLOEXEC);
/// Each directory on the way down: a directory handle that is not a link.
const DIR_STEP: OFlags = DIR_HANDLE.union(OFlags::NOFOLLOW);
/// A file that must not exist yet.
pub(crate) const NEW_FILE: OFlags = OFlags::WRONLY.union(OFlags::CREATE).union(OFlags::EXCL);

/// Opens the directory `path` itself (a handle to open beneath). The path is trusted: it is the
/// workspace or another root the caller chose, not an argument the model wrote.
pub(crate) fn open_root(path: &Path) -> io::Result<OwnedFd> {
    Ok(rustix::fs::open(path, DIR_HANDLE, Mode::empty())?)
}

/// Opens `rel` beneath `dir` with `flags` (and `mode` when creating). `rel` must be relative and
/// made of plain names (`.` is ignored, `..` refused); empty means `dir` itself. A symbolic link
/// anywhere on the way, the last component included, fails the open with ELOOP.
pub(crate) fn open_beneath(
    dir: BorrowedFd<'_>,
    rel: &Path,
    flags: OFlags,
    mode: Mode,
) -> io::Result<OwnedFd> {
    open_beneath_with(Strategy::Auto, dir, rel, flags, mode)
}

pub(crate) fn open_beneath_with(
    strategy: Strategy,
    dir: BorrowedFd<'_>,
    rel: &Path,
    flags: OFlags,
    mode: Mode,
) -> io::Result<OwnedFd> {
    let names = plain_names(rel)?;
    let flags = flags | EVERY_OPEN;
    if tries_openat2(strategy) {
        match openat2_beneath(dir, &names, flags, mode) {
            Err(Errno::NOSYS) => NO_OPENAT2.store(true, Ordering::Relaxed),
            // A seccomp filter may refuse the call itself; the walk gives the real answer.
            Err(Errno::PERM) => {}
            other => return Ok(other?),
        }
    }
    walk(dir, &names, flags, mode)
}

/// Whether `openat2` is tried first: for [`Strategy::Auto`] unless the kernel lacks it.
fn tries_openat2(strategy: Strategy) -> bool {
    strategy == Strategy::Auto && !NO_OPENAT2.load(Ordering::Relaxed)
}

/// Opens the directory `rel` beneath `dir` (as an `O_PATH` handle), creating missing
/// components one `mkdirat` at a time, each beneath the one before. Existing components must be
/// real directories, not links.
pub(crate) fn create_dirs_beneath(dir: BorrowedFd<'_>, rel: &Path) -> io::Result<OwnedFd> {
    let names = plain_names(rel)?;
    let flags = DIR_STEP;
    let mut cur = rustix::fs::openat(dir, ".", flags, Mode::empty())?;
    for name in names {
        let next = match rustix::fs::openat(&cur, name, flags, Mode::empty()) {
            Err(Errno::NOENT) => {
                match rustix::fs::mkdirat(&cur, name, Mode::from_raw_mode(0o777)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(e.into()),
                }
                rustix::fs::openat(&cur, name, flags, Mode::empty())?
            }
            other => other?,
        };
        cur = next;
    }
    Ok(cur)
}

/// Writes a new file `name` in the directory `rel` beneath `root` (creating the directories),
/// never following a link and never replacing a file: files that arrive from outside (a chat's
/// attachments) land inside the workspace whatever links a tool left there. Returns the path
/// written, relative to `root`.
pub fn write_new_beneath(root: &Path, rel: &Path, name: &str, bytes: &[u8]) -> io::Result<PathBuf> {
    use std::io::Write as _;
    let root_fd = open_root(root)?;
    let dir = create_dirs_beneath(root_fd.as_fd(), rel)?;
    let fd = open_beneath(
        dir.as_fd(),
        Path::new(name),
        NEW_FILE,
        Mode::from_raw_mode(0o644),
    )?;
    let mut file = std::fs::File::from(fd);
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(rel.join(name))
}

/// Reads the file `rel` beneath `root` without following a link at any step, refusing one
/// larger than `max` bytes: files a chat channel sends back come from the workspace, whatever
/// links a tool left there.
pub fn read_beneath(root: &Path, rel: &Path, max: u64) -> io::Result<Vec<u8>> {
    use std::io::Read as _;
    let root_fd = open_root(root)?;
    let fd = open_beneath(root_fd.as_fd(), rel, OFlags::RDONLY, Mode::empty())?;
    let file = std::fs::File::from(fd);
    let len = file.metadata()?.len();
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is larger than {max} bytes", rel.display()),
        ));
    }
    let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(max.saturating_add(1)).read_to_end(&mut out)?;
    if out.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} grew past {max} bytes while it was read", rel.display()),
        ));
    }
    Ok(out)
}

/// Where an open descriptor really is, from `/proc/self/fd` (Linux). `None` when that cannot be
/// read (no `/proc`, other systems); the open beneath the handle is then the only guarantee.
pub(crate) fn real_path(fd: BorrowedFd<'_>) -> Option<PathBuf> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    use std::os::fd::AsRawFd as _;
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).ok()
}

/// The components of `rel` as names; refuses anything but plain names and `.`.
fn plain_names(rel: &Path) -> io::Result<Vec<&std::ffi::OsStr>> {
    rel.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| match c {
            Component::Normal(name) => Ok(name),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "path to open beneath a directory must be relative, without `..`",
            )),
        })
        .collect()
}

#[cfg(target_os = "linux")]
fn openat2_beneath(
    dir: BorrowedFd<'_>,
    names: &[&std::ffi::OsStr],
    flags: OFlags,
    mode: Mode,
) -> Result<OwnedFd, Errno> {
    use rustix::fs::ResolveFlags;
    let joined: PathBuf = if names.is_empty() {
        PathBuf::from(".")
    } else {
        names.iter().collect()
    };
    const RESOLVE: ResolveFlags = ResolveFlags::BENEATH
        .union(ResolveFlags::NO_SYMLINKS)
        .union(ResolveFlags::NO_MAGICLINKS);
    retry_on_rename(|| rustix::fs::openat2(dir, &joined, flags, mode, RESOLVE))
}

/// Calls `open` again, up to [`RENAME_RETRIES`] more times, while it reports EAGAIN (a rename
/// elsewhere in the tree raced the lookup); any other answer is returned as is.
#[cfg(target_os = "linux")]
fn retry_on_rename<T>(mut open: impl FnMut() -> Result<T, Errno>) -> Result<T, Errno> {
    let mut tries = 0;
    loop {
        match open() {
            Err(Errno::AGAIN) if tries < RENAME_RETRIES => tries += 1,
            other => return other,
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn openat2_beneath(
    _dir: BorrowedFd<'_>,
    _names: &[&std::ffi::OsStr],
    _flags: OFlags,
    _mode: Mode,
) -> Result<OwnedFd, Errno> {
    Err(Errno::NOSYS)
}

/// The component-by-component open: every directory on the way with `O_NOFOLLOW |
/// O_DIRECTORY`, the last one with the caller's flags (which include `O_NOFOLLOW`).
fn walk(
    dir: BorrowedFd<'_>,
    names: &[&std::ffi::OsStr],
    flags: OFlags,
    mode: Mode,
) -> io::Result<OwnedFd> {
    let Some((last, parents)) = names.split_last() else {
        return Ok(rustix::fs::openat(dir, ".", flags, mode)?);
    };
    let dir_flags = DIR_STEP;
    let mut cur: Option<OwnedFd> = None;
    for name in parents {
        let at = cur.as_ref().map_or(dir, AsFd::as_fd);
        cur = Some(rustix::fs::openat(at, *name, dir_flags, Mode::empty())?);
    }
    let at = cur.as_ref().map_or(dir, AsFd::as_fd);
    Ok(rustix::fs::openat(at, *last, flags, mode)?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use std::os::unix::fs::symlink;

    const STRATEGIES: [Strategy; 2] = [Strategy::Auto, Strategy::Walk];

    fn tree() -> (tempfile::TempDir, tempfile::TempDir, PathBuf) {
        let ws = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        let w = ws.path();
        std::fs::create_dir_all(w.join("a/b")).unwrap();
        std::fs::write(w.join("a/b/f"), "inside").unwrap();
        std::fs::write(out.path().join("f"), "outside").unwrap();
        symlink(out.path(), w.join("out")).unwrap();
        symlink(w.join("a"), w.join("abs-in")).unwrap();
        symlink("a", w.join("rel-in")).unwrap();
        symlink(out.path().join("f"), w.join("a/file-out")).unwrap();
        let canon = std::fs::canonicalize(w).unwrap();
        (ws, out, canon)
    }

    fn read(strategy: Strategy, root: &OwnedFd, rel: &str) -> io::Result<String> {
        let fd = open_beneath_with(
            strategy,
            root.as_fd(),
            Path::new(rel),
            OFlags::RDONLY,
            Mode::empty(),
        )?;
        std::io::read_to_string(std::fs::File::from(fd))
    }

    #[test]
    fn plain_paths_open_and_every_link_or_climb_is_refused() {
        let (_ws, _out, w) = tree();
        let root = open_root(&w).unwrap();
        for strategy in STRATEGIES {
            assert_eq!(read(strategy, &root, "a/b/f").unwrap(), "inside");
            assert_eq!(read(strategy, &root, "./a/./b/f").unwrap(), "inside");
            // Links are refused even when they point inside: paths given here are canonical.
            for attack in [
                "out/f",
                "a/file-out",
                "abs-in/b/f",
                "rel-in/b/f",
                "../f",
                "a/../a/b/f",
                "/etc/passwd",
            ] {
                let err = read(strategy, &root, attack).unwrap_err();
                assert_ne!(err.kind(), io::ErrorKind::NotFound, "{strategy:?} {attack}");
            }
        }
    }

    #[test]
    fn caller_flags_never_turn_off_no_follow_or_close_on_exec() {
        let (_ws, _out, w) = tree();
        let root = open_root(&w).unwrap();
        // Callers often pass these flags themselves; adding them again must keep them set.
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        for strategy in STRATEGIES {
            let open = |rel: &str| {
                open_beneath_with(strategy, root.as_fd(), Path::new(rel), flags, Mode::empty())
            };
            assert!(
                open("a/file-out").is_err(),
                "{strategy:?}: a final link is followed"
            );
            let fd = open("a/b/f").unwrap();
            let fd_flags = rustix::io::fcntl_getfd(&fd).unwrap();
            assert!(
                fd_flags.contains(rustix::io::FdFlags::CLOEXEC),
                "{strategy:?}"
            );
        }
    }

    #[test]
    fn the_walk_is_what_tests_forcing_it_exercise() {
        assert!(!tries_openat2(Strategy::Walk));
        if cfg!(target_os = "linux") {
            assert!(tries_openat2(Strategy::Auto) || NO_OPENAT2.load(Ordering::Relaxed));
        }
    }

    #[test]
    fn a_root_must_be_a_directory() {
        let (_ws, _out, w) = tree();
        let err = open_root(&w.join("a/b/f")).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(Errno::NOTDIR.raw_os_error()));
        // The handle only opens beneath; it cannot read the directory itself.
        let root = open_root(&w).unwrap();
        assert!(rustix::fs::fstat(&root).is_ok());
        assert_eq!(
            rustix::io::read(&root, &mut [0u8; 1]).unwrap_err(),
            Errno::BADF
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_raced_lookup_is_retried_a_bounded_number_of_times() {
        let mut calls = 0;
        let got = retry_on_rename(|| {
            calls += 1;
            if calls <= RENAME_RETRIES {
                Err(Errno::AGAIN)
            } else {
                Ok(calls)
            }
        });
        assert_eq!(got, Ok(RENAME_RETRIES + 1));
        let mut calls = 0;
        let got: Result<(), Errno> = retry_on_rename(|| {
            calls += 1;
            Err(Errno::AGAIN)
        });
        assert_eq!((got, calls), (Err(Errno::AGAIN), RENAME_RETRIES + 1));
        let mut calls = 0;
        let got: Result<(), Errno> = retry_on_rename(|| {
            calls += 1;
            Err(Errno::LOOP)
        });
        assert_eq!((got, calls), (Err(Errno::LOOP), 1));
    }

    #[test]
    fn a_new_file_is_written_beneath_and_never_replaces_or_follows() {
        let (_ws, out, w) = tree();
        let rel = write_new_beneath(&w, Path::new(".pryx/inbox"), "photo.jpg", b"jpeg").unwrap();
        assert_eq!(rel, Path::new(".pryx/inbox/photo.jpg"));
        assert_eq!(std::fs::read(w.join(&rel)).unwrap(), b"jpeg");
        let again = write_new_beneath(&w, Path::new(".pryx/inbox"), "photo.jpg", b"other");
        assert_eq!(again.unwrap_err().kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(w.join(&rel)).unwrap(), b"jpeg");
        // A link where the directory or the file would go is never followed.
        assert!(write_new_beneath(&w, Path::new("out"), "x", b"x").is_err());
        assert!(write_new_beneath(&w, Path::new("a"), "file-out", b"x").is_err());
        assert_eq!(std::fs::read(out.path().join("f")).unwrap(), b"outside");
        assert!(!out.path().join("x").exists());
        // Neither is a file where a directory is expected.
        assert!(write_new_beneath(&w, Path::new("a/b/f"), "x", b"x").is_err());
    }

    #[test]
    fn a_file_is_read_beneath_up_to_its_limit() {
        let (_ws, _out, w) = tree();
        assert_eq!(read_beneath(&w, Path::new("a/b/f"), 6).unwrap(), b"inside");
        // Refused from its size, before a byte is read.
        let err = read_beneath(&w, Path::new("a/b/f"), 5).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("is larger than 5 bytes"), "{err}");
        assert!(read_beneath(&w, Path::new("a/file-out"), 100).is_err());
        assert!(read_beneath(&w, Path::new("out/f"), 100).is_err());
        assert!(read_beneath(&w, Path::new("../f"), 100).is_err());
    }

    #[test]
    fn creating_directories_stops_at_a_link() {
        let (_ws, out, w) = tree();
        let root = open_root(&w).unwrap();
        let made = create_dirs_beneath(root.as_fd(), Path::new("new/deep/dir")).unwrap();
        assert!(w.join("new/deep/dir").is_dir());
        assert_eq!(real_path(made.as_fd()).unwrap(), w.join("new/deep/dir"));
        assert!(create_dirs_beneath(root.as_fd(), Path::new("out/x")).is_err());
        assert!(create_dirs_beneath(root.as_fd(), Path::new("rel-in/x")).is_err());
        assert!(!out.path().join("x").exists());
        assert!(!w.join("a/x").exists());
        // A file is not a directory to create beneath.
        let err = create_dirs_beneath(root.as_fd(), Path::new("a/b/f")).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(Errno::NOTDIR.raw_os_error()));
    }
}
