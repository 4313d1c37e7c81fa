//! minisign signatures of release manifests. The release key is compiled in; a self-hosted
//! build server (and the tests) may name another with `PRYX_UPDATE_PUBLIC_KEY`, which
//! `pryx update` and `pryx doctor` then say they use.

use crate::UpdateError;
use minisign_verify::{PublicKey, Signature};

/// The Pryx release key (minisign public key, base64).
pub const RELEASE_PUBLIC_KEY: &str = "RWRVvvI32kic9wSNNKIG8/dIF+ya9m7pIEej6ksHDjllDjOzz49JRoWj";

/// Environment variable naming another release key (base64, or a path to a `.pub` file).
pub const PUBLIC_KEY_ENV: &str = "PRYX_UPDATE_PUBLIC_KEY";

/// The key manifests must be signed with.
pub struct TrustedKey {
    key: PublicKey,
    /// Set when the key came from [`PUBLIC_KEY_ENV`] instead of the compiled-in one.
    pub overridden: bool,
}

impl TrustedKey {
    /// The compiled-in key, or the one [`PUBLIC_KEY_ENV`] names.
    pub fn from_env() -> Result<Self, UpdateError> {
        match std::env::var(PUBLIC_KEY_ENV) {
            Ok(value) if !value.trim().is_empty() => {
                let text = if std::path::Path::new(value.trim()).is_file() {
                    std::fs::read_to_string(value.trim()).map_err(|e| UpdateError::BadKey {
                        var: PUBLIC_KEY_ENV,
                        reason: e.to_string(),
                    })?
                } else {
                    value
                };
                Ok(Self {
                    key: parse_public_key(&text).map_err(|reason| UpdateError::BadKey {
                        var: PUBLIC_KEY_ENV,
                        reason,
                    })?,
                    overridden: true,
                })
            }
            _ => Self::release(),
        }
    }

    /// The compiled-in release key (its test proves it parses).
    pub fn release() -> Result<Self, UpdateError> {
        Ok(Self {
            key: parse_public_key(RELEASE_PUBLIC_KEY).map_err(|reason| UpdateError::BadKey {
                var: "the built-in release key",
                reason,
            })?,
            overridden: false,
        })
    }

    /// Checks `signature` (the text of a `.minisig` file) over `bytes`, trusted comment
    /// included. Only prehashed (non-legacy) signatures are accepted.
    pub fn verify(&self, what: &str, bytes: &[u8], signature: &str) -> Result<(), UpdateError> {
        let bad = |reason: String| UpdateError::BadSignature {
            what: what.to_string(),
            reason,
        };
        let signature = Signature::decode(signature).map_err(|e| bad(e.to_string()))?;
        self.key
            .verify(bytes, &signature, false)
            .map_err(|e| bad(e.to_string()))
    }
}

/// Accepts the base64 key alone or a whole `.pub` file (comment line first).
fn parse_public_key(text: &str) -> Result<PublicKey, String> {
    let line = text
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
        .unwrap_or("");
    PublicKey::from_base64(line).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_key_parses() {
        assert!(parse_public_key(RELEASE_PUBLIC_KEY).is_ok());
        assert!(!TrustedKey::release().unwrap().overridden);
    }

    #[test]
    fn a_pub_file_or_the_bare_key() {
        let file = format!("untrusted comment: minisign public key\n{RELEASE_PUBLIC_KEY}\n");
        assert!(parse_public_key(&file).is_ok());
        assert!(parse_public_key("not a key").is_err());
    }

    #[test]
    fn garbage_signatures_are_refused() {
        let key = TrustedKey::release().unwrap();
        for sig in [
            "",
            "untrusted comment: x\nAAAA\ntrusted comment: y\nBBBB\n",
            "\u{0}",
        ] {
            assert!(matches!(
                key.verify("m", b"data", sig),
                Err(UpdateError::BadSignature { .. })
            ));
        }
    }
}
