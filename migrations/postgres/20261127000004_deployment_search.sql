-- The Deployments list's search: a prefix of the version (any case) or the commit SHA (stored
-- lowercase). text_pattern_ops lets LIKE 'prefix%' use the index whatever the collation.
CREATE INDEX deployments_version_prefix ON deployments (lower(version) text_pattern_ops);
CREATE INDEX deployments_sha_prefix ON deployments (commit_sha text_pattern_ops);
