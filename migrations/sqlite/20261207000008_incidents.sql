-- Incidents and post-mortems: incidents with their lifecycle times, their timeline (people's
-- notes with their edit history, and Switchyard's own entries), links to the deployments that
-- caused or fixed them, ticked response steps, one post-mortem each, and its action items.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE incidents (
    id               INTEGER PRIMARY KEY,
    service_id       INTEGER NOT NULL REFERENCES services (id),
    environment_id   INTEGER NOT NULL REFERENCES environments (id),
    title            TEXT   NOT NULL,
    severity         TEXT   NOT NULL CHECK (severity IN ('SEV1', 'SEV2', 'SEV3', 'SEV4')),
    status           TEXT   NOT NULL CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved')),
    commander        TEXT   NOT NULL,
    description      TEXT   NOT NULL DEFAULT '',
    declared_by_kind TEXT   NOT NULL,
    declared_by      TEXT   NOT NULL,
    started_at       INTEGER NOT NULL,
    detected_at      INTEGER NOT NULL,
    resolved_at      INTEGER,
    created_at       INTEGER NOT NULL,
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL)),
    CHECK (detected_at >= started_at),
    CHECK (resolved_at IS NULL OR resolved_at >= started_at)
);
CREATE INDEX incidents_environment ON incidents (environment_id, status);
CREATE INDEX incidents_started ON incidents (started_at);
CREATE INDEX incidents_resolved ON incidents (resolved_at);

CREATE TABLE incident_timeline (
    id            INTEGER PRIMARY KEY,
    incident_id   INTEGER NOT NULL REFERENCES incidents (id),
    at            INTEGER NOT NULL,
    kind          TEXT   NOT NULL,
    author_kind   TEXT   NOT NULL,
    author        TEXT   NOT NULL,
    text          TEXT   NOT NULL,
    operation_id  INTEGER REFERENCES operations (id),
    action        TEXT,
    -- What Switchyard wrote it for ("operation:42:ended"): each such entry is written once,
    -- however many events or replicas report it.
    source        TEXT,
    edited_at     INTEGER,
    UNIQUE (incident_id, source)
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, at);

-- Earlier texts of edited entries.
CREATE TABLE incident_timeline_edits (
    id           INTEGER PRIMARY KEY,
    entry_id     INTEGER NOT NULL REFERENCES incident_timeline (id),
    text         TEXT   NOT NULL,
    replaced_at  INTEGER NOT NULL
);
CREATE INDEX incident_timeline_edits_entry ON incident_timeline_edits (entry_id, id);

CREATE TABLE incident_links (
    incident_id    INTEGER NOT NULL REFERENCES incidents (id),
    deployment_id  INTEGER NOT NULL REFERENCES deployments (id),
    kind           TEXT   NOT NULL CHECK (kind IN ('cause', 'fix')),
    linked_by      TEXT   NOT NULL,
    linked_at      INTEGER NOT NULL,
    PRIMARY KEY (incident_id, deployment_id, kind)
);
CREATE INDEX incident_links_deployment ON incident_links (deployment_id);

-- Ticked steps of the incident-response and rollback checklists.
CREATE TABLE incident_checks (
    incident_id  INTEGER NOT NULL REFERENCES incidents (id),
    kind         TEXT   NOT NULL CHECK (kind IN ('incident', 'rollback')),
    key          TEXT   NOT NULL,
    done_by      TEXT   NOT NULL,
    done_at      INTEGER NOT NULL,
    PRIMARY KEY (incident_id, kind, key)
);

CREATE TABLE postmortems (
    incident_id   INTEGER NOT NULL PRIMARY KEY REFERENCES incidents (id),
    title         TEXT   NOT NULL,
    markdown      TEXT   NOT NULL,
    html          TEXT   NOT NULL,
    version       INTEGER NOT NULL,
    status        TEXT   NOT NULL CHECK (status IN ('draft', 'in_review', 'published')),
    created_by    TEXT   NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_by    TEXT   NOT NULL,
    updated_at    INTEGER NOT NULL,
    published_at  INTEGER
);

CREATE TABLE action_items (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents (id),
    title        TEXT   NOT NULL,
    owner        TEXT   NOT NULL,
    -- YYYY-MM-DD: sorts and compares as text.
    due          TEXT   NOT NULL,
    status       TEXT   NOT NULL CHECK (status IN ('open', 'done', 'wont_do')),
    created_by   TEXT   NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX action_items_open ON action_items (status, due);
CREATE INDEX action_items_incident ON action_items (incident_id);
