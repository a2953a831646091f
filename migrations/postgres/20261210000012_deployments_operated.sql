-- What a rollback puts back is the newest version an operation put live in the environment
-- (`operations::store::previous_version`). Where CI records most deployments and operations
-- are few, finding it walked every deployment of the environment: 150 ms per page view of an
-- environment, a release or an incident over a 1,000,000-row history, which the soak
-- benchmark's 50 readers turned into seconds. The operations' own deployments, indexed apart,
-- are a handful to walk.
CREATE INDEX deployments_operated ON deployments (environment_id, finished_at, id)
    WHERE source = 'operation';
