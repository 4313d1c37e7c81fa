//! Which files of the workspace changed between two beats: a bounded walk (hidden folders,
//! dependency and build folders, links and Pryx's data dir left out) noting each file's size
//! and modification time, compared with the last beat's. Comparing notes, not times against a
//! clock, keeps it right when the clock moves.

use std::collections::BTreeMap;
use std::path::Path;

/// Files noted at most; a larger workspace is noted up to here.
const MAX_FILES: usize = 5000;
/// Folders never walked into (besides hidden ones).
const SKIPPED: &[&str] = &[
    "node_modules",
    "target",
    "dist",
    "build",
    "__pycache__",
    "venv",
];

/// Path (relative, `/`-separated) → `size:mtime_ns`.
pub(super) type Snapshot = BTreeMap<String, String>;

/// The workspace's files now; `protected` (the data dir) is never walked.
pub(super) fn snapshot(root: &Path, protected: &Path) -> Snapshot {
    let mut out = Snapshot::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == super::checklist::FILE {
                continue;
            }
            let path = e.path();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() {
                if !SKIPPED.contains(&name.as_ref()) && !path.starts_with(protected) {
                    dirs.push(path);
                }
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let Ok(meta) = e.metadata() else { continue };
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.insert(
                rel.to_string_lossy().replace('\\', "/"),
                format!("{}:{mtime}", meta.len()),
            );
            if out.len() >= MAX_FILES {
                return out;
            }
        }
    }
    out
}

/// What changed from `before` to `after`: new and modified files, and removed ones marked so.
pub(super) fn changed(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut out: Vec<String> = after
        .iter()
        .filter(|(path, note)| before.get(*path) != Some(note))
        .map(|(path, _)| path.clone())
        .collect();
    out.extend(
        before
            .keys()
            .filter(|p| !after.contains_key(*p))
            .map(|p| format!("{p} (removed)")),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_changed_and_removed_files_and_what_is_left_out() {
        let ws = tempfile::tempdir().unwrap();
        let root = ws.path();
        std::fs::write(root.join("a.txt"), "a").unwrap();
        std::fs::write(root.join("gone.txt"), "g").unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/lib.rs"), "x").unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::write(root.join(".git/HEAD"), "h").unwrap();
        std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
        std::fs::write(root.join("node_modules/x/i.js"), "i").unwrap();
        std::fs::write(root.join("HEARTBEAT.md"), "- check").unwrap();
        let data = root.join("pryx-data");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("secrets.json"), "s").unwrap();
        let before = snapshot(root, &data);
        assert_eq!(
            before.keys().cloned().collect::<Vec<_>>(),
            ["a.txt", "gone.txt", "src/lib.rs"]
        );
        assert!(changed(&before, &snapshot(root, &data)).is_empty());

        std::fs::write(root.join("src/lib.rs"), "longer").unwrap();
        std::fs::remove_file(root.join("gone.txt")).unwrap();
        std::fs::write(root.join("new.txt"), "n").unwrap();
        std::fs::write(root.join(".git/HEAD"), "moved").unwrap();
        let after = snapshot(root, &data);
        assert_eq!(
            changed(&before, &after),
            ["new.txt", "src/lib.rs", "gone.txt (removed)"]
        );
    }
}
