//! OS keychain backend. Entries are keyed by data directory so two `PRYX_HOME`s never collide.

use super::{Secret, SecretError};
use crate::datadir::DataDir;
use keyring::Entry;
use keyring::Error as KError;

const SERVICE: &str = "pryx";

/// Ok if the platform keychain answers a harmless read; Err(reason) otherwise.
pub(super) fn probe() -> Result<(), String> {
    if let Err(e) = Entry::store_status() {
        return Err(describe(e));
    }
    let entry = Entry::new(SERVICE, "pryx-probe").map_err(|e| describe(&e))?;
    match entry.get_password() {
        Ok(_) | Err(KError::NoEntry) => Ok(()),
        Err(e) => Err(describe(&e)),
    }
}

fn entry(dir: &DataDir, name: &str) -> Result<Entry, SecretError> {
    let user = format!("{name}@{}", dir.root().display());
    Entry::new(SERVICE, &user).map_err(|e| fail("open an entry", &e))
}

pub(super) fn set(dir: &DataDir, name: &str, value: &Secret) -> Result<(), SecretError> {
    entry(dir, name)?
        .set_password(value.expose())
        .map_err(|e| fail("store the secret", &e))
}

pub(super) fn get(dir: &DataDir, name: &str) -> Result<Option<Secret>, SecretError> {
    match entry(dir, name)?.get_password() {
        Ok(v) => Ok(Some(Secret::new(v))),
        Err(KError::NoEntry) => Ok(None),
        Err(e) => Err(fail("read the secret", &e)),
    }
}

pub(super) fn remove(dir: &DataDir, name: &str) -> Result<bool, SecretError> {
    match entry(dir, name)?.delete_credential() {
        Ok(()) => Ok(true),
        Err(KError::NoEntry) => Ok(false),
        Err(e) => Err(fail("remove the secret", &e)),
    }
}

fn fail(op: &'static str, e: &KError) -> SecretError {
    SecretError::Keychain {
        op,
        detail: describe(e),
    }
}

/// Describes a keychain error without ever including returned secret bytes (some variants
/// carry them).
fn describe(e: &KError) -> String {
    match e {
        KError::PlatformFailure(inner) => format!("platform failure: {inner}"),
        KError::NoStorageAccess(inner) => format!("no access to the store: {inner}"),
        KError::NoEntry => "no such entry".to_string(),
        KError::BadEncoding(_) => "the stored value is not valid UTF-8".to_string(),
        KError::BadDataFormat(_, _) => "the stored value has an unexpected format".to_string(),
        KError::BadStoreFormat(_) => "the store is malformed".to_string(),
        KError::TooLong(attr, limit) => format!("{attr} is longer than {limit}"),
        KError::Invalid(attr, why) => format!("invalid {attr}: {why}"),
        KError::Ambiguous(_) => "several entries match".to_string(),
        KError::NoDefaultStore => "no keychain is available on this system".to_string(),
        _ => "unexpected keychain error".to_string(),
    }
}
