//! Loading, key-path reads and validated atomic writes of `config.json`.

use super::path;
use super::schema;
use super::secret_like::{looks_like_secret, sensitive_key};
use super::{Config, ConfigError, Problem};
use crate::datadir::DataDir;
use crate::fsutil;
use crate::lock;
use serde_json::{Map, Value};
use std::path::Path;

impl Config {
    /// Reads and validates `config.json`; a missing file yields the defaults.
    /// A file that fails to parse or validate is reported, never repaired.
    pub fn load(dir: &DataDir) -> Result<Config, ConfigError> {
        let file = dir.config_file();
        let Some(doc) = read_document(&file)? else {
            return Ok(Config::default());
        };
        let problems = check(&doc);
        if !problems.is_empty() {
            return Err(ConfigError::Invalid { file, problems });
        }
        typed(&file, doc)
    }

    /// Validates an in-memory document (as it would be read from `config.json`).
    pub fn from_value(doc: Value) -> Result<Config, Vec<Problem>> {
        let problems = check(&doc);
        if !problems.is_empty() {
            return Err(problems);
        }
        serde_json::from_value(doc).map_err(|e| {
            vec![Problem {
                path: String::new(),
                message: e.to_string(),
            }]
        })
    }

    /// The effective configuration (defaults filled in) as JSON.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The effective value at a dotted key path; `null` for known keys that are unset.
    pub fn get_path(&self, key: &str) -> Result<Value, ConfigError> {
        lookup(&self.to_value(), key)
    }

    /// Display view: secret references stay, anything that looks like a credential is `***`.
    pub fn masked(&self) -> Value {
        let mut v = self.to_value();
        mask(&mut v, None);
        v
    }

    /// Like `get_path`, on the masked view (for printing).
    pub fn get_path_masked(&self, key: &str) -> Result<Value, ConfigError> {
        lookup(&self.masked(), key)
    }

    /// Sets `key` to `raw` (JSON if it parses and the key does not take a string, else the
    /// string itself), validates the whole document and writes it atomically. On any error
    /// the file is left byte-for-byte unchanged.
    pub fn set_path(dir: &DataDir, key: &str, raw: &str) -> Result<Config, ConfigError> {
        let segments = path::parse(key).ok_or_else(|| ConfigError::BadKey {
            key: key.to_string(),
        })?;
        let root = schema::root();
        let value = match (root.lookup(&segments), serde_json::from_str::<Value>(raw)) {
            (Some(node), Ok(Value::Null)) if node.wants_string() => Value::Null,
            (Some(node), _) if node.wants_string() => Value::String(raw.to_string()),
            (_, Ok(v)) => v,
            (_, Err(_)) => Value::String(raw.to_string()),
        };
        update(dir, key, None, |doc| {
            insert(doc, &segments, value).map_err(|()| not_an_object(key))
        })
    }

    /// Removes `key` from the file (it falls back to its default), validating as `set_path` does.
    pub fn unset_path(dir: &DataDir, key: &str) -> Result<Config, ConfigError> {
        let segments = path::parse(key).ok_or_else(|| ConfigError::BadKey {
            key: key.to_string(),
        })?;
        if schema::root().lookup(&segments).is_none() {
            return Err(no_such_key(key, &segments));
        }
        update(dir, key, None, |doc| {
            remove(doc, &segments);
            Ok(())
        })
    }

    /// The one writer of `config.json` for programs (the API, the TUI, the dashboard): applies
    /// `edits` in order, validates the whole document, bumps `revision` and writes atomically
    /// under the config lock. With `base`, the write is refused ([`ConfigError::Stale`]) unless
    /// the file is still at that revision. On any error the file is left unchanged.
    pub fn edit(dir: &DataDir, base: Option<u64>, edits: &[Edit]) -> Result<Config, ConfigError> {
        let mut parsed = Vec::with_capacity(edits.len());
        for edit in edits {
            let key = edit.key();
            let segments = path::parse(key).ok_or_else(|| ConfigError::BadKey {
                key: key.to_string(),
            })?;
            if schema::root().lookup(&segments).is_none() {
                return Err(no_such_key(key, &segments));
            }
            parsed.push((edit, segments));
        }
        let label = edits.first().map_or("", Edit::key);
        update(dir, label, base, |doc| {
            for (edit, segments) in parsed {
                match edit {
                    Edit::Set(key, value) => {
                        insert(doc, &segments, value.clone()).map_err(|()| not_an_object(key))?
                    }
                    Edit::Unset(_) => remove(doc, &segments),
                }
            }
            Ok(())
        })
    }

    /// The provider configured under `id`.
    pub fn provider(&self, id: &str) -> Option<&super::Provider> {
        self.providers.get(id)
    }

    /// Overrides for `provider/model`, if any.
    pub fn model_override(&self, model_ref: &str) -> Option<&super::ModelOverride> {
        self.models.overrides.get(model_ref)
    }
}

fn update(
    dir: &DataDir,
    key: &str,
    base: Option<u64>,
    change: impl FnOnce(&mut Value) -> Result<(), ConfigError>,
) -> Result<Config, ConfigError> {
    dir.ensure()?;
    let file = dir.config_file();
    let _guard = lock::lock_blocking(&dir.lock_file("config")).map_err(|e| {
        ConfigError::Fs(crate::fsutil::FsError::new(
            "lock",
            &file,
            std::io::Error::other(e.to_string()),
        ))
    })?;
    let mut doc = read_document(&file)?.unwrap_or_else(|| Value::Object(Map::new()));
    let current = doc.get("revision").and_then(Value::as_u64).unwrap_or(0);
    if let Some(base) = base.filter(|b| *b != current) {
        return Err(ConfigError::Stale { base, current });
    }
    change(&mut doc)?;
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("revision".into(), Value::from(current.saturating_add(1)));
    }
    let problems = check(&doc);
    if !problems.is_empty() {
        return Err(ConfigError::Rejected {
            key: key.to_string(),
            problems,
        });
    }
    let config = typed(&file, doc.clone())?;
    let mut bytes = serde_json::to_vec_pretty(&doc)?;
    bytes.push(b'\n');
    fsutil::atomic_write(&file, &bytes)?;
    Ok(config)
}

/// One change made by [`Config::edit`].
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// Sets the dotted key to a JSON value.
    Set(String, Value),
    /// Removes the key (it falls back to its default).
    Unset(String),
}

impl Edit {
    /// The dotted key path it changes.
    pub fn key(&self) -> &str {
        match self {
            Edit::Set(k, _) | Edit::Unset(k) => k,
        }
    }
}

fn read_document(file: &Path) -> Result<Option<Value>, ConfigError> {
    let Some(bytes) = fsutil::read_optional(file)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        let full = e.to_string();
        let message = full.split(" at line ").next().unwrap_or(&full).to_string();
        ConfigError::Syntax {
            file: file.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message,
        }
    })
}

fn check(doc: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    schema::validate(&schema::root(), doc, &mut Vec::new(), &mut problems);
    problems
}

fn typed(file: &Path, doc: Value) -> Result<Config, ConfigError> {
    serde_json::from_value(doc).map_err(|e| ConfigError::Invalid {
        file: file.to_path_buf(),
        problems: vec![Problem {
            path: String::new(),
            message: e.to_string(),
        }],
    })
}

fn lookup(root: &Value, key: &str) -> Result<Value, ConfigError> {
    let segments = path::parse(key).ok_or_else(|| ConfigError::BadKey {
        key: key.to_string(),
    })?;
    let mut cur = root;
    for seg in &segments {
        match cur.get(seg.as_str()) {
            Some(v) => cur = v,
            None if schema::root().lookup(&segments).is_some() => return Ok(Value::Null),
            None => return Err(no_such_key(key, &segments)),
        }
    }
    Ok(cur.clone())
}

fn no_such_key(key: &str, segments: &[String]) -> ConfigError {
    let root = schema::root();
    // Find the first segment the schema does not know and suggest a sibling.
    let mut hint = String::new();
    for i in 0..segments.len() {
        if root.lookup(&segments[..=i]).is_none() {
            if let Some(parent) = root.lookup(&segments[..i]) {
                let names = parent.field_names();
                if let Some(s) = path::suggest(&segments[i], names.iter().copied()) {
                    let mut fixed = segments.to_vec();
                    fixed[i] = s.to_string();
                    hint = format!("; did you mean `{}`?", path::render(&fixed));
                } else if !names.is_empty() {
                    hint = format!("; keys here: {}", names.join(", "));
                }
            }
            break;
        }
    }
    ConfigError::NoSuchKey {
        key: key.to_string(),
        hint,
    }
}

fn not_an_object(key: &str) -> ConfigError {
    ConfigError::Rejected {
        key: key.to_string(),
        problems: vec![Problem {
            path: key.to_string(),
            message: "a parent of this key holds a value, not an object".to_string(),
        }],
    }
}

fn insert(doc: &mut Value, segments: &[String], value: Value) -> Result<(), ()> {
    let Some((last, parents)) = segments.split_last() else {
        return Err(());
    };
    let mut cur = doc;
    for seg in parents {
        let obj = cur.as_object_mut().ok_or(())?;
        cur = obj
            .entry(seg.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    cur.as_object_mut().ok_or(())?.insert(last.clone(), value);
    Ok(())
}

fn remove(doc: &mut Value, segments: &[String]) {
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut cur = doc;
    for seg in parents {
        match cur.get_mut(seg.as_str()) {
            Some(v) => cur = v,
            None => return,
        }
    }
    if let Some(obj) = cur.as_object_mut() {
        obj.remove(last);
    }
}

fn mask(v: &mut Value, key: Option<&str>) {
    match v {
        Value::String(s) => {
            let is_ref = s.starts_with("secret:") || s.starts_with("env:");
            if looks_like_secret(s) || (key.is_some_and(sensitive_key) && !is_ref) {
                *s = "***".to_string();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| mask(i, key)),
        Value::Object(map) => map.iter_mut().for_each(|(k, i)| mask(i, Some(k))),
        _ => {}
    }
}

#[cfg(test)]
#[path = "document_tests.rs"]
mod tests;
