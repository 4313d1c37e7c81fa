//! How the file tools reach files: every open is done beneath a handle on the workspace
//! directory with no link followed (see [`crate::beneath`]), and what was opened is checked
//! again before a byte is read or written: where it really is (inside the workspace, outside
//! every protected directory) and, for a file with several links, that it is not one of the
//! protected files reached through a hard link placed in the workspace.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::io::{Read as _, Write as _};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::looks_binary;
use crate::path::{self, WorkspacePath};
use crate::{ToolContext, ToolError, beneath};

/// Most entries looked at when listing the files of the protected directories. Files directly
/// in them (the secret store, the database, the config) are always taken first.
const MAX_PROTECTED_ENTRIES: usize = 100_000;

/// Reading a directory or a file without blocking on a FIFO (`open_beneath` adds
/// `O_NOFOLLOW | O_CLOEXEC`).
const READ: OFlags = OFlags::RDONLY.union(OFlags::NONBLOCK);
/// Reading a file met in a directory: as [`READ`] beneath a handle.
const READ_ENTRY: OFlags = READ.union(beneath::EVERY_OPEN);
/// A temporary file that must be new, opened as beneath a handle.
const NEW_TEMP: OFlags = beneath::NEW_FILE.union(beneath::EVERY_OPEN);

/// `(device, inode)`: what a file is, whatever name reaches it.
type FileId = (u64, u64);

/// A directory or a file, as opened by [`Confined::open_dir_or_file`].
pub(crate) enum Opened {
    Dir(File),
    File(File, Metadata),
}

/// The workspace handle and the protected directories, for one tool call.
pub(crate) struct Confined {
    workspace: PathBuf,
    root: OwnedFd,
    protected: Vec<PathBuf>,
    /// Identities of the protected directories, to know one met under another name.
    protected_dirs: Vec<FileId>,
    /// Identities of the files in the protected directories; gathered the first time a file
    /// with more than one link is opened (only such a file can be one of them by another name).
    protected_files: OnceLock<HashSet<FileId>>,
}

impl Confined {
    pub(crate) fn new(ctx: &ToolContext) -> Result<Self, ToolError> {
        let root = beneath::open_root(&ctx.workspace)
            .map_err(|e| ToolError::io(&ctx.workspace.display().to_string(), &e))?;
        let protected_dirs = ctx
            .protected
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| (m.dev(), m.ino()))
            .collect();
        Ok(Self {
            workspace: ctx.workspace.clone(),
            root,
            protected: ctx.protected.clone(),
            protected_dirs,
            protected_files: OnceLock::new(),
        })
    }

    pub(crate) fn workspace(&self) -> &Path {
        &self.workspace
    }

    /// The handle on the workspace directory.
    pub(crate) fn root(&self) -> BorrowedFd<'_> {
        self.root.as_fd()
    }

    /// Whether `abs` (canonical) is inside a protected directory.
    pub(crate) fn is_protected_path(&self, abs: &Path) -> bool {
        self.protected.iter().any(|p| abs.starts_with(p))
    }

    /// Whether an opened directory is one of the protected ones.
    pub(crate) fn is_protected_dir(&self, meta: &Metadata) -> bool {
        self.protected_dirs.contains(&(meta.dev(), meta.ino()))
    }

    /// Refuses a canonical path inside a protected directory.
    pub(crate) fn refuse_protected(&self, wp: &WorkspacePath) -> Result<(), ToolError> {
        path::refuse_protected(&self.protected, wp)
    }

    /// The path to open beneath the handle, after the check on the canonical path.
    fn rel<'a>(&self, wp: &'a WorkspacePath) -> Result<&'a Path, ToolError> {
        self.refuse_protected(wp)?;
        wp.abs
            .strip_prefix(&self.workspace)
            .map_err(|_| self.outside(&wp.rel))
    }

    fn outside(&self, rel: &str) -> ToolError {
        ToolError::OutsideWorkspace {
            path: rel.to_owned(),
            workspace: self.workspace.clone(),
        }
    }

    /// Checks where `fd` really is: inside the workspace and outside every protected directory.
    fn verify_location(&self, fd: BorrowedFd<'_>, rel: &str) -> Result<(), ToolError> {
        let Some(real) = beneath::real_path(fd) else {
            return Ok(());
        };
        if !real.starts_with(&self.workspace) {
            return Err(self.outside(rel));
        }
        if self.is_protected_path(&real) {
            return Err(ToolError::Protected {
                path: rel.to_owned(),
            });
        }
        Ok(())
    }

    fn is_protected_file(&self, meta: &Metadata) -> bool {
        self.protected_files
            .get_or_init(|| collect_file_ids(&self.protected, MAX_PROTECTED_ENTRIES))
            .contains(&(meta.dev(), meta.ino()))
    }

    /// Opens a regular file for reading (without blocking on a FIFO).
    pub(crate) fn open_file(&self, wp: &WorkspacePath) -> Result<(File, Metadata), ToolError> {
        match self.open_dir_or_file(wp)? {
            Opened::File(file, meta) => Ok((file, meta)),
            Opened::Dir(_) => Err(ToolError::Io {
                path: wp.rel.clone(),
                message: "is a directory; use fs.list".into(),
            }),
        }
    }

    /// Opens a directory (to read its entries) or a regular file, whichever `wp` is.
    pub(crate) fn open_dir_or_file(&self, wp: &WorkspacePath) -> Result<Opened, ToolError> {
        let rel = self.rel(wp)?;
        let fd = beneath::open_beneath(self.root.as_fd(), rel, READ, Mode::empty())
            .map_err(|e| ToolError::open(&wp.rel, &e))?;
        self.checked(File::from(fd), &wp.rel)
    }

    /// Opens the file `name` of a directory reached beneath the handle (for walks); `rel` names
    /// it in errors.
    pub(crate) fn open_file_at(
        &self,
        dir: BorrowedFd<'_>,
        name: &OsStr,
        rel: &str,
    ) -> Result<(File, Metadata), ToolError> {
        let fd = rustix::fs::openat(dir, name, READ_ENTRY, Mode::empty())
            .map_err(|e| ToolError::open(rel, &e.into()))?;
        match self.checked(File::from(fd), rel)? {
            Opened::File(file, meta) => Ok((file, meta)),
            Opened::Dir(_) => Err(ToolError::Io {
                path: rel.to_owned(),
                message: "is a directory".into(),
            }),
        }
    }

    /// The checks on what was opened: its kind, where it is, and which file it is.
    fn checked(&self, file: File, rel: &str) -> Result<Opened, ToolError> {
        let meta = file.metadata().map_err(|e| ToolError::io(rel, &e))?;
        self.verify_location(file.as_fd(), rel)?;
        if meta.is_dir() {
            if self.is_protected_dir(&meta) {
                return Err(ToolError::Protected {
                    path: rel.to_owned(),
                });
            }
            return Ok(Opened::Dir(file));
        }
        if !meta.is_file() {
            return Err(ToolError::Io {
                path: rel.to_owned(),
                message: "is not a regular file".into(),
            });
        }
        if meta.nlink() > 1 && self.is_protected_file(&meta) {
            return Err(ToolError::Protected {
                path: rel.to_owned(),
            });
        }
        Ok(Opened::File(file, meta))
    }

    /// Reads a file that is about to be replaced (an edit, a write's preview): a whole
    /// text file of at most `max_bytes`, but one with other hard links is refused up front, as
    /// the write would be.
    pub(crate) fn read_text_to_replace(
        &self,
        wp: &WorkspacePath,
        max_bytes: u64,
    ) -> Result<String, ToolError> {
        let (file, meta) = self.open_file(wp)?;
        if meta.nlink() > 1 {
            return Err(ToolError::HardLinked {
                path: wp.rel.clone(),
            });
        }
        read_text_from(file, &meta, &wp.rel, max_bytes)
    }

    /// Writes `content` atomically: a temporary file created in the parent directory's handle,
    /// then renamed over the target in that same handle. Missing parents are created beneath
    /// the workspace handle; an existing file keeps its permissions. Returns whether the file
    /// was created.
    pub(crate) fn write_atomic(
        &self,
        wp: &WorkspacePath,
        content: &[u8],
    ) -> Result<bool, ToolError> {
        let rel = self.rel(wp)?;
        let Some(name) = rel.file_name() else {
            return Err(ToolError::Io {
                path: wp.rel.clone(),
                message: "is a directory".into(),
            });
        };
        let parent_rel = rel.parent().unwrap_or(Path::new(""));
        let parent = File::from(
            beneath::create_dirs_beneath(self.root.as_fd(), parent_rel)
                .map_err(|e| ToolError::open(&wp.rel, &e))?,
        );
        let parent_meta = parent.metadata().map_err(|e| ToolError::io(&wp.rel, &e))?;
        self.verify_location(parent.as_fd(), &wp.rel)?;
        if self.is_protected_dir(&parent_meta) {
            return Err(ToolError::Protected {
                path: wp.rel.clone(),
            });
        }
        let mode = match rustix::fs::statat(&parent, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => {
                let not = |what: &str| ToolError::Io {
                    path: wp.rel.clone(),
                    message: what.to_owned(),
                };
                match FileType::from_raw_mode(st.st_mode) {
                    FileType::RegularFile => {}
                    FileType::Directory => return Err(not("is a directory")),
                    FileType::Symlink => {
                        return Err(ToolError::open(&wp.rel, &std::io::Error::from(Errno::LOOP)));
                    }
                    _ => return Err(not("is not a regular file")),
                }
                if st.st_nlink > 1 {
                    return Err(ToolError::HardLinked {
                        path: wp.rel.clone(),
                    });
                }
                Some(Mode::from_raw_mode(st.st_mode & 0o7777))
            }
            Err(Errno::NOENT) => None,
            Err(e) => return Err(ToolError::io(&wp.rel, &e.into())),
        };
        let (tmp_name, mut tmp) =
            create_temp(parent.as_fd()).map_err(|e| ToolError::io(&wp.rel, &e))?;
        let written = (|| -> std::io::Result<()> {
            tmp.write_all(content)?;
            rustix::fs::fchmod(&tmp, mode.unwrap_or(Mode::from_raw_mode(0o644)))?;
            tmp.sync_all()?;
            rustix::fs::renameat(&parent, &tmp_name, &parent, name)?;
            Ok(())
        })();
        if let Err(e) = written {
            let _ = rustix::fs::unlinkat(&parent, &tmp_name, AtFlags::empty());
            return Err(ToolError::io(&wp.rel, &e));
        }
        Ok(mode.is_none())
    }
}

/// Reads the rest of `file` as text, refusing binary and oversized content.
pub(crate) fn read_text_from(
    file: File,
    meta: &Metadata,
    rel: &str,
    max_bytes: u64,
) -> Result<String, ToolError> {
    let too_large = |size: u64| ToolError::TooLarge {
        path: rel.to_owned(),
        size,
        limit: max_bytes,
    };
    if meta.len() > max_bytes {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| ToolError::io(rel, &e))?;
    // It grew since its size was read.
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(bytes.len() as u64));
    }
    if looks_binary(&bytes) {
        return Err(ToolError::BinaryFile {
            path: rel.to_owned(),
        });
    }
    String::from_utf8(bytes).map_err(|_| ToolError::BinaryFile {
        path: rel.to_owned(),
    })
}

/// Creates a new, empty temporary file in `dir` (`.pryx-write-…`, never an existing name).
fn create_temp(dir: BorrowedFd<'_>) -> std::io::Result<(String, File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut last = Errno::EXIST;
    for _ in 0..16 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!(".pryx-write-{}-{nanos:x}-{n}", std::process::id());
        match rustix::fs::openat(dir, name.as_str(), NEW_TEMP, Mode::from_raw_mode(0o600)) {
            Ok(fd) => return Ok((name, File::from(fd))),
            Err(Errno::EXIST) => last = Errno::EXIST,
            Err(e) => return Err(e.into()),
        }
    }
    Err(last.into())
}

/// Identities of the regular files in `dirs` and below, not following links, looking at no
/// more than `max_entries`. Pryx owns these directories, so walking them by path is fine; the
/// files directly in each come first.
fn collect_file_ids(dirs: &[PathBuf], max_entries: usize) -> HashSet<FileId> {
    let mut ids = HashSet::new();
    let mut queue: std::collections::VecDeque<PathBuf> = dirs.iter().cloned().collect();
    let mut seen = 0usize;
    while let Some(dir) = queue.pop_front() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > max_entries {
                return ids;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                queue.push_back(entry.path());
            } else if meta.is_file() {
                ids.insert((meta.dev(), meta.ino()));
            }
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// A workspace holding a protected directory (Pryx's data directory may lie inside it) and
    /// a directory outside it.
    fn setup() -> (tempfile::TempDir, tempfile::TempDir, Confined) {
        let ws = tempfile::tempdir().unwrap();
        let out = tempfile::tempdir().unwrap();
        std::fs::create_dir(ws.path().join("home")).unwrap();
        std::fs::write(ws.path().join("home/secrets"), "key").unwrap();
        std::fs::write(ws.path().join("notes"), "notes").unwrap();
        std::fs::write(out.path().join("f"), "outside").unwrap();
        let ctx = ToolContext::new(ws.path())
            .unwrap()
            .with_protected([ws.path().join("home")]);
        let confined = Confined::new(&ctx).unwrap();
        (ws, out, confined)
    }

    fn open(path: &Path) -> File {
        File::open(path).unwrap()
    }

    // The path checks come first and refuse all of these; what is checked here is the second
    // line: what was actually opened, whatever name reached it (a rename or mount in between).
    #[test]
    fn what_was_opened_is_checked_for_where_it_really_is() {
        let (ws, out, c) = setup();
        let inside = open(&ws.path().join("notes"));
        assert!(c.verify_location(inside.as_fd(), "notes").is_ok());
        let secret = open(&ws.path().join("home/secrets"));
        assert!(matches!(
            c.verify_location(secret.as_fd(), "x").unwrap_err(),
            ToolError::Protected { .. }
        ));
        let outside = open(&out.path().join("f"));
        assert!(matches!(
            c.verify_location(outside.as_fd(), "x").unwrap_err(),
            ToolError::OutsideWorkspace { .. }
        ));
        assert!(matches!(
            c.checked(open(&out.path().join("f")), "x"),
            Err(ToolError::OutsideWorkspace { .. })
        ));
    }

    #[test]
    fn a_protected_directory_is_known_by_identity_not_name() {
        let (ws, _out, c) = setup();
        let home = std::fs::metadata(ws.path().join("home")).unwrap();
        let root = std::fs::metadata(ws.path()).unwrap();
        assert!(c.is_protected_dir(&home));
        assert!(!c.is_protected_dir(&root));
    }

    fn wp(ws: &Path, rel: &str) -> WorkspacePath {
        let abs = std::fs::canonicalize(ws).unwrap().join(rel);
        WorkspacePath {
            exists: abs.exists(),
            abs,
            rel: rel.to_owned(),
        }
    }

    #[test]
    fn text_is_read_up_to_its_limit_even_when_the_file_grows() {
        let (ws, _out, _c) = setup();
        let notes = ws.path().join("notes");
        let meta = std::fs::metadata(&notes).unwrap();
        assert_eq!(
            read_text_from(open(&notes), &meta, "notes", 5).unwrap(),
            "notes"
        );
        assert!(matches!(
            read_text_from(open(&notes), &meta, "notes", 4),
            Err(ToolError::TooLarge { size: 5, .. })
        ));
        // Its size said 3 bytes when it was checked; 5 are there when it is read.
        std::fs::write(ws.path().join("small"), "abc").unwrap();
        let small = std::fs::metadata(ws.path().join("small")).unwrap();
        assert!(matches!(
            read_text_from(open(&notes), &small, "notes", 4),
            Err(ToolError::TooLarge {
                size: 5,
                limit: 4,
                ..
            })
        ));
    }

    #[test]
    fn a_write_never_replaces_a_directory_or_a_link() {
        let (ws, out, c) = setup();
        std::fs::create_dir(ws.path().join("dir")).unwrap();
        let err = c.write_atomic(&wp(ws.path(), "dir"), b"x").unwrap_err();
        assert!(
            matches!(&err, ToolError::Io { message, .. } if message == "is a directory"),
            "{err:?}"
        );
        // A link that appeared after the path was checked.
        std::os::unix::fs::symlink(out.path().join("f"), ws.path().join("link")).unwrap();
        let err = c.write_atomic(&wp(ws.path(), "link"), b"x").unwrap_err();
        assert!(
            matches!(&err, ToolError::Io { message, .. } if message.starts_with("changed while it was being opened")),
            "{err:?}"
        );
        assert_eq!(
            std::fs::read_to_string(out.path().join("f")).unwrap(),
            "outside"
        );
        assert!(c.write_atomic(&wp(ws.path(), "new.txt"), b"x").unwrap());
    }

    #[test]
    fn the_protected_files_are_listed_up_to_a_limit_top_level_first() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("sub")).unwrap();
        std::fs::write(d.path().join("sub/deep"), "").unwrap();
        std::fs::write(d.path().join("secrets"), "").unwrap();
        let id = |p: &str| {
            let m = std::fs::metadata(d.path().join(p)).unwrap();
            (m.dev(), m.ino())
        };
        let dirs = [d.path().to_path_buf()];
        let all = collect_file_ids(&dirs, 3);
        assert_eq!(all, HashSet::from([id("secrets"), id("sub/deep")]));
        // Two entries (`secrets` and `sub`, in either order) and no more.
        let top = collect_file_ids(&dirs, 2);
        assert_eq!(top, HashSet::from([id("secrets")]));
    }

    #[test]
    fn a_hard_link_to_a_protected_file_is_refused() {
        let (ws, _out, c) = setup();
        std::fs::hard_link(ws.path().join("home/secrets"), ws.path().join("alias")).unwrap();
        let file = open(&ws.path().join("alias"));
        assert!(matches!(
            c.checked(file, "alias"),
            Err(ToolError::Protected { .. })
        ));
        let notes = open(&ws.path().join("notes"));
        assert!(matches!(c.checked(notes, "notes"), Ok(Opened::File(..))));
    }
}
