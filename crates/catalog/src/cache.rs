//! The refreshed catalog kept in the data directory: private, written atomically.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::data::CatalogData;
use super::error::CatalogError;

/// File name of the refreshed catalog inside the data directory.
pub const CACHE_FILE: &str = "models-catalog.json";

/// Where the refreshed catalog lives for a data directory.
pub fn cache_path(data_dir: &Path) -> PathBuf {
    data_dir.join(CACHE_FILE)
}

fn io_err(op: &'static str, path: &Path, e: impl std::fmt::Display) -> CatalogError {
    CatalogError::Io {
        op,
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Reads and validates the cached catalog. `Ok(None)` when there is none.
pub(crate) fn read_cache(path: &Path) -> Result<Option<CatalogData>, CatalogError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("read", path, e)),
    };
    CatalogData::from_json(&bytes).map(Some)
}

/// Validates `data` and writes it to `<data_dir>/models-catalog.json` (directory 0700 if it
/// has to be created, file 0600). Readers see the old or the new file, never a partial one.
pub fn write_cache(data_dir: &Path, data: &CatalogData) -> Result<PathBuf, CatalogError> {
    data.validate()?;
    if !data_dir.is_dir() {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data_dir)
            .map_err(|e| io_err("create directory", data_dir, e))?;
        fs::set_permissions(data_dir, fs::Permissions::from_mode(0o700))
            .map_err(|e| io_err("set permissions of", data_dir, e))?;
    }
    let json = serde_json::to_vec(data).map_err(|e| CatalogError::Parse(e.to_string()))?;
    let path = cache_path(data_dir);
    let tmp = data_dir.join(format!(".{CACHE_FILE}.{}.tmp", std::process::id()));
    let result = write_private(&tmp, &json)
        .and_then(|()| fs::rename(&tmp, &path).map_err(|e| io_err("replace", &path, e)));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    Ok(path)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CatalogError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| io_err("create", path, e))?;
    // An existing temp file keeps its old mode; make it private before writing.
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .map_err(|e| io_err("set permissions of", path, e))?;
    file.write_all(bytes)
        .map_err(|e| io_err("write", path, e))?;
    file.sync_all().map_err(|e| io_err("sync", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ModelData, ProviderData};

    fn tiny() -> CatalogData {
        let mut provider = ProviderData {
            name: Some("Local".into()),
            ..Default::default()
        };
        provider.models.insert("m1".into(), ModelData::default());
        let mut data = CatalogData::default();
        data.providers.insert("local".into(), provider);
        data
    }

    #[test]
    fn round_trips_with_private_modes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("home");
        let path = write_cache(&dir, &tiny()).unwrap();
        assert_eq!(read_cache(&path).unwrap(), Some(tiny()));
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&path), 0o600);
        // No temp file left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn missing_cache_is_none_and_corrupt_cache_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let path = cache_path(tmp.path());
        assert_eq!(read_cache(&path).unwrap(), None);
        fs::write(&path, b"{\"providers\": 42").unwrap();
        assert!(matches!(read_cache(&path), Err(CatalogError::Parse(_))));
    }

    #[test]
    fn refuses_to_write_an_empty_catalog() {
        let tmp = tempfile::tempdir().unwrap();
        let err = write_cache(tmp.path(), &CatalogData::default()).unwrap_err();
        assert!(matches!(err, CatalogError::Invalid(_)));
        assert!(!cache_path(tmp.path()).exists());
    }
}
