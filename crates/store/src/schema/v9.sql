-- Schema 9: chat channels and inbound webhooks.
--
-- `channel_updates` is a channel's inbox: every update (Telegram `update_id`) is stored before
-- it is confirmed to its sender, keyed so one is never handled twice; the next poll's offset is
-- the largest stored id + 1. `state`: new -> running -> done (or ignored, with the reason in
-- `note`); rows still new or running after a crash are picked up again at start.
CREATE TABLE channel_updates (
    channel     TEXT NOT NULL,
    update_id   INTEGER NOT NULL,
    chat_id     TEXT NOT NULL,
    payload     TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT 'new',
    note        TEXT,
    received_at TEXT NOT NULL,
    done_at     TEXT,
    PRIMARY KEY (channel, update_id)
);
CREATE INDEX channel_updates_open ON channel_updates (channel, update_id)
    WHERE state IN ('new', 'running');

-- One session per chat (or thread): deleting the session starts a new one next time.
CREATE TABLE channel_chats (
    channel    TEXT NOT NULL,
    chat_id    TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    title      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (channel, chat_id)
);
CREATE INDEX channel_chats_by_session ON channel_chats (session_id);

-- Senders allowed through pairing; pairing and unpairing are audited.
CREATE TABLE channel_senders (
    channel   TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    display   TEXT NOT NULL,
    paired_at TEXT NOT NULL,
    PRIMARY KEY (channel, sender_id)
);

-- Short-lived single-use pairing codes; only their SHA-256 is kept.
CREATE TABLE channel_pair_codes (
    code_hash  TEXT PRIMARY KEY,
    channel    TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

-- The outbox: a reply is stored here before it is sent and kept with how its delivery went.
-- `state`: queued -> sending -> sent | failed. A row found `sending` at start was in flight
-- when the process stopped; it is sent again and marked `maybe_duplicate`.
CREATE TABLE channel_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel         TEXT NOT NULL,
    chat_id         TEXT NOT NULL,
    body            TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'queued',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    maybe_duplicate INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    last_error      TEXT,
    remote_id       TEXT
);
CREATE INDEX channel_outbox_pending ON channel_outbox (channel, id)
    WHERE state IN ('queued', 'sending');

-- Webhook request ids seen inside the replay window, kept across restarts.
CREATE TABLE webhook_requests (
    channel     TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (channel, request_id)
);
