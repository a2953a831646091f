-- Releases: checklist templates per service, releases with their own copy of the checklist,
-- sign-offs (withdrawn ones kept as history), freeze windows, and gate overrides on
-- operations. Times are milliseconds since the Unix epoch (UTC).

-- A service's edited checklists; a service without a row uses the guide's (revision 0).
CREATE TABLE checklist_templates (
    service_id  INTEGER NOT NULL REFERENCES services (id),
    kind        TEXT   NOT NULL CHECK (kind IN ('release', 'rollback', 'incident')),
    revision    INTEGER NOT NULL,
    -- The items in order, as JSON: [{key, group, title, description, role, required, evidence}].
    items       TEXT   NOT NULL,
    updated_by  TEXT   NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (service_id, kind)
);

CREATE TABLE releases (
    id                 INTEGER PRIMARY KEY,
    service_id         INTEGER NOT NULL REFERENCES services (id),
    environment_id     INTEGER NOT NULL REFERENCES environments (id),
    version            TEXT   NOT NULL,
    commit_sha         TEXT,
    summary            TEXT   NOT NULL DEFAULT '',
    url                TEXT,
    status             TEXT   NOT NULL CHECK (status IN ('open', 'released', 'abandoned')),
    template_revision  INTEGER NOT NULL,
    opened_by_kind     TEXT   NOT NULL,
    opened_by          TEXT   NOT NULL,
    opened_at          INTEGER NOT NULL,
    ended_by           TEXT,
    ended_at           INTEGER,
    end_reason         TEXT,
    CHECK ((status = 'open') = (ended_at IS NULL))
);
-- At most one open release per environment and version, whoever opens it.
CREATE UNIQUE INDEX releases_one_open ON releases (environment_id, version) WHERE status = 'open';
CREATE INDEX releases_list ON releases (status, opened_at);
CREATE INDEX releases_environment ON releases (environment_id, opened_at);

-- The release's own copy of its template's items.
CREATE TABLE release_items (
    release_id   INTEGER  NOT NULL REFERENCES releases (id),
    position     INTEGER  NOT NULL,
    key          TEXT    NOT NULL,
    group_name   TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    role         TEXT    NOT NULL CHECK (role IN ('engineer', 'releaser', 'admin')),
    required     BOOLEAN NOT NULL,
    evidence     BOOLEAN NOT NULL,
    PRIMARY KEY (release_id, key)
);

CREATE TABLE release_signoffs (
    id              INTEGER PRIMARY KEY,
    release_id      INTEGER NOT NULL,
    item_key        TEXT   NOT NULL,
    signed_by_kind  TEXT   NOT NULL,
    signed_by       TEXT   NOT NULL,
    signed_at       INTEGER NOT NULL,
    note            TEXT   NOT NULL DEFAULT '',
    evidence_url    TEXT,
    withdrawn_by    TEXT,
    withdrawn_at    INTEGER,
    FOREIGN KEY (release_id, item_key) REFERENCES release_items (release_id, key)
);
-- Two people signing one item at once: the database keeps exactly one.
CREATE UNIQUE INDEX release_signoffs_one_active ON release_signoffs (release_id, item_key)
    WHERE withdrawn_at IS NULL;
CREATE INDEX release_signoffs_release ON release_signoffs (release_id, id);

CREATE TABLE freeze_windows (
    id              INTEGER PRIMARY KEY,
    environment_id  INTEGER NOT NULL REFERENCES environments (id),
    -- FreezeRule as JSON: {"kind": "once", from, to} or {"kind": "weekly", weekdays, start, end, time_zone}.
    rule            TEXT   NOT NULL,
    reason          TEXT   NOT NULL,
    created_by      TEXT   NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX freeze_windows_environment ON freeze_windows (environment_id);

-- An admin's written reason for passing a closed gate, and which gate it was.
ALTER TABLE operations ADD COLUMN override_reason TEXT;
ALTER TABLE operations ADD COLUMN overridden_gate TEXT;
