//! Fetching an installer's file: size-capped, hashed while streaming, kept only if the
//! checksum matches.

use super::{InstallError, MAX_DOWNLOAD_BYTES};
use sha2::{Digest, Sha256};
use std::path::Path;
use tokio::io::AsyncWriteExt;

/// Downloads `url` to `dest` (via a temporary file in the same folder).
pub async fn fetch(
    url: &str,
    dest: &Path,
    sha256: Option<&str>,
    executable: bool,
) -> Result<(), InstallError> {
    let fail = |message: String| InstallError::Download {
        url: url.to_string(),
        message,
    };
    let io = |path: &Path, e: std::io::Error| InstallError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let dir = dest.parent().unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| io(dir, e))?;
    let client = pryx_http::builder()
        .connect_timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let mut resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(fail(format!("the server answered {}", resp.status())));
    }
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_DOWNLOAD_BYTES)
    {
        return Err(fail(format!(
            "larger than the {} MiB limit",
            MAX_DOWNLOAD_BYTES >> 20
        )));
    }
    let part = dir.join(format!(
        ".{}.part",
        dest.file_name()
            .map_or_else(|| "download".into(), |n| n.to_string_lossy().into_owned())
    ));
    let mut file = tokio::fs::File::create(&part)
        .await
        .map_err(|e| io(&part, e))?;
    let mut hasher = Sha256::new();
    let mut total = 0u64;
    let result: Result<(), InstallError> = async {
        while let Some(chunk) = resp.chunk().await.map_err(|e| fail(e.to_string()))? {
            total += chunk.len() as u64;
            if total > MAX_DOWNLOAD_BYTES {
                return Err(fail(format!(
                    "larger than the {} MiB limit",
                    MAX_DOWNLOAD_BYTES >> 20
                )));
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(|e| io(&part, e))?;
        }
        file.flush().await.map_err(|e| io(&part, e))?;
        let actual = hex::encode(hasher.finalize());
        if let Some(expected) = sha256
            && !expected.eq_ignore_ascii_case(&actual)
        {
            return Err(InstallError::Checksum {
                url: url.to_string(),
                expected: expected.to_string(),
                actual,
            });
        }
        Ok(())
    }
    .await;
    drop(file);
    if let Err(e) = result {
        let _ = tokio::fs::remove_file(&part).await;
        return Err(e);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if executable { 0o755 } else { 0o644 };
        tokio::fs::set_permissions(&part, std::fs::Permissions::from_mode(mode))
            .await
            .map_err(|e| io(&part, e))?;
    }
    #[cfg(not(unix))]
    let _ = executable;
    tokio::fs::rename(&part, dest)
        .await
        .map_err(|e| io(dest, e))
}
