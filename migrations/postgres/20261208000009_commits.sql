-- Commit times learnt from GitHub push events, so lead time can be computed for deployments
-- whose reports carry only the SHA (GitHub's deployment events do). One row per commit: its
-- full SHA (lowercase) and the earliest time it was reported with, in milliseconds since the
-- Unix epoch (UTC).
CREATE TABLE commits (
    sha           TEXT   PRIMARY KEY,
    committed_at  BIGINT NOT NULL,
    received_at   BIGINT NOT NULL
);

-- A late push fills in the deployments of its commits that still lack a commit time.
CREATE INDEX deployments_missing_commit_time ON deployments (commit_sha) WHERE commit_at IS NULL;
