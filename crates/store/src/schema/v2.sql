-- Sessions own their settings: the agent profile they were created from and the policy their
-- turns run under (the model and workspace are already recorded). Older sessions keep NULL and
-- fall back to the `main` profile and the core's default policy.
ALTER TABLE sessions ADD COLUMN agent TEXT;
ALTER TABLE sessions ADD COLUMN policy TEXT;
