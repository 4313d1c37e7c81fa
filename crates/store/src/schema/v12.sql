-- Schema 12: long conversations.
--
-- `messages.pinned`: the user pinned the message; it reaches the model verbatim whatever
-- compaction and pruning do to the rest.
-- `sessions.parent_id` / `forked_from`: a session forked from another at one of its messages
-- keeps a link to it (cleared when the parent is deleted; the copy stays whole).
-- `compactions`: a summary of a session's messages up to `through_seq`, which replaces them in
-- what the model receives. The messages themselves are never deleted; the newest compaction
-- of a session is the one in force.
ALTER TABLE messages ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN parent_id TEXT REFERENCES sessions(id) ON DELETE SET NULL;
ALTER TABLE sessions ADD COLUMN forked_from TEXT;
CREATE INDEX sessions_by_parent ON sessions (parent_id);
CREATE TABLE compactions (
    num           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    session_id    TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    through_seq   INTEGER NOT NULL,
    summary       TEXT NOT NULL,
    messages      INTEGER NOT NULL,
    tokens_before INTEGER NOT NULL,
    tokens_after  INTEGER NOT NULL,
    model         TEXT NOT NULL,
    tokens_in     INTEGER NOT NULL,
    tokens_out    INTEGER NOT NULL,
    cost_usd      REAL NOT NULL,
    trigger       TEXT NOT NULL CHECK (trigger IN ('auto', 'user')),
    created_at    TEXT NOT NULL
);
CREATE INDEX compactions_by_session ON compactions (session_id, num);
