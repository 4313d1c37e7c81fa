//! Per-client API keys for the OpenAI-compatible `/v1`. Only the SHA-256 of a key is stored
//! and a key is found by looking its hash up; the key itself leaves [`Store::create_api_key`]
//! once and is never written anywhere. Making and revoking a key are audited (`api_key.created`,
//! `api_key.revoked`) with its id and name. Sessions started through a key are tagged with it.

use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::AuditEntry;
use crate::error::{Result, StoreError};
use crate::store::Store;
use crate::util::{new_id, now_ts};

/// How every API key starts, so a key is recognisable (and never mistaken for the gateway token).
pub const API_KEY_PREFIX: &str = "pryx-sk-";
const MAX_NAME: usize = 64;

/// A key to make.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewApiKey {
    pub name: String,
    /// The agents it may use; empty: every agent.
    pub agents: Vec<String>,
}

/// A stored key (its hash stays in the database).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub agents: Vec<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl ApiKey {
    /// Whether it may use `agent`.
    pub fn allows(&self, agent: &str) -> bool {
        self.agents.is_empty() || self.agents.iter().any(|a| a == agent)
    }

    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    /// The wire form.
    pub fn view(&self) -> pryx_protocol::api::ApiKeyView {
        pryx_protocol::api::ApiKeyView {
            id: self.id.clone(),
            name: self.name.clone(),
            agents: self.agents.clone(),
            created_at: self.created_at.clone(),
            last_used_at: self.last_used_at.clone(),
            revoked_at: self.revoked_at.clone(),
        }
    }
}

const COLS: &str = "id, name, agents, created_at, last_used_at, revoked_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(ApiKey, String)> {
    Ok((
        ApiKey {
            id: r.get(0)?,
            name: r.get(1)?,
            agents: Vec::new(),
            created_at: r.get(3)?,
            last_used_at: r.get(4)?,
            revoked_at: r.get(5)?,
        },
        r.get(2)?,
    ))
}

fn finish((mut key, agents): (ApiKey, String)) -> Result<ApiKey> {
    key.agents = serde_json::from_str(&agents)?;
    Ok(key)
}

/// Hex SHA-256 of a key, as stored.
fn hash_of(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn invalid(detail: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        what: "API key",
        detail: detail.into(),
    }
}

fn checked(new: &NewApiKey) -> Result<(String, Vec<String>)> {
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "the name must be 1–{MAX_NAME} characters without control characters"
        )));
    }
    let mut agents = Vec::new();
    for a in &new.agents {
        let a = a.trim();
        if a.is_empty() || a.len() > MAX_NAME || a.chars().any(|c| c.is_control() || c == ',') {
            return Err(invalid(format!("`{a}` is not an agent id")));
        }
        if !agents.iter().any(|x| x == a) {
            agents.push(a.to_string());
        }
    }
    Ok((name.to_string(), agents))
}

impl Store {
    /// Makes a key and audits `api_key.created` by `actor`; returns it with the key itself
    /// (`pryx-sk-` and 64 hex digits), which is not kept.
    pub fn create_api_key(&self, new: &NewApiKey, actor: &str) -> Result<(ApiKey, String)> {
        let (name, agents) = checked(new)?;
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| invalid(format!("the system random source failed ({e}); try again")))?;
        let secret = format!("{API_KEY_PREFIX}{}", hex::encode(bytes));
        let key = ApiKey {
            id: new_id(),
            name,
            agents,
            created_at: now_ts(),
            last_used_at: None,
            revoked_at: None,
        };
        let agents_json = serde_json::to_string(&key.agents)?;
        self.with_conn(|c| {
            c.execute(
                "INSERT INTO api_keys (id, name, key_hash, agents, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![key.id, key.name, hash_of(&secret), agents_json, key.created_at],
            )?;
            Ok(())
        })?;
        self.audit_key(&key, "api_key.created", actor)?;
        Ok((key, secret))
    }

    /// Every key, newest first, revoked ones included.
    pub fn list_api_keys(&self) -> Result<Vec<ApiKey>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLS} FROM api_keys ORDER BY created_at DESC, id DESC"
            ))?;
            let raws = stmt
                .query_map([], from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            raws.into_iter().map(finish).collect()
        })
    }

    /// One key by id.
    pub fn get_api_key(&self, id: &str) -> Result<Option<ApiKey>> {
        self.with_conn(|c| {
            c.query_row(
                &format!("SELECT {COLS} FROM api_keys WHERE id = ?1"),
                [id],
                from_row,
            )
            .optional()?
            .map(finish)
            .transpose()
        })
    }

    /// Revokes a key (it is refused from now on) and audits `api_key.revoked` by `actor`.
    /// Returns the key as it is now; `None` when there is no key with that id. Revoking a
    /// revoked key changes nothing.
    pub fn revoke_api_key(&self, id: &str, actor: &str) -> Result<Option<ApiKey>> {
        let changed = self.with_conn(|c| {
            Ok(c.execute(
                "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, now_ts()],
            )? > 0)
        })?;
        let key = self.get_api_key(id)?;
        if changed && let Some(k) = &key {
            self.audit_key(k, "api_key.revoked", actor)?;
        }
        Ok(key)
    }

    /// The key `secret` is, found by its hash (revoked ones too, so callers can say so). A
    /// key that is not revoked has its `last_used_at` set to now.
    pub fn use_api_key(&self, secret: &str) -> Result<Option<ApiKey>> {
        let hash = hash_of(secret);
        let now = now_ts();
        let key = self.with_conn(|c| {
            c.execute(
                "UPDATE api_keys SET last_used_at = ?2 WHERE key_hash = ?1 AND revoked_at IS NULL",
                params![hash, now],
            )?;
            c.query_row(
                &format!("SELECT {COLS} FROM api_keys WHERE key_hash = ?1"),
                [&hash],
                from_row,
            )
            .optional()?
            .map(finish)
            .transpose()
        })?;
        Ok(key)
    }

    /// Tags a session as started through the key `key_id`.
    pub fn set_session_api_key(&self, session_id: &str, key_id: &str) -> Result<()> {
        let n = self.with_conn(|c| {
            Ok(c.execute(
                "UPDATE sessions SET api_key_id = ?2 WHERE id = ?1",
                params![session_id, key_id],
            )?)
        })?;
        if n == 0 {
            return Err(StoreError::NotFound {
                what: "session",
                id: session_id.to_string(),
            });
        }
        Ok(())
    }

    /// The key a session was started through; `None` for other sessions (and unknown ids).
    pub fn session_api_key(&self, session_id: &str) -> Result<Option<String>> {
        self.with_conn(|c| {
            Ok(c.query_row(
                "SELECT api_key_id FROM sessions WHERE id = ?1",
                [session_id],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()?
            .flatten())
        })
    }

    /// The sessions started through key `key_id`, newest first.
    pub fn sessions_of_api_key(&self, key_id: &str) -> Result<Vec<String>> {
        self.with_conn(|c| {
            let mut stmt = c.prepare(
                "SELECT id FROM sessions WHERE api_key_id = ?1 ORDER BY updated_at DESC, id DESC",
            )?;
            let ids = stmt
                .query_map([key_id], |r| r.get::<_, String>(0))?
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Ok(ids)
        })
    }

    fn audit_key(&self, k: &ApiKey, action: &str, actor: &str) -> Result<()> {
        self.append_audit(&AuditEntry {
            actor: actor.to_string(),
            action: action.to_string(),
            resource_type: "api_key".to_string(),
            resource_id: Some(k.id.clone()),
            session_id: None,
            details: serde_json::json!({ "name": k.name, "agents": k.agents }),
            outcome: "success".to_string(),
        })
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests;
