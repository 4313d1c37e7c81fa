-- Schema 4: audit rows carry an HMAC-SHA256 (`mac`) keyed by the audit key, which lives in the
-- secret store. Rows written before this upgrade keep `mac` NULL; `audit_keying` records where
-- they end, so verification can tell those legacy rows from rows that should have been keyed.
ALTER TABLE audit_log ADD COLUMN mac TEXT;

CREATE TABLE audit_keying (
    legacy_end  INTEGER NOT NULL
);
INSERT INTO audit_keying (legacy_end) SELECT coalesce(max(seq), 0) FROM audit_log;
