//! The release manifest: what a release is, checked before anything is downloaded.

use crate::UpdateError;
use semver::Version;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The target triple this binary was built for.
pub const TARGET: &str = env!("PRYX_BUILD_TARGET");

/// This binary's version.
pub fn current_version() -> Version {
    Version::parse(env!("CARGO_PKG_VERSION")).unwrap_or_else(|_| Version::new(0, 0, 0))
}

/// A release channel: stable releases, beta builds, alpha (early access) builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Stable,
    Beta,
    Alpha,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stable => "stable",
            Self::Beta => "beta",
            Self::Alpha => "alpha",
        }
    }

    /// `stable`, `beta` or `alpha` (config `updates.channel`, `--channel`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "stable" => Some(Self::Stable),
            "beta" => Some(Self::Beta),
            "alpha" => Some(Self::Alpha),
            _ => None,
        }
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `manifest.json` of a release, as `scripts/release.sh` writes and signs it. Fields a later
/// release adds are ignored, so every installed version can still read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: String,
    pub channel: Channel,
    /// Release date, `YYYY-MM-DD`.
    pub date: String,
    /// The oldest version this release can be installed over.
    pub min_update_from: String,
    /// Release notes, shown once after the update ("what's new").
    pub notes: String,
    /// Archives keyed by target triple.
    pub targets: BTreeMap<String, Artifact>,
}

/// One target's archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    /// Path relative to the release base URL, e.g. `v0.2.0/pryx-0.2.0-x86_64-unknown-linux-gnu.tar.gz`.
    pub url: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the archive.
    pub sha256: String,
}

/// What a checked manifest offers this binary.
#[derive(Debug, Clone, PartialEq)]
pub enum Offer {
    /// The manifest's version is this one.
    UpToDate,
    /// A newer release with an archive for this target.
    Newer {
        version: Version,
        artifact: Artifact,
    },
}

/// Archives larger than this are refused whatever a manifest says.
pub const MAX_ARCHIVE_BYTES: u64 = 512 * 1024 * 1024;

impl Manifest {
    /// Parses and checks the fields a download relies on.
    pub fn parse(bytes: &[u8]) -> Result<Self, UpdateError> {
        let manifest: Self =
            serde_json::from_slice(bytes).map_err(|e| UpdateError::BadManifest(e.to_string()))?;
        manifest.parsed_version()?;
        Version::parse(&manifest.min_update_from).map_err(|e| {
            UpdateError::BadManifest(format!(
                "min_update_from {:?} is not a version: {e}",
                manifest.min_update_from
            ))
        })?;
        for (target, artifact) in &manifest.targets {
            check_relative(&artifact.url)
                .map_err(|why| UpdateError::BadManifest(format!("{target}: url {why}")))?;
            let hex_ok = artifact.sha256.len() == 64
                && artifact
                    .sha256
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if !hex_ok {
                return Err(UpdateError::BadManifest(format!(
                    "{target}: sha256 is not 64 lower-case hex digits"
                )));
            }
            if artifact.size == 0 || artifact.size > MAX_ARCHIVE_BYTES {
                return Err(UpdateError::BadManifest(format!(
                    "{target}: size {} is out of range",
                    artifact.size
                )));
            }
        }
        Ok(manifest)
    }

    pub fn parsed_version(&self) -> Result<Version, UpdateError> {
        Version::parse(&self.version).map_err(|e| {
            UpdateError::BadManifest(format!("version {:?} is not a version: {e}", self.version))
        })
    }

    /// What this release means for `current` on `target`: refuses a downgrade (an old signed
    /// manifest replayed) and a jump over `min_update_from`.
    pub fn offer(&self, current: &Version, target: &str) -> Result<Offer, UpdateError> {
        let version = self.parsed_version()?;
        if &version == current {
            return Ok(Offer::UpToDate);
        }
        if &version < current {
            return Err(UpdateError::Downgrade {
                current: current.to_string(),
                offered: version.to_string(),
            });
        }
        let minimum = Version::parse(&self.min_update_from)
            .map_err(|e| UpdateError::BadManifest(e.to_string()))?;
        if current < &minimum {
            return Err(UpdateError::TooOld {
                current: current.to_string(),
                offered: version.to_string(),
                minimum: minimum.to_string(),
            });
        }
        let artifact = self
            .targets
            .get(target)
            .cloned()
            .ok_or_else(|| UpdateError::NoTarget {
                version: version.to_string(),
                target: target.to_string(),
            })?;
        Ok(Offer::Newer { version, artifact })
    }
}

/// An artifact path stays under the base URL: no scheme, host, `..`, or empty segment.
fn check_relative(url: &str) -> Result<(), &'static str> {
    if url.is_empty() || url.len() > 512 {
        return Err("is empty or too long");
    }
    if !url
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'/' | b'+'))
    {
        return Err("has characters outside [A-Za-z0-9._-+/]");
    }
    if url
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return Err("must be a relative path without `.`, `..` or empty segments");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(version: &str, min: &str) -> Manifest {
        let mut targets = BTreeMap::new();
        targets.insert(
            "x86_64-unknown-linux-gnu".to_string(),
            Artifact {
                url: format!("v{version}/pryx-{version}-x86_64-unknown-linux-gnu.tar.gz"),
                size: 10,
                sha256: "a".repeat(64),
            },
        );
        Manifest {
            version: version.into(),
            channel: Channel::Stable,
            date: "2026-12-02".into(),
            min_update_from: min.into(),
            notes: String::new(),
            targets,
        }
    }

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn newer_same_older_and_too_old() {
        let t = "x86_64-unknown-linux-gnu";
        assert!(matches!(
            manifest("0.2.0", "0.1.0").offer(&v("0.1.0"), t),
            Ok(Offer::Newer { .. })
        ));
        assert_eq!(
            manifest("0.1.0", "0.1.0").offer(&v("0.1.0"), t).unwrap(),
            Offer::UpToDate
        );
        assert!(matches!(
            manifest("0.1.0", "0.0.1").offer(&v("0.2.0"), t),
            Err(UpdateError::Downgrade { .. })
        ));
        assert!(matches!(
            manifest("0.9.0", "0.5.0").offer(&v("0.2.0"), t),
            Err(UpdateError::TooOld { .. })
        ));
        assert!(matches!(
            manifest("0.2.0", "0.1.0").offer(&v("0.1.0"), "aarch64-apple-darwin"),
            Err(UpdateError::NoTarget { .. })
        ));
        // A pre-release sorts before its release.
        assert!(matches!(
            manifest("0.2.0-beta.1", "0.1.0").offer(&v("0.2.0"), t),
            Err(UpdateError::Downgrade { .. })
        ));
    }

    #[test]
    fn artifact_paths_stay_under_the_base() {
        for bad in [
            "",
            "../x.tar.gz",
            "v1/../../x",
            "/abs.tar.gz",
            "https://evil/x",
            "a//b",
            "a/./b",
            "a b",
        ] {
            assert!(check_relative(bad).is_err(), "{bad}");
        }
        assert!(check_relative("v0.2.0/pryx-0.2.0-x86_64-unknown-linux-gnu.tar.gz").is_ok());
    }

    #[test]
    fn parse_rejects_bad_fields() {
        let good = serde_json::to_vec(&manifest("0.2.0", "0.1.0")).unwrap();
        assert!(Manifest::parse(&good).is_ok());
        for (from, to) in [
            ("\"0.2.0\"", "\"two\""),
            (&"a".repeat(64) as &str, "ABC"),
            ("\"size\":10", "\"size\":0"),
        ] {
            let text = String::from_utf8(good.clone())
                .unwrap()
                .replacen(from, to, 1);
            assert!(Manifest::parse(text.as_bytes()).is_err(), "{to}");
        }
        assert!(Manifest::parse(b"{\"version\":1}").is_err());
        assert!(Manifest::parse(b"not json").is_err());
    }
}
