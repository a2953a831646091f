-- What is live, and who shipped it: the deployment that put each slot's version there (an
-- operation, or a deployment recorded by CI that names the slot), and the one that put a
-- rolling or canary environment's current version in place.
ALTER TABLE slots ADD COLUMN deployment_id BIGINT REFERENCES deployments (id);
ALTER TABLE environments ADD COLUMN current_deployment_id BIGINT REFERENCES deployments (id);

-- Versions already in place: the newest succeeded deployment of that version there.
UPDATE slots SET deployment_id = (
    SELECT d.id FROM deployments d
    WHERE d.environment_id = slots.environment_id AND d.version = slots.version
      AND d.status = 'succeeded' AND (d.slot = slots.color OR d.slot IS NULL)
    ORDER BY d.finished_at DESC, d.id DESC LIMIT 1)
WHERE version IS NOT NULL;
UPDATE environments SET current_deployment_id = (
    SELECT d.id FROM deployments d
    WHERE d.environment_id = environments.id AND d.version = environments.current_version
      AND d.status = 'succeeded'
    ORDER BY d.finished_at DESC, d.id DESC LIMIT 1)
WHERE current_version IS NOT NULL;

-- Slots no operation filled yet: the newest succeeded deployment recorded for them.
UPDATE slots SET
    version = (SELECT d.version FROM deployments d
        WHERE d.environment_id = slots.environment_id AND d.slot = slots.color AND d.status = 'succeeded'
        ORDER BY d.finished_at DESC, d.id DESC LIMIT 1),
    deployment_id = (SELECT d.id FROM deployments d
        WHERE d.environment_id = slots.environment_id AND d.slot = slots.color AND d.status = 'succeeded'
        ORDER BY d.finished_at DESC, d.id DESC LIMIT 1)
WHERE version IS NULL;
UPDATE environments SET
    current_version = (SELECT d.version FROM deployments d
        WHERE d.environment_id = environments.id AND d.status = 'succeeded'
        ORDER BY d.finished_at DESC, d.id DESC LIMIT 1),
    current_deployment_id = (SELECT d.id FROM deployments d
        WHERE d.environment_id = environments.id AND d.status = 'succeeded'
        ORDER BY d.finished_at DESC, d.id DESC LIMIT 1)
WHERE strategy <> 'blue_green' AND current_version IS NULL;
