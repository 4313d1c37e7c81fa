//! Step 1: the workspace — the folder the agent's tools work in — with a small server-side
//! folder browser. The core's own rules decide: never the data dir; the root, the home folder
//! or one holding the data dir only once the user confirms it, saved the way
//! `--allow-broad-workspace` saves it (config `agent.broad_workspaces`).

use super::{ACTOR, FieldErrors, Progress, query_value};
use crate::Web;
use crate::page::{Layout, Viewer, render, see_other};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use pryx_config::{DataDir, Edit};
use pryx_core::profiles;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Most subfolders the browser lists.
const MAX_ENTRIES: usize = 300;

#[derive(Template)]
#[template(path = "welcome_workspace.html")]
struct Page {
    layout: Layout,
    progress: Progress,
    /// What the folder field holds.
    value: String,
    errors: FieldErrors,
    /// The typed folder is broad and not yet confirmed: show the confirmation checkbox.
    needs_confirm: Option<String>,
    /// The saved workspace, if any.
    saved: Option<String>,
    browser: Browser,
}

/// The folder browser: where it is and what is below.
struct Browser {
    /// The folder shown (canonical), if it could be read.
    current: Option<String>,
    parent: Option<String>,
    home: Option<String>,
    entries: Vec<Entry>,
    /// More subfolders than are listed.
    truncated: bool,
    /// Why the folder could not be listed.
    problem: Option<String>,
}

struct Entry {
    name: String,
    path: String,
    /// Why choosing it needs a confirmation (root, home, holds the data dir).
    broad: Option<&'static str>,
}

impl Page {
    /// The wizard showing folder `path` in its browser.
    fn browse_href(&self, path: &str) -> String {
        format!("/welcome?step=1&path={}", query_value(path))
    }
}

pub fn show(web: &Web, viewer: &Viewer, path: Option<&str>) -> Response {
    let saved = web.core.settings().config.defaults.workspace.clone();
    // Else the folder the gateway runs in, when it is a project (not a broad folder).
    let value = path
        .map(str::to_string)
        .or_else(|| saved.clone())
        .or_else(|| {
            web.core
                .profile(None)
                .ok()
                .map(|p| p.workspace)
                .filter(|w| profiles::broad_reason(web.core.dir(), w).is_none())
                .and_then(|w| w.to_str().map(str::to_string))
        })
        .unwrap_or_default();
    render(
        StatusCode::OK,
        &page(web, viewer, value, FieldErrors::default(), None),
    )
}

fn page(
    web: &Web,
    viewer: &Viewer,
    value: String,
    errors: FieldErrors,
    needs_confirm: Option<String>,
) -> Page {
    let config = &web.core.settings().config;
    // A broad folder offers its confirmation box at once, not only after a refusal.
    let needs_confirm = needs_confirm.or_else(|| {
        if value.trim().is_empty() {
            return None;
        }
        check(
            web.core.dir(),
            &config.agent.broad_workspaces,
            &value,
            false,
        )
        .err()
        .and_then(|r| r.needs_confirm)
    });
    Page {
        layout: Layout::new(web, viewer, "Welcome: workspace", "welcome"),
        progress: Progress::new(web, 1),
        browser: browse(web.core.dir(), &value),
        saved: config.defaults.workspace.clone(),
        value,
        errors,
        needs_confirm,
    }
}

#[derive(Deserialize, Default)]
pub struct Form {
    #[serde(default)]
    path: String,
    /// The "I understand every tool could reach all of it" checkbox.
    #[serde(default)]
    confirm_broad: Option<String>,
}

pub async fn save(
    State(web): State<Arc<Web>>,
    viewer: Viewer,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let confirmed = web.core.settings().config.agent.broad_workspaces.clone();
    let confirm = form.confirm_broad.is_some();
    match check(web.core.dir(), &confirmed, &form.path, confirm) {
        Ok(chosen) => {
            let shown = chosen.path.display().to_string();
            let mut edits = vec![Edit::Set("defaults.workspace".into(), shown.clone().into())];
            if chosen.confirm {
                let mut list = confirmed;
                list.push(shown.clone());
                edits.push(Edit::Set("agent.broad_workspaces".into(), list.into()));
            }
            match web.core.write_config(&edits) {
                Ok(_) => {
                    tracing::info!(workspace = %shown, by = ACTOR, confirmed_broad = chosen.confirm, "default workspace set");
                    see_other("/welcome?step=2")
                }
                Err(e) => {
                    let mut errors = FieldErrors::default();
                    errors.set("path", format!("Could not save it in config.json: {e}"));
                    render(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &page(&web, &viewer, form.path, errors, None),
                    )
                }
            }
        }
        Err(refusal) => {
            let mut errors = FieldErrors::default();
            errors.set("path", refusal.message);
            render(
                StatusCode::BAD_REQUEST,
                &page(&web, &viewer, form.path, errors, refusal.needs_confirm),
            )
        }
    }
}

/// A folder that may be saved as the workspace.
#[derive(Debug)]
pub struct Chosen {
    /// Canonical.
    pub path: PathBuf,
    /// It is broad and newly confirmed: add it to `agent.broad_workspaces`.
    pub confirm: bool,
}

/// Why a folder was refused; `needs_confirm` holds the reason when ticking the confirmation
/// box would make it acceptable.
#[derive(Debug)]
pub struct Refusal {
    pub message: String,
    pub needs_confirm: Option<String>,
}

fn refuse(message: impl Into<String>) -> Refusal {
    Refusal {
        message: message.into(),
        needs_confirm: None,
    }
}

/// Judges a typed folder by the core's workspace rules. `confirmed` is config
/// `agent.broad_workspaces`; `confirm` is the user's tick on "I understand every tool could
/// reach all of it".
pub fn check(
    dir: &DataDir,
    confirmed: &[String],
    raw: &str,
    confirm: bool,
) -> Result<Chosen, Refusal> {
    let typed = raw.trim();
    if typed.is_empty() {
        return Err(refuse(
            "Enter the full path of a folder, e.g. a project folder in your home folder.",
        ));
    }
    let path = expand(typed);
    if !path.is_absolute() {
        return Err(refuse(format!(
            "{typed} is not a full path; give it from the root, starting with /."
        )));
    }
    let canonical = match std::fs::canonicalize(&path) {
        Ok(c) => c,
        Err(_) => {
            return Err(refuse(format!(
                "There is no folder at {typed}; check the spelling or create it first."
            )));
        }
    };
    if !canonical.is_dir() {
        return Err(refuse(format!(
            "{typed} is a file, not a folder; choose the folder that holds it."
        )));
    }
    let data = std::fs::canonicalize(dir.root()).unwrap_or_else(|_| dir.root().to_path_buf());
    if canonical.starts_with(&data) {
        return Err(refuse(format!(
            "{} is Pryx's own data folder (or inside it); tools must never reach it. Choose a project folder.",
            canonical.display()
        )));
    }
    let broad = profiles::broad_reason(dir, &canonical);
    let known = profiles::is_confirmed(confirmed, &canonical);
    let newly = match broad {
        Some(reason) if !known && !confirm => {
            return Err(Refusal {
                message: format!(
                    "{} is {reason}: every tool could reach all of it. Choose a project folder, or tick the box below to use it anyway.",
                    canonical.display()
                ),
                needs_confirm: Some(reason.to_string()),
            });
        }
        Some(_) => !known,
        None => false,
    };
    // The core has the last word (the same check every session's workspace goes through).
    let mut with = confirmed.to_vec();
    if newly {
        with.push(canonical.display().to_string());
    }
    profiles::check_workspace(dir, &canonical, &with).map_err(|e| refuse(e.to_string()))?;
    Ok(Chosen {
        path: canonical,
        confirm: newly,
    })
}

/// `~` and `~/…` against the user's home.
fn expand(path: &str) -> PathBuf {
    match (path, home_dir()) {
        ("~", Some(h)) => PathBuf::from(h),
        (p, Some(h)) if p.starts_with("~/") => Path::new(&h).join(&p[2..]),
        (p, _) => PathBuf::from(p),
    }
}

fn home_dir() -> Option<String> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .and_then(|h| h.into_string().ok())
}

/// Lists the subfolders of `typed` (or of its nearest existing parent), never offering the
/// data dir.
fn browse(dir: &DataDir, typed: &str) -> Browser {
    let home = home_dir();
    let data = std::fs::canonicalize(dir.root()).unwrap_or_else(|_| dir.root().to_path_buf());
    let start = expand(typed.trim());
    let mut at = if start.is_absolute() {
        Some(start)
    } else {
        home.as_ref().map(PathBuf::from)
    };
    // A folder being typed may not exist yet: show the nearest one that does.
    let current = loop {
        match at {
            Some(p) => match std::fs::canonicalize(&p) {
                Ok(c) if c.is_dir() => break Some(c),
                _ => at = p.parent().map(Path::to_path_buf),
            },
            None => break None,
        }
    };
    let Some(current) = current else {
        return Browser {
            current: None,
            parent: None,
            home,
            entries: Vec::new(),
            truncated: false,
            problem: Some("Type a full path to browse from.".into()),
        };
    };
    let mut entries = Vec::new();
    let mut problem = None;
    match std::fs::read_dir(&current) {
        Ok(rd) => {
            for e in rd.flatten() {
                let path = e.path();
                let Ok(name) = e.file_name().into_string() else {
                    continue;
                };
                if name.starts_with('.') || !path.is_dir() {
                    continue;
                }
                let canonical = std::fs::canonicalize(&path).unwrap_or(path);
                if canonical.starts_with(&data) {
                    continue;
                }
                let Some(shown) = canonical.to_str().map(str::to_string) else {
                    continue;
                };
                entries.push(Entry {
                    name,
                    broad: profiles::broad_reason(dir, &canonical),
                    path: shown,
                });
            }
        }
        Err(e) => problem = Some(format!("This folder cannot be read: {e}")),
    }
    entries.sort_by_key(|e| e.name.to_lowercase());
    let truncated = entries.len() > MAX_ENTRIES;
    entries.truncate(MAX_ENTRIES);
    Browser {
        parent: current.parent().and_then(Path::to_str).map(str::to_string),
        current: current.to_str().map(str::to_string),
        home,
        entries,
        truncated,
        problem,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn setup() -> (tempfile::TempDir, DataDir, PathBuf) {
        let t = tempfile::tempdir().unwrap();
        let dir = DataDir::at(t.path().join("data"));
        dir.ensure().unwrap();
        let ws = t.path().join("project");
        std::fs::create_dir(&ws).unwrap();
        (t, dir, ws)
    }

    #[test]
    fn a_project_folder_is_accepted_canonical() {
        let (_t, dir, ws) = setup();
        let chosen = check(&dir, &[], &format!("  {}/ ", ws.display()), false).unwrap();
        assert_eq!(chosen.path, std::fs::canonicalize(&ws).unwrap());
        assert!(!chosen.confirm);
    }

    #[test]
    fn the_data_dir_is_refused_even_when_confirmed() {
        let (_t, dir, _ws) = setup();
        for p in [dir.root().to_path_buf(), dir.root().join("skills")] {
            std::fs::create_dir_all(&p).unwrap();
            let e = check(&dir, &[], p.to_str().unwrap(), true).unwrap_err();
            assert!(e.message.contains("data folder"), "{}", e.message);
            assert!(e.needs_confirm.is_none());
        }
    }

    #[test]
    fn the_root_needs_a_confirmation() {
        let (_t, dir, _ws) = setup();
        let e = check(&dir, &[], "/", false).unwrap_err();
        assert!(e.needs_confirm.is_some(), "{}", e.message);
        let chosen = check(&dir, &[], "/", true).unwrap();
        assert_eq!(chosen.path, PathBuf::from("/"));
        assert!(chosen.confirm, "a new confirmation is saved");
        let again = check(&dir, &["/".into()], "/", false).unwrap();
        assert!(!again.confirm, "an earlier confirmation counts");
    }

    #[test]
    fn a_folder_holding_the_data_dir_needs_a_confirmation() {
        let (t, dir, _ws) = setup();
        let e = check(&dir, &[], t.path().to_str().unwrap(), false).unwrap_err();
        assert!(e.needs_confirm.is_some(), "{}", e.message);
        assert!(check(&dir, &[], t.path().to_str().unwrap(), true).is_ok());
    }

    #[test]
    fn the_home_folder_needs_a_confirmation() {
        let (_t, dir, _ws) = setup();
        let Some(home) = home_dir() else { return };
        let Ok(canonical) = std::fs::canonicalize(&home) else {
            return;
        };
        let e = check(&dir, &[], "~", false).unwrap_err();
        assert!(e.needs_confirm.is_some(), "{}", e.message);
        assert_eq!(check(&dir, &[], "~", true).unwrap().path, canonical);
    }

    #[test]
    fn missing_relative_and_file_paths_are_refused_with_reasons() {
        let (t, dir, ws) = setup();
        let missing = ws.join("nope");
        let e = check(&dir, &[], missing.to_str().unwrap(), true).unwrap_err();
        assert!(e.message.contains("no folder"), "{}", e.message);
        let e = check(&dir, &[], "project", false).unwrap_err();
        assert!(e.message.contains("not a full path"), "{}", e.message);
        let file = t.path().join("notes.txt");
        std::fs::write(&file, "x").unwrap();
        let e = check(&dir, &[], file.to_str().unwrap(), false).unwrap_err();
        assert!(e.message.contains("not a folder"), "{}", e.message);
        let e = check(&dir, &[], "   ", false).unwrap_err();
        assert!(e.message.contains("Enter"), "{}", e.message);
    }

    #[test]
    fn the_browser_lists_subfolders_but_never_the_data_dir() {
        let (t, dir, ws) = setup();
        std::fs::create_dir(ws.join("src")).unwrap();
        std::fs::create_dir(ws.join(".git")).unwrap();
        std::fs::write(ws.join("README.md"), "x").unwrap();
        let b = browse(&dir, ws.to_str().unwrap());
        let names: Vec<&str> = b.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["src"]);
        let up = browse(&dir, t.path().to_str().unwrap());
        let names: Vec<&str> = up.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["project"], "the data dir is not offered");
        // A path being typed shows its nearest existing folder.
        let partial = browse(&dir, ws.join("not-yet").to_str().unwrap());
        assert_eq!(
            partial.current.as_deref(),
            std::fs::canonicalize(&ws).unwrap().to_str()
        );
    }
}
