//! The staging folder of a download: fresh and empty, next to `tools/<skillKey>` (so the
//! final move is one rename), holding the download apart from what is unpacked. Nothing is
//! placed unless it is only plain files and folders.

use super::InstallError;
use std::fs;
use std::path::{Path, PathBuf};

/// Files examined before an unpacked tree is refused as too large to check.
const MAX_ENTRIES: usize = 100_000;

/// A fresh private folder; removed on drop unless placed.
pub(crate) struct Staging {
    dir: tempfile::TempDir,
}

fn io(path: &Path, e: impl std::fmt::Display) -> InstallError {
    InstallError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

impl Staging {
    /// A new empty folder beside `dest`, with `download/` and `out/` inside.
    pub fn new(dest: &Path) -> Result<Self, InstallError> {
        let parent = dest.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        let dir = tempfile::Builder::new()
            .prefix(".staging-")
            .tempdir_in(parent)
            .map_err(|e| io(parent, e))?;
        for sub in ["download", "out"] {
            let p = dir.path().join(sub);
            fs::create_dir(&p).map_err(|e| io(&p, e))?;
        }
        Ok(Staging { dir })
    }

    /// Where the result is assembled.
    pub fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// The staging folder itself (removed with it).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Where a download goes: straight into the result when it is the tool itself.
    pub fn download_path(&self, file: &str, is_tool: bool) -> PathBuf {
        let sub = if is_tool { "out" } else { "download" };
        self.dir.path().join(sub).join(file)
    }

    /// Lists the archive first and refuses links and special entries, unpacks it into the
    /// empty `out/`, then checks what landed there.
    pub async fn unpack(
        &self,
        program: &Path,
        archive: &str,
        file: &str,
        url: &str,
    ) -> Result<(), InstallError> {
        let src = self.dir.path().join("download").join(file);
        let out = self.out();
        let src_s = src.display().to_string();
        let out_s = out.display().to_string();
        let (list, extract): (Vec<&str>, Vec<&str>) = match archive {
            "zip" => (vec!["-Z", &src_s], vec!["-n", "-q", &src_s, "-d", &out_s]),
            "tar.bz2" => (
                vec!["-tvjf", &src_s],
                vec!["--no-same-owner", "-xjf", &src_s, "-C", &out_s],
            ),
            _ => (
                vec!["-tvzf", &src_s],
                vec!["--no-same-owner", "-xzf", &src_s, "-C", &out_s],
            ),
        };
        let listing = run(program, &list, true).await?;
        if let Some(what) = listing.lines().find_map(refused_entry) {
            return Err(InstallError::Archive {
                url: url.to_string(),
                what,
            });
        }
        run(program, &extract, false).await?;
        only_plain_files(&out).map_err(|what| InstallError::Archive {
            url: url.to_string(),
            what,
        })
    }

    /// Checks the result once more and renames it to `dest`; an existing `dest` is swapped
    /// out (and removed) only when `replace` is set.
    pub fn place(self, dest: &Path, replace: bool, url: &str) -> Result<(), InstallError> {
        let out = self.out();
        only_plain_files(&out).map_err(|what| InstallError::Archive {
            url: url.to_string(),
            what,
        })?;
        if fs::symlink_metadata(dest).is_ok() {
            if !replace {
                return Err(InstallError::Exists(dest.to_path_buf()));
            }
            let old = self.dir.path().join("old");
            fs::rename(dest, &old).map_err(|e| io(dest, e))?;
        }
        fs::rename(&out, dest).map_err(|e| io(dest, e))
    }
}

/// Runs `program args`, returning stdout (when `capture`) or failing with its stderr.
async fn run(program: &Path, args: &[&str], capture: bool) -> Result<String, InstallError> {
    let shown = format!("{} {}", program.display(), args.join(" "));
    let out = tokio::process::Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .stdout(if capture {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stderr(std::process::Stdio::piped())
        .output()
        .await
        .map_err(|e| InstallError::Command {
            command: shown.clone(),
            message: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(InstallError::Command {
            command: shown,
            message: format!(
                "exited with {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A listing line (`tar -tv`, `unzip -Z`) for a link or special file, described.
fn refused_entry(line: &str) -> Option<String> {
    let mut chars = line.chars();
    let kind = chars.next()?;
    let perms: String = chars.take(9).collect();
    let looks_like_mode = perms.len() == 9 && perms.chars().all(|c| "rwxsStTl-".contains(c));
    if !looks_like_mode {
        return None;
    }
    let what = match kind {
        'l' => "a symbolic link",
        'h' => "a hard link",
        'c' | 'b' => "a device file",
        'p' => "a named pipe",
        's' => "a socket",
        _ => return None,
    };
    Some(format!("it holds {what}: {}", line.trim()))
}

/// Every entry under `root` is a plain file with one link, or a folder.
pub(crate) fn only_plain_files(root: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let mut stack = vec![root.to_path_buf()];
    let mut seen = 0usize;
    while let Some(dir) = stack.pop() {
        let entries =
            fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_ENTRIES {
                return Err(format!("it unpacks to more than {MAX_ENTRIES} entries"));
            }
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .display()
                .to_string();
            let meta = fs::symlink_metadata(&path).map_err(|e| format!("{rel}: {e}"))?;
            let ft = meta.file_type();
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_symlink() {
                return Err(format!("`{rel}` is a symbolic link"));
            } else if !ft.is_file() {
                return Err(format!("`{rel}` is a special file"));
            } else if meta.nlink() > 1 {
                return Err(format!("`{rel}` is a hard link"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_lines_for_links_and_devices_are_refused() {
        for line in [
            "lrwxrwxrwx user/user 0 2024-01-01 00:00 bin -> /usr/local/bin",
            "hrw-r--r-- user/user 0 2024-01-01 00:00 a link to b",
            "crw-r--r-- root/root 1,3 2024-01-01 00:00 null",
            "prw-r--r-- user/user 0 2024-01-01 00:00 fifo",
            "lrwxrwxrwx  3.0 unx       11 bx stor 24-Jan-01 00:00 evil",
        ] {
            assert!(refused_entry(line).is_some(), "{line}");
        }
        for line in [
            "-rwxr-xr-x user/user 10 2024-01-01 00:00 tool",
            "drwxr-xr-x user/user 0 2024-01-01 00:00 dir/",
            "Archive:  x.zip",
            "Zip file size: 300 bytes, number of entries: 2",
            "2 files, 20 bytes uncompressed, 20 bytes compressed:  0.0%",
            "links are fine in prose",
        ] {
            assert!(refused_entry(line).is_none(), "{line}");
        }
    }
}
