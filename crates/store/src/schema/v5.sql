-- Schema 5: standing approvals are scoped. A grant now holds for one exact call (tool and
-- fingerprint) in one workspace under one policy, identified by the hash of its content (a
-- different or edited policy asks again); a session grant also only in its session. The call's
-- arguments (known secret values replaced by a marker naming them) are kept so the grant can be
-- listed, and its use is counted.
--
-- Grants from before were bound to the tool and fingerprint only, so they would hold in every
-- workspace and under any policy. They cannot be scoped after the fact and are dropped: the
-- calls they covered ask again once. Nothing references this table, so it is rebuilt.
DROP TABLE approval_grants;
CREATE TABLE approval_grants (
    id            TEXT PRIMARY KEY,
    tool_name     TEXT NOT NULL,
    fingerprint   TEXT NOT NULL,
    scope         TEXT NOT NULL CHECK (scope IN ('session', 'always')),
    session_id    TEXT REFERENCES sessions(id) ON DELETE CASCADE,
    workspace     TEXT NOT NULL CHECK (workspace <> ''),
    policy        TEXT NOT NULL,
    policy_hash   TEXT NOT NULL CHECK (policy_hash <> ''),
    arguments     TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    last_used_at  TEXT,
    uses          INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
    CHECK ((scope = 'session') = (session_id IS NOT NULL))
);
CREATE INDEX approval_grants_by_call
    ON approval_grants (tool_name, fingerprint, workspace, policy_hash);
