-- Schema 7: the sessions explorer answers in bounded time over many sessions. Every filter and
-- sort it offers has an index, so a page is read from an index instead of sorting every
-- session. Filters (agent, model) show the most recently active first, so their indexes end in
-- `updated_at`; the filter choices are read by seeking from one distinct value to the next in
-- them. The agent index is on the value the explorer filters by: sessions without an agent
-- belong to `main`. Sorts by count, cost and tokens break ties by the (implicit) rowid, not by
-- `updated_at`: every new message bumps `updated_at`, and each index holding it is rewritten
-- then, so these three stay off that path.
--
-- Sessions carry their message count, kept by triggers so that every way a message is written
-- or removed (including a session's deletion) keeps it right; counts for existing sessions are
-- filled here.
ALTER TABLE sessions ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET message_count = (SELECT count(*) FROM messages m WHERE m.session_id = sessions.id);
CREATE TRIGGER messages_count_insert AFTER INSERT ON messages BEGIN
    UPDATE sessions SET message_count = message_count + 1 WHERE id = new.session_id;
END;
CREATE TRIGGER messages_count_delete AFTER DELETE ON messages BEGIN
    UPDATE sessions SET message_count = message_count - 1 WHERE id = old.session_id;
END;
CREATE TRIGGER messages_count_move AFTER UPDATE OF session_id ON messages
    WHEN new.session_id IS NOT old.session_id BEGIN
    UPDATE sessions SET message_count = message_count - 1 WHERE id = old.session_id;
    UPDATE sessions SET message_count = message_count + 1 WHERE id = new.session_id;
END;
CREATE INDEX sessions_by_agent ON sessions (coalesce(agent, 'main'), updated_at);
CREATE INDEX sessions_by_model ON sessions (model, updated_at);
CREATE INDEX sessions_by_messages ON sessions (message_count);
CREATE INDEX sessions_by_cost ON sessions (total_cost_usd);
CREATE INDEX sessions_by_tokens ON sessions (total_tokens_in + total_tokens_out);
