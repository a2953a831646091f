-- Services, their environments and slots, the deployments recorded against them, and the
-- idempotency keys that make creating them safe to retry. Times are milliseconds since the
-- Unix epoch (UTC).

CREATE TABLE services (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    description  TEXT    NOT NULL DEFAULT '',
    owner_team   TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL
);

CREATE TABLE environments (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id  BIGINT  NOT NULL REFERENCES services (id),
    name        TEXT    NOT NULL,
    tier        TEXT    NOT NULL CHECK (tier IN ('production', 'staging', 'development')),
    strategy    TEXT    NOT NULL CHECK (strategy IN ('blue_green', 'rolling', 'canary')),
    -- Blue-green only: the slot taking traffic.
    live_slot   TEXT    CHECK (live_slot IN ('blue', 'green')),
    -- Counts completed operations, so a button pressed on an old view of the state is refused.
    revision    BIGINT  NOT NULL DEFAULT 0,
    created_at  BIGINT  NOT NULL,
    UNIQUE (service_id, name),
    CHECK ((strategy = 'blue_green') = (live_slot IS NOT NULL))
);

CREATE TABLE slots (
    environment_id  BIGINT  NOT NULL REFERENCES environments (id),
    color           TEXT    NOT NULL CHECK (color IN ('blue', 'green')),
    upstream        TEXT    NOT NULL,
    health_url      TEXT    NOT NULL,
    version         TEXT,
    PRIMARY KEY (environment_id, color)
);

CREATE TABLE deployments (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id        BIGINT  NOT NULL REFERENCES services (id),
    environment_id    BIGINT  NOT NULL REFERENCES environments (id),
    version           TEXT    NOT NULL,
    commit_sha        TEXT,
    commit_at         BIGINT,
    strategy          TEXT    NOT NULL CHECK (strategy IN ('blue_green', 'rolling', 'canary')),
    slot              TEXT    CHECK (slot IN ('blue', 'green')),
    started_at        BIGINT  NOT NULL,
    finished_at       BIGINT,
    status            TEXT    NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
    is_rollback       BOOLEAN NOT NULL DEFAULT FALSE,
    rolled_back_at    BIGINT,
    recorded_by_kind  TEXT    NOT NULL CHECK (recorded_by_kind IN ('user', 'token', 'system', 'anonymous')),
    recorded_by       TEXT    NOT NULL,
    source            TEXT    NOT NULL CHECK (source IN ('ui', 'api', 'webhook', 'operation')),
    notes             TEXT    NOT NULL DEFAULT '',
    url               TEXT,
    -- The sender's own id for a deployment reported in several events (webhooks).
    external_id       TEXT,
    created_at        BIGINT  NOT NULL,
    CHECK ((status = 'running') = (finished_at IS NULL)),
    CHECK (finished_at IS NULL OR finished_at >= started_at)
);
-- The list, newest first, whole or per service or environment: keyset paging on (started_at, id).
CREATE INDEX deployments_started ON deployments (started_at, id);
CREATE INDEX deployments_service_started ON deployments (service_id, started_at, id);
CREATE INDEX deployments_environment_started ON deployments (environment_id, started_at, id);
-- The delivery metrics select by window of finish time per service and environment.
CREATE INDEX deployments_metrics ON deployments (service_id, environment_id, finished_at);
-- The Overview's "running" markers.
CREATE INDEX deployments_running ON deployments (environment_id) WHERE status = 'running';
CREATE UNIQUE INDEX deployments_external ON deployments (source, external_id) WHERE external_id IS NOT NULL;

-- A create sent again with the same key (a retried CI step) finds the resource it made the
-- first time instead of making another. Keys belong to a caller (`scope`), so two pipelines
-- cannot collide.
CREATE TABLE idempotency_keys (
    scope         TEXT    NOT NULL,
    key           TEXT    NOT NULL,
    request_hash  TEXT    NOT NULL,
    resource      TEXT    NOT NULL,
    resource_id   BIGINT  NOT NULL,
    created_at    BIGINT  NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
