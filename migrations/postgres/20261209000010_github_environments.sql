-- GitHub environments that match no Switchyard environment (`github-pages`, say). Their
-- deployment events are acknowledged rather than refused, since GitHub would only show the
-- refusal to nobody; each is counted here for an admin to map to an environment of the
-- service (its events are then recorded there) or to ignore. Names are as the configured
-- mapping made them: the service Switchyard read from the repository, and GitHub's
-- environment name lowercased. Times in milliseconds since the Unix epoch (UTC).
CREATE TABLE github_environments (
    service       TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    repository    TEXT    NOT NULL,
    -- The environment of `service` its events are recorded in, once an admin says so.
    maps_to       TEXT,
    ignored       BOOLEAN NOT NULL DEFAULT FALSE,
    events        BIGINT  NOT NULL,
    first_seen    BIGINT  NOT NULL,
    last_seen     BIGINT  NOT NULL,
    PRIMARY KEY (service, name),
    CHECK (NOT (ignored AND maps_to IS NOT NULL))
);
