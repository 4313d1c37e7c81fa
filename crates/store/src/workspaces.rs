//! Workspaces: the directories sessions work in.

use std::path::Path;

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::util::{new_id, now_ts};

/// A directory the agent works in, recorded once per path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workspace {
    pub id: String,
    /// The last component of the path, for display.
    pub name: String,
    pub path: String,
    pub created_at: String,
}

const COLS: &str = "id, name, path, created_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Workspace> {
    Ok(Workspace {
        id: r.get(0)?,
        name: r.get(1)?,
        path: r.get(2)?,
        created_at: r.get(3)?,
    })
}

impl Store {
    /// Returns the workspace for `path`, creating it on first use. Callers pass the canonical
    /// (symlink-free, absolute) path so one directory maps to one workspace.
    pub fn upsert_workspace(&self, path: &Path) -> Result<Workspace> {
        let text = path.to_str().ok_or_else(|| StoreError::Invalid {
            what: "workspace path",
            detail: format!("{} is not valid UTF-8", path.display()),
        })?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or(text)
            .to_string();
        self.with_tx(|tx| {
            tx.execute(
                "INSERT INTO workspaces (id, name, path, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (path) DO NOTHING",
                params![new_id(), name, text, now_ts()],
            )?;
            Ok(tx.query_row(
                &format!("SELECT {COLS} FROM workspaces WHERE path = ?1"),
                [text],
                from_row,
            )?)
        })
    }

    /// The workspace with this id, if any.
    pub fn get_workspace(&self, id: &str) -> Result<Option<Workspace>> {
        self.with_conn(|c| {
            Ok(c.query_row(
                &format!("SELECT {COLS} FROM workspaces WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?)
        })
    }

    /// All workspaces, by path.
    pub fn list_workspaces(&self) -> Result<Vec<Workspace>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(&format!("SELECT {COLS} FROM workspaces ORDER BY path"))?;
            Ok(stmt
                .query_map([], from_row)?
                .collect::<rusqlite::Result<_>>()?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_is_idempotent_per_path() {
        let store = Store::open_in_memory().unwrap();
        let a = store
            .upsert_workspace(Path::new("/home/u/project"))
            .unwrap();
        let again = store
            .upsert_workspace(Path::new("/home/u/project"))
            .unwrap();
        let b = store.upsert_workspace(Path::new("/home/u/other")).unwrap();
        assert_eq!(a, again);
        assert_ne!(a.id, b.id);
        assert_eq!(a.name, "project");
        assert_eq!(store.get_workspace(&b.id).unwrap(), Some(b.clone()));
        assert_eq!(store.get_workspace("nope").unwrap(), None);
        let all: Vec<_> = store
            .list_workspaces()
            .unwrap()
            .into_iter()
            .map(|w| w.path)
            .collect();
        assert_eq!(all, ["/home/u/other", "/home/u/project"]);
    }
}
