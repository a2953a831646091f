-- The Deployments list's search: a prefix of the version or the commit SHA. SQLite's LIKE is
-- case-insensitive, and uses an index for a prefix only when the column's index is NOCASE.
CREATE INDEX deployments_version_prefix ON deployments (version COLLATE NOCASE);
CREATE INDEX deployments_sha_prefix ON deployments (commit_sha COLLATE NOCASE);
