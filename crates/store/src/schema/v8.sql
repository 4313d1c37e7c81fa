-- Schema 8: per-client API keys for the OpenAI-compatible `/v1`. Only the SHA-256 of a key is
-- kept (hex, looked up by equality); the key itself is shown once when it is made. `agents` is
-- a JSON array of the agent ids the key may use, empty for every agent. A revoked key keeps its
-- row (with `revoked_at`) so the list shows it and its sessions stay attributed.
--
-- Sessions started through a key name it in `api_key_id`: only that key (or the gateway token)
-- may continue them. No foreign key: key rows are never deleted.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    agents       TEXT NOT NULL DEFAULT '[]',
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
ALTER TABLE sessions ADD COLUMN api_key_id TEXT;
CREATE INDEX sessions_by_api_key ON sessions (api_key_id) WHERE api_key_id IS NOT NULL;
