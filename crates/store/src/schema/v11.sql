-- Schema 11: a bus-wide position for every stored event.
--
-- `seq` numbers events across all sessions in the order they were stored (a session's own
-- events keep their order). A client that holds a position asks for every event stored after
-- it, and so learns of sessions it has never heard of. `event_seq` hands out the numbers and
-- never goes back, even when the events holding the highest ones are deleted with their
-- session. Events stored before this schema are numbered by session and version: no client
-- can hold a position among them.
ALTER TABLE events ADD COLUMN seq INTEGER;
WITH ordered AS (
    SELECT session_id, version, ROW_NUMBER() OVER (ORDER BY session_id, version) AS n FROM events
)
UPDATE events SET seq = ordered.n
FROM ordered
WHERE events.session_id = ordered.session_id AND events.version = ordered.version;
CREATE UNIQUE INDEX events_by_seq ON events (seq);
CREATE TABLE event_seq (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL
);
INSERT INTO event_seq (id, last) SELECT 1, COALESCE(MAX(seq), 0) FROM events;
