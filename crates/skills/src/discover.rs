//! Finding skill folders under the roots, and a cheap fingerprint of what was found.
//!
//! A root may hold skills directly (`root/<name>/SKILL.md`) or grouped
//! (`root/<group>/<name>/SKILL.md`); descent stops at a folder with `SKILL.md`.

use crate::skill::Origin;
use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

const MAX_DEPTH: usize = 4;
const MAX_DIRS_PER_ROOT: usize = 20_000;

/// One directory searched for skills, with its precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    pub origin: Origin,
    pub path: PathBuf,
}

/// A folder containing `SKILL.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub origin: Origin,
    pub dir: PathBuf,
    modified: Option<SystemTime>,
    len: u64,
}

/// Lists skill folders under every root, in root order then path order.
pub fn scan(roots: &[Root]) -> Vec<Found> {
    let mut out = Vec::new();
    for root in roots {
        let mut budget = MAX_DIRS_PER_ROOT;
        walk(root.origin, &root.path, 0, &mut budget, &mut out);
    }
    out
}

fn walk(origin: Origin, dir: &Path, depth: usize, budget: &mut usize, out: &mut Vec<Found>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut subdirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            !name.starts_with('.') && name != "node_modules"
        })
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    for sub in subdirs {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let file = sub.join("SKILL.md");
        // `metadata` follows symlinks; a dangling SKILL.md link still counts so it is reported.
        match fs::metadata(&file) {
            Ok(meta) => out.push(Found {
                origin,
                dir: sub,
                modified: meta.modified().ok(),
                len: meta.len(),
            }),
            Err(_) if fs::symlink_metadata(&file).is_ok() => out.push(Found {
                origin,
                dir: sub,
                modified: None,
                len: 0,
            }),
            Err(_) if depth + 1 < MAX_DEPTH => walk(origin, &sub, depth + 1, budget, out),
            Err(_) => {}
        }
    }
}

/// Where the skill folder `dir` really is, when it resolves (symlinks followed) inside one of
/// the roots of its `origin`; otherwise why it may not be used. A folder that is a link to
/// somewhere else (`.pryx/skills/leak -> ../..`) would let `skills.read` reach that place.
pub fn confined_dir(dir: &Path, origin: Origin, roots: &[Root]) -> Result<PathBuf, String> {
    let real = fs::canonicalize(dir).map_err(|e| format!("cannot open the skill folder: {e}"))?;
    let inside = roots
        .iter()
        .filter(|r| r.origin == origin)
        .filter_map(|r| fs::canonicalize(&r.path).ok())
        .any(|root| real.starts_with(&root) && real != root);
    if inside {
        Ok(real)
    } else {
        Err(format!(
            "the skill folder resolves to {}, outside its skills location (a symbolic link?); move the skill's files into the location instead of linking to them",
            real.display()
        ))
    }
}

/// A hash of the scan, the config file's size and time, and the PATH directories' times (a
/// binary installed into one changes it): equal fingerprints mean nothing that affects the
/// catalog changed.
pub fn fingerprint(
    found: &[Found],
    roots: &[Root],
    config_file: Option<&Path>,
    path_var: Option<&std::ffi::OsStr>,
) -> u64 {
    let mut h = DefaultHasher::new();
    if let Some(path) = path_var {
        for dir in std::env::split_paths(path) {
            dir.hash(&mut h);
            fs::metadata(&dir)
                .and_then(|m| m.modified())
                .ok()
                .hash(&mut h);
        }
    }
    for r in roots {
        r.path.hash(&mut h);
        (r.origin as u8).hash(&mut h);
    }
    for f in found {
        f.dir.hash(&mut h);
        f.modified.hash(&mut h);
        f.len.hash(&mut h);
    }
    if let Some(file) = config_file {
        let meta = fs::metadata(file).ok();
        meta.as_ref().map(|m| m.len()).hash(&mut h);
        meta.and_then(|m| m.modified().ok()).hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skill(dir: &Path) {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join("SKILL.md"), "---\nname: x\ndescription: y\n---\n").unwrap();
    }

    #[test]
    fn finds_direct_and_grouped_skills_and_skips_hidden() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        skill(&root.join("b"));
        skill(&root.join("a"));
        skill(&root.join("group/c"));
        skill(&root.join("a/nested-under-skill"));
        skill(&root.join(".hidden/d"));
        fs::create_dir_all(root.join("empty")).unwrap();
        let found = scan(&[Root {
            origin: Origin::Managed,
            path: root.to_path_buf(),
        }]);
        let dirs: Vec<_> = found
            .iter()
            .map(|f| f.dir.strip_prefix(root).unwrap().to_path_buf())
            .collect();
        assert_eq!(
            dirs,
            vec![
                PathBuf::from("a"),
                PathBuf::from("b"),
                PathBuf::from("group/c")
            ]
        );
    }

    #[test]
    fn fingerprint_changes_with_content_and_membership() {
        let tmp = tempfile::tempdir().unwrap();
        let roots = vec![Root {
            origin: Origin::Workspace,
            path: tmp.path().to_path_buf(),
        }];
        skill(&tmp.path().join("a"));
        let f1 = fingerprint(&scan(&roots), &roots, None, None);
        assert_eq!(f1, fingerprint(&scan(&roots), &roots, None, None));
        fs::write(
            tmp.path().join("a/SKILL.md"),
            "---\nname: x\ndescription: longer\n---\n",
        )
        .unwrap();
        let f2 = fingerprint(&scan(&roots), &roots, None, None);
        assert_ne!(f1, f2);
        skill(&tmp.path().join("b"));
        assert_ne!(f2, fingerprint(&scan(&roots), &roots, None, None));
    }

    #[test]
    fn fingerprint_notices_a_binary_added_to_path() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        fs::create_dir_all(&bin).unwrap();
        let path = std::env::join_paths([&bin]).unwrap();
        let f1 = fingerprint(&[], &[], None, Some(&path));
        // Directory times have coarse resolution on some filesystems; wait until it moves.
        let before = fs::metadata(&bin).unwrap().modified().unwrap();
        let mut i = 0;
        while fs::metadata(&bin).unwrap().modified().unwrap() == before && i < 2_000 {
            fs::write(bin.join(format!("tool{i}")), "").unwrap();
            i += 1;
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_ne!(f1, fingerprint(&[], &[], None, Some(&path)));
    }

    #[test]
    fn missing_root_is_empty() {
        let found = scan(&[Root {
            origin: Origin::Extra,
            path: PathBuf::from("/nonexistent/skills/root"),
        }]);
        assert!(found.is_empty());
    }
}
