-- Operations Switchyard performs on an environment (deploy to idle, switch, rollback, canary
-- steps), their steps and their log. Times are milliseconds since the Unix epoch (UTC).

-- What a rolling or canary environment runs (blue-green keeps versions per slot), and the
-- canary in progress, if any.
ALTER TABLE environments ADD COLUMN current_version TEXT;
ALTER TABLE environments ADD COLUMN canary_version TEXT;
ALTER TABLE environments ADD COLUMN canary_weight BIGINT CHECK (canary_weight BETWEEN 0 AND 100);

CREATE TABLE operations (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    environment_id     BIGINT NOT NULL REFERENCES environments (id),
    action             TEXT    NOT NULL CHECK (action IN ('deploy', 'switch', 'rollback', 'canary_promote', 'canary_abort')),
    status             TEXT    NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    version            TEXT,
    target_slot        TEXT    CHECK (target_slot IN ('blue', 'green')),
    canary_weight      BIGINT  CHECK (canary_weight BETWEEN 0 AND 100),
    -- The environment revision the request was made against.
    base_revision      BIGINT  NOT NULL,
    requested_by_kind  TEXT    NOT NULL,
    requested_by       TEXT    NOT NULL,
    deployment_id      BIGINT REFERENCES deployments (id),
    -- The process running it, and when that process last said it was alive: a replica that
    -- dies mid-operation stops beating, and the others mark the operation interrupted.
    runner             TEXT    NOT NULL,
    heartbeat_at       BIGINT  NOT NULL,
    started_at         BIGINT  NOT NULL,
    finished_at        BIGINT,
    error              TEXT,
    CHECK ((status = 'running') = (finished_at IS NULL))
);
-- The lock: at most one running operation per environment, whichever replica asks.
CREATE UNIQUE INDEX operations_one_running ON operations (environment_id) WHERE status = 'running';
CREATE INDEX operations_environment ON operations (environment_id, id);

CREATE TABLE operation_steps (
    operation_id  BIGINT NOT NULL REFERENCES operations (id),
    position      BIGINT  NOT NULL,
    name          TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'skipped')),
    started_at    BIGINT,
    finished_at   BIGINT,
    PRIMARY KEY (operation_id, position)
);

CREATE TABLE operation_log (
    operation_id  BIGINT NOT NULL REFERENCES operations (id),
    seq           BIGINT  NOT NULL,
    at            BIGINT  NOT NULL,
    stream        TEXT    NOT NULL CHECK (stream IN ('info', 'stdout', 'stderr', 'error')),
    line          TEXT    NOT NULL,
    PRIMARY KEY (operation_id, seq)
);
