//! The audit key and what a store is told about it.
//!
//! A SHA-256 chain alone can be recomputed by anyone who can write the database, so every row
//! also carries an HMAC-SHA256 under a random 32-byte key that lives in the secret store (never
//! in the database). The store crate does not read the secret store itself: the caller fetches
//! the key and hands it over as an [`AuditSeal`], which keeps this crate free of keychain code.

use std::fmt;
use std::path::PathBuf;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// Prefix of the key's text form, so a value from another secret is never taken for it.
const TEXT_PREFIX: &str = "pryx-audit-key-v1";

/// The secret that seals the audit log, with the upgrade point it was created for.
///
/// `legacy_end` is the last `seq` written before rows were keyed. It travels inside the secret
/// so that someone who can edit the database cannot move the upgrade point: otherwise they could
/// strip the MACs of recent rows, declare them "legacy" and rewrite them freely.
#[derive(Clone)]
pub struct AuditKey {
    bytes: Zeroizing<[u8; 32]>,
    legacy_end: i64,
}

impl AuditKey {
    /// A fresh random key for a log whose unkeyed (legacy) rows end at `legacy_end`
    /// (see [`crate::Store::audit_legacy_end`]).
    pub fn generate(legacy_end: i64) -> Result<AuditKey> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::fill(bytes.as_mut_slice())
            .map_err(|e| StoreError::AuditKey(format!("the system random source failed ({e})")))?;
        Ok(AuditKey { bytes, legacy_end })
    }

    /// A key from raw bytes; for tests and callers that manage the bytes themselves.
    pub fn from_bytes(bytes: [u8; 32], legacy_end: i64) -> AuditKey {
        AuditKey {
            bytes: Zeroizing::new(bytes),
            legacy_end,
        }
    }

    /// Parses the text form written by [`AuditKey::to_text`] (as kept in the secret store).
    pub fn from_text(text: &str) -> Result<AuditKey> {
        let bad = |what: &str| {
            StoreError::AuditKey(format!(
                "the stored audit key is malformed ({what}); restore the secret store from a backup"
            ))
        };
        let mut parts = text.trim().split(':');
        if parts.next() != Some(TEXT_PREFIX) {
            return Err(bad("unknown format"));
        }
        let hex_key = Zeroizing::new(parts.next().ok_or_else(|| bad("no key"))?.to_string());
        let legacy_end: i64 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .filter(|n| *n >= 0)
            .ok_or_else(|| bad("no upgrade point"))?;
        if parts.next().is_some() {
            return Err(bad("trailing fields"));
        }
        let mut bytes = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(hex_key.as_bytes(), bytes.as_mut_slice())
            .map_err(|_| bad("the key is not 64 hex digits"))?;
        Ok(AuditKey { bytes, legacy_end })
    }

    /// The text form to keep in the secret store.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(format!(
            "{TEXT_PREFIX}:{}:{}",
            hex::encode(self.bytes.as_slice()),
            self.legacy_end
        ))
    }

    /// The last `seq` written before rows were keyed, as sealed into the key.
    pub fn legacy_end(&self) -> i64 {
        self.legacy_end
    }

    /// A MAC state under this key, already fed the domain separator `domain`.
    pub(crate) fn mac(&self, domain: &[u8]) -> Result<HmacSha256> {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(self.bytes.as_slice())
            .map_err(|e| StoreError::AuditKey(format!("HMAC refused the key ({e})")))?;
        Mac::update(&mut mac, domain);
        Ok(mac)
    }
}

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuditKey")
            .field("key", &"***")
            .field("legacy_end", &self.legacy_end)
            .finish()
    }
}

/// Whether the caller could provide the audit key.
#[derive(Debug, Clone)]
pub enum AuditKeyState {
    /// The key, ready to seal and check rows.
    Ready(AuditKey),
    /// The secret store answered but holds no audit key (nothing was ever keyed there).
    Missing,
    /// The secret store could not be read (locked keychain, damaged file); the reason is shown
    /// to the user.
    Unavailable(String),
}

/// What a [`crate::Store`] needs to seal its audit log: the key (or why there is none) and the
/// anchor file that records the head of the chain outside the database.
#[derive(Debug, Clone)]
pub struct AuditSeal {
    pub key: AuditKeyState,
    /// `None` keeps no anchor (in-memory stores); then truncation of the tail goes unnoticed.
    pub anchor: Option<PathBuf>,
}

impl AuditSeal {
    /// The key, if it is ready.
    pub(crate) fn ready_key(&self) -> Option<&AuditKey> {
        match &self.key {
            AuditKeyState::Ready(k) => Some(k),
            _ => None,
        }
    }

    /// Why rows cannot be keyed, for warnings and reports.
    pub(crate) fn why_unkeyed(&self) -> String {
        match &self.key {
            AuditKeyState::Ready(_) => String::new(),
            AuditKeyState::Missing => "the secret store holds no audit key".to_string(),
            AuditKeyState::Unavailable(why) => why.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips_and_hides_the_key() {
        let key = AuditKey::generate(7).unwrap();
        let back = AuditKey::from_text(&key.to_text()).unwrap();
        assert_eq!(back.bytes.as_slice(), key.bytes.as_slice());
        assert_eq!(back.legacy_end(), 7);
        let shown = format!("{key:?}");
        assert!(
            !shown.contains(&hex::encode(key.bytes.as_slice())),
            "{shown}"
        );
        assert_ne!(
            AuditKey::generate(0).unwrap().bytes.as_slice(),
            key.bytes.as_slice()
        );
    }

    #[test]
    fn malformed_text_is_refused_with_advice() {
        for bad in [
            "",
            "sk-something",
            "pryx-audit-key-v1:zz:0",
            "pryx-audit-key-v1:00:0",
            &format!("pryx-audit-key-v1:{}:-1", "0".repeat(64)),
            &format!("pryx-audit-key-v1:{}:1:x", "0".repeat(64)),
        ] {
            let err = AuditKey::from_text(bad).unwrap_err().to_string();
            assert!(err.contains("restore the secret store"), "{bad}: {err}");
        }
        assert!(AuditKey::from_text(&format!("pryx-audit-key-v1:{}:3", "ab".repeat(32))).is_ok());
    }
}
