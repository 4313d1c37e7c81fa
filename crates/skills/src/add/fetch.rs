//! Bringing a source's files into the empty staging folder: a copy of a folder, an unpacked
//! archive, or a shallow git clone. Whatever arrives is then held to plain files and folders
//! ([`settle`]) before anything is placed.

use super::AddError;
use crate::eligibility::Host;
use crate::install::stage::Staging;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

/// Largest total size of what is added.
pub const MAX_ADD_BYTES: u64 = 64 * 1024 * 1024;
/// Most files and folders added from one source.
pub const MAX_ADD_ENTRIES: usize = 10_000;
/// Longest a git clone may take.
const CLONE_LIMIT: Duration = Duration::from_secs(300);

fn io(path: &Path, e: impl std::fmt::Display) -> AddError {
    AddError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Folders never copied: version control and installed packages are not part of a skill.
fn skipped(name: &std::ffi::OsStr) -> bool {
    name == ".git" || name == "node_modules"
}

/// Copies `src` into the empty `out`, refusing links and special files, within the limits.
pub fn copy_folder(src: &Path, out: &Path, source: &str) -> Result<(), AddError> {
    let refused = |what: String| AddError::Refused {
        from: source.to_string(),
        what,
    };
    let mut stack = vec![(src.to_path_buf(), out.to_path_buf())];
    let (mut entries, mut bytes) = (0usize, 0u64);
    while let Some((from, to)) = stack.pop() {
        for entry in fs::read_dir(&from).map_err(|e| io(&from, e))? {
            let entry = entry.map_err(|e| io(&from, e))?;
            let name = entry.file_name();
            if skipped(&name) {
                continue;
            }
            entries += 1;
            if entries > MAX_ADD_ENTRIES {
                return Err(refused(format!(
                    "it holds more than {MAX_ADD_ENTRIES} files"
                )));
            }
            let path = entry.path();
            let rel = path
                .strip_prefix(src)
                .unwrap_or(&path)
                .display()
                .to_string();
            let meta = fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
            let target = to.join(&name);
            if meta.is_dir() {
                fs::create_dir(&target).map_err(|e| io(&target, e))?;
                stack.push((path, target));
            } else if meta.file_type().is_symlink() {
                return Err(refused(format!(
                    "`{rel}` is a symbolic link; copy the file it points to into the folder"
                )));
            } else if meta.is_file() {
                bytes += meta.len();
                if bytes > MAX_ADD_BYTES {
                    return Err(refused(format!(
                        "it is larger than {} MiB",
                        MAX_ADD_BYTES >> 20
                    )));
                }
                fs::copy(&path, &target).map_err(|e| io(&path, e))?;
            } else {
                return Err(refused(format!("`{rel}` is a special file")));
            }
        }
    }
    Ok(())
}

/// Copies a local archive into the staging folder and unpacks it there.
pub async fn unpack_local(
    staging: &Staging,
    archive: &Path,
    kind: &'static str,
    host: &Host,
) -> Result<(), AddError> {
    let size = fs::metadata(archive).map_err(|e| io(archive, e))?.len();
    if size > crate::install::MAX_DOWNLOAD_BYTES {
        return Err(AddError::Refused {
            from: archive.display().to_string(),
            what: format!(
                "the archive is larger than {} MiB",
                crate::install::MAX_DOWNLOAD_BYTES >> 20
            ),
        });
    }
    let file = format!("source.{kind}");
    let dest = staging.download_path(&file, false);
    fs::copy(archive, &dest).map_err(|e| io(archive, e))?;
    unpack(staging, &file, kind, &archive.display().to_string(), host).await
}

/// Downloads an archive into the staging folder and unpacks it there.
pub async fn unpack_url(
    staging: &Staging,
    url: &str,
    kind: &'static str,
    host: &Host,
) -> Result<(), AddError> {
    let file = format!("source.{kind}");
    let dest = staging.download_path(&file, false);
    crate::install::download::fetch(url, &dest, None, false).await?;
    unpack(staging, &file, kind, url, host).await
}

async fn unpack(
    staging: &Staging,
    file: &str,
    kind: &'static str,
    source: &str,
    host: &Host,
) -> Result<(), AddError> {
    let program = if kind == "zip" { "unzip" } else { "tar" };
    let bin = host.find_bin(program).ok_or_else(|| AddError::Fetch {
        from: source.to_string(),
        message: format!("`{program}` is not on PATH; install it to unpack .{kind} archives"),
    })?;
    staging.unpack(&bin, kind, file, source).await?;
    Ok(())
}

/// A shallow clone of `url` (at `git_ref` when given) into the empty `out`, without its `.git`.
/// Git runs without the user's or the system's git config, cannot prompt, and may use only
/// the https, http, ssh, git and file transports.
pub async fn clone(
    url: &str,
    git_ref: Option<&str>,
    out: &Path,
    host: &Host,
) -> Result<(), AddError> {
    let fail = |message: String| AddError::Fetch {
        from: url.to_string(),
        message,
    };
    let git = host.find_bin("git").ok_or_else(|| {
        fail("`git` is not on PATH; install git to add skills from a repository".into())
    })?;
    let mut cmd = tokio::process::Command::new(git);
    cmd.args([
        "clone",
        "--depth",
        "1",
        "--no-tags",
        "--single-branch",
        "--template=",
    ]);
    if let Some(r) = git_ref {
        cmd.args(["--branch", r]);
    }
    cmd.arg("--").arg(url).arg(out);
    cmd.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LC_ALL", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_ALLOW_PROTOCOL", "https:http:ssh:git:file")
        .env("GIT_LFS_SKIP_SMUDGE", "1")
        .env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
    // ssh needs the user's keys and agent; proxies are the user's network setup.
    for var in [
        "HOME",
        "SSH_AUTH_SOCK",
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "NO_PROXY",
        "https_proxy",
        "http_proxy",
        "no_proxy",
    ] {
        if let Some(v) = std::env::var_os(var) {
            cmd.env(var, v);
        }
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let run = tokio::time::timeout(CLONE_LIMIT, cmd.output()).await;
    let output = match run {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => return Err(fail(format!("cannot start git: {e}"))),
        Err(_) => {
            return Err(fail(format!(
                "git clone did not finish within {} minutes",
                CLONE_LIMIT.as_secs() / 60
            )));
        }
    };
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr);
        let said: String = said.trim().chars().take(600).collect();
        return Err(fail(format!("git clone failed: {said}")));
    }
    let dot_git = out.join(".git");
    if fs::symlink_metadata(&dot_git).is_ok() {
        fs::remove_dir_all(&dot_git).map_err(|e| io(&dot_git, e))?;
    }
    Ok(())
}

/// Holds what arrived to plain files and folders within the limits, and gives every file an
/// ordinary mode (no set-id bits, not writable by others).
pub fn settle(root: &Path, source: &str) -> Result<(), AddError> {
    let refused = |what: String| AddError::Refused {
        from: source.to_string(),
        what,
    };
    crate::install::stage::only_plain_files(root).map_err(&refused)?;
    let mut stack = vec![root.to_path_buf()];
    let (mut entries, mut bytes) = (0usize, 0u64);
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
            let path = entry.map_err(|e| io(&dir, e))?.path();
            let meta = fs::symlink_metadata(&path).map_err(|e| io(&path, e))?;
            entries += 1;
            if entries > MAX_ADD_ENTRIES {
                return Err(refused(format!(
                    "it holds more than {MAX_ADD_ENTRIES} files"
                )));
            }
            let mode = if meta.is_dir() {
                stack.push(path.clone());
                0o755
            } else {
                bytes += meta.len();
                if bytes > MAX_ADD_BYTES {
                    return Err(refused(format!(
                        "it unpacks to more than {} MiB",
                        MAX_ADD_BYTES >> 20
                    )));
                }
                if meta.permissions().mode() & 0o111 != 0 {
                    0o755
                } else {
                    0o644
                }
            };
            fs::set_permissions(&path, fs::Permissions::from_mode(mode))
                .map_err(|e| io(&path, e))?;
        }
    }
    Ok(())
}
