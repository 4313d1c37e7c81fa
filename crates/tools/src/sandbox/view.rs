//! The filesystem a command sees when user namespaces are available: a fresh root holding
//! read-only system trees and toolchains, the workspace read-write (its code-bearing files
//! read-only), a private `/tmp`, a minimal `/dev` and a `/proc` of its own PID namespace.
//! Pryx's data directory, the rest of home and other users' files are simply not there.
//!
//! Built by the helper's inner stage, which is the first process of new user, mount, PID
//! (and, without network, network) namespaces and so may mount: a tmpfs becomes the root
//! with `pivot_root`, the host tree stays reachable under `/old` while the new root is filled
//! with bind mounts, then a second `pivot_root` drops it for good.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sys::statvfs::{FsFlags, statvfs};

use super::spec::Spec;

#[derive(Debug, thiserror::Error)]
#[error("{step}: {source}")]
pub(super) struct ViewError {
    step: String,
    source: std::io::Error,
}

fn err(step: impl Into<String>) -> impl FnOnce(nix::Error) -> ViewError {
    move |e| ViewError {
        step: step.into(),
        source: std::io::Error::from(e),
    }
}

fn io_err(step: impl Into<String>) -> impl FnOnce(std::io::Error) -> ViewError {
    move |source| ViewError {
        step: step.into(),
        source,
    }
}

const NONE: Option<&str> = None;

/// Files under `/etc` that hold secrets; an empty file stands in for each.
const ETC_SECRETS: &[&str] = &[
    "shadow",
    "shadow-",
    "gshadow",
    "gshadow-",
    "sudoers",
    "security/opasswd",
    "ssh/ssh_host_rsa_key",
    "ssh/ssh_host_ecdsa_key",
    "ssh/ssh_host_ed25519_key",
    "ssh/ssh_host_dsa_key",
];
/// Directories under `/etc` that hold secrets; an empty directory stands in for each.
const ETC_SECRET_DIRS: &[&str] = &[
    "ssl/private",
    "sudoers.d",
    "NetworkManager/system-connections",
];

/// Device files a command may use (names under `/dev`).
pub(super) const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

/// Writes the single-ID maps of a user namespace just created by this process: `inside` maps
/// to `outside`, and `setgroups` is refused (needed to map a group without privilege).
pub(super) fn map_ids(
    uid_inside: u32,
    uid_outside: u32,
    gid_inside: u32,
    gid_outside: u32,
) -> Result<(), ViewError> {
    let write = |file: &str, text: String| {
        std::fs::OpenOptions::new()
            .write(true)
            .open(file)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .map_err(io_err(format!("cannot write {file}")))
    };
    write("/proc/self/setgroups", "deny".into())?;
    write(
        "/proc/self/uid_map",
        format!("{uid_inside} {uid_outside} 1"),
    )?;
    write(
        "/proc/self/gid_map",
        format!("{gid_inside} {gid_outside} 1"),
    )
}

/// Mount propagation cut off for everything beneath.
const PRIVATE_TREE: MsFlags = MsFlags::MS_REC.union(MsFlags::MS_PRIVATE);
/// The scratch tmpfs the view is built on: no set-uid programs, no device nodes.
const SCRATCH: MsFlags = MsFlags::MS_NOSUID.union(MsFlags::MS_NODEV);
/// A bind mount with everything mounted beneath it.
const BIND_TREE: MsFlags = MsFlags::MS_BIND.union(MsFlags::MS_REC);
/// The PID namespace's /proc: nothing to run, no set-uid programs, no device nodes.
const PROC: MsFlags = SCRATCH.union(MsFlags::MS_NOEXEC);
/// The empty, read-only tmpfs laid over a directory to hide it.
const HIDDEN: MsFlags = PROC.union(MsFlags::MS_RDONLY);
/// Making a bind mount read-only.
const READ_ONLY: MsFlags = MsFlags::MS_REMOUNT
    .union(MsFlags::MS_BIND)
    .union(MsFlags::MS_RDONLY);

/// Builds the view described by `spec` and makes it this process's root.
pub(super) fn enter(spec: &Spec) -> Result<(), ViewError> {
    mount(NONE, "/", NONE, PRIVATE_TREE, NONE)
        .map_err(err("cannot make the mount namespace private"))?;
    let base = ["/tmp", "/mnt", "/run", "/var/tmp", "/media", "/srv"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.is_dir())
        .ok_or_else(|| ViewError {
            step: "no directory to build the view on".into(),
            source: std::io::ErrorKind::NotFound.into(),
        })?;
    mount(
        Some("tmpfs"),
        base,
        Some("tmpfs"),
        SCRATCH,
        Some("mode=0755"),
    )
    .map_err(err("cannot mount the scratch tmpfs"))?;
    for dir in ["new", "old"] {
        std::fs::create_dir(base.join(dir)).map_err(io_err("cannot create the new root"))?;
    }
    std::fs::write(base.join("empty"), b"").map_err(io_err("cannot create a placeholder"))?;
    let new_in_base = base.join("new");
    mount(Some(&new_in_base), &new_in_base, NONE, BIND_TREE, NONE)
        .map_err(err("cannot bind the new root"))?;
    nix::unistd::chdir(base).map_err(err("cannot enter the scratch tmpfs"))?;
    nix::unistd::pivot_root(".", "old").map_err(err("cannot pivot to the scratch tmpfs"))?;
    nix::unistd::chdir("/").map_err(err("cannot enter the scratch root"))?;

    let host = Path::new("/old");
    let new = Path::new("/new");
    let inside = |p: &Path| new.join(p.strip_prefix("/").unwrap_or(p));
    let from_host = |p: &Path| host.join(p.strip_prefix("/").unwrap_or(p));

    // The private /tmp and /dev first: the workspace may lie beneath the host's /tmp.
    scratch_dir(&new.join("tmp"), "mode=1777")?;
    devices(host, new)?;
    for root in &spec.read_roots {
        if root.starts_with(&spec.workspace) {
            continue;
        }
        place(&from_host(root), &inside(root), true)?;
    }
    for name in ETC_SECRETS {
        let target = new.join("etc").join(name);
        if target.is_file() {
            bind(Path::new("/empty"), &target, true)?;
        }
    }
    for name in ETC_SECRET_DIRS {
        let target = new.join("etc").join(name);
        if target.is_dir() {
            hide_dir(&target)?;
        }
    }
    place(&from_host(&spec.workspace), &inside(&spec.workspace), false)?;
    for p in &spec.protected {
        let target = inside(p);
        if target.is_dir() {
            hide_dir(&target)?;
        }
    }
    for p in &spec.read_only {
        let target = inside(p);
        if target.exists() {
            bind(&target, &target, true)?;
        }
    }
    let proc_dir = new.join("proc");
    std::fs::create_dir_all(&proc_dir).map_err(io_err("cannot create /proc"))?;
    mount(Some("proc"), &proc_dir, Some("proc"), PROC, NONE)
        .map_err(err("cannot mount /proc for the PID namespace"))?;

    nix::unistd::chdir(new).map_err(err("cannot enter the new root"))?;
    std::fs::create_dir(".old").map_err(io_err("cannot create the old-root mount point"))?;
    nix::unistd::pivot_root(".", ".old").map_err(err("cannot pivot to the new root"))?;
    umount2("/.old", MntFlags::MNT_DETACH).map_err(err("cannot detach the host tree"))?;
    nix::unistd::chdir("/").map_err(err("cannot enter the new root"))?;
    std::fs::remove_dir("/.old").map_err(io_err("cannot remove the old-root mount point"))?;
    mount(NONE, "/", NONE, READ_ONLY, NONE).map_err(err("cannot make the new root read-only"))?;
    nix::unistd::chdir(&spec.cwd).map_err(err(format!(
        "cannot enter {} inside the sandbox",
        spec.cwd.display()
    )))
}

/// Puts `src` (a host path under `/old`) at `dst`: symbolic links are recreated, files and
/// directories bind-mounted. A source that does not exist is skipped.
fn place(src: &Path, dst: &Path, read_only: bool) -> Result<(), ViewError> {
    let Ok(meta) = std::fs::symlink_metadata(src) else {
        return Ok(());
    };
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent)
            .map_err(io_err(format!("cannot create {}", parent.display())))?;
    }
    if meta.file_type().is_symlink() {
        if std::fs::symlink_metadata(dst).is_ok() {
            return Ok(());
        }
        let target = std::fs::read_link(src).map_err(io_err("cannot read a link"))?;
        return std::os::unix::fs::symlink(target, dst)
            .map_err(io_err(format!("cannot link {}", dst.display())));
    }
    if meta.is_dir() {
        std::fs::create_dir_all(dst).map_err(io_err(format!("cannot create {}", dst.display())))?;
    } else if std::fs::symlink_metadata(dst).is_err() {
        std::fs::write(dst, b"").map_err(io_err(format!("cannot create {}", dst.display())))?;
    }
    bind(src, dst, read_only)
}

/// Bind-mounts `src` on `dst` with everything mounted beneath it, read-only if asked.
fn bind(src: &Path, dst: &Path, read_only: bool) -> Result<(), ViewError> {
    mount(Some(src), dst, NONE, BIND_TREE, NONE)
        .map_err(err(format!("cannot bind {}", dst.display())))?;
    if !read_only {
        return Ok(());
    }
    remount_read_only(dst)?;
    for sub in mounts_beneath(dst) {
        if let Err(e) = remount_read_only(&sub) {
            tracing::debug!(mount = %sub.display(), error = %e, "submount stays writable");
        }
    }
    Ok(())
}

/// Remounts a bind mount read-only, keeping the flags a user namespace may not clear.
fn remount_read_only(path: &Path) -> Result<(), ViewError> {
    let mut flags = READ_ONLY;
    if let Ok(st) = statvfs(path) {
        let f = st.flags();
        for (fs, ms) in [
            (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
            (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
            (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
            (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
            (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
            (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
        ] {
            if f.contains(fs) {
                flags |= ms;
            }
        }
    }
    mount(NONE, path, NONE, flags, NONE)
        .map_err(err(format!("cannot make {} read-only", path.display())))
}

/// Where this process's mount table is read while the view is built: the host tree is at
/// `/old` then, and the view's own `/proc` is not mounted yet.
const MOUNTINFO: &str = "/old/proc/self/mountinfo";

/// Mount points strictly beneath `dir`, from [`MOUNTINFO`].
fn mounts_beneath(dir: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(MOUNTINFO) else {
        tracing::debug!(
            "cannot read {MOUNTINFO}: mounts beneath {} stay as they are",
            dir.display()
        );
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape_mountinfo(p)))
        .filter(|p| p != dir && p.starts_with(dir))
        .collect()
}

/// Mountinfo escapes space, tab, newline and backslash as `\ooo`.
fn unescape_mountinfo(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let digits: String = chars.clone().take(3).collect();
            if digits.len() == 3
                && let Ok(v) = u8::from_str_radix(&digits, 8)
            {
                out.push(char::from(v));
                for _ in 0..3 {
                    chars.next();
                }
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// An empty, read-only directory in place of `dir`.
fn hide_dir(dir: &Path) -> Result<(), ViewError> {
    mount(
        Some("tmpfs"),
        dir,
        Some("tmpfs"),
        HIDDEN,
        Some("mode=0000,size=4k"),
    )
    .map_err(err(format!("cannot hide {}", dir.display())))
}

/// A writable tmpfs at `dir`.
fn scratch_dir(dir: &Path, options: &str) -> Result<(), ViewError> {
    std::fs::create_dir_all(dir).map_err(io_err(format!("cannot create {}", dir.display())))?;
    mount(Some("tmpfs"), dir, Some("tmpfs"), SCRATCH, Some(options))
        .map_err(err(format!("cannot mount a tmpfs on {}", dir.display())))
}

/// `/dev` with the harmless device files, the standard links and a private `/dev/shm`.
fn devices(host: &Path, new: &Path) -> Result<(), ViewError> {
    let dev = new.join("dev");
    scratch_dir(&dev, "mode=0755")?;
    for name in DEVICES {
        let src = host.join("dev").join(name);
        if src.exists() {
            let dst = dev.join(name);
            std::fs::write(&dst, b"").map_err(io_err(format!("cannot create /dev/{name}")))?;
            bind(&src, &dst, false)?;
        }
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        std::os::unix::fs::symlink(target, dev.join(name))
            .map_err(io_err(format!("cannot link /dev/{name}")))?;
    }
    scratch_dir(&dev.join("shm"), "mode=1777")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape_mountinfo(r"/a\040b"), "/a b");
        assert_eq!(unescape_mountinfo(r"/a\134b"), r"/a\b");
        assert_eq!(unescape_mountinfo(r"/plain"), "/plain");
        assert_eq!(unescape_mountinfo(r"/odd\0"), r"/odd\0");
    }
}
