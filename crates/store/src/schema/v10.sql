-- Schema 10: scheduled tasks.
--
-- `tasks` holds what the user wrote (`spec`, a TaskSpec as JSON) and where the scheduler is:
-- the next slot by the clock (`next_run_ms`), a retry waiting (`retry_*`) and an event waiting
-- (`event_*`: a file change, webhook or manual run that came while a run was going). Times are
-- Unix milliseconds. Moving `next_run_ms` forward happens in the same transaction that claims
-- the run, so a slot is never run twice, whatever stops when.
CREATE TABLE tasks (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    spec            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'active',
    error           TEXT,
    anchor_ms       INTEGER NOT NULL,
    next_run_ms     INTEGER,
    retry_ms        INTEGER,
    retry_attempt   INTEGER,
    retry_run       INTEGER,
    retry_slot_ms   INTEGER,
    event_ms        INTEGER,
    event_reason    TEXT,
    event_body      TEXT,
    runs            INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- One row per attempt. At most one run of a task is `running` (the partial unique index), and a
-- slot's attempt is claimed once.
CREATE TABLE task_runs (
    id          TEXT PRIMARY KEY,
    task_id     TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    run_number  INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    slot_ms     INTEGER,
    status      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    started_ms  INTEGER NOT NULL,
    finished_at TEXT,
    duration_ms INTEGER,
    session_id  TEXT,
    tokens_in   INTEGER NOT NULL DEFAULT 0,
    tokens_out  INTEGER NOT NULL DEFAULT 0,
    cost_usd    REAL NOT NULL DEFAULT 0,
    summary     TEXT,
    error       TEXT,
    denied      TEXT NOT NULL DEFAULT '[]',
    -- What the event that started it carried (a webhook's body), for `{{body}}`.
    input       TEXT,
    UNIQUE (task_id, slot_ms, attempt)
);
CREATE INDEX task_runs_by_task ON task_runs (task_id, started_ms);
CREATE UNIQUE INDEX task_runs_one_running ON task_runs (task_id) WHERE status = 'running';

-- Every notification of a run, per target, with how its delivery went (`queued`, `delivered`,
-- `failed` with the reason). The `dashboard` target is the inbox the web UI and TUI read.
CREATE TABLE task_notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     TEXT NOT NULL REFERENCES task_runs(id) ON DELETE CASCADE,
    task_id    TEXT NOT NULL,
    target     TEXT NOT NULL,
    run_status TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'queued',
    reason     TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    -- A channel target: the outbox row that carries it (delivered when that row is sent).
    outbox_id  INTEGER,
    read       INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX task_notifications_by_run ON task_notifications (run_id);
CREATE INDEX task_notifications_open ON task_notifications (state) WHERE state = 'queued';
