-- Schema 1: workspaces, sessions, messages (+ full-text index), tool calls, approval grants,
-- spans, the persisted session-bus events and the hash-chained audit log.
-- Timestamps are RFC 3339 UTC strings with a fixed six-digit fraction, so they sort as text.

CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    path        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE sessions (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT REFERENCES workspaces(id) ON DELETE SET NULL,
    title             TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'idle', 'archived')),
    model             TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    total_tokens_in   INTEGER NOT NULL DEFAULT 0,
    total_tokens_out  INTEGER NOT NULL DEFAULT 0,
    total_cost_usd    REAL NOT NULL DEFAULT 0
);
CREATE INDEX sessions_by_update ON sessions (updated_at);
CREATE INDEX sessions_by_workspace ON sessions (workspace_id, updated_at);

-- `num` is a stable integer key for the external-content full-text index (an implicit rowid
-- may be renumbered by VACUUM).
CREATE TABLE messages (
    num                 INTEGER PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
    session_id          TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    seq                 INTEGER NOT NULL,
    role                TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'tool', 'system')),
    content             TEXT NOT NULL,
    text                TEXT NOT NULL DEFAULT '',
    tool_call_id        TEXT,
    model               TEXT,
    tokens_in           INTEGER,
    tokens_out          INTEGER,
    cache_read_tokens   INTEGER,
    cache_write_tokens  INTEGER,
    cost_usd            REAL,
    created_at          TEXT NOT NULL,
    UNIQUE (session_id, seq)
);

CREATE VIRTUAL TABLE messages_fts USING fts5(
    text,
    content = 'messages',
    content_rowid = 'num',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.num, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.num, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.num, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.num, new.text);
END;

-- `id` is the model's call id, unique only within a session.
CREATE TABLE tool_calls (
    session_id      TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    message_id      TEXT REFERENCES messages(id) ON DELETE SET NULL,
    tool_name       TEXT NOT NULL,
    arguments       TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN
                        ('pending', 'approved', 'denied', 'running', 'completed', 'failed', 'interrupted')),
    decision        TEXT,
    rule            TEXT,
    approval_scope  TEXT,
    result          TEXT,
    is_error        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    started_at      TEXT,
    completed_at    TEXT,
    duration_ms     INTEGER,
    PRIMARY KEY (session_id, id)
);
CREATE INDEX tool_calls_by_status ON tool_calls (status);

CREATE TABLE approval_grants (
    id           TEXT PRIMARY KEY,
    tool_name    TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('session', 'always')),
    session_id   TEXT REFERENCES sessions(id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    CHECK ((scope = 'session') = (session_id IS NOT NULL))
);
CREATE INDEX approval_grants_by_tool ON approval_grants (tool_name, fingerprint);

CREATE TABLE spans (
    id          TEXT PRIMARY KEY,
    trace_id    TEXT NOT NULL,
    parent_id   TEXT,
    session_id  TEXT REFERENCES sessions(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('turn', 'model_call', 'tool_call', 'approval_wait')),
    name        TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    status      TEXT NOT NULL CHECK (status IN ('running', 'ok', 'error', 'cancelled')),
    tokens_in   INTEGER,
    tokens_out  INTEGER,
    cost_usd    REAL,
    attributes  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX spans_by_session ON spans (session_id, started_at);
CREATE INDEX spans_by_trace ON spans (trace_id, started_at);

CREATE TABLE events (
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    surface     TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (session_id, version)
) WITHOUT ROWID;

-- Append-only and hash-chained; no foreign keys so that the trail outlives deleted sessions.
CREATE TABLE audit_log (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    timestamp      TEXT NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT,
    session_id     TEXT,
    details        TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
CREATE INDEX audit_log_by_session ON audit_log (session_id, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
