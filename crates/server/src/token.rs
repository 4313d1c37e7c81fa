//! The API bearer token: created at first start in the data dir (`token`, mode 0600), read by
//! every client.

use pryx_config::{DataDir, FsError, atomic_write};

/// Name of the token file in the data dir.
pub const TOKEN_FILE: &str = "token";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "cannot read the API token {path}: {source}; fix its permissions or delete it to get a new one"
    )]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write the API token: {0}")]
    Write(#[from] FsError),
    #[error("no randomness available for the API token: {0}")]
    Random(String),
}

/// The token of this data dir, created (32 random bytes, hex) when missing or empty.
pub fn load_or_create(dir: &DataDir) -> Result<String, TokenError> {
    let path = dir.root().join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => return Ok(t.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(TokenError::Read {
                path: path.display().to_string(),
                source,
            });
        }
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
    let token = hex::encode(bytes);
    atomic_write(&path, token.as_bytes())?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn created_once_private_and_stable() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::at(tmp.path());
        let a = load_or_create(&dir).unwrap();
        assert_eq!(a.len(), 64);
        let mode = std::fs::metadata(tmp.path().join(TOKEN_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load_or_create(&dir).unwrap(), a);
    }
}
