//! The secret values Pryx holds, so everything it writes can mask them.

use pryx_config::{DataDir, SecretStore};
use pryx_telemetry::KnownSecret;

/// Every value in the secret store, by its name there. A store that cannot be opened yields
/// nothing (the caller still masks the keys it resolved itself); one unreadable entry does not
/// hide the others.
pub fn stored_secrets(dir: &DataDir) -> Vec<KnownSecret> {
    let Ok(store) = SecretStore::open(dir) else {
        return Vec::new();
    };
    let names = store.list().unwrap_or_default();
    names
        .iter()
        .filter_map(|name| {
            let secret = store.get(name).ok().flatten()?;
            Some(KnownSecret::new(name.clone(), secret.expose()))
        })
        .collect()
}
