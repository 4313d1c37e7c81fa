//! Adding skills to the data directory's `skills/` from a folder, an archive (here or at an
//! http(s) URL) or a git repository (`pryx skills add`, `POST /skills`, the Skills page).
//!
//! The source's files land in a fresh staging folder inside `skills/` (hidden from the scan),
//! are held to plain files and folders within size limits, and each skill found there must
//! load; only then is each moved into `skills/<name>` with one rename. A skill of the same name
//! is replaced only when the caller says so. Nothing of the source runs.

mod fetch;
mod source;

pub use fetch::{MAX_ADD_BYTES, MAX_ADD_ENTRIES};
pub use source::{Source, archive_kind};

use crate::discover::{self, Root};
use crate::eligibility::Host;
use crate::install::InstallError;
use crate::install::stage::Staging;
use crate::load;
use crate::skill::Origin;
use std::fs;
use std::path::{Path, PathBuf};

/// Why skills could not be added; nothing was placed unless [`AddError::Io`] says otherwise.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error("cannot add skills from {from:?}: {why}")]
    BadSource { from: String, why: String },
    #[error("cannot fetch {from}: {message}")]
    Fetch { from: String, message: String },
    #[error("refusing {from}: {what}; only plain files and folders are added")]
    Refused { from: String, what: String },
    #[error("{from} holds no SKILL.md; a skill is a folder with a SKILL.md in it")]
    NoSkills { from: String },
    #[error("{from} holds skills that cannot be loaded:\n{problems}")]
    Invalid { from: String, problems: String },
    #[error("{from} has no skill named {wanted}; it holds: {found}")]
    NotInSource {
        from: String,
        wanted: String,
        found: String,
    },
    #[error("{from} holds two skills named {name}; choose the source's folder of the one you want")]
    Duplicate { from: String, name: String },
    #[error(
        "a skill named {name} was added before ({}); remove that folder or replace it (`--replace`)",
        path.display()
    )]
    Exists { name: String, path: PathBuf },
    #[error("{name} is not a valid git branch or tag")]
    BadRef { name: String },
    #[error("cannot write {path}: {message}")]
    Io { path: String, message: String },
    #[error(transparent)]
    Install(#[from] InstallError),
}

/// What to take from a source.
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// Only these skills (by name); empty takes every skill the source holds.
    pub skills: Vec<String>,
    /// The branch or tag of a git source.
    pub git_ref: Option<String>,
    /// Replace skills of the same name in `skills/`.
    pub replace: bool,
}

/// One skill placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    pub name: String,
    pub path: PathBuf,
    pub replaced: bool,
}

/// A skill folder found in the staged source.
struct Candidate {
    name: String,
    dir: PathBuf,
}

fn check_ref(r: &str) -> Result<(), AddError> {
    let ok = !r.is_empty()
        && r.len() <= 256
        && !r.starts_with(['-', '/', '.'])
        && !r.contains("..")
        && r.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./+".contains(c));
    if ok {
        Ok(())
    } else {
        Err(AddError::BadRef {
            name: r.to_string(),
        })
    }
}

/// Adds the skills of `source` to `skills_dir` (the data directory's `skills/`).
pub async fn add(
    source: &Source,
    skills_dir: &Path,
    opts: &AddOptions,
    host: &Host,
) -> Result<Vec<Added>, AddError> {
    let shown = source.shown();
    if let Some(r) = &opts.git_ref {
        check_ref(r)?;
        if !matches!(source, Source::Git(_)) {
            return Err(AddError::BadSource {
                from: shown,
                why: "a branch or tag only applies to a git repository".into(),
            });
        }
    }
    // Creates `skills_dir` when missing; the staging folder sits inside it.
    let staging = Staging::new(&skills_dir.join(".adding"))?;
    let out = staging.out();
    match source {
        Source::Folder(dir) => fetch::copy_folder(dir, &out, &shown)?,
        Source::Archive(file, kind) => fetch::unpack_local(&staging, file, kind, host).await?,
        Source::ArchiveUrl(url, kind) => fetch::unpack_url(&staging, url, kind, host).await?,
        Source::Git(url) => fetch::clone(url, opts.git_ref.as_deref(), &out, host).await?,
    }
    fetch::settle(&out, &shown)?;
    let chosen = choose(find(&out, &shown)?, &opts.skills, &shown)?;
    place(&staging, chosen, skills_dir, opts.replace)
}

/// Every skill in the staged tree: the tree itself when it has a SKILL.md, else its folders
/// that have one. Each must load.
fn find(out: &Path, shown: &str) -> Result<Vec<Candidate>, AddError> {
    let dirs: Vec<PathBuf> = if out.join("SKILL.md").is_file() {
        vec![out.to_path_buf()]
    } else {
        let root = Root {
            origin: Origin::Managed,
            path: out.to_path_buf(),
        };
        discover::scan(&[root]).into_iter().map(|f| f.dir).collect()
    };
    if dirs.is_empty() {
        return Err(AddError::NoSkills {
            from: shown.to_string(),
        });
    }
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for dir in dirs {
        let rel = dir.strip_prefix(out).unwrap_or(&dir).join("SKILL.md");
        match load::load_dir(&dir) {
            Ok(loaded) => found.push(Candidate {
                name: loaded.manifest.name,
                dir,
            }),
            Err(e) => problems.push(format!("  {}:{}: {}", rel.display(), e.line, e.reason)),
        }
    }
    if !problems.is_empty() {
        return Err(AddError::Invalid {
            from: shown.to_string(),
            problems: problems.join("\n"),
        });
    }
    Ok(found)
}

/// The candidates asked for (all when none are named); names must be unique.
fn choose(
    found: Vec<Candidate>,
    wanted: &[String],
    shown: &str,
) -> Result<Vec<Candidate>, AddError> {
    let mut names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(AddError::Duplicate {
            from: shown.to_string(),
            name: w[0].to_string(),
        });
    }
    if let Some(missing) = wanted.iter().find(|w| !names.contains(&w.as_str())) {
        return Err(AddError::NotInSource {
            from: shown.to_string(),
            wanted: missing.clone(),
            found: names.join(", "),
        });
    }
    Ok(found
        .into_iter()
        .filter(|c| wanted.is_empty() || wanted.contains(&c.name))
        .collect())
}

/// Moves each candidate to `skills_dir/<name>`, after checking none would overwrite a skill
/// unasked; replaced folders go to the staging folder and are removed with it.
fn place(
    staging: &Staging,
    chosen: Vec<Candidate>,
    skills_dir: &Path,
    replace: bool,
) -> Result<Vec<Added>, AddError> {
    let dest = |c: &Candidate| skills_dir.join(&c.name);
    if !replace
        && let Some(c) = chosen
            .iter()
            .find(|c| fs::symlink_metadata(dest(c)).is_ok())
    {
        return Err(AddError::Exists {
            name: c.name.clone(),
            path: dest(c),
        });
    }
    let io = |p: &Path, e: std::io::Error| AddError::Io {
        path: p.display().to_string(),
        message: e.to_string(),
    };
    let mut added = Vec::new();
    for (i, c) in chosen.iter().enumerate() {
        let to = dest(c);
        let replaced = fs::symlink_metadata(&to).is_ok();
        if replaced {
            let old = staging.root().join(format!("replaced-{i}"));
            fs::rename(&to, &old).map_err(|e| io(&to, e))?;
        }
        fs::rename(&c.dir, &to).map_err(|e| io(&to, e))?;
        added.push(Added {
            name: c.name.clone(),
            path: to,
            replaced,
        });
    }
    Ok(added)
}

#[cfg(test)]
mod tests;
