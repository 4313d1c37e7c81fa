//! Reading one skill folder defensively: size cap, UTF-8, symlinks that leave the folder.

use crate::frontmatter;
use crate::manifest::{self, Manifest};
use std::fs;
use std::path::{Path, PathBuf};

/// Largest `SKILL.md` read (also the cap of `skills.read`).
pub const MAX_SKILL_FILE_BYTES: u64 = 256 * 1024;

/// Entries examined when looking for escaping symlinks; larger folders are not walked further.
const MAX_WALK_ENTRIES: usize = 2_000;
const MAX_WALK_DEPTH: usize = 6;

/// A parsed `SKILL.md`.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub manifest: Manifest,
    pub body: String,
    pub body_line: usize,
    pub warnings: Vec<String>,
}

/// Why a skill could not be loaded, with the 1-based line it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub line: usize,
    pub reason: String,
}

fn at1(reason: String) -> LoadError {
    LoadError { line: 1, reason }
}

/// Loads `dir/SKILL.md`; `folder_name` is compared with the declared name.
pub fn load_dir(dir: &Path) -> Result<Loaded, LoadError> {
    let root =
        fs::canonicalize(dir).map_err(|e| at1(format!("cannot open the skill folder: {e}")))?;
    let file = dir.join("SKILL.md");
    let meta =
        fs::symlink_metadata(&file).map_err(|e| at1(format!("cannot read SKILL.md: {e}")))?;
    if meta.file_type().is_symlink() {
        let target = fs::canonicalize(&file)
            .map_err(|e| at1(format!("SKILL.md is a broken symlink: {e}")))?;
        if !target.starts_with(&root) {
            return Err(at1(format!(
                "SKILL.md is a symlink to {}, outside the skill folder; copy the file into the folder instead",
                target.display()
            )));
        }
    }
    let text = read_capped(&file)?;
    if let Some(rel) = escaping_symlink(&root) {
        return Err(at1(format!(
            "{} is a symlink pointing outside the skill folder; replace it with a copy of the file",
            rel.display()
        )));
    }
    let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    parse(&text, Some(folder))
}

/// Reads a text file of at most [`MAX_SKILL_FILE_BYTES`], refusing non-UTF-8 content.
pub fn read_capped(file: &Path) -> Result<String, LoadError> {
    use pryx_protocol::regular_file::{FileReadError, read_regular_file};
    let bytes = read_regular_file(file, MAX_SKILL_FILE_BYTES).map_err(|e| match e {
        FileReadError::TooLarge { size, .. } => too_large(file, size),
        FileReadError::NotRegular { kind, .. } => at1(format!(
            "{} is a {kind}, not a regular file; replace it with a regular file",
            name(file)
        )),
        FileReadError::Io { source, .. } => at1(format!("cannot read {}: {source}", name(file))),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let good = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..good].iter().filter(|b| **b == b'\n').count();
        LoadError {
            line,
            reason: format!(
                "{} is not UTF-8 text (bad byte at offset {good}); save it as UTF-8",
                name(file)
            ),
        }
    })
}

fn name(file: &Path) -> String {
    file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn too_large(file: &Path, size: u64) -> LoadError {
    at1(format!(
        "{} is {size} bytes, over the {} KiB limit; move detail into references/ files",
        name(file),
        MAX_SKILL_FILE_BYTES / 1024
    ))
}

/// The first symlink under `root` (relative path) whose target resolves outside it.
fn escaping_symlink(root: &Path) -> Option<PathBuf> {
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    let mut seen = 0usize;
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_WALK_ENTRIES {
                return None;
            }
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_symlink() {
                let inside = fs::canonicalize(&path).is_ok_and(|t| t.starts_with(root));
                if !inside {
                    return Some(path.strip_prefix(root).unwrap_or(&path).to_path_buf());
                }
            } else if ft.is_dir() && depth < MAX_WALK_DEPTH {
                stack.push((path, depth + 1));
            }
        }
    }
    None
}

/// Parses `SKILL.md` text. `folder` is the folder name, checked against `name`.
pub fn parse(text: &str, folder: Option<&str>) -> Result<Loaded, LoadError> {
    let split = frontmatter::split(text).map_err(|e| LoadError {
        line: e.line,
        reason: e.message,
    })?;
    let parsed =
        frontmatter::parse(split.frontmatter, split.first_line).map_err(|e| LoadError {
            line: e.line,
            reason: e.message,
        })?;
    let mut warnings: Vec<String> = parsed.warning.into_iter().collect();
    let manifest = manifest::from_fields(&parsed.fields, &mut warnings).map_err(|e| LoadError {
        line: if e.key == "name" && !parsed.fields.contains_key("name") {
            1
        } else {
            frontmatter::key_line(split.frontmatter, split.first_line, e.key)
        },
        reason: e.message,
    })?;
    if !manifest::is_spec_name(&manifest.name) {
        warnings.push(format!(
            "name `{}` is not in the Agent Skills form (lowercase letters, digits, single hyphens)",
            manifest.name
        ));
    }
    if let Some(folder) = folder
        && !folder.is_empty()
        && folder != manifest.name
    {
        warnings.push(format!(
            "the folder is named `{folder}` but the skill is `{}`; rename one so they match",
            manifest.name
        ));
    }
    Ok(Loaded {
        manifest,
        body: split.body.to_string(),
        body_line: split.body_line,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &[u8]) {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join("SKILL.md"), text).unwrap();
    }

    #[test]
    fn loads_a_good_skill() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("demo");
        write(
            &dir,
            b"---\nname: demo\ndescription: A demo\n---\nDo things.\n",
        );
        let l = load_dir(&dir).unwrap();
        assert_eq!(l.manifest.name, "demo");
        assert_eq!(l.body, "Do things.\n");
        assert_eq!(l.body_line, 5);
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
    }

    #[test]
    fn missing_name_is_invalid_at_line_one() {
        let e = parse("---\ndescription: x\n---\n", None).unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.reason.contains("`name` is missing"));
    }

    #[test]
    fn bad_field_points_at_its_line() {
        let e = parse(
            "---\nname: a\ndescription: d\nuser-invocable: 7\n---\n",
            None,
        )
        .unwrap_err();
        assert_eq!(e.line, 4);
    }

    #[test]
    fn folder_mismatch_is_a_warning() {
        let l = parse("---\nname: a\ndescription: d\n---\n", Some("b")).unwrap();
        assert!(l.warnings[0].contains("folder is named `b`"));
    }

    #[test]
    fn huge_file_is_invalid() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("big");
        let mut text = b"---\nname: big\ndescription: d\n---\n".to_vec();
        text.resize(300 * 1024, b'x');
        write(&dir, &text);
        let e = load_dir(&dir).unwrap_err();
        assert!(e.reason.contains("over the 256 KiB limit"), "{}", e.reason);
    }

    #[test]
    fn non_utf8_is_invalid_with_its_line() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("latin1");
        write(&dir, b"---\nname: latin1\ndescription: caf\xe9\n---\n");
        let e = load_dir(&dir).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.reason.contains("not UTF-8"));
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_leaving_the_folder_are_invalid() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("secret.txt");
        fs::write(&outside, "x").unwrap();
        let dir = tmp.path().join("leaky");
        write(&dir, b"---\nname: leaky\ndescription: d\n---\n");
        fs::create_dir_all(dir.join("references")).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("references/notes.md")).unwrap();
        let e = load_dir(&dir).unwrap_err();
        assert!(
            e.reason.contains("references/notes.md is a symlink"),
            "{}",
            e.reason
        );

        let dir2 = tmp.path().join("linked");
        fs::create_dir_all(&dir2).unwrap();
        let real = tmp.path().join("real.md");
        fs::write(&real, "---\nname: linked\ndescription: d\n---\n").unwrap();
        std::os::unix::fs::symlink(&real, dir2.join("SKILL.md")).unwrap();
        assert!(
            load_dir(&dir2)
                .unwrap_err()
                .reason
                .contains("outside the skill folder")
        );

        // A symlink that stays inside is fine.
        let dir3 = tmp.path().join("inner");
        write(&dir3, b"---\nname: inner\ndescription: d\n---\n");
        std::os::unix::fs::symlink(dir3.join("SKILL.md"), dir3.join("alias.md")).unwrap();
        assert!(load_dir(&dir3).is_ok());
    }
}
