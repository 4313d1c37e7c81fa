//! `secrets.index.json`: which backend was chosen and the names (never values) stored in each,
//! because keychains cannot enumerate their entries.

use super::{Backend, SecretError};
use crate::datadir::DataDir;
use crate::fsutil;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Index {
    version: u32,
    #[serde(default)]
    backend: Option<String>,
    #[serde(default)]
    keychain: BTreeSet<String>,
    #[serde(default)]
    file: BTreeSet<String>,
}

impl Index {
    pub(super) fn load(dir: &DataDir) -> Result<Self, SecretError> {
        let path = dir.secrets_index_file();
        match fsutil::read_optional(&path)? {
            None => Ok(Self {
                version: 1,
                ..Self::default()
            }),
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| SecretError::Corrupt {
                file: path.display().to_string(),
                reason: format!("{e}; delete it to rebuild the list of names"),
            }),
        }
    }

    pub(super) fn save(&self, dir: &DataDir) -> Result<(), SecretError> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(|e| SecretError::Corrupt {
            file: dir.secrets_index_file().display().to_string(),
            reason: e.to_string(),
        })?;
        bytes.push(b'\n');
        fsutil::atomic_write(&dir.secrets_index_file(), &bytes)?;
        Ok(())
    }

    /// The backend recorded at the first write.
    pub(super) fn preferred(&self) -> Option<Backend> {
        self.backend.as_deref().and_then(Backend::parse)
    }

    fn set_mut(&mut self, backend: Backend) -> &mut BTreeSet<String> {
        match backend {
            Backend::Keychain => &mut self.keychain,
            Backend::File => &mut self.file,
        }
    }

    pub(super) fn insert(&mut self, backend: Backend, name: &str) {
        self.version = 1;
        if self.backend.is_none() {
            self.backend = Some(backend.name().to_string());
        }
        self.set_mut(backend).insert(name.to_string());
    }

    pub(super) fn remove(&mut self, backend: Backend, name: &str) -> bool {
        self.set_mut(backend).remove(name)
    }

    pub(super) fn names(&mut self, backend: Backend) -> Vec<String> {
        self.set_mut(backend).iter().cloned().collect()
    }
}
