//! Path resolution.
use std::path::{Path, PathBuf};
/// Why a path could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathProblem {
    Nul,
}
/// Resolves a path.
pub fn resolve_path(raw: &str, base: &Path, home: Option<&Path>) -> Result<PathBuf, PathProblem> {
    let _ = (raw, base, home);
    Err(PathProblem::Nul)
}
