//! Encrypted-file backend: `secrets.enc` holds the name→value map sealed with ChaCha20-Poly1305
//! (fresh random nonce on every write); the 256-bit key lives in its own 0600 file.

use super::{Secret, SecretError};
use crate::datadir::DataDir;
use crate::fsutil::{self, FsError};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use zeroize::{Zeroize, Zeroizing};

const AAD: &[u8] = b"pryx-secrets-v1";

#[derive(Serialize, Deserialize)]
struct Sealed {
    version: u32,
    nonce: String,
    ciphertext: String,
}

/// Decrypted name→value map; values are wiped when it is dropped.
#[derive(Default, Serialize, Deserialize)]
#[serde(transparent)]
struct Plain(BTreeMap<String, String>);

impl Drop for Plain {
    fn drop(&mut self) {
        self.0.values_mut().for_each(Zeroize::zeroize);
    }
}

fn corrupt(path: &Path, reason: impl Into<String>) -> SecretError {
    SecretError::Corrupt {
        file: path.display().to_string(),
        reason: reason.into(),
    }
}

fn random<const N: usize>(path: &Path) -> Result<[u8; N], SecretError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| {
        SecretError::Fs(FsError::new(
            "generate randomness for",
            path,
            std::io::Error::other(e.to_string()),
        ))
    })?;
    Ok(buf)
}

/// Loads the key; with `create` a missing key is generated (only when no sealed data exists).
fn load_key(dir: &DataDir, create: bool) -> Result<Option<Zeroizing<[u8; 32]>>, SecretError> {
    let path = dir.secrets_key_file();
    if let Some(text) = fsutil::read_optional(&path)? {
        let text = Zeroizing::new(text);
        let raw = Zeroizing::new(
            B64.decode(text.trim_ascii())
                .map_err(|_| corrupt(&path, "the key is not valid base64"))?,
        );
        let key: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| corrupt(&path, "the key must be 32 bytes"))?;
        return Ok(Some(Zeroizing::new(key)));
    }
    if dir.secrets_file().exists() {
        return Err(corrupt(
            &path,
            "the key file is missing, so the encrypted secrets cannot be read; restore it or remove the secrets file",
        ));
    }
    if !create {
        return Ok(None);
    }
    let key = Zeroizing::new(random::<32>(&path)?);
    let encoded = Zeroizing::new(B64.encode(key.as_slice()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| FsError::new("create", &path, e))?;
    f.write_all(encoded.as_bytes())
        .map_err(|e| FsError::new("write", &path, e))?;
    f.sync_all().map_err(|e| FsError::new("sync", &path, e))?;
    Ok(Some(key))
}

fn read_all(dir: &DataDir) -> Result<Plain, SecretError> {
    let path = dir.secrets_file();
    let Some(bytes) = fsutil::read_optional(&path)? else {
        return Ok(Plain::default());
    };
    let Some(key) = load_key(dir, false)? else {
        return Ok(Plain::default());
    };
    let sealed: Sealed =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(&path, e.to_string()))?;
    if sealed.version != 1 {
        return Err(corrupt(
            &path,
            format!("unsupported version {}", sealed.version),
        ));
    }
    let nonce = B64
        .decode(&sealed.nonce)
        .map_err(|_| corrupt(&path, "bad nonce"))?;
    let nonce: [u8; 12] = nonce
        .as_slice()
        .try_into()
        .map_err(|_| corrupt(&path, "bad nonce length"))?;
    let ct = B64
        .decode(&sealed.ciphertext)
        .map_err(|_| corrupt(&path, "bad ciphertext encoding"))?;
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key.as_slice()));
    let plain = Zeroizing::new(
        cipher
            .decrypt(Nonce::from_slice(&nonce), Payload { msg: &ct, aad: AAD })
            .map_err(|_| SecretError::Tampered(path.display().to_string()))?,
    );
    // The error of a failed parse is replaced so no fragment of plaintext can leak.
    serde_json::from_slice(&plain).map_err(|_| corrupt(&path, "decrypted content is malformed"))
}

fn write_all(dir: &DataDir, map: &Plain) -> Result<(), SecretError> {
    let path = dir.secrets_file();
    let Some(key) = load_key(dir, true)? else {
        return Err(corrupt(&path, "no key"));
    };
    let plain =
        Zeroizing::new(serde_json::to_vec(map).map_err(|_| corrupt(&path, "cannot encode"))?);
    let nonce = random::<12>(&path)?;
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key.as_slice()));
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &plain,
                aad: AAD,
            },
        )
        .map_err(|_| corrupt(&path, "encryption failed"))?;
    let sealed = Sealed {
        version: 1,
        nonce: B64.encode(nonce),
        ciphertext: B64.encode(ct),
    };
    let bytes = serde_json::to_vec(&sealed).map_err(|_| corrupt(&path, "cannot encode"))?;
    fsutil::atomic_write(&path, &bytes)?;
    Ok(())
}

pub(super) fn set(dir: &DataDir, name: &str, value: &Secret) -> Result<bool, SecretError> {
    let mut map = read_all(dir)?;
    let existed = map
        .0
        .insert(name.to_string(), value.expose().to_string())
        .is_some();
    write_all(dir, &map)?;
    Ok(existed)
}

pub(super) fn get(dir: &DataDir, name: &str) -> Result<Option<Secret>, SecretError> {
    Ok(read_all(dir)?.0.get(name).map(|v| Secret::new(v.as_str())))
}

pub(super) fn remove(dir: &DataDir, name: &str) -> Result<bool, SecretError> {
    let mut map = read_all(dir)?;
    if map.0.remove(name).is_none() {
        return Ok(false);
    }
    write_all(dir, &map)?;
    Ok(true)
}

pub(super) fn names(dir: &DataDir) -> Result<Vec<String>, SecretError> {
    Ok(read_all(dir)?.0.keys().cloned().collect())
}

/// Mode of both files and whether the data decrypts.
pub(super) fn health(dir: &DataDir) -> Vec<String> {
    let mut out = Vec::new();
    for path in [dir.secrets_file(), dir.secrets_key_file()] {
        if let Ok(meta) = std::fs::metadata(&path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                out.push(format!(
                    "{} has mode {mode:04o}, expected 0600",
                    path.display()
                ));
            }
        }
    }
    if let Err(e) = read_all(dir) {
        out.push(e.to_string());
    }
    out
}
