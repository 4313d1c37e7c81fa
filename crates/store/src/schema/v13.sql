-- Schema 13: heartbeats.
--
-- A heartbeat is a task with a `heartbeat` section; `heartbeats` keeps what its last beat saw
-- (positions in events and task runs, the checklist, the workspace's files, when each timed
-- checklist item was last looked at) and today's counts, as one JSON document owned by the
-- core. It goes with its task.
CREATE TABLE heartbeats (
    task_id    TEXT PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
    state      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
