-- Spans a crashed process left running are closed as `interrupted` at the next start; the
-- status check gains that value. SQLite cannot change a CHECK in place, so the table is rebuilt
-- (nothing references spans by foreign key).
CREATE TABLE spans_v3 (
    id          TEXT PRIMARY KEY,
    trace_id    TEXT NOT NULL,
    parent_id   TEXT,
    session_id  TEXT REFERENCES sessions(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('turn', 'model_call', 'tool_call', 'approval_wait')),
    name        TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    status      TEXT NOT NULL CHECK (status IN ('running', 'ok', 'error', 'cancelled', 'interrupted')),
    tokens_in   INTEGER,
    tokens_out  INTEGER,
    cost_usd    REAL,
    attributes  TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO spans_v3 (id, trace_id, parent_id, session_id, kind, name, started_at, ended_at, status,
                      tokens_in, tokens_out, cost_usd, attributes)
    SELECT id, trace_id, parent_id, session_id, kind, name, started_at, ended_at, status,
           tokens_in, tokens_out, cost_usd, attributes FROM spans;
DROP TABLE spans;
ALTER TABLE spans_v3 RENAME TO spans;
CREATE INDEX spans_by_session ON spans (session_id, started_at);
CREATE INDEX spans_by_trace ON spans (trace_id, started_at);
