//! The audit key and anchor of a data dir's store. The store crate knows nothing of the secret
//! store; this is where the two meet, for every surface that opens the database.

use pryx_config::{DataDir, InternalSecret, Secret, SecretStore};
use pryx_store::{AuditKey, AuditKeyState, AuditSeal, Store};

/// Whether a missing audit key may be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKeyUse {
    /// Appending: create the key on first need, so rows are keyed from the first one.
    Append,
    /// Verifying or inspecting: never create one. A new key would make every row keyed with
    /// the lost one look forged instead of reporting the key as missing.
    Verify,
}

/// The seal for `store` in `dir`: its audit key from the secret store (or why there is none)
/// and the anchor file beside the database.
pub fn audit_seal(dir: &DataDir, store: &Store, key_use: AuditKeyUse) -> AuditSeal {
    let key = match SecretStore::open(dir) {
        Ok(secrets) => audit_key(&secrets, store, key_use),
        Err(e) => AuditKeyState::Unavailable(format!("the secret store cannot be opened: {e}")),
    };
    AuditSeal {
        key,
        anchor: Some(dir.audit_anchor_file()),
    }
}

/// Reads (and for [`AuditKeyUse::Append`] creates) the audit key in `secrets`. A new key
/// records where this database's unkeyed rows end.
pub fn audit_key(secrets: &SecretStore, store: &Store, key_use: AuditKeyUse) -> AuditKeyState {
    let found = match key_use {
        AuditKeyUse::Verify => secrets.get_internal(InternalSecret::AuditKey),
        AuditKeyUse::Append => {
            let candidate = match store.audit_legacy_end().and_then(AuditKey::generate) {
                Ok(k) => k,
                Err(e) => return AuditKeyState::Unavailable(e.to_string()),
            };
            secrets
                .get_or_insert_internal(
                    InternalSecret::AuditKey,
                    &Secret::new(candidate.to_text().as_str()),
                )
                .map(Some)
        }
    };
    match found {
        Ok(Some(text)) => match AuditKey::from_text(text.expose()) {
            Ok(key) => AuditKeyState::Ready(key),
            Err(e) => AuditKeyState::Unavailable(e.to_string()),
        },
        Ok(None) => AuditKeyState::Missing,
        Err(e) => AuditKeyState::Unavailable(format!("the audit key cannot be read: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pryx_config::Backend;

    #[test]
    fn the_key_is_created_once_for_appending_and_never_for_verifying() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::at(tmp.path());
        let secrets = SecretStore::open_backend(&dir, Backend::File).unwrap();
        let store = Store::open_in_memory().unwrap();
        assert!(matches!(
            audit_key(&secrets, &store, AuditKeyUse::Verify),
            AuditKeyState::Missing
        ));
        let AuditKeyState::Ready(first) = audit_key(&secrets, &store, AuditKeyUse::Append) else {
            panic!("no key created");
        };
        let AuditKeyState::Ready(again) = audit_key(&secrets, &store, AuditKeyUse::Verify) else {
            panic!("the created key is not found");
        };
        assert_eq!(first.to_text(), again.to_text());
        let AuditKeyState::Ready(third) = audit_key(&secrets, &store, AuditKeyUse::Append) else {
            panic!("key lost");
        };
        assert_eq!(first.to_text(), third.to_text());
        assert!(secrets.list().unwrap().is_empty());
    }

    #[test]
    fn a_damaged_key_is_unavailable_with_the_reason() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::at(tmp.path());
        let secrets = SecretStore::open_backend(&dir, Backend::File).unwrap();
        secrets
            .get_or_insert_internal(InternalSecret::AuditKey, &Secret::new("garbage"))
            .unwrap();
        let store = Store::open_in_memory().unwrap();
        match audit_key(&secrets, &store, AuditKeyUse::Append) {
            AuditKeyState::Unavailable(why) => assert!(why.contains("malformed"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
