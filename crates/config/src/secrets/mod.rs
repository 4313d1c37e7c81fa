//! The secret store: the OS keychain where one answers, otherwise an encrypted file in the data
//! dir. Values only ever travel as [`Secret`], whose Debug/Display print `***`.

mod file;
mod index;
mod keychain;

use crate::datadir::DataDir;
use crate::fsutil::FsError;
use crate::lock;
use index::Index;
use std::fmt;
use zeroize::Zeroizing;

/// Environment variable forcing the backend: `file` or `keychain`.
pub const BACKEND_ENV: &str = "PRYX_SECRET_BACKEND";

/// A secret value. Printing it shows `***`; call [`Secret::expose`] only at the point of use.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }
    /// The raw value, for putting into a request header and nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Errors of the secret store. None of them carries a secret value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Name outside `[A-Za-z0-9_.-]{1,64}`.
    #[error("invalid secret name: use 1-64 letters, digits, `_`, `.` or `-`")]
    InvalidName,
    /// `secret:NAME` names a secret that is not stored.
    #[error("secret `{0}` is not set; store it with `pryx secrets set {0}`")]
    NotFound(String),
    /// `env:VAR` names an unset or empty variable.
    #[error("environment variable `{0}` is not set (referenced as `env:{0}`)")]
    EnvUnset(String),
    /// The reference is neither `secret:NAME` nor `env:VAR`.
    #[error(
        "not a secret reference: use `secret:NAME` (stored with `pryx secrets set NAME`) or `env:VAR`"
    )]
    BadReference,
    /// `PRYX_SECRET_BACKEND` has an unknown value.
    #[error("{BACKEND_ENV} must be `file` or `keychain`")]
    BadBackendEnv,
    /// The keychain was requested (or used before) but does not answer.
    #[error(
        "the OS keychain is not reachable ({0}); unlock or start it, or set {BACKEND_ENV}=file to use the encrypted file"
    )]
    KeychainUnavailable(String),
    /// The keychain failed an operation.
    #[error("OS keychain failed to {op}: {detail}")]
    Keychain {
        /// What was attempted.
        op: &'static str,
        /// Sanitised failure description.
        detail: String,
    },
    /// The encrypted file did not authenticate.
    #[error(
        "{0} failed authentication: it was modified or does not match the key file; restore it from a backup or remove it and set the secrets again"
    )]
    Tampered(String),
    /// A store file is malformed or its key file is missing.
    #[error("{file} is unusable: {reason}")]
    Corrupt {
        /// The file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing a store file failed.
    #[error(transparent)]
    Fs(#[from] FsError),
    /// Another process holds the store lock and it could not be waited for.
    #[error(transparent)]
    Lock(#[from] lock::LockError),
}

/// Secrets Pryx keeps for itself. Their names lie outside the names users can give (see
/// [`is_secret_name`]), so `pryx secrets list|set|remove` and `secret:` references never reach
/// them: a provider entry cannot be pointed at the audit key to send it out in a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InternalSecret {
    /// The key that seals the audit log (HMAC over every row and over the anchor file).
    AuditKey,
}

impl InternalSecret {
    fn name(self) -> &'static str {
        match self {
            InternalSecret::AuditKey => "pryx:audit-key",
        }
    }
}

/// Which backend holds the secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The OS keychain (Keychain, Credential Manager, Secret Service).
    Keychain,
    /// The encrypted file in the data dir.
    File,
}

impl Backend {
    /// Stable short name (`keychain` / `file`).
    pub fn name(self) -> &'static str {
        match self {
            Backend::Keychain => "keychain",
            Backend::File => "file",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        match s {
            "keychain" => Some(Backend::Keychain),
            "file" => Some(Backend::File),
            _ => None,
        }
    }
}

/// Handle to the secret store of one data directory.
#[derive(Debug, Clone)]
pub struct SecretStore {
    dir: DataDir,
    backend: Backend,
}

impl SecretStore {
    /// Picks the backend: `PRYX_SECRET_BACKEND`, else the one recorded at the first `set`, else
    /// the keychain if it answers, else the encrypted file.
    pub fn open(dir: &DataDir) -> Result<Self, SecretError> {
        dir.ensure()?;
        let forced = match std::env::var(BACKEND_ENV) {
            Ok(v) if !v.is_empty() => Some(Backend::parse(&v).ok_or(SecretError::BadBackendEnv)?),
            _ => None,
        };
        let index = Index::load(dir)?;
        let backend = match forced.or(index.preferred()) {
            Some(Backend::Keychain) => {
                keychain::probe().map_err(SecretError::KeychainUnavailable)?;
                Backend::Keychain
            }
            Some(Backend::File) => Backend::File,
            None if keychain::probe().is_ok() => Backend::Keychain,
            None => Backend::File,
        };
        Ok(Self {
            dir: dir.clone(),
            backend,
        })
    }

    /// Opens a specific backend, ignoring the environment and the recorded choice.
    pub fn open_backend(dir: &DataDir, backend: Backend) -> Result<Self, SecretError> {
        dir.ensure()?;
        if backend == Backend::Keychain {
            keychain::probe().map_err(SecretError::KeychainUnavailable)?;
        }
        Ok(Self {
            dir: dir.clone(),
            backend,
        })
    }

    /// The active backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// `keychain` or `file`.
    pub fn backend_name(&self) -> &'static str {
        self.backend.name()
    }

    /// Stores (or replaces) a secret. Returns true if it replaced an existing one.
    pub fn set(&self, name: &str, value: &Secret) -> Result<bool, SecretError> {
        check_name(name)?;
        let _guard = lock::lock_blocking(&self.dir.lock_file("secrets"))?;
        self.set_locked(name, value)
    }

    /// [`SecretStore::set`] for a caller that holds the store lock and checked the name.
    fn set_locked(&self, name: &str, value: &Secret) -> Result<bool, SecretError> {
        let existed = match self.backend {
            Backend::File => file::set(&self.dir, name, value)?,
            Backend::Keychain => {
                let existed = keychain::get(&self.dir, name)?.is_some();
                keychain::set(&self.dir, name, value)?;
                existed
            }
        };
        let mut index = Index::load(&self.dir)?;
        index.insert(self.backend, name);
        index.save(&self.dir)?;
        Ok(existed)
    }

    /// Reads one of Pryx's own secrets; `None` if it was never stored.
    pub fn get_internal(&self, which: InternalSecret) -> Result<Option<Secret>, SecretError> {
        self.get_unchecked(which.name())
    }

    /// Reads one of Pryx's own secrets, storing `candidate` first if there is none. Runs under
    /// the store lock, so processes starting at the same moment all end up with the one value
    /// that was stored first.
    pub fn get_or_insert_internal(
        &self,
        which: InternalSecret,
        candidate: &Secret,
    ) -> Result<Secret, SecretError> {
        let _guard = lock::lock_blocking(&self.dir.lock_file("secrets"))?;
        if let Some(existing) = self.get_unchecked(which.name())? {
            return Ok(existing);
        }
        self.set_locked(which.name(), candidate)?;
        Ok(candidate.clone())
    }

    /// Reads a secret; `None` if it is not stored.
    pub fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        check_name(name)?;
        self.get_unchecked(name)
    }

    fn get_unchecked(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        match self.backend {
            Backend::File => file::get(&self.dir, name),
            Backend::Keychain => keychain::get(&self.dir, name),
        }
    }

    /// Removes a secret. Returns false if there was none.
    pub fn remove(&self, name: &str) -> Result<bool, SecretError> {
        check_name(name)?;
        let _guard = lock::lock_blocking(&self.dir.lock_file("secrets"))?;
        let existed = match self.backend {
            Backend::File => file::remove(&self.dir, name)?,
            Backend::Keychain => keychain::remove(&self.dir, name)?,
        };
        let mut index = Index::load(&self.dir)?;
        if index.remove(self.backend, name) {
            index.save(&self.dir)?;
        }
        Ok(existed)
    }

    /// Deletes every keychain entry of this data dir, Pryx's own included, for
    /// `pryx uninstall --purge`; their names. The encrypted file goes with the data dir.
    pub fn purge_keychain(&self) -> Result<Vec<String>, SecretError> {
        if self.backend != Backend::Keychain {
            return Ok(Vec::new());
        }
        let _guard = lock::lock_blocking(&self.dir.lock_file("secrets"))?;
        let mut names = Index::load(&self.dir)?.names(Backend::Keychain);
        let audit = InternalSecret::AuditKey.name().to_string();
        if !names.contains(&audit) {
            names.push(audit);
        }
        let mut removed = Vec::new();
        for name in names {
            if keychain::remove(&self.dir, &name)? {
                removed.push(name);
            }
        }
        Ok(removed)
    }

    /// Names of the secrets users stored, sorted (Pryx's own are not listed).
    pub fn list(&self) -> Result<Vec<String>, SecretError> {
        let names = match self.backend {
            Backend::File => file::names(&self.dir)?,
            Backend::Keychain => Index::load(&self.dir)?.names(Backend::Keychain),
        };
        Ok(names.into_iter().filter(|n| is_secret_name(n)).collect())
    }

    /// Resolves `secret:NAME` from the store or `env:VAR` from the environment.
    pub fn resolve(&self, reference: &str) -> Result<Secret, SecretError> {
        if let Some(name) = reference.strip_prefix("secret:") {
            return self
                .get(name)?
                .ok_or_else(|| SecretError::NotFound(name.to_string()));
        }
        if let Some(var) = reference.strip_prefix("env:") {
            if var.is_empty() {
                return Err(SecretError::BadReference);
            }
            return match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Secret::new(v)),
                _ => Err(SecretError::EnvUnset(var.to_string())),
            };
        }
        Err(SecretError::BadReference)
    }
}

/// Result of [`health_check`], for `pryx doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretHealth {
    /// The backend that would be used, if one could be opened.
    pub backend: Option<&'static str>,
    /// Problems found; empty means healthy.
    pub problems: Vec<String>,
}

/// Checks that the store opens, its backend answers, and (for the file) that both files are 0600
/// and the data decrypts.
pub fn health_check(dir: &DataDir) -> SecretHealth {
    let store = match SecretStore::open(dir) {
        Ok(s) => s,
        Err(e) => {
            return SecretHealth {
                backend: None,
                problems: vec![e.to_string()],
            };
        }
    };
    let mut problems = Vec::new();
    match store.backend {
        Backend::File => problems.extend(file::health(dir)),
        Backend::Keychain => {
            if let Err(e) = keychain::probe() {
                problems.push(format!("OS keychain not reachable: {e}"));
            }
        }
    }
    if let Err(e) = store.list() {
        problems.push(e.to_string());
    }
    SecretHealth {
        backend: Some(store.backend_name()),
        problems,
    }
}

/// True if `name` is a valid secret name (`[A-Za-z0-9_.-]{1,64}`).
pub fn is_secret_name(name: &str) -> bool {
    crate::config::schema::is_name(name)
}

fn check_name(name: &str) -> Result<(), SecretError> {
    if crate::config::schema::is_name(name) {
        Ok(())
    } else {
        Err(SecretError::InvalidName)
    }
}

#[cfg(test)]
mod tests;
