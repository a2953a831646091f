-- Identity and access: users, their sessions, API tokens, the first-run setup link, and the
-- append-only audit log. Times are milliseconds since the Unix epoch (UTC), as on SQLite.

CREATE TABLE users (
    id             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username       TEXT    NOT NULL UNIQUE,
    display_name   TEXT    NOT NULL,
    role           TEXT    NOT NULL CHECK (role IN ('viewer', 'engineer', 'releaser', 'admin')),
    password_hash  TEXT    NOT NULL,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);

-- tower-sessions records. `id_hash` is a SHA-256 of the cookie's session id, so reading this
-- table does not hand out live sessions; `user_id` and the rest are copied out of `data` so a
-- user's sessions can be listed and ended.
CREATE TABLE sessions (
    id_hash         TEXT    PRIMARY KEY,
    user_id         BIGINT  REFERENCES users (id) ON DELETE CASCADE,
    data            TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    last_seen_at    BIGINT  NOT NULL,
    expires_at      BIGINT  NOT NULL,
    client_address  TEXT,
    user_agent      TEXT
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE api_tokens (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'engineer', 'releaser', 'admin')),
    token_hash    TEXT    NOT NULL UNIQUE,
    created_by    TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
-- A name picks one token for `switchyard token revoke --name`.
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

CREATE TABLE setup_tokens (
    token_hash  TEXT   PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE audit_log (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              BIGINT NOT NULL,
    actor_kind      TEXT   NOT NULL CHECK (actor_kind IN ('user', 'token', 'system', 'anonymous')),
    actor           TEXT   NOT NULL,
    action          TEXT   NOT NULL,
    object          TEXT   NOT NULL,
    before          TEXT,
    after           TEXT,
    client_address  TEXT,
    request_id      TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action_at ON audit_log (action, at);

-- Append-only, enforced by the database too: no code path, and no mistake, rewrites history.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Login attempts, for the brute-force throttle. Each attempt is written before its password is
-- checked, so parallel guesses see each other; succeeded ones stop counting. Rows older than
-- the throttle window are swept.
CREATE TABLE login_attempts (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              BIGINT  NOT NULL,
    username        TEXT    NOT NULL,
    client_address  TEXT,
    succeeded       BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX login_attempts_username_at ON login_attempts (username, at);
CREATE INDEX login_attempts_address_at ON login_attempts (client_address, at);
