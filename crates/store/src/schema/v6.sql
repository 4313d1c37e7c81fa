-- Schema 6: a ledger of what model calls cost. Budgets (per session, per agent per day, per day,
-- per month) and `pryx costs` read it. It is not tied to sessions by a foreign key: money spent
-- stays spent when a session or a message is deleted. Calls recorded before it are carried over
-- from the messages that hold their cost.
CREATE TABLE spend (
    num         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    session_id  TEXT,
    agent       TEXT NOT NULL,
    model       TEXT NOT NULL,
    tokens_in   INTEGER NOT NULL DEFAULT 0,
    tokens_out  INTEGER NOT NULL DEFAULT 0,
    cost_usd    REAL NOT NULL CHECK (cost_usd >= 0)
);
CREATE INDEX spend_by_time ON spend (at);
CREATE INDEX spend_by_agent ON spend (agent, at);
INSERT INTO spend (at, session_id, agent, model, tokens_in, tokens_out, cost_usd)
    SELECT m.created_at, m.session_id, COALESCE(s.agent, 'main'), COALESCE(m.model, ''),
           COALESCE(m.tokens_in, 0) + COALESCE(m.cache_read_tokens, 0) + COALESCE(m.cache_write_tokens, 0),
           COALESCE(m.tokens_out, 0), m.cost_usd
    FROM messages m JOIN sessions s ON s.id = m.session_id
    WHERE m.cost_usd IS NOT NULL AND m.cost_usd > 0
    ORDER BY m.num;
