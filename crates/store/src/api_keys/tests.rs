use super::*;
use crate::NewSession;

fn new(name: &str, agents: &[&str]) -> NewApiKey {
    NewApiKey {
        name: name.into(),
        agents: agents.iter().map(|a| a.to_string()).collect(),
    }
}

#[test]
fn a_key_is_stored_only_as_its_hash_and_found_by_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let store = Store::open(&path).unwrap();
    let (key, secret) = store
        .create_api_key(&new(" editor ", &["coder", "coder"]), "user:cli")
        .unwrap();
    assert!(secret.starts_with(API_KEY_PREFIX) && secret.len() == API_KEY_PREFIX.len() + 64);
    assert_eq!(key.name, "editor");
    assert_eq!(key.agents, ["coder"]);
    assert!(key.allows("coder") && !key.allows("main"));

    let found = store.use_api_key(&secret).unwrap().unwrap();
    assert_eq!(found.id, key.id);
    assert!(found.last_used_at.is_some());
    assert!(store.use_api_key("pryx-sk-wrong").unwrap().is_none());

    // Nowhere in the database, the audit log included.
    drop(store);
    let raw = std::fs::read(&path).unwrap();
    let hex_part = &secret[API_KEY_PREFIX.len()..];
    assert!(
        !raw.windows(hex_part.len())
            .any(|w| w == hex_part.as_bytes()),
        "the key itself must not be stored"
    );
    let store = Store::open(&path).unwrap();
    let audit = store.list_audit(None, 10).unwrap();
    let created = audit
        .iter()
        .find(|r| r.entry.action == "api_key.created")
        .unwrap();
    assert_eq!(created.entry.resource_id.as_deref(), Some(key.id.as_str()));
    assert_eq!(created.entry.details["name"], "editor");
    assert!(!serde_json::to_string(&audit).unwrap().contains(hex_part));
}

#[test]
fn a_revoked_key_stays_listed_and_is_audited_once() {
    let store = Store::open_in_memory().unwrap();
    let (a, secret) = store.create_api_key(&new("a", &[]), "user:cli").unwrap();
    let (b, _) = store.create_api_key(&new("b", &[]), "user:cli").unwrap();
    assert!(a.allows("anything"));
    let ids: Vec<_> = store
        .list_api_keys()
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect();
    assert_eq!(ids, [b.id.clone(), a.id.clone()]);

    let revoked = store.revoke_api_key(&a.id, "user:web").unwrap().unwrap();
    assert!(revoked.is_revoked());
    let again = store.revoke_api_key(&a.id, "user:web").unwrap().unwrap();
    assert_eq!(again.revoked_at, revoked.revoked_at);
    assert!(store.revoke_api_key("nope", "user:web").unwrap().is_none());
    let used = store.use_api_key(&secret).unwrap().unwrap();
    assert!(used.is_revoked() && used.last_used_at.is_none());

    let audit = store.list_audit(None, 10).unwrap();
    let revocations: Vec<_> = audit
        .iter()
        .filter(|r| r.entry.action == "api_key.revoked")
        .collect();
    assert_eq!(revocations.len(), 1);
    assert_eq!(revocations[0].entry.actor, "user:web");
    assert_eq!(revocations[0].entry.details["name"], "a");
}

#[test]
fn names_and_agents_are_checked() {
    let store = Store::open_in_memory().unwrap();
    for bad in [new("", &[]), new("a\nb", &[]), new("x", &[""])] {
        let err = store.create_api_key(&bad, "user:cli").unwrap_err();
        assert!(matches!(err, StoreError::Invalid { .. }), "{err}");
    }
    assert!(store.list_api_keys().unwrap().is_empty());
}

#[test]
fn sessions_are_tagged_with_their_key() {
    let store = Store::open_in_memory().unwrap();
    let (key, _) = store.create_api_key(&new("a", &[]), "user:cli").unwrap();
    let s = store.create_session(&NewSession::default()).unwrap();
    assert_eq!(store.session_api_key(&s.id).unwrap(), None);
    store.set_session_api_key(&s.id, &key.id).unwrap();
    assert_eq!(store.session_api_key(&s.id).unwrap(), Some(key.id));
    assert!(store.set_session_api_key("missing", "k").is_err());
    assert_eq!(store.session_api_key("missing").unwrap(), None);
}

/// A database as schema 7 left it: its sessions belong to no key, and keys can be added.
#[test]
fn schema_8_adds_keys_and_leaves_existing_sessions_untagged() {
    use crate::migrate::{MIGRATIONS, SCHEMA_VERSION, migrate_with};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let mut c = rusqlite::Connection::open(&path).unwrap();
        migrate_with(&mut c, &MIGRATIONS[..7]).unwrap();
        c.execute(
            "INSERT INTO sessions (id, title, model, agent, created_at, updated_at)
             VALUES ('s1', 'old', 'm', NULL, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')",
            [],
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    const { assert!(SCHEMA_VERSION >= 8) };
    assert!(store.get_session("s1").unwrap().is_some());
    assert_eq!(store.session_api_key("s1").unwrap(), None);
    let (key, secret) = store.create_api_key(&new("a", &[]), "user:cli").unwrap();
    store.set_session_api_key("s1", &key.id).unwrap();
    assert_eq!(store.use_api_key(&secret).unwrap().unwrap().id, key.id);
}
