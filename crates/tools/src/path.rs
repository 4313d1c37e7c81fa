//! Confinement of path arguments to the workspace: `..` and symlinks are resolved before the
//! check, so nothing reaches outside the workspace through a link.

use std::path::{Component, Path, PathBuf};

use crate::ToolError;

/// A path argument resolved to a canonical location inside the workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspacePath {
    /// Absolute path with every existing component's symlinks resolved.
    pub abs: PathBuf,
    /// Path relative to the workspace root, for messages (`.` for the root).
    pub rel: String,
    /// Whether the path exists (as resolved).
    pub exists: bool,
}

/// Resolves `arg` (relative to `workspace`, or absolute) and refuses anything outside it.
///
/// Existing components are canonicalised (following symlinks); the missing tail is appended
/// lexically and may not contain `..`. A dangling symlink is refused because its target cannot
/// be checked.
pub fn resolve(workspace: &Path, arg: &str) -> Result<WorkspacePath, ToolError> {
    if arg.is_empty() {
        return Err(ToolError::InvalidArguments {
            tool: "path".into(),
            message: "path must not be empty".into(),
        });
    }
    if arg.contains('\0') {
        return Err(ToolError::InvalidArguments {
            tool: "path".into(),
            message: "path contains a NUL byte".into(),
        });
    }
    let outside = || ToolError::OutsideWorkspace {
        path: arg.to_owned(),
        workspace: workspace.to_path_buf(),
    };
    let joined = workspace.join(arg);
    let lexical = normalize(&joined).ok_or_else(outside)?;
    // Cheap early refusal before touching the filesystem.
    if !lexical.starts_with(workspace) {
        return Err(outside());
    }

    // Find the longest prefix of the *unnormalised* path that exists, so symlinks met before a
    // `..` are resolved the way the kernel would.
    let components: Vec<Component<'_>> = joined.components().collect();
    let mut split = components.len();
    let (base, exists) = loop {
        let prefix: PathBuf = components[..split].iter().collect();
        match std::fs::canonicalize(&prefix) {
            Ok(canon) => break (canon, split == components.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if std::fs::symlink_metadata(&prefix).is_ok() {
                    return Err(ToolError::Io {
                        path: arg.to_owned(),
                        message: "is a symlink whose target does not exist".into(),
                    });
                }
                // `/` exists, so this only runs out for a workspace that is not absolute.
                split = split.checked_sub(1).ok_or_else(outside)?;
            }
            Err(e) => return Err(ToolError::io(arg, &e)),
        }
    };
    let mut abs = base;
    for comp in &components[split..] {
        // An absolute path's components hold no `.` (only a leading one is kept).
        match comp {
            Component::Normal(name) => abs.push(name),
            // The kernel fails the same way: `..` after a directory that does not exist.
            Component::ParentDir => {
                return Err(ToolError::NotFound {
                    path: arg.to_owned(),
                });
            }
            _ => return Err(outside()),
        }
    }
    if !abs.starts_with(workspace) {
        return Err(outside());
    }
    let rel = match abs.strip_prefix(workspace) {
        Ok(r) if r.as_os_str().is_empty() => ".".to_owned(),
        Ok(r) => r.display().to_string(),
        Err(_) => return Err(outside()),
    };
    Ok(WorkspacePath { abs, rel, exists })
}

/// Refuses a resolved path inside one of the `protected` directories (canonical). This is the
/// friendly first check; the file tools check again on what they actually opened.
pub fn refuse_protected(protected: &[PathBuf], wp: &WorkspacePath) -> Result<(), ToolError> {
    if protected.iter().any(|p| wp.abs.starts_with(p)) {
        return Err(ToolError::Protected {
            path: wp.rel.clone(),
        });
    }
    Ok(())
}

/// Lexical `..`/`.` removal; `None` when `..` climbs above the root.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for comp in path.components() {
        match comp {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

/// Displays `abs` relative to the workspace (falls back to the full path).
pub fn display_rel(workspace: &Path, abs: &Path) -> String {
    match abs.strip_prefix(workspace) {
        Ok(r) if r.as_os_str().is_empty() => ".".to_owned(),
        Ok(r) => r.display().to_string(),
        Err(_) => abs.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let canon = std::fs::canonicalize(dir.path()).unwrap();
        (dir, canon)
    }

    #[test]
    fn relative_and_absolute_inside_are_accepted() {
        let (_d, ws) = ws();
        std::fs::write(ws.join("a.txt"), "x").unwrap();
        let p = resolve(&ws, "a.txt").unwrap();
        assert_eq!(p.abs, ws.join("a.txt"));
        assert_eq!(p.rel, "a.txt");
        assert!(p.exists);
        let abs = ws.join("a.txt");
        assert_eq!(resolve(&ws, abs.to_str().unwrap()).unwrap().rel, "a.txt");
        assert_eq!(resolve(&ws, ".").unwrap().rel, ".");
    }

    #[test]
    fn missing_tail_is_allowed_but_not_dotdot() {
        let (_d, ws) = ws();
        let p = resolve(&ws, "new/dir/file.txt").unwrap();
        assert!(!p.exists);
        assert_eq!(p.abs, ws.join("new/dir/file.txt"));
        assert!(matches!(
            resolve(&ws, "new/../file.txt").unwrap_err(),
            ToolError::NotFound { .. }
        ));
        std::fs::create_dir(ws.join("sub")).unwrap();
        assert_eq!(
            resolve(&ws, "sub/../file.txt").unwrap().abs,
            ws.join("file.txt")
        );
    }

    #[test]
    fn escapes_are_refused() {
        let (_d, ws) = ws();
        for bad in ["..", "../x", "a/../../x", "/etc/passwd", "/"] {
            let err = resolve(&ws, bad).unwrap_err();
            assert!(
                matches!(err, ToolError::OutsideWorkspace { .. }),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn symlinks_out_of_the_workspace_are_refused() {
        let (_d, ws) = ws();
        let (_o, outside) = self::ws();
        std::fs::write(outside.join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(outside.join("secret"), ws.join("link")).unwrap();
        std::os::unix::fs::symlink(&outside, ws.join("dirlink")).unwrap();
        assert!(matches!(
            resolve(&ws, "link").unwrap_err(),
            ToolError::OutsideWorkspace { .. }
        ));
        assert!(matches!(
            resolve(&ws, "dirlink/secret").unwrap_err(),
            ToolError::OutsideWorkspace { .. }
        ));
        assert!(matches!(
            resolve(&ws, "dirlink/new-file").unwrap_err(),
            ToolError::OutsideWorkspace { .. }
        ));
    }

    #[test]
    fn symlink_inside_is_followed_and_dangling_refused() {
        let (_d, ws) = ws();
        std::fs::create_dir(ws.join("real")).unwrap();
        std::os::unix::fs::symlink(ws.join("real"), ws.join("alias")).unwrap();
        assert_eq!(resolve(&ws, "alias/f").unwrap().abs, ws.join("real/f"));
        std::os::unix::fs::symlink("/nonexistent/target", ws.join("dangling")).unwrap();
        assert!(resolve(&ws, "dangling").is_err());
    }

    #[test]
    fn the_workspace_itself_is_shown_as_a_dot() {
        let (_d, ws) = ws();
        assert_eq!(display_rel(&ws, &ws), ".");
        assert_eq!(display_rel(&ws, &ws.join("a/b")), "a/b");
        assert_eq!(display_rel(&ws, Path::new("/etc")), "/etc");
    }

    #[test]
    fn a_path_beneath_a_file_is_an_error_not_a_missing_path() {
        let (_d, ws) = ws();
        std::fs::write(ws.join("file.txt"), "x").unwrap();
        // Only a missing component means "does not exist yet"; any other failure is reported.
        let err = resolve(&ws, "file.txt/new").unwrap_err();
        assert!(matches!(err, ToolError::Io { .. }), "{err:?}");
    }
}
