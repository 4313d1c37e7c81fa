use super::*;
use std::os::unix::fs::PermissionsExt;

fn store() -> (tempfile::TempDir, DataDir, SecretStore) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = DataDir::at(tmp.path().join("home"));
    let s = SecretStore::open_backend(&dir, Backend::File).unwrap();
    (tmp, dir, s)
}

fn all_bytes(dir: &DataDir) -> Vec<u8> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir.root()).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            out.extend(std::fs::read(p).unwrap());
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn secret_prints_masked() {
    let s = Secret::new("hunter2-value");
    assert_eq!(format!("{s}"), "***");
    assert_eq!(format!("{s:?}"), "Secret(***)");
    assert_eq!(s.expose(), "hunter2-value");
}

#[test]
fn file_roundtrip_list_remove() {
    let (_t, dir, s) = store();
    assert_eq!(s.backend_name(), "file");
    assert!(!s.set("OPENAI", &Secret::new("v-one-plaintext")).unwrap());
    assert!(s.set("OPENAI", &Secret::new("v-two-plaintext")).unwrap());
    s.set("b.key-2", &Secret::new("other")).unwrap();
    assert_eq!(
        s.get("OPENAI").unwrap().unwrap().expose(),
        "v-two-plaintext"
    );
    assert_eq!(s.list().unwrap(), ["OPENAI", "b.key-2"]);
    assert!(s.get("missing").unwrap().is_none());
    // Values never hit the disk in the clear.
    let bytes = all_bytes(&dir);
    assert!(!contains(&bytes, b"v-two-plaintext"));
    assert!(!contains(&bytes, b"v-one-plaintext"));
    for p in [
        dir.secrets_file(),
        dir.secrets_key_file(),
        dir.secrets_index_file(),
    ] {
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600,
            "{}",
            p.display()
        );
    }
    assert!(s.remove("OPENAI").unwrap());
    assert!(!s.remove("OPENAI").unwrap());
    assert_eq!(s.list().unwrap(), ["b.key-2"]);
    // A reopened store sees the same data.
    let again = SecretStore::open_backend(&dir, Backend::File).unwrap();
    assert_eq!(again.get("b.key-2").unwrap().unwrap().expose(), "other");
    assert!(
        health_check(&dir).problems.is_empty(),
        "{:?}",
        health_check(&dir)
    );
}

#[test]
fn every_write_uses_a_fresh_nonce() {
    let (_t, dir, s) = store();
    s.set("A", &Secret::new("same")).unwrap();
    let first = std::fs::read(dir.secrets_file()).unwrap();
    s.set("A", &Secret::new("same")).unwrap();
    assert_ne!(first, std::fs::read(dir.secrets_file()).unwrap());
}

#[test]
fn tampering_is_detected() {
    let (_t, dir, s) = store();
    s.set("A", &Secret::new("tamper-target")).unwrap();
    let text = std::fs::read_to_string(dir.secrets_file()).unwrap();
    let mut sealed: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut ct = B64.decode(sealed["ciphertext"].as_str().unwrap()).unwrap();
    ct[0] ^= 0x01;
    sealed["ciphertext"] = B64.encode(ct).into();
    std::fs::write(dir.secrets_file(), serde_json::to_vec(&sealed).unwrap()).unwrap();
    let err = s.get("A").unwrap_err();
    assert!(matches!(err, SecretError::Tampered(_)), "{err}");
    assert!(err.to_string().contains("failed authentication"));
    assert!(!health_check(&dir).problems.is_empty());
}

#[test]
fn wrong_key_is_detected_and_missing_key_is_explained() {
    let (_t, dir, s) = store();
    s.set("A", &Secret::new("x")).unwrap();
    std::fs::write(dir.secrets_key_file(), B64.encode([7u8; 32])).unwrap();
    assert!(matches!(s.get("A").unwrap_err(), SecretError::Tampered(_)));
    std::fs::remove_file(dir.secrets_key_file()).unwrap();
    let err = s.get("A").unwrap_err();
    assert!(err.to_string().contains("key file is missing"), "{err}");
    // And a write does not silently replace the unreadable data with a new key.
    assert!(s.set("B", &Secret::new("y")).is_err());
}

#[test]
fn names_are_validated() {
    let (_t, _dir, s) = store();
    for bad in ["", "a b", "a/b", &"x".repeat(65)] {
        assert!(
            matches!(s.set(bad, &Secret::new("v")), Err(SecretError::InvalidName)),
            "{bad:?}"
        );
    }
}

#[test]
fn resolve_references() {
    let (_t, _dir, s) = store();
    s.set("K", &Secret::new("resolved-value")).unwrap();
    assert_eq!(s.resolve("secret:K").unwrap().expose(), "resolved-value");
    let err = s.resolve("secret:NOPE").unwrap_err();
    assert!(err.to_string().contains("pryx secrets set NOPE"), "{err}");
    assert!(s.resolve("env:PATH").is_ok());
    assert!(matches!(
        s.resolve("env:PRYX_TEST_SURELY_UNSET_VAR"),
        Err(SecretError::EnvUnset(_))
    ));
    let err = s.resolve("sk-literal-key-1234567890").unwrap_err();
    assert!(!err.to_string().contains("sk-literal"), "{err}");
}

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

#[test]
fn internal_secrets_are_created_once_and_out_of_users_reach() {
    let (_t, dir, s) = store();
    assert!(s.get_internal(InternalSecret::AuditKey).unwrap().is_none());
    let first = s
        .get_or_insert_internal(InternalSecret::AuditKey, &Secret::new("key-one-plaintext"))
        .unwrap();
    assert_eq!(first.expose(), "key-one-plaintext");
    // A second candidate (another process starting at the same time) does not replace it.
    let again = SecretStore::open_backend(&dir, Backend::File).unwrap();
    let second = again
        .get_or_insert_internal(InternalSecret::AuditKey, &Secret::new("key-two"))
        .unwrap();
    assert_eq!(second.expose(), "key-one-plaintext");
    assert_eq!(
        again
            .get_internal(InternalSecret::AuditKey)
            .unwrap()
            .unwrap()
            .expose(),
        "key-one-plaintext"
    );
    // Sealed like every other secret, and invisible to the user-facing calls.
    assert!(!contains(&all_bytes(&dir), b"key-one-plaintext"));
    s.set("OPENAI", &Secret::new("x")).unwrap();
    assert_eq!(s.list().unwrap(), ["OPENAI"]);
    let name = "pryx:audit-key";
    assert!(matches!(s.get(name), Err(SecretError::InvalidName)));
    assert!(matches!(
        s.resolve(&format!("secret:{name}")),
        Err(SecretError::InvalidName)
    ));
    assert!(matches!(s.remove(name), Err(SecretError::InvalidName)));
    assert!(health_check(&dir).problems.is_empty());
}
