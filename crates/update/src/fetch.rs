//! Fetching from a release server: signed manifests and archives, each with a size cap, the
//! archive checked against the manifest's size and SHA-256 before anyone reads it.

use crate::manifest::MAX_ARCHIVE_BYTES;
use crate::{Artifact, Channel, Manifest, TrustedKey, UpdateError};
use sha2::{Digest, Sha256};
use std::time::Duration;

const MAX_MANIFEST_BYTES: u64 = 256 * 1024;
const MAX_SIGNATURE_BYTES: u64 = 4 * 1024;

/// A download's progress, for a progress line or a toast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

/// A release server (config `updates.url`) and the key its manifests must carry.
pub struct Source {
    base: String,
    client: reqwest::Client,
    key: TrustedKey,
}

impl Source {
    pub fn new(base: &str, key: TrustedKey) -> Result<Self, UpdateError> {
        let client = pryx_http::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| UpdateError::Network {
                url: base.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            client,
            key,
        })
    }

    pub fn key(&self) -> &TrustedKey {
        &self.key
    }

    /// The newest release of `channel`.
    pub async fn channel_manifest(&self, channel: Channel) -> Result<Manifest, UpdateError> {
        let manifest = self
            .signed_manifest(&format!("channels/{}.json", channel.as_str()))
            .await?;
        if manifest.channel != channel {
            return Err(UpdateError::WrongChannel {
                asked: channel.to_string(),
                got: manifest.channel.to_string(),
            });
        }
        Ok(manifest)
    }

    /// One pinned release.
    pub async fn version_manifest(
        &self,
        version: &semver::Version,
    ) -> Result<Manifest, UpdateError> {
        let manifest = self
            .signed_manifest(&format!("v{version}/manifest.json"))
            .await?;
        if &manifest.parsed_version()? != version {
            return Err(UpdateError::WrongVersion {
                asked: version.to_string(),
                got: manifest.version,
            });
        }
        Ok(manifest)
    }

    async fn signed_manifest(&self, path: &str) -> Result<Manifest, UpdateError> {
        let bytes = self
            .get(path, "the manifest", MAX_MANIFEST_BYTES, None)
            .await?;
        let sig = self
            .get(
                &format!("{path}.minisig"),
                "the signature",
                MAX_SIGNATURE_BYTES,
                None,
            )
            .await?;
        let sig = String::from_utf8_lossy(&sig);
        self.key.verify(&self.url(path), &bytes, &sig)?;
        Manifest::parse(&bytes)
    }

    /// The archive, exactly `artifact.size` bytes with `artifact.sha256`.
    pub async fn download(
        &self,
        artifact: &Artifact,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<Vec<u8>, UpdateError> {
        let limit = artifact.size.min(MAX_ARCHIVE_BYTES);
        let bytes = self
            .get(&artifact.url, "the archive", limit, Some(progress))
            .await?;
        let url = self.url(&artifact.url);
        if bytes.len() as u64 != artifact.size {
            return Err(UpdateError::SizeMismatch {
                url,
                expected: artifact.size,
                got: bytes.len() as u64,
            });
        }
        if hex::encode(Sha256::digest(&bytes)) != artifact.sha256 {
            return Err(UpdateError::ChecksumMismatch { url });
        }
        Ok(bytes)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    async fn get(
        &self,
        path: &str,
        what: &'static str,
        limit: u64,
        mut progress: Option<&mut (dyn FnMut(Progress) + Send)>,
    ) -> Result<Vec<u8>, UpdateError> {
        let url = self.url(path);
        let network = |e: reqwest::Error| UpdateError::Network {
            url: url.clone(),
            reason: e.to_string(),
        };
        let mut response = self.client.get(&url).send().await.map_err(network)?;
        if !response.status().is_success() {
            return Err(UpdateError::Status {
                url,
                status: response.status().as_u16(),
            });
        }
        let too_large = || UpdateError::TooLarge {
            what,
            url: url.clone(),
            limit,
        };
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(network)? {
            if (body.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
            if let Some(report) = progress.as_mut() {
                report(Progress {
                    done: body.len() as u64,
                    total: limit,
                });
            }
        }
        Ok(body)
    }
}
